"""The hostnames HostnameGenerators give a service, as a Kuma v2.14.3 global control
plane shows them (`matchingHostnames` in `pkg/api-server/inspect_mesh_service.go`):
every generator is tried with the service seen as zone-originated and as
global-originated, since synced copies carry either origin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.gotemplate import (
    GoFunc,
    GoStruct,
    TemplateError,
    parse,
)

# The service types by path, with the generator selector that picks each.
SELECTORS = {
    "meshservices": ("MeshService", "meshService"),
    "meshexternalservices": ("MeshExternalService", "meshExternalService"),
    "meshmultizoneservices": ("MeshMultiZoneService", "meshMultiZoneService"),
}


class HostnameError(Exception):
    """A generator's template fails for the service."""


def zone_of(resource: Resource) -> str:
    """Kuma's ZoneOfResource: its zone label, else the first dot-separated part of its name."""
    return resource.labels.get(kuma_labels.ZONE) or resource.name.split(".")[0]


def _selected(generator: Resource, selector_key: str, labels: Mapping[str, str]) -> bool:
    selector = ((generator.spec or {}).get("selector") or {}).get(selector_key)
    if not isinstance(selector, dict):
        return False
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in wanted.items())


def _hostname(template: str, service: Resource, labels: Mapping[str, str], zone: str) -> str:
    """Kuma's EvaluateTemplate without the DNS check (hostnames of older zones show)."""

    def label(key: str) -> str:
        if key not in labels:
            raise ValueError(f"label {key} not found")
        return labels[key]

    fields = {
        "Name": service.name,
        "DisplayName": labels.get(kuma_labels.DISPLAY_NAME, service.name),
        "Namespace": labels.get(kuma_labels.NAMESPACE, ""),
        "Mesh": service.mesh,
        "Zone": labels.get(kuma_labels.ZONE) or zone,
    }
    try:
        return parse(template, {"label": GoFunc(("string",), label)}).execute(GoStruct(fields))
    except (TemplateError, ValueError) as error:
        raise HostnameError(str(error)) from error


def hostnames(
    service: Resource, selector_key: str, generators: Sequence[Resource]
) -> dict[str, Any]:
    zone = zone_of(service)
    zones_by_hostname: dict[str, set[str]] = {}
    for generator in generators:
        template = str((generator.spec or {}).get("template") or "")
        for origin in ("zone", "global"):
            labels = {**service.labels, kuma_labels.ORIGIN: origin}
            if not _selected(generator, selector_key, labels):
                continue
            hostname = _hostname(template, service, labels, zone)
            if hostname:
                zones_by_hostname.setdefault(hostname, set()).add(zone)
    items = [
        {"hostname": hostname, "zones": [{"name": name} for name in sorted(zones)]}
        for hostname, zones in sorted(zones_by_hostname.items())
    ]
    return {"items": items or None, "total": len(items)}
