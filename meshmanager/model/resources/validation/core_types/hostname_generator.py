"""HostnameGenerator (Kuma v2.14.3 pkg/core/resources/apis/hostnamegenerator)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    EXTENSION,
    LABEL_SELECTOR,
    ROOT,
    is_set,
)
from meshmanager.model.resources.validation.golang.kubernetes import dns1123_subdomain_errors
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.gotemplate import (
    GoFunc,
    GoStruct,
    TemplateError,
    parse,
)
from meshmanager.model.resources.validation.schema import Obj, Str, as_dict, validate_with_schema

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
    return validate_with_schema(SPEC, spec, ROOT, _check_hostname_generator)


def _check_hostname_generator(spec: dict[str, Any], out: Violations) -> None:
    selector = as_dict(spec.get("selector"))
    if sum(is_set(selector, key) for key in SELECTORS) != 1:
        out.add(
            ROOT.field("selector"),
            "exact one selector (meshService, meshExternalService) must be defined",
        )
    template_error = _template_error(spec.get("template") or "")
    if template_error:
        out.add(ROOT.field("template"), template_error)
    if is_set(spec, "extension") and not as_dict(spec["extension"]).get("type"):
        out.add(ROOT.field("extension").field("type"), msg.MUST_NOT_BE_EMPTY)


def _template_error(template: str) -> str | None:
    if template == "":
        return msg.MUST_NOT_BE_EMPTY
    try:
        parsed = parse(template, FUNCTIONS)
    except TemplateError as error:
        return f"couldn't parse template: {error}"
    try:
        rendered = parsed.execute(STUB)
    except TemplateError as failure:
        return f"couldn't render template with stub values: {failure}"
    problems = dns1123_subdomain_errors(rendered)
    if problems:
        return (
            f"template renders to {go_quote(rendered)} which is not a valid DNS name: "
            + ", ".join(problems)
        )
    return None
