"""Rules shared by the core types: ports, addresses, hostnames, names."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.kubernetes import DNS1123_SUBDOMAIN
from meshmanager.model.resources.validation.golang.net import IP, is_ip, parse_ip
from meshmanager.model.resources.validation.schema import as_dict, as_int

RFC1123_MESSAGE = (
    "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character"
)


LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


def overlap(address: IP, other: str) -> bool:
    """Whether `address` and the address written `other` would bind the same interface.
    Go compares addresses in their 16-byte form: an IPv4-mapped IPv6 address is IPv4."""
    other_ip = parse_ip(other)
    if other_ip is None:
        return False
    address, other_ip = _unmapped(address), _unmapped(other_ip)
    return address.is_unspecified or other_ip.is_unspecified or address == other_ip


def _unmapped(address: IP) -> IP:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def validate_port(path: Path, port: int, out: Violations) -> None:
    if port == 0 or port > 65535:
        out.add(path, "port must be in the range [1, 65535]")


def validate_address(path: Path, address: str, out: Violations) -> None:
    """An address a proxy is reachable at; violations go to `path.address`."""
    at = path.field("address")
    if address == "":
        out.add(at, "address can't be empty")
        return
    if address in ("0.0.0.0", "::"):
        out.add(at, "must not be 0.0.0.0 or ::")
    if not is_ip(address) and not is_dns_name(address):
        out.add(at, "address has to be valid IP address or domain name")


def validate_hostname(path: Path, hostname: str, out: Violations) -> None:
    """A gateway hostname: `*`, `*.domain.name` or `domain.name`."""
    if hostname == "*":
        return
    if len(hostname.encode()) > 253:
        out.add(path, "must be at most 253 characters")
    if hostname.startswith("*."):
        if not DNS1123_SUBDOMAIN.fullmatch(hostname[2:]):
            out.add(path, "invalid wildcard domain")
    elif not DNS1123_SUBDOMAIN.fullmatch(hostname):
        out.add(path, "invalid hostname")


def validate_identifier(
    path: Path, value: str, out: Violations, pattern: re.Pattern[str], message: str
) -> None:
    if value == "":
        out.add(path, "cannot be empty")
    elif len(value.encode()) > 253:
        out.add(path, "value length must less or equal 253")
    elif not pattern.fullmatch(value):
        out.add(path, message)


def validate_zone_proxy_admin_port(
    path: Path, admin: Any, binds: list[tuple[str, int]], out: Violations
) -> None:
    """A zone proxy's admin API listens on the loopback interface: it may not share a
    port with a listener (`binds`: address and port) that binds there too."""
    if admin is None:
        return
    port = as_int(as_dict(admin).get("port"))
    if any(port == bind_port and overlap(LOOPBACK, address) for address, bind_port in binds):
        out.add(path.field("admin").field("port"), "must differ from port")
