"""Kuma v2.14.3 REST API vectors (../shared/vectors/kuma-v2.14.3/api-server): the
manifest's entries, their input resources as meshmanager `Resource`s, loading them into a
fresh control plane, and the response normalisation the vectors' README describes.

    entries = api_entries(lambda entry: ...)     # manifest entries, calls resolved
    cp = await fresh_control_plane(api)          # a new control plane, empty
    await cp.load(entry.resources)               # straight into its store
    response = await api.call(call.method, cp.base + call.url)
    normalise(response.json(), cp.address)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import yaml

from meshmanager.api.kuma.codec import ZERO_TIME, format_time
from meshmanager.model.resources.registry import Style, by_name
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.resources import Create
from tests.conformance.vectors import VECTORS
from tests.conftest import Api
from tests.helpers import create_cp, my_org_id

API_VECTORS = VECTORS / "api-server"
ADDRESS = "{{address}}"
META_KEYS = ("type", "name", "mesh", "labels", "creationTime", "modificationTime")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d")


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    expected_status: int
    expected_body: Any  # parsed JSON, or None when the vector has no body
    request_body: bytes | None
    note: str | None  # what the Go test asserts when there is no expected body


@dataclass(frozen=True)
class Entry:
    id: str
    source_test: str | None
    resources: list[Resource]
    calls: list[Call]
    raw: dict[str, Any]

    @property
    def normalised_by_kuma(self) -> bool:
        """The README: endpoints_table_test.go entries normalise every timestamp."""
        return self.source_test == "pkg/api-server/endpoints_table_test.go"


def _json_file(relative: str | None) -> Any:
    return None if relative is None else json.loads((API_VECTORS / relative).read_text())


def _request_body(call: dict[str, Any]) -> bytes | None:
    """As sent: some vectors send invalid JSON on purpose."""
    if call.get("request_body_inline") is not None:
        return json.dumps(call["request_body_inline"]).encode()
    relative = call.get("request_body")
    return None if relative is None else (API_VECTORS / relative).read_bytes()


def _plain(value: Any) -> Any:
    """YAML turns unquoted timestamps into datetimes; Kuma's JSON has RFC 3339 text."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def resource_of(document: dict[str, Any]) -> Resource:
    """One universal-format document: new-style types keep `spec`/`status`, old-style
    ones have their spec fields next to the meta fields."""
    rt = by_name(document["type"])
    if rt is None:
        raise ValueError(f"unknown Kuma type {document['type']!r}")
    if rt.style == Style.NEW:
        spec, status = document.get("spec") or {}, document.get("status")
    else:
        spec, status = {k: v for k, v in document.items() if k not in META_KEYS}, None
    return Resource(
        type=rt.name,
        mesh=document.get("mesh", "default" if rt.is_mesh_scoped else "") or "",
        name=document["name"],
        spec=spec,
        labels=dict(document.get("labels") or {}),
        status=status,
    )


_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def parse_resources(text: str) -> list[Resource]:
    """An `*.input.yaml`: `#` header lines (comments to YAML), then `---`-separated
    resources, each trimmed as Kuma's SplitYAML does (a block scalar ending a document
    loses its final newline)."""
    documents = (yaml.safe_load(part.strip()) for part in _SEPARATOR.split(text.strip()))
    return [resource_of(_plain(doc)) for doc in documents if doc]


def _entry(raw: dict[str, Any]) -> Entry:
    inputs = raw.get("input_resources")
    resources = [] if inputs is None else parse_resources((API_VECTORS / inputs).read_text())
    calls = [
        Call(
            method=call["method"],
            url=call["url"],
            expected_status=call["expected_status"],
            expected_body=_json_file(call.get("expected_body")),
            request_body=_request_body(call),
            note=call.get("expected_body_note"),
        )
        for call in raw["calls"]
    ]
    return Entry(raw["id"], raw.get("source_test"), resources, calls, raw)


def api_entries(select: Callable[[dict[str, Any]], bool] = lambda raw: True) -> list[Entry]:
    """Manifest entries (raw dicts are offered to `select` before any file is read)."""
    manifest = API_VECTORS / "manifest.yaml"
    if not manifest.exists():
        raise FileNotFoundError(f"no vectors at {manifest}: is ../shared beside the repository?")
    raw_entries = yaml.safe_load(manifest.read_text())["entries"]
    return [_entry(raw) for raw in raw_entries if select(raw)]


@dataclass(frozen=True)
class ControlPlane:
    api: Api
    scope: CpScope
    base: str  # the Kuma API root, /v1/mesh/control-planes/{cpId}/api

    async def load(self, resources: Iterable[Resource]) -> None:
        await self.api.store.resources.write(self.scope, [Create(r) for r in resources])

    @property
    def address(self) -> str:
        """What stands where Kuma puts its own address in `next` links: the test client's
        host and the control plane's API root."""
        return f"testserver{self.base}"


async def fresh_control_plane(api: Api, name: str = "vectors") -> ControlPlane:
    cp = await create_cp(api, name)
    org_id = await my_org_id(api)
    scope = CpScope(org_id, UUID(cp["id"]))
    return ControlPlane(api, scope, f"/v1/mesh/control-planes/{cp['id']}/api")


def normalise(value: Any, address: str, keys: frozenset[str] | None = None) -> Any:
    """The README's normalisation: the server address becomes {{address}} and every
    timestamp (only the values of `keys`, if given) becomes the zero time."""

    def walk(item: Any, key: str | None) -> Any:
        if isinstance(item, dict):
            return {k: walk(v, k) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, key) for v in item]
        if isinstance(item, str):
            if _TIMESTAMP.match(item) and (keys is None or key in keys):
                return ZERO_TIME
            return item.replace(address, ADDRESS)
        return item

    return walk(value, None)


_NEXT_NOTE = re.compile(r'next == "([^"]+)"')


async def replay(
    api: Api, cp: ControlPlane, entry: Entry, times: frozenset[str] | None = None
) -> list[str]:
    """Makes the entry's calls in order; returns how each answer differs from Kuma's.

    Entries Kuma normalises itself have every timestamp normalised; others only the
    keys in `times` (our store stamps resources when written, Kuma's setup fixes them)."""
    keys = None if entry.normalised_by_kuma else times
    problems = []
    for call in entry.calls:
        headers = {"content-type": "application/json"} if call.request_body else {}
        response = await api.call(
            call.method, cp.base + call.url, content=call.request_body, headers=headers
        )
        if response.status_code != call.expected_status:
            problems.append(
                f"{call.method} {call.url}: status {response.status_code},"
                f" expected {call.expected_status}: {response.text[:300]}"
            )
            continue
        body = _json_or_text(response.content)
        body = normalise(body, cp.address, keys)
        if call.expected_body is not None:
            expected = normalise(call.expected_body, cp.address, keys)
            if body != expected:
                problems.append(f"{call.method} {call.url}: {body}\n  expected {expected}")
            continue
        wanted = _NEXT_NOTE.search(call.note or "")
        if wanted and body["next"] != wanted.group(1):
            problems.append(f"{call.url}: next {body['next']}, expected {wanted.group(1)}")
    return problems


def _json_or_text(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")
