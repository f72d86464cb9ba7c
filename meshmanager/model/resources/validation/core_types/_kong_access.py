"""Pieces shared by Kong Mesh's access types (AccessRole, AccessAudit), per Kong Mesh's
documentation (developer.konghq.com/mesh/rbac and /mesh/access-audit)."""

from __future__ import annotations

from meshmanager.model.resources.access import ACCESS
from meshmanager.model.resources.validation.schema import Arr, Map, Obj, Str

ACCESS_LIST = Arr(Str(enum=ACCESS))
TYPE_LIST = Arr(Str())

TARGET_REF_KINDS = (
    "Mesh",
    "MeshSubset",
    "MeshGateway",
    "MeshService",
    "MeshExternalService",
    "MeshMultiZoneService",
    "MeshServiceSubset",
    "MeshHTTPRoute",
    "Dataplane",
)
TARGET_REF = Obj(
    {
        "kind": Str(enum=TARGET_REF_KINDS),
        "name": Str(),
        "namespace": Str(),
        "mesh": Str(),
        "labels": Map(Str()),
        "tags": Map(Str()),
        "sectionName": Str(),
        "proxyTypes": Arr(Str(enum=["Sidecar", "Gateway"])),
    }
)
SELECTOR = Obj({"match": Map(Str())})
