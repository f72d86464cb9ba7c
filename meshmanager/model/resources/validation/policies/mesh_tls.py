"""MeshTLS: mTLS mode, TLS versions and ciphers of inbound traffic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import messages as msg
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    check_item_target_ref,
    each,
    items,
    obj,
    targeted,
    top_kind,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import Arr, Obj, Str

MODES = ("Strict", "Permissive")
TLS_VERSIONS = ("TLSAuto", "TLS10", "TLS11", "TLS12", "TLS13")
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
)

# Modes, versions and ciphers have no enum: Validate() lists the allowed values itself.
_CONF = Obj(
    {
        "tlsVersion": Obj({"min": Str(), "max": Str()}),
        "tlsCiphers": Arr(Str()),
        "mode": Str(),
    }
)
SCHEMA = Obj(
    {"targetRef": ref.TARGET_REF, "from": targeted(_CONF), "rules": Arr(Obj({"default": _CONF}))}
)


def _validate_version(out: Violations, path: Path, version: Mapping[str, Any]) -> None:
    bounds = {}
    for bound in ("min", "max"):
        value = version.get(bound)
        if value is None:
            continue
        if value not in TLS_VERSIONS:
            out.add(path.field(bound), msg.must_be_one_of(bound, TLS_VERSIONS))
        elif value != "TLSAuto":
            bounds[bound] = TLS_VERSIONS.index(value)
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:
        out.add(path.field("min"), "min version must be lower than max")


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any], top: str) -> None:
    mode = conf.get("mode")
    if mode is not None and mode not in MODES:
        out.add(path.field("mode"), msg.must_be_one_of("mode", MODES))
    ciphers = items(conf, "tlsCiphers")
    if ciphers and top != ref.MESH:
        out.add(
            path.field("tlsCiphers"),
            "tlsCiphers can only be defined with top level targetRef kind: Mesh",
        )
    elif any(cipher not in CIPHERS for cipher in ciphers):
        out.add(path.field("tlsCiphers"), msg.must_be_one_of("tlsCiphers", CIPHERS))
    version = conf.get("tlsVersion")
    if version is not None and top != ref.MESH:
        out.add(
            path.field("tlsVersion"),
            "tlsVersion can only be defined with top level targetRef kind: Mesh",
        )
    elif version is not None:
        _validate_version(out, path.field("tlsVersion"), version)


_TOP_KINDS = (ref.MESH, ref.MESH_SUBSET, ref.DATAPLANE)


def _rules(spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, TargetRefRules(_TOP_KINDS, inbound=affects_inbounds(spec)))
    if items(spec, "rules") and items(spec, "from"):
        out.add(SPEC, msg.FROM_WITH_RULES)
    top = top_kind(spec)
    for rule_path, rule in each(spec, "rules"):
        _validate_default(out, rule_path.field("default"), obj(rule, "default"), top)
    for item_path, item in each(spec, "from"):
        check_item_target_ref(out, item_path, item, (ref.MESH,))
        _validate_default(out, item_path.field("default"), obj(item, "default"), top)


@validator("MeshTLS")
def validate_mesh_tls(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)
