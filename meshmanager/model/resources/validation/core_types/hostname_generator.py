"""HostnameGenerator (Kuma v2.14.3 pkg/core/resources/apis/hostnamegenerator)."""

from __future__ import annotations

import re
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    EXTENSION,
    LABEL_SELECTOR,
    MUST_NOT_BE_EMPTY,
    go_quote,
    is_set,
    obj,
)
from meshmanager.model.resources.validation.core_types._gotemplate import (
    GoFunc,
    GoStruct,
    TemplateError,
    parse_error,
    render,
)
from meshmanager.model.resources.validation.schema import Obj, Str, check

SELECTORS = ("meshService", "meshExternalService", "meshMultiZoneService")
# What Kuma renders a template against to check it yields a DNS name.
STUB = GoStruct(
    {
        "Name": "name",
        "DisplayName": "displayname",
        "Namespace": "namespace",
        "Mesh": "mesh",
        "Zone": "zone",
    }
)
FUNCTIONS = {"label": GoFunc(("string",), lambda _key: "label")}

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_ERROR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

# `extension.type` is checked below (Kuma's message), so it is not required here.
SPEC = Obj(
    {
        "selector": Obj({key: LABEL_SELECTOR for key in SELECTORS}),
        "template": Str(),
        "extension": EXTENSION,
    },
    required=["template"],
)


@validator("HostnameGenerator")
def validate_hostname_generator(spec: Any, ctx: Context) -> Violations:
    root = Path("spec")
    structural = check(SPEC, spec, root)
    if structural:
        return structural
    out = Violations()
    spec = obj(spec)
    selector = obj(spec.get("selector"))
    if sum(is_set(selector, key) for key in SELECTORS) != 1:
        out.add(
            root.field("selector"),
            "exact one selector (meshService, meshExternalService) must be defined",
        )
    template_error = _template_error(spec.get("template") or "")
    if template_error:
        out.add(root.field("template"), template_error)
    if is_set(spec, "extension") and not obj(spec["extension"]).get("type"):
        out.add(root.field("extension").field("type"), MUST_NOT_BE_EMPTY)
    return out


def _template_error(template: str) -> str | None:
    if template == "":
        return MUST_NOT_BE_EMPTY
    error = parse_error(template, FUNCTIONS)
    if error is not None:
        return f"couldn't parse template: {error}"
    try:
        rendered = render(template, STUB, FUNCTIONS)
    except TemplateError as failure:
        return f"couldn't render template with stub values: {failure}"
    problems = dns1123_subdomain_errors(rendered)
    if problems:
        return (
            f"template renders to {go_quote(rendered)} which is not a valid DNS name: "
            + ", ".join(problems)
        )
    return None


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Kubernetes' IsDNS1123Subdomain."""
    problems = []
    if len(value.encode()) > 253:
        problems.append("must be no more than 253 characters")
    if _DNS1123_SUBDOMAIN.fullmatch(value) is None:
        problems.append(_DNS1123_ERROR)
    return problems
