"""Go's text/template (validation/gotemplate) over both kinds of data Kuma renders
templates against: a struct of strings and a map of strings."""

from __future__ import annotations

import pytest

from meshmanager.model.resources.validation.gotemplate import (
    GoFunc,
    GoStruct,
    TemplateError,
    parse,
)

PARAMETERS = {"service": "web", "port": "80"}


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ("{{.service}}.{{.port}}", "web.80"),
        ("{{.missing}}", "<no value>"),
        ("{{.missing.deeper}}", "<no value>"),
        ('{{index . "service"}}/{{index . "missing"}}/', "web//"),
        ("{{len .}}", "2"),
        ("{{.}}", "map[port:80 service:web]"),
        ("{{range $key, $value := .}}{{$key}}={{$value}};{{end}}", "port=80;service=web;"),
        ("{{range .}}{{.}},{{end}}", "80,web,"),
        ("{{with .missing}}set{{else}}unset{{end}}", "unset"),
        ('{{printf "%s:%s" .service .port}}', "web:80"),
        ('{{if eq .port "80"}}http{{end}}', "http"),
    ],
)
def test_map_data(template: str, output: str) -> None:
    assert parse(template).execute(PARAMETERS) == output


@pytest.mark.parametrize(
    ("template", "error"),
    [
        (
            "{{.service.name}}",
            'template: :1:10: executing "" at <.service.name>: can\'t evaluate field name in '
            "type string",
        ),
        (
            "{{.service 1}}",
            'template: :1:2: executing "" at <.service>: service is not a method but has arguments',
        ),
        (
            "{{index . 1}}",
            'template: :1:2: executing "" at <index>: error calling index: value has type int;'
            " should be string",
        ),
    ],
)
def test_map_data_errors(template: str, error: str) -> None:
    with pytest.raises(TemplateError) as raised:
        parse(template).execute(PARAMETERS)
    assert str(raised.value) == error


def test_struct_data_and_functions() -> None:
    functions = {"label": GoFunc(("string",), lambda key: f"<{key}>")}
    stub = GoStruct({"Name": "name", "Zone": "zone"})
    assert parse('{{.Name}}.{{label "x"}}.{{.Zone}}', functions).execute(stub) == "name.<x>.zone"


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ('{{label "x"}}', 'template: :1: function "label" not defined'),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ],
)
def test_parse_errors(template: str, error: str) -> None:
    with pytest.raises(TemplateError) as raised:
        parse(template)
    assert str(raised.value) == error
