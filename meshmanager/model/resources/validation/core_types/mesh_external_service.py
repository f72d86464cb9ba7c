"""MeshExternalService (Kuma v2.14.3 pkg/core/resources/apis/meshexternalservice)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    EXTENSION,
    INVALID_ADDRESS,
    ROOT,
    check_name_length,
    is_set,
    is_valid_port,
)
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.net import is_ip
from meshmanager.model.resources.validation.schema import (
    Arr,
    Base64Bytes,
    Bool,
    Int,
    Obj,
    Str,
    as_dict,
    as_list,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tls import TLS_VERSION, check_tls_version

MAX_NAME_LENGTH = 63
MATCH_TYPE = "HostnameGenerator"
MATCH_PROTOCOLS = ("tcp", "grpc", "http", "http2")
VERIFICATION_MODES = ("SkipSAN", "SkipCA", "SkipAll", "Secured")
SAN_MATCH_TYPES = ("Prefix", "Exact")

DATA_SOURCE = Obj({"secret": Str(), "inline": Base64Bytes(strict=True), "inlineString": Str()})
# Enums, ports and required fields are left to the rules below, which give Kuma's messages.
SPEC = Obj(
    {
        "match": Obj({"type": Str(), "port": Int(), "protocol": Str()}),
        "extension": EXTENSION,
        "endpoints": Arr(
            Obj({"address": Str(), "port": Int(), "priority": Int(minimum=0, maximum=128)})
        ),
        "tls": Obj(
            {
                "enabled": Bool(),
                "allowRenegotiation": Bool(),
                "version": TLS_VERSION,
                "verification": Obj(
                    {
                        "mode": Str(),
                        "serverName": Str(),
                        "subjectAltNames": Arr(Obj({"type": Str(), "value": Str()})),
                        "caCert": DATA_SOURCE,
                        "clientCert": DATA_SOURCE,
                        "clientKey": DATA_SOURCE,
                    }
                ),
            }
        ),
    }
)


@validator("MeshExternalService")
def validate_mesh_external_service(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(
        SPEC, spec, ROOT, lambda checked, out: _check_mesh_external_service(ctx, checked, out)
    )


def _check_mesh_external_service(ctx: Context, spec: dict[str, Any], out: Violations) -> None:
    check_name_length(ctx, MAX_NAME_LENGTH, out)
    _check_match(as_dict(spec.get("match")), ROOT.field("match"), out)
    # With an extension, endpoints and TLS are the extension's to validate.
    if not is_set(spec, "extension"):
        if is_set(spec, "endpoints"):
            _check_endpoints(as_list(spec["endpoints"]), ROOT.field("endpoints"), out)
        if is_set(spec, "tls"):
            _check_tls(as_dict(spec["tls"]), ROOT.field("tls"), out)
    elif not as_dict(spec["extension"]).get("type"):
        out.add(ROOT.field("extension").field("type"), msg.MUST_NOT_BE_EMPTY)


def _check_match(match: dict[str, Any], path: Path, out: Violations) -> None:
    match_type = match.get("type") or MATCH_TYPE
    if match_type != MATCH_TYPE:
        out.add(
            path.field("type"),
            f"unrecognized type '{match_type}' - only '{MATCH_TYPE}' is supported",
        )
    if not is_valid_port(match.get("port")):
        out.add(path.field("port"), msg.INVALID_PORT)
    protocol = match.get("protocol")
    if ("tcp" if protocol is None else protocol) not in MATCH_PROTOCOLS:
        out.add(path.field("protocol"), msg.must_be_one_of("protocol", MATCH_PROTOCOLS))


def _check_endpoints(endpoints: list[Any], path: Path, out: Violations) -> None:
    for i, endpoint in enumerate(endpoints):
        address = as_dict(endpoint).get("address") or ""
        if is_ip(address) or is_dns_name(address):
            if not is_valid_port(as_dict(endpoint).get("port")):
                out.add(path.index(i).field("port"), msg.INVALID_PORT)
        else:
            out.add(path.index(i).field("address"), INVALID_ADDRESS)


def _check_tls(tls: dict[str, Any], path: Path, out: Violations) -> None:
    if is_set(tls, "version"):
        check_tls_version(as_dict(tls["version"]), path.field("version"), out)
    if not is_set(tls, "verification"):
        return
    verification, path = as_dict(tls["verification"]), path.field("verification")
    server_name = verification.get("serverName")
    if server_name is not None and not is_dns_name(server_name):
        out.add(path.field("serverName"), "must be a valid DNS name")
    if verification.get("mode") not in (None, "", *VERIFICATION_MODES):
        out.add(path.field("mode"), msg.must_be_one_of("mode", VERIFICATION_MODES))
    for i, san in enumerate(as_list(verification.get("subjectAltNames"))):
        san_type = as_dict(san).get("type")
        if ("Exact" if san_type is None else san_type) not in SAN_MATCH_TYPES:
            out.add(
                path.field("subjectAltNames").index(i).field("type"),
                msg.must_be_one_of("type", SAN_MATCH_TYPES),
            )
    has_cert, has_key = is_set(verification, "clientCert"), is_set(verification, "clientKey")
    if has_cert and not has_key:
        out.add(path.field("clientKey"), msg.MUST_BE_DEFINED + " when clientCert is defined")
    if has_key and not has_cert:
        out.add(path.field("clientCert"), msg.MUST_BE_DEFINED + " when clientKey is defined")
