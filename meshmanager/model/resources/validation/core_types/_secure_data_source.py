"""Kuma's SecureDataSource (api/common/v1alpha1/datasource): a CA certificate or key
given as a file, a Secret reference, an environment variable or inline text."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.core_types._common import is_set
from meshmanager.model.resources.validation.schema import Obj, Str, as_dict

TYPES = ("EnvVar", "InsecureInline", "File", "Secret")

# `type`, `kind` and the required names are checked by `check_secure_data_source`.
SECURE_DATA_SOURCE = Obj(
    {
        "type": Str(),
        "file": Obj({"path": Str()}),
        "envVar": Obj({"name": Str()}),
        "insecureInline": Obj({"value": Str()}),
        "secretRef": Obj({"kind": Str(), "name": Str()}),
    }
)


def check_secure_data_source(source: dict[str, Any], path: Path, out: Violations) -> None:
    kind = source.get("type") or ""
    if kind == "EnvVar":
        _check_defined(source, "envVar", "name", path, out)
    elif kind == "InsecureInline":
        _check_defined(source, "insecureInline", "value", path, out)
    elif kind == "File":
        if _check_defined(source, "file", "path", path, out):
            problem = file_path_problem(source["file"]["path"])
            if problem:
                out.add(path.field("file").field("path"), problem)
    elif kind == "Secret":
        if not is_set(source, "secretRef"):
            out.add(path.field("secretRef"), msg.MUST_BE_DEFINED)
            return
        ref = as_dict(source["secretRef"])
        if (ref.get("kind") or "") != "Secret":
            out.add(
                path.field("secretRef").field("kind"),
                msg.one_of_listed(ref.get("kind") or "", ["Secret"]),
            )
        if not ref.get("name"):
            out.add(path.field("secretRef").field("name"), msg.MUST_BE_DEFINED)
    else:
        out.add(path.field("type"), msg.one_of_listed(kind, TYPES))


def _check_defined(
    source: dict[str, Any], block: str, field: str, path: Path, out: Violations
) -> bool:
    """The block and its one field are set; True if both are."""
    if not is_set(source, block):
        out.add(path.field(block), msg.MUST_BE_DEFINED)
        return False
    if not as_dict(source[block]).get(field):
        out.add(path.field(block).field(field), msg.MUST_BE_DEFINED)
        return False
    return True


def file_path_problem(file_path: str) -> str | None:
    if ".." in file_path:
        return f"file path contains directory traversal sequence: {file_path}"
    if not file_path.startswith("/"):
        return f"file path must be absolute: {file_path}"
    return None
