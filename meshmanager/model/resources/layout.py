"""A dataplane's networking layout as Kuma v2.14.3 describes it
(`pkg/api-server/dataplane_layout_endpoint.go`): its inbounds and zone proxy listeners
with the names of the Envoy resources they become, the destinations it can reach
(`DestinationIndex.GetReachableBackends`), and its SPIFFE ID."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.matching import Decoded, Proxy, section_name
from meshmanager.model.resources.rules import (
    Identity,
    identity,
    kri_text,
    referenced_identity,
)
from meshmanager.model.resources.validation.gotemplate import GoFunc, GoStruct, TemplateError, parse
from meshmanager.model.resources.validation.policies.matches import spiffe_id_error

Port = tuple[str, int, str]  # name as written (maybe empty), port, protocol
_LISTENER_NAMES = {"ZoneIngress": "self_zoneingress_dp_", "ZoneEgress": "self_zoneegress_dp_"}
SERVICE_ACCOUNT = "k8s.kuma.io/service-account"
WORKLOAD = "kuma.io/workload"
_TRUST_DOMAIN = "{{ .Mesh }}.{{ .Zone }}.mesh.local"
_SPIFFE_PATH = {
    "universal": "/workload/{{ .Workload }}",
    "kubernetes": "/ns/{{ .Namespace }}/sa/{{ .ServiceAccount }}",
}


def _ports(destination: Decoded) -> list[Port]:
    if destination.resource.type == "MeshExternalService":
        match = destination.spec.get("match") or {}
        port = int(match.get("port") or 0)
        return [(str(port), port, match.get("protocol") or "tcp")]
    ports = [p for p in destination.spec.get("ports") or [] if isinstance(p, dict)]
    return [
        (str(p.get("name") or ""), int(p.get("port") or 0), p.get("appProtocol") or "tcp")
        for p in ports
    ]


def _section(port: Port) -> str:
    """A port's section name: its name, else its number."""
    return port[0] or str(port[1])


class _Destinations:
    """Kuma's DestinationIndex: MeshServices, MeshExternalServices and
    MeshMultiZoneServices by identity."""

    def __init__(self, destinations: Sequence[Decoded]) -> None:
        self.by_identity = {identity(d.resource.type, d): d for d in destinations}

    def with_labels(self, kind: str, labels: Mapping[str, str]) -> list[Identity]:
        if not labels:
            return []
        return [
            ident
            for ident, d in self.by_identity.items()
            if ident[0] == kind and all(d.labels.get(k) == v for k, v in labels.items())
        ]

    def reachable(self, proxy: Proxy) -> dict[str, Port]:
        outbounds: dict[str, Port] = {}
        for outbound in proxy.networking.get("outbound") or []:
            ref = outbound.get("backendRef")
            if isinstance(ref, dict):
                self._add(outbounds, proxy, {**ref, "name": ref.get("name") or ""}, ref.get("port"))
        if outbounds:
            return outbounds
        reachable = (proxy.networking.get("transparentProxying") or {}).get("reachableBackends")
        if reachable is None:
            return {
                kri_text(ident, _section(port)): port
                for ident, d in self.by_identity.items()
                for port in _ports(d)
            }
        for ref in reachable.get("refs") or []:
            self._add(outbounds, proxy, ref, ref.get("port"))
        return outbounds

    def _add(
        self, outbounds: dict[str, Port], proxy: Proxy, ref: Mapping[str, Any], port: Any
    ) -> None:
        """Kuma's processRef, which gives up at the first identity it cannot resolve."""
        kind = str(ref.get("kind"))
        idents = self.with_labels(kind, ref.get("labels") or {})
        if not idents:
            idents = [referenced_identity(proxy, ref)]
        section = "" if port is None else str(port)
        for ident in idents:
            destination = self.by_identity.get(ident)
            if destination is None:
                return
            ports = _ports(destination)
            named = [p for p in ports if section in (p[0], str(p[1]))]
            if destination.resource.type == "MeshExternalService" or named:
                found = (named or ports)[0]
                outbounds[kri_text(ident, _section(found))] = found
                return
            outbounds.update({kri_text(ident, _section(p)): p for p in ports})


def _inbound(proxy: Proxy, inbound: Mapping[str, Any]) -> dict[str, Any]:
    section = section_name(inbound)
    return {
        "kri": kri_text(identity("Dataplane", proxy), section),
        "port": int(inbound.get("port") or 0),
        "protocol": inbound.get("protocol")
        or (inbound.get("tags") or {}).get("kuma.io/protocol", ""),
        "proxyResourceName": f"self_inbound_dp_{section}",
    }


def _listeners(proxy: Proxy) -> list[dict[str, Any]]:
    found = []
    for listener in proxy.networking.get("listeners") or []:
        prefix = _LISTENER_NAMES.get(listener.get("type"))
        if prefix is None:
            continue
        section = section_name(listener)
        found.append(
            {
                "kri": kri_text(identity("Dataplane", proxy), section),
                "port": int(listener.get("port") or 0),
                "proxyResourceName": prefix + section,
                "type": listener["type"],
            }
        )
    return found


def layout(
    proxy: Proxy,
    destinations: Sequence[Decoded],
    identities: Sequence[Decoded],
    environment: str = "universal",
) -> dict[str, Any]:
    outbounds = _Destinations(destinations).reachable(proxy)
    document = {
        "inbounds": [_inbound(proxy, inbound) for inbound in proxy.inbounds],
        "kri": kri_text(identity("Dataplane", proxy)),
        "labels": dict(proxy.labels),
        "listeners": _listeners(proxy),
        "outbounds": [
            {"kri": key, "port": port, "protocol": protocol, "proxyResourceName": key}
            for key, (_, port, protocol) in sorted(outbounds.items())
        ],
    }
    spiffe_id = _spiffe_id(proxy, identities, environment)
    if spiffe_id is not None:
        document["spiffeId"] = spiffe_id
    return document


# --- SPIFFE ID of the best matching, initialized MeshIdentity ------------------------


def _best_identity(proxy: Proxy, identities: Sequence[Decoded]) -> Decoded | None:
    """Kuma's BestMatched: most matchLabels first, then the smallest name."""
    matched = []
    for candidate in identities:
        selector = ((candidate.spec.get("selector") or {}).get("dataplane")) or None
        if selector is None:
            continue
        wanted = selector.get("matchLabels") or {}
        if all(proxy.labels.get(k) == v for k, v in wanted.items()):
            matched.append((-len(wanted), candidate.name, candidate))
    return min(matched, key=lambda m: m[:2])[2] if matched else None


def _initialized(candidate: Decoded) -> bool:
    conditions = (candidate.resource.status or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _render(template: str, resource: Decoded, fields: dict[str, str]) -> str:
    def label(key: str) -> str:
        if key not in resource.labels:
            raise ValueError(f"label {key} not found")
        return resource.labels[key]

    return parse(template, {"label": GoFunc(("string",), label)}).execute(GoStruct(fields))


def _spiffe_id(proxy: Proxy, identities: Sequence[Decoded], environment: str) -> str | None:
    """The SPIFFE ID the proxy gets from its MeshIdentity, or None when there is none,
    it is not ready, or its templates fail."""
    chosen = _best_identity(proxy, identities)
    if chosen is None or not _initialized(chosen):
        return None
    spiffe = chosen.spec.get("spiffeID") or {}
    zone = chosen.labels.get(kuma_labels.ZONE, "")
    path = spiffe.get("path") or _SPIFFE_PATH.get(environment, "")
    try:
        template = spiffe.get("trustDomain") or _TRUST_DOMAIN
        domain = _render(template, chosen, {"Mesh": chosen.mesh, "Zone": zone})
        fields = {
            "TrustDomain": domain,
            "Namespace": proxy.labels.get(kuma_labels.NAMESPACE, ""),
            "ServiceAccount": proxy.labels.get(SERVICE_ACCOUNT, ""),
            "Workload": proxy.labels.get(WORKLOAD, ""),
        }
        spiffe_id = _render("spiffe://{{ .TrustDomain }}" + path, proxy, fields)
    except (TemplateError, ValueError):
        return None
    return None if spiffe_id_error(spiffe_id) else spiffe_id
