"""MeshMultiZoneService (Kuma v2.14.3 pkg/core/resources/apis/meshmultizoneservice)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.core_types._common import LABEL_SELECTOR, ROOT
from meshmanager.model.resources.validation.schema import (
    Arr,
    Int,
    Obj,
    Str,
    as_dict,
    as_list,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import SUPPORTED_PROTOCOLS

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
    return validate_with_schema(SPEC, spec, ROOT, _check_mesh_multi_zone_service)


def _check_mesh_multi_zone_service(spec: dict[str, Any], out: Violations) -> None:
    selector = as_dict(as_dict(spec.get("selector")).get("meshService"))
    if not as_dict(selector.get("matchLabels")):
        out.add(ROOT.field("selector").field("meshService").field("matchLabels"), "cannot be empty")
    ports = as_list(spec.get("ports"))
    if not ports:
        out.add(ROOT.field("ports"), "cannot be empty")
    for i, port in enumerate(ports):
        path = ROOT.field("ports").index(i)
        if port.get("name") == "":
            out.add(path.field("name"), msg.MUST_NOT_BE_EMPTY)
        protocol = port.get("appProtocol")
        if (DEFAULT_PROTOCOL if protocol is None else protocol) not in SUPPORTED_PROTOCOLS:
            out.add(
                path.field("appProtocol"), msg.one_of_listed("appProtocol", SUPPORTED_PROTOCOLS)
            )
