"""`?format=k8s`: a resource as the Kubernetes object a Kuma global with a universal
store infers for it (Kuma v2.14.3 `formatResource`, with the "inference" mappers of
`pkg/plugins/resources/k8s` and `pkg/plugins/secrets/k8s`).

One rule, driven by the registry descriptor:

* `kind` is the type name and `apiVersion` is `kuma.io/v1alpha1` (Secret and
  GlobalSecret: a core `v1` `Secret` of type `system.kuma.io/secret` or
  `system.kuma.io/global-secret`, the spec's bytes in `data.value`).
* `metadata` holds the name, the namespace (namespace-scoped kinds only: `?namespace=`
  if given, else the system namespace `kuma-system`), `creationTimestamp` (whole
  seconds, as Kubernetes writes it) and labels. Only the mesh is carried as a label,
  and only where the kind keeps its mesh in one: new-style (`spec`) kinds scoped to a
  mesh, and Secret. The resource's other labels are not copied, as in Kuma.
* Old-style kinds have a top-level `mesh` (left out when empty) and the protobuf spec
  under `spec`; new-style kinds have `spec`, and `status` if the type has one.

Keys come in the order Go's encoding/json writes the CRD structs: `kind`,
`apiVersion`, `metadata` (`name`, `namespace`, `creationTimestamp`, `labels`), then
`mesh`/`spec`/`status`, or `data`/`type` for secrets.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from meshmanager.api.kuma.codec import EMPTY_OBJECT, render
from meshmanager.api.kuma.errors import invalid
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.naming import K8S_CLUSTER_SCOPED_TYPES
from meshmanager.model.resources.registry import KONG_MESH_TYPES, ResourceType, Style
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation import Violation

API_VERSION = "kuma.io/v1alpha1"
SYSTEM_NAMESPACE = "kuma-system"
K8S_FORMATS = frozenset({"k8s", "kubernetes"})
UNIVERSAL_FORMATS = frozenset({"universal", ""})
# Kuma's validators.MakeFieldMustBeOneOfErr("format", "k8s", "kubernetes", "universal").
FORMAT_VIOLATION = Violation("", '"format" must be one of ["k8s", "kubernetes", "universal"]')
SECRET_TYPES = {
    "Secret": "system.kuma.io/secret",
    "GlobalSecret": "system.kuma.io/global-secret",
}
# Kong Mesh's access types are cluster-scoped CRDs of the same old style.
CLUSTER_SCOPED = K8S_CLUSTER_SCOPED_TYPES | KONG_MESH_TYPES


def is_cluster_scoped(rt: ResourceType) -> bool:
    return rt.name in CLUSTER_SCOPED


def kubernetes_time(moment: datetime | None) -> str | None:
    """metav1.Time: RFC 3339 in UTC to the second; an unset time is null."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_k8s(rt: ResourceType, resource: Resource, namespace: str = "") -> dict[str, Any]:
    """The Kubernetes object Kuma infers for `resource`; `namespace` overrides the
    system namespace of a namespace-scoped kind (empty: not given)."""
    secret_type = SECRET_TYPES.get(rt.name)
    metadata: dict[str, Any] = {"name": resource.name}
    if secret_type is not None or not is_cluster_scoped(rt):
        metadata["namespace"] = namespace or SYSTEM_NAMESPACE
    metadata["creationTimestamp"] = kubernetes_time(resource.creation_time)
    mesh_label = rt.is_mesh_scoped and (secret_type is not None or rt.style == Style.NEW)
    if mesh_label:
        metadata["labels"] = {kuma_labels.MESH: resource.mesh}
    if secret_type is not None:
        return {
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": metadata,
            "data": {"value": _secret_value(resource.spec)},
            "type": secret_type,
        }
    body: dict[str, Any] = {"kind": rt.name, "apiVersion": API_VERSION, "metadata": metadata}
    if rt.style == Style.OLD:
        if resource.mesh:
            body["mesh"] = resource.mesh
        body["spec"] = orjson.Fragment(resource.spec_json)
        return body
    body["spec"] = orjson.Fragment(resource.spec_json)
    if rt.has_status:
        body["status"] = orjson.Fragment(resource.status_json or EMPTY_OBJECT)
    return body


def _secret_value(spec: Any) -> str | None:
    """`data.value`: the secret's bytes in standard base64 (null when it has none).
    The universal form carries them as protobuf JSON bytes, which may be URL-safe."""
    data = spec.get("data") if isinstance(spec, dict) else None
    if not isinstance(data, str):
        return None
    padded = data + "=" * (-len(data) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return data
    return base64.b64encode(raw).decode()


def formatted(
    request: Request, rt: ResourceType, resource: Resource, *, title: str, namespace: str
) -> Response:
    """The answer to an item GET: the universal form, or the Kubernetes one for
    `format=k8s|kubernetes`; any other format is Kuma's 400 (after the lookup, as there)."""
    wanted = request.query_params.get("format", "")
    if wanted in UNIVERSAL_FORMATS:
        return Response(render(rt, resource), media_type="application/json")
    if wanted not in K8S_FORMATS:
        raise invalid(title, [FORMAT_VIOLATION])
    body = orjson.dumps(to_k8s(rt, resource, namespace))
    return Response(body, media_type="application/json")
