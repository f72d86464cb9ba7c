"""MeshMultiZoneService (Kuma v2.14.3 pkg/core/resources/apis/meshmultizoneservice)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    LABEL_SELECTOR,
    MUST_NOT_BE_EMPTY,
    items,
    obj,
    one_of_listed,
)
from meshmanager.model.resources.validation.schema import Arr, Int, Obj, Str, check

SUPPORTED_PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")
DEFAULT_PROTOCOL = "tcp"

# `selector`, `ports` and `appProtocol` are checked by the rules below (Kuma's messages).
SPEC = Obj(
    {
        "selector": Obj({"meshService": LABEL_SELECTOR}),
        "ports": Arr(Obj({"name": Str(), "port": Int(), "appProtocol": Str()}, required=["port"])),
    }
)


@validator("MeshMultiZoneService")
def validate_mesh_multi_zone_service(spec: Any, ctx: Context) -> Violations:
    root = Path("spec")
    structural = check(SPEC, spec, root)
    if structural:
        return structural
    out = Violations()
    spec = obj(spec)
    match_labels = obj(obj(obj(spec.get("selector")).get("meshService")).get("matchLabels"))
    if not match_labels:
        out.add(root.field("selector").field("meshService").field("matchLabels"), "cannot be empty")
    ports = items(spec.get("ports"))
    if not ports:
        out.add(root.field("ports"), "cannot be empty")
    for i, port in enumerate(ports):
        path = root.field("ports").index(i)
        if port.get("name") == "":
            out.add(path.field("name"), MUST_NOT_BE_EMPTY)
        protocol = port.get("appProtocol")
        if (DEFAULT_PROTOCOL if protocol is None else protocol) not in SUPPORTED_PROTOCOLS:
            out.add(path.field("appProtocol"), one_of_listed("appProtocol", SUPPORTED_PROTOCOLS))
    return out
