"""meshmanager: a self-hostable, multi-tenant global control plane manager for Kuma."""

__version__ = "0.1.0"
