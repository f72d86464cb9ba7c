"""Kuma resources in their REST JSON form: meta fields, then a flat (old-style) or
`spec`/`status` (new-style) body.

Responses are assembled as bytes: the meta fields are encoded and the stored spec
bytes are spliced in unchanged, which is what makes large lists cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.registry import ResourceType, Style
from meshmanager.model.resources.stored import Resource

META_KEYS = frozenset(
    {"type", "mesh", "name", "creationTime", "modificationTime", "labels", "kri", "snis"}
)
ZERO_TIME = "0001-01-01T00:00:00Z"
EMPTY_OBJECT = b"{}"
REST_MEMO = "kuma-rest"


def format_time(moment: datetime | None) -> str:
    """Go's RFC 3339 with nanoseconds: trailing zeros of the fraction dropped, UTC `Z`."""
    if moment is None:
        return ZERO_TIME
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def kri(rt: ResourceType, resource: Resource) -> str | None:
    if not rt.kri_short:
        return None
    labels = resource.labels
    return "_".join(
        (
            "kri",
            rt.kri_short,
            resource.mesh,
            labels.get(kuma_labels.ZONE, ""),
            labels.get(kuma_labels.NAMESPACE, ""),
            labels.get(kuma_labels.DISPLAY_NAME, resource.name),
            "",
        )
    )


def meta(rt: ResourceType, resource: Resource) -> dict[str, Any]:
    body: dict[str, Any] = {"type": rt.name}
    if rt.is_mesh_scoped:
        body["mesh"] = resource.mesh
    body["name"] = resource.name
    # orjson writes datetimes as RFC 3339 itself (with OPT_UTC_Z), far faster than
    # strftime; Go reads its six-digit fractions like any other.
    body["creationTime"] = resource.creation_time or ZERO_TIME
    body["modificationTime"] = resource.modification_time or ZERO_TIME
    if resource.labels:
        body["labels"] = resource.labels
    identifier = kri(rt, resource)
    if identifier:
        body["kri"] = identifier
    return body


def render(rt: ResourceType, resource: Resource) -> bytes:
    """The resource's REST JSON, as bytes (computed once per stored version)."""
    rendered: bytes | None = resource.memo.get(REST_MEMO)
    if rendered is None:
        rendered = resource.memo[REST_MEMO] = _render(rt, resource)
    return rendered


def destination_ports(rt: ResourceType, resource: Resource) -> list[Any]:
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    if rt.name == "MeshExternalService":
        port = (spec.get("match") or {}).get("port")
        return [] if port is None else [port]
    return [p["port"] for p in spec.get("ports") or [] if isinstance(p, dict) and "port" in p]


def snis(rt: ResourceType, resource: Resource) -> list[dict[str, Any]]:
    """The SNI of each port of a destination, built from its KRI's parts."""
    labels = resource.labels
    parts = (
        rt.kri_short or "",
        resource.mesh,
        labels.get(kuma_labels.ZONE, ""),
        labels.get(kuma_labels.NAMESPACE, ""),
        labels.get(kuma_labels.DISPLAY_NAME, resource.name),
    )
    base = ".".join(part for part in parts if part)
    return [{"port": port, "sni": f"sni.{base}.{port}"} for port in destination_ports(rt, resource)]


def _render(rt: ResourceType, resource: Resource) -> bytes:
    head_fields = meta(rt, resource)
    if rt.is_destination:
        head_fields["snis"] = snis(rt, resource)
    head = dumps(head_fields)[:-1]  # without its closing brace
    if rt.style == Style.OLD:
        spec = resource.spec_json
        return head + b"}" if spec == EMPTY_OBJECT else head + b"," + spec[1:]
    body = head + b',"spec":' + resource.spec_json
    if rt.has_status:
        body += b',"status":' + (resource.status_json or EMPTY_OBJECT)
    return body + b"}"


def to_json(rt: ResourceType, resource: Resource) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(render(rt, resource))
    return decoded


def render_list(items: list[bytes], total: int, next_url: str | None) -> bytes:
    return (
        b'{"total":'
        + str(total).encode()
        + b',"items":['
        + b",".join(items)
        + b'],"next":'
        + orjson.dumps(next_url)
        + b"}"
    )


def dumps(value: Any) -> bytes:
    """JSON with datetimes in RFC 3339 with a `Z`, which Go's decoder requires."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def split_body(rt: ResourceType, body: dict[str, Any]) -> tuple[Any, Any]:
    """(spec, status) of a request body."""
    if rt.style == Style.OLD:
        return {k: v for k, v in body.items() if k not in META_KEYS}, None
    return body.get("spec"), body.get("status")
