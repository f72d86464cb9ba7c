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
        spec = yaml.safe_load(raw["input"]) if raw["input"].strip() else {}
        if raw.get("input_kind") == "resource" and isinstance(spec, dict):
            spec = {k: v for k, v in spec.items() if k not in OLD_STYLE_META}
        cases.append(
            ValidationCase(
                kuma_type=document["kuma_type"],
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
