"""Kuma resources: the type registry, naming, and validation of every type's spec."""
