"""Kuma v2.14.3 conformance vectors from ../shared/vectors (beside the repository)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "kuma-v2.14.3"


@dataclass(frozen=True)
class ValidationCase:
    kuma_type: str
    index: int
    name: str
    input_kind: str
    spec: Any
    mesh: str | None
    resource_name: str | None
    context: dict[str, Any]
    valid: bool
    violations: frozenset[tuple[str, str]]

    @property
    def id(self) -> str:
        return f"{self.kuma_type}[{self.index}] {self.name}"


OLD_STYLE_META = ("type", "name", "mesh")


def validation_cases(kuma_type: str, folder: str = "validation") -> list[ValidationCase]:
    path = VECTORS / folder / f"{kuma_type}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no vectors at {path}: is ../shared beside the repository?")
    document = yaml.safe_load(path.read_text())
    cases = []
    for index, raw in enumerate(document["cases"]):
        raw_input = raw["input"]
        if isinstance(raw_input, str):
            spec = yaml.safe_load(raw_input) if raw_input.strip() else {}
        else:
            spec = raw_input  # already structured, e.g. `input_kind: meta`
        if raw.get("input_kind") == "resource" and isinstance(spec, dict):
            spec = {k: v for k, v in spec.items() if k not in OLD_STYLE_META}
        cases.append(
            ValidationCase(
                kuma_type=document.get("kuma_type") or path.stem,
                index=index,
                name=raw["name"],
                input_kind=raw.get("input_kind", "spec"),
                spec=spec,
                mesh=raw.get("mesh"),
                resource_name=raw.get("resource_name"),
                context=raw.get("context") or {},
                valid=bool(raw["valid"]),
                violations=frozenset(
                    (v["field"], v["message"]) for v in raw.get("violations") or []
                ),
            )
        )
    return cases
