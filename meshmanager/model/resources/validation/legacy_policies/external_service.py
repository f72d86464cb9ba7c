"""ExternalService (api/mesh/v1alpha1/externalservice.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.net import AddressError, is_ip, split_host_port
from meshmanager.model.resources.validation.golang.strconv import parse_uint
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    BYTES,
    STRING,
    message,
    sub,
    validate_decoded,
)
from meshmanager.model.resources.validation.schema import STRING_MAP
from meshmanager.model.resources.validation.tags import (
    SERVICE_TAG,
    TagRules,
    check_protocol_tag,
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
# Kuma checks the protocol tag ahead of the other tag rules.
SERVICE_TAGS = TagRules(require_service=True, map_checks=[check_protocol_tag])


@validator("ExternalService")
def validate_external_service(spec: Any, ctx: Context) -> Violations:
    return validate_decoded(EXTERNAL_SERVICE, spec, _validate_external_service)


def _validate_external_service(service: dict[str, Any]) -> Violations:
    networking = service.get("networking")
    tags: dict[str, str] = service.get("tags") or {}
    out = _validate_networking(Path("networking"), networking)
    validate_tags(Path("tags"), tags, SERVICE_TAGS, out)
    address = _split_host_port((networking or {}).get("address", ""))
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
    host_port = _split_host_port(address)
    if host_port is None:
        out.add(path, "unable to parse address")
    host, port = host_port or ("", "")
    if not is_ip(host) and not is_dns_name(host):
        out.add(path, "address has to be a valid IP address or a domain name")
    port_number, parsed = parse_uint(port, 32)
    if not parsed:
        out.add(path, "unable to parse port in address")
    if not 1 <= port_number <= 65535:
        out.add(path, "port must be in the range [1, 65535]")
    return out


def _split_host_port(address: str) -> tuple[str, str] | None:
    try:
        return split_host_port(address)
    except AddressError:
        return None
