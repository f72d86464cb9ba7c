"""Tenancy and auth: tokens, principals, role checks and the first-start bootstrap."""
