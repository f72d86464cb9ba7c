"""Discovery endpoints: the index kumactl checks, `/_resources`, `/policies`, `/who-am-i`."""

from __future__ import annotations

import os
import socket
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshmanager import __version__
from meshmanager.api.kuma.context import cp_id_of, kuma_call
from meshmanager.api.kuma.resources import json_response
from meshmanager.model.identity import Action
from meshmanager.model.resources.registry import TYPES, ResourceType

KUMA_VERSION = "2.14.3"
HOSTNAME = socket.gethostname()
INSTANCE_ID = f"{HOSTNAME}-{os.getpid()}"


async def index(request: Request) -> Response:
    """Answered without authentication, as Kuma does: kumactl checks it before anything."""
    cp_id = cp_id_of(request)
    return json_response(
        {
            "hostname": HOSTNAME,
            "product": "Kuma",
            "version": KUMA_VERSION,
            "instanceId": INSTANCE_ID,
            "clusterId": str(cp_id),
            "gui": "",
            "meshmanager": {"product": "meshmanager", "version": __version__},
        }
    )


def _description(rt: ResourceType) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": rt.name,
        "scope": str(rt.scope),
        "readOnly": rt.read_only,
        "path": rt.path,
        "singularDisplayName": rt.singular_display_name,
        "pluralDisplayName": rt.plural_display_name,
        "shortName": rt.kri_short or "",
        "includeInFederation": rt.include_in_federation,
    }
    if rt.is_policy:
        item["policy"] = {
            "isTargetRef": rt.policy.is_target_ref,
            "hasToTargetRef": rt.policy.has_to,
            "hasFromTargetRef": rt.policy.has_from,
            "hasRulesTargetRef": rt.policy.has_rules,
            "isFromAsRules": rt.policy.is_from_as_rules,
        }
    return item


async def resource_types(request: Request) -> Response:
    await kuma_call(request, Action.READ)
    items = [_description(rt) for rt in sorted(TYPES, key=lambda t: t.name)]
    return json_response({"resources": items})


async def policies(request: Request) -> Response:
    await kuma_call(request, Action.READ)
    items = [
        {
            "name": rt.name,
            "readOnly": not rt.writable_on_global,
            "path": rt.path,
            "singularDisplayName": rt.singular_display_name,
            "pluralDisplayName": rt.plural_display_name,
            "isExperimental": False,
            "isTargetRefBased": rt.policy.is_target_ref,
            "isInbound": rt.policy.has_from or rt.policy.has_rules,
            "isOutbound": rt.policy.has_to,
        }
        for rt in sorted(TYPES, key=lambda t: t.name)
        if rt.is_policy
    ]
    return json_response({"policies": items})


async def who_am_i(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    principal = call.principal
    groups = ["mesh-system:authenticated"]
    if principal.can(Action.UPDATE, call.scope.cp_id):
        groups.insert(0, "mesh-system:admin")
    return json_response({"name": principal.name, "groups": groups})
