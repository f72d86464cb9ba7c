"""MeshTLS: mTLS mode, TLS versions and ciphers of inbound traffic."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    each,
    items,
    obj,
    targeted,
    top_kind,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import Arr, Obj, Str
from meshmanager.model.resources.validation.tls import TLS_VERSION, check_tls_version

MODES = ("Strict", "Permissive")
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
        "tlsVersion": TLS_VERSION,
        "tlsCiphers": Arr(Str()),
        "mode": Str(),
    }
)
SCHEMA = Obj(
    {"targetRef": ref.TARGET_REF, "from": targeted(_CONF), "rules": Arr(Obj({"default": _CONF}))}
)


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
        check_tls_version(version, path.field("tlsVersion"), out)


_TOP_KINDS = (ref.MESH, ref.MESH_SUBSET, ref.DATAPLANE)


def _rules(spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, TargetRefRules(_TOP_KINDS, inbound=affects_inbounds(spec)))
    if items(spec, "rules") and items(spec, "from"):
        out.add(SPEC, msg.FROM_WITH_RULES)
    top = top_kind(spec)
    for rule_path, rule in each(spec, "rules"):
        _validate_default(out, rule_path.field("default"), obj(rule, "default"), top)
    validate_targeted(out, spec, "from", (ref.MESH,), partial(_validate_default, top=top))


@validator("MeshTLS")
def validate_mesh_tls(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)
