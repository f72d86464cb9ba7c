"""ExternalService (api/mesh/v1alpha1/externalservice.proto)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.golang import (
    go_quote,
    is_dns_name,
    is_ip,
    parse_uint,
    split_host_port,
)
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    BYTES,
    STRING,
    STRING_MAP,
    decode,
    message,
    sub,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    PROTOCOL_TAG,
    SERVICE_TAG,
    SUPPORTED_PROTOCOLS,
    TagRules,
    parse_protocol,
    tag_path,
    validate_tags,
)

DATA_SOURCE_KINDS = ("secret", "file", "inline", "inlineString")
DATA_SOURCE = message(
    {"secret": STRING, "file": STRING, "inline": BYTES, "inlineString": STRING},
    oneofs=[DATA_SOURCE_KINDS],
)
TLS = message(
    {
        "enabled": BOOL,
        "ca_cert": DATA_SOURCE,
        "client_cert": DATA_SOURCE,
        "client_key": DATA_SOURCE,
        "allowRenegotiation": BOOL,
        "server_name": STRING,
        "skipHostnameVerification": BOOL,
    }
)
NETWORKING = message({"address": STRING, "tls": TLS, "disableHostDNSEntry": BOOL})
EXTERNAL_SERVICE = message({"networking": NETWORKING, "tags": STRING_MAP})


@validator("ExternalService")
def validate_external_service(spec: Any, ctx: Context) -> Violations:
    problems, service = decode(EXTERNAL_SERVICE, spec)
    if problems:
        return problems
    networking = service.get("networking")
    tags: dict[str, str] = service.get("tags") or {}
    out = _validate_networking(Path("networking"), networking)
    # Kuma adds the protocol violation ahead of the other tag violations.
    out.extend(_validate_protocol(Path("tags"), tags))
    out.extend(validate_tags(Path("tags"), tags, TagRules(require_service=True)))
    address = split_host_port((networking or {}).get("address", ""))
    if tags.get(SERVICE_TAG) and address is not None and address[0] == tags[SERVICE_TAG]:
        out.add(tag_path(Path("tags"), SERVICE_TAG), "cannot be the same as networking.address")
    return out


def _validate_networking(path: Path, networking: dict[str, Any] | None) -> Violations:
    out = Violations()
    if networking is None:
        out.add(path, "should have networking")
    else:
        out.extend(_validate_address(path.field("address"), networking.get("address", "")))
    tls = sub(networking, "tls")
    if tls is not None and tls.get("serverName") == "":
        out.add(path.field("tls").field("serverName"), "cannot be empty")
    for name in ("caCert", "clientCert", "clientKey"):
        source = sub(tls, name)
        if source is not None and not any(source.get(kind) for kind in DATA_SOURCE_KINDS):
            out.add(path.field("tls").field(name), "data source cannot be empty")
    return out


def _validate_address(path: Path, address: str) -> Violations:
    out = Violations()
    if address == "":
        out.add(path, "address can't be empty")
        return out
    host, port = split_host_port(address) or ("", "")
    if split_host_port(address) is None:
        out.add(path, "unable to parse address")
    if not is_ip(host) and not is_dns_name(host):
        out.add(path, "address has to be a valid IP address or a domain name")
    port_number, parsed = parse_uint(port, 32)
    if not parsed:
        out.add(path, "unable to parse port in address")
    if not 1 <= port_number <= 65535:
        out.add(path, "port must be in the range [1, 65535]")
    return out


def _validate_protocol(path: Path, tags: Mapping[str, str]) -> Violations:
    out = Violations()
    if PROTOCOL_TAG in tags and parse_protocol(tags[PROTOCOL_TAG]) is None:
        out.add(
            tag_path(path, PROTOCOL_TAG),
            f"tag {go_quote(PROTOCOL_TAG)} has an invalid value {go_quote(tags[PROTOCOL_TAG])}. "
            f"Allowed values: {', '.join(SUPPORTED_PROTOCOLS)}",
        )
    return out
