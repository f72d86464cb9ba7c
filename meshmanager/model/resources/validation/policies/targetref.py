"""targetRef: its schema and Kuma's shared validation of a reference (which kinds a
place accepts, and which of name, tags, labels, ... each kind allows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import Arr, Int, Map, Node, Obj, Str, as_tags
from meshmanager.model.resources.validation.tags import NO_RULES, validate_selector, validate_tags

MESH = "Mesh"
DATAPLANE = "Dataplane"
MESH_SUBSET = "MeshSubset"
MESH_GATEWAY = "MeshGateway"
MESH_SERVICE = "MeshService"
MESH_EXTERNAL_SERVICE = "MeshExternalService"
MESH_MULTI_ZONE_SERVICE = "MeshMultiZoneService"
MESH_SERVICE_SUBSET = "MeshServiceSubset"
MESH_HTTP_ROUTE = "MeshHTTPRoute"

# The kinds that select proxies, and the kinds of traffic destinations.
PROXY_KINDS = (MESH, MESH_SUBSET, MESH_SERVICE, MESH_SERVICE_SUBSET, DATAPLANE)
DESTINATION_KINDS = (MESH_SERVICE, MESH_EXTERNAL_SERVICE, MESH_MULTI_ZONE_SERVICE)

PROXY_TYPES = ("Sidecar", "Gateway")
# The service name Kuma gives a Gateway API backend it could not resolve.
UNRESOLVED_BACKEND = "kuma.io/unresolved-backend"

TARGET_REF_FIELDS: dict[str, Node] = {
    # No enum on kind: Validate() reports a kind a place does not accept with its own message.
    "kind": Str(),
    "name": Str(),
    "namespace": Str(),
    "mesh": Str(),
    "tags": Map(Str()),
    "labels": Map(Str()),
    "proxyTypes": Arr(Str(enum=PROXY_TYPES)),
    "sectionName": Str(),
}
TARGET_REF = Obj(TARGET_REF_FIELDS)
BACKEND_REF = Obj(TARGET_REF_FIELDS | {"weight": Int(minimum=0), "port": Int(minimum=0)})


@dataclass(frozen=True)
class TargetRefRules:
    """What one place accepts in a targetRef (Kuma's ValidateTargetRefOpts)."""

    kinds: tuple[str, ...]
    kinds_error: str = ""
    gateway_listener_tags: bool = False
    allowed_invalid_names: tuple[str, ...] = ()
    inbound: bool = False


_NAME = re.compile(r"[0-9a-z.\-_]*")


class _RefCheck:
    """The checks of one targetRef, in the order Kuma runs them for its kind."""

    def __init__(self, out: Violations, path: Path, ref: Mapping[str, Any], rules: TargetRefRules):
        self.out, self.path, self.ref, self.rules = out, path, ref, rules
        self.kind: str = ref.get("kind") or ""

    def has(self, field: str) -> bool:
        return bool(self.ref.get(field))  # "", {} and [] count as unset, like in Go

    def disallow(self, *fields: str) -> None:
        for field in fields:
            if self.has(field):
                self.out.add(self.path.field(field), f"{msg.MUST_NOT_BE_SET} with kind {self.kind}")

    def name_characters(self) -> None:
        name: str = self.ref.get("name") or ""
        if name not in self.rules.allowed_invalid_names and not _NAME.fullmatch(name):
            self.out.add(
                self.path.field("name"),
                "invalid characters: must consist of lower case alphanumeric characters, '-',"
                " '.' and '_'.",
            )

    def proxy_types_not_empty(self) -> None:
        if self.ref.get("proxyTypes") == []:
            self.out.add(
                self.path.field("proxyTypes"), "must be undefined or have at least one element"
            )

    def name_or_labels(self, conflict: str) -> None:
        if not self.has("labels") and not self.has("name"):
            self.out.add(self.path, f"name or labels must be set when kind is {self.kind}")
        self.labels_alone(conflict)

    def labels_alone(self, conflict: str) -> None:
        if self.has("labels") and (self.has("name") or self.has("namespace")):
            self.out.add(self.path.field("labels"), conflict)

    def tags(self, selector: bool) -> None:
        validate = validate_selector if selector else validate_tags
        validate(self.path.field("tags"), as_tags(self.ref.get("tags")), NO_RULES, self.out)


_LABELS_OR_NAME_AND_NAMESPACE = "either labels or name and namespace must be specified"


def validate_target_ref(
    out: Violations, path: Path, ref: Mapping[str, Any], rules: TargetRefRules
) -> None:
    check = _RefCheck(out, path, ref, rules)
    kind = check.kind
    if kind == "":
        out.add(path.field("kind"), msg.MUST_BE_DEFINED)
        return
    if kind not in rules.kinds:
        out.add(path.field("kind"), rules.kinds_error or f"value '{kind}' is not supported")
        return
    if kind == MESH:
        if check.has("name"):
            out.add(path.field("name"), f"using name with kind {kind} is not yet supported")
        check.disallow("mesh", "tags", "labels", "namespace", "sectionName")
        check.proxy_types_not_empty()
    elif kind == DATAPLANE:
        check.disallow("tags", "mesh", "proxyTypes")
        check.labels_alone(_LABELS_OR_NAME_AND_NAMESPACE)
        if not rules.inbound and check.has("sectionName"):
            out.add(path.field("sectionName"), "can only be used with inbound policies")
    elif kind == MESH_SUBSET:
        check.disallow("name", "mesh")
        check.tags(selector=False)
        check.disallow("labels", "namespace", "sectionName")
        check.proxy_types_not_empty()
    elif kind == MESH_SERVICE:
        check.name_characters()
        check.disallow("mesh", "tags", "proxyTypes")
        check.name_or_labels(_LABELS_OR_NAME_AND_NAMESPACE)
    elif kind == MESH_HTTP_ROUTE:
        check.name_characters()
        check.disallow("mesh", "tags", "proxyTypes", "sectionName")
        check.name_or_labels(_LABELS_OR_NAME_AND_NAMESPACE)
    elif kind in (MESH_SERVICE_SUBSET, MESH_GATEWAY):
        if not check.has("name"):
            out.add(path.field("name"), f"{msg.MUST_BE_SET} when kind is {kind}")
        check.name_characters()
        check.disallow("mesh", "proxyTypes")
        check.tags(selector=True)
        if kind == MESH_GATEWAY and not rules.gateway_listener_tags:
            check.disallow("tags")
        check.disallow("labels", "namespace", "sectionName")
    elif kind == MESH_EXTERNAL_SERVICE:
        check.name_characters()
        check.disallow("mesh", "tags", "proxyTypes")
        check.name_or_labels("either labels or name must be specified")
        check.disallow("sectionName")


def validate_backend_ref(
    out: Violations, path: Path, ref: Mapping[str, Any], rules: TargetRefRules
) -> None:
    """A route's backendRef: a targetRef, and a MeshMultiZoneService needs a port."""
    validate_target_ref(out, path, ref, rules)
    if ref.get("kind") == MESH_MULTI_ZONE_SERVICE and ref.get("port") is None:
        out.add(path.field("port"), f"{msg.MUST_BE_DEFINED} with kind {MESH_MULTI_ZONE_SERVICE}")
