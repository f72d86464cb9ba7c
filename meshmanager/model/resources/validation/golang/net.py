"""Go's net package: net.ParseIP, net.ParseCIDR and net.SplitHostPort."""

from __future__ import annotations

import ipaddress

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IP | None:
    """net.ParseIP: dotted IPv4 without leading zeros, or IPv6 without a zone."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_ip(text: str) -> bool:
    return parse_ip(text) is not None


def is_cidr(text: str) -> bool:
    """net.ParseCIDR accepts it: an IP, a slash and a decimal prefix length."""
    address, slash, prefix = text.rpartition("/")
    ip = parse_ip(address) if slash else None
    if ip is None or not (prefix.isascii() and prefix.isdigit()):
        return False
    return int(prefix) <= ip.max_prefixlen


class AddressError(ValueError):
    """An address net.SplitHostPort rejects; the message is Go's reason."""


def split_host_port(hostport: str) -> tuple[str, str]:
    """net.SplitHostPort: the host and the port of `host:port` or `[host]:port`."""
    colon = hostport.rfind(":")
    if colon < 0:
        raise AddressError("missing port in address")
    host_start, host_end = 0, 0  # where a '[' or a ']' may no longer appear
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise AddressError("missing ']' in address")
        if end + 1 == len(hostport):
            raise AddressError("missing port in address")
        if end + 1 != colon:
            colons = hostport[end + 1] == ":"
            raise AddressError(
                "too many colons in address" if colons else "missing port in address"
            )
        host, host_start, host_end = hostport[1:end], 1, end + 1
    else:
        host = hostport[:colon]
        if ":" in host:
            raise AddressError("too many colons in address")
    if "[" in hostport[host_start:]:
        raise AddressError("unexpected '[' in address")
    if "]" in hostport[host_end:]:
        raise AddressError("unexpected ']' in address")
    return host, hostport[colon + 1 :]
