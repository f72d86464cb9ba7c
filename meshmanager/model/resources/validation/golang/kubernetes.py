"""Kubernetes' validation helpers Kuma uses: IsDNS1123Subdomain and ParseIPSloppy."""

from __future__ import annotations

import re

from meshmanager.model.resources.validation.golang.net import IP, parse_ip

_DNS1123_SUBDOMAIN_TEXT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
# The same language, written so that Python's backtracking stays linear on long input.
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:-*[a-z0-9])*(?:\.[a-z0-9](?:-*[a-z0-9])*)*")
_DNS1123_SUBDOMAIN_MAX_LENGTH = 253


def dns1123_subdomain_errors(value: str) -> list[str]:
    """IsDNS1123Subdomain's messages for `value`; empty when it is one."""
    errors = []
    if len(value.encode()) > _DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(f"must be no more than {_DNS1123_SUBDOMAIN_MAX_LENGTH} characters")
    if not DNS1123_SUBDOMAIN.fullmatch(value):
        errors.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters,"
            " '-' or '.', and must start and end with an alphanumeric character (e.g."
            f" 'example.com', regex used for validation is '{_DNS1123_SUBDOMAIN_TEXT}')"
        )
    return errors


def parse_ip_sloppy(text: str) -> IP | None:
    """ParseIPSloppy: like net.ParseIP, but IPv4 octets may have leading zeros."""
    parts = text.split(".")
    if len(parts) == 4 and all(part.isascii() and part.isdigit() for part in parts):
        text = ".".join(str(int(part)) for part in parts)
    return parse_ip(text)
