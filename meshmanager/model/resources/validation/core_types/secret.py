"""Secret (Kuma v2.14.3 api/system/v1alpha1/secret.proto): a mesh-scoped value, `data`
holding base64 bytes. Kuma checks nothing beyond decoding it."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.schema import Base64Bytes, Obj, check

# Old-style type: the body is flat, so paths start at the field (`data`).
SECRET_BODY = Obj({"data": Base64Bytes()}, required=["data"])


@validator("Secret")
def validate_secret(spec: Any, ctx: Context) -> Violations:
    return check(SECRET_BODY, spec, Path())
