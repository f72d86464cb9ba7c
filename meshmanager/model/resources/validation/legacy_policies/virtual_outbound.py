"""VirtualOutbound (api/mesh/v1alpha1/virtual_outbound.proto)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.strconv import go_quote, parse_int
from meshmanager.model.resources.validation.gotemplate import TemplateError, parse
from meshmanager.model.resources.validation.legacy_policies.durations import HAS_TO_BE_DEFINED
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING,
    message,
    validate_decoded,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ANY_TAGS,
    SELECTORS,
    validate_selectors,
)
from meshmanager.model.resources.validation.schema import Arr
from meshmanager.model.resources.validation.tags import SERVICE_TAG, is_tag_name

PARAMETER = message({"name": STRING, "tag_key": STRING})
CONF = message({"host": STRING, "port": STRING, "parameters": Arr(PARAMETER)})
VIRTUAL_OUTBOUND = message({"selectors": SELECTORS, "conf": CONF})
_TEMPLATE_KEY = re.compile(r"[a-zA-Z0-9]+")


class EvaluationError(Exception):
    """Why a template cannot give a host or port, as Kuma words it."""


@validator("VirtualOutbound")
def validate_virtual_outbound(spec: Any, ctx: Context) -> Violations:
    return validate_decoded(VIRTUAL_OUTBOUND, spec, _validate_virtual_outbound)


def _validate_virtual_outbound(outbound: dict[str, Any]) -> Violations:
    out = validate_selectors(Path("selectors"), outbound.get("selectors"), ANY_TAGS)
    conf = outbound.get("conf")
    if conf is None:
        out.add(Path("conf"), HAS_TO_BE_DEFINED)
        return out
    parameters = conf.get("parameters", [])
    out.extend(_validate_parameters(Path("conf").field("parameters"), parameters))
    out.extend(
        _validate_template(
            Path("conf").field("host"), conf.get("host", ""), parameters, "dummy", _host
        )
    )
    out.extend(
        _validate_template(Path("conf").field("port"), conf.get("port", ""), parameters, "1", _port)
    )
    return out


def _validate_parameters(path: Path, parameters: list[dict[str, Any]]) -> Violations:
    out = Violations()
    has_service, seen = False, set()
    for i, parameter in enumerate(parameters):
        name, tag_key = parameter.get("name", ""), parameter.get("tagKey", "")
        if name in seen:
            out.add(path.index(i).field("name"), "name is already used")
        seen.add(name)
        if tag_key:
            has_service = has_service or tag_key == SERVICE_TAG
            if not is_tag_name(tag_key):
                out.add(path.index(i).field("tagKey"), "must be a valid tag name")
        elif not is_tag_name(name):
            out.add(
                path.index(i).field("name"),
                "must be a valid tag name if you are not setting tagKey",
            )
        if not _TEMPLATE_KEY.fullmatch(name):
            out.add(
                path.index(i).field("name"),
                "must consist of alphanumeric characters to be used as a gotemplate key",
            )
    if not has_service:
        out.add(path, f"must contain a parameter with {SERVICE_TAG} as a tagKey")
    return out


def _validate_template(
    path: Path,
    template: str,
    parameters: list[dict[str, Any]],
    sample: str,
    interpret: Callable[[str], str],
) -> Violations:
    """Kuma evaluates the template with every parameter's tag set to a sample value."""
    out = Violations()
    if template == "":
        out.add(path, HAS_TO_BE_DEFINED)
        return out
    entries = {parameter.get("name", ""): sample for parameter in parameters}
    try:
        interpret(_evaluate(template, entries))
    except EvaluationError as error:
        out.add(path, f"template pre evaluation failed with error={go_quote(str(error))}")
    return out


def _evaluate(template: str, entries: dict[str, str]) -> str:
    try:
        parsed = parse(template)
    except TemplateError as error:
        raise EvaluationError(f"failed compiling gotemplate error={go_quote(str(error))}") from None
    try:
        return parsed.execute(entries)
    except TemplateError as error:
        raise EvaluationError(
            f"pre evaluation of template with parameters failed with error={go_quote(str(error))}"
        ) from None


def _host(result: str) -> str:
    if not is_dns_name(result):
        raise EvaluationError(
            "evaluation of template with parameters didn't return a valid dns name "
            f"result={go_quote(result)}"
        )
    return result


def _port(result: str) -> str:
    port = parse_int(result)
    if port is None:
        raise EvaluationError(
            "evaluation of template with parameters didn't evaluate to a parsable number "
            f"result={go_quote(result)}"
        )
    if not 0 < port <= 65535:
        raise EvaluationError(
            f"evaluation of template returned a port outside of the range [1..65535] result={port}"
        )
    return result
