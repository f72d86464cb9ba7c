"""HTTP APIs: the management API (control planes, identity) and operations endpoints."""
