"""JSON patch operations (RFC 6902 blocks, as in MeshProxyPatch `jsonPatches`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import AnyValue, Obj, Str

OPERATIONS = ("add", "remove", "replace", "move", "copy")
_WITH_VALUE = ("add", "replace")
_WITH_FROM = ("move", "copy")

# No enum on op and nothing required: Validate() reports those with its own messages.
JSON_PATCH_BLOCK = Obj({"op": Str(), "path": Str(), "from": Str(), "value": AnyValue()})


def validate_json_patch_blocks(
    out: Violations, path: Path, blocks: Sequence[Mapping[str, Any]]
) -> None:
    if not blocks:
        out.add(path, msg.MUST_NOT_BE_EMPTY)
    for index, block in enumerate(blocks):
        block_path = path.index(index)
        op = block.get("op") or ""
        if op not in OPERATIONS:
            out.add(block_path.field("op"), msg.must_be_one_of("op", OPERATIONS))
        _check_present(out, block_path, block, "from", op, _WITH_FROM)
        _check_present(out, block_path, block, "value", op, _WITH_VALUE)
        patch_path = block.get("path")
        if patch_path is None:
            out.add(block_path.field("path"), msg.MUST_BE_DEFINED)
        elif patch_path in ("", "/") and op == "remove":
            out.add(block_path.field("path"), "root path cannot be removed")


def _check_present(
    out: Violations,
    path: Path,
    block: Mapping[str, Any],
    field: str,
    op: str,
    ops_needing_it: tuple[str, ...],
) -> None:
    """`field` is required by `ops_needing_it` and forbidden for the other operations."""
    present = block.get(field) is not None
    if op in ops_needing_it and not present:
        out.add(path.field(field), msg.one_of(field, msg.MUST_NOT_BE_EMPTY, ops_needing_it, "op"))
    elif op not in ops_needing_it and present:
        out.add(path.field(field), msg.one_of(field, "is allowed only", ops_needing_it, "op"))
