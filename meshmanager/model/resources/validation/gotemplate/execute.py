"""Execution of parsed Go templates over a flat struct of strings (what Kuma renders
hostname templates against) or a map of strings (VirtualOutbound's parameters), with Go's
error texts for the common failures.

Values are Python values standing for Go ones: str (string), bool, int, float (float64),
None (an invalid/nil value), list (slice), dict (map[string]string) and `GoStruct`."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.gotemplate.parse import (
    ActionNode,
    BoolNode,
    BranchNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    LoopControlNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    TemplateError,
    TemplateNode,
    TextNode,
    VariableNode,
)

_MAX_DEPTH = 100_000  # Go's maxExecDepth; Python's stack gives up far earlier
_PYTHON_DEPTH_LIMIT = 200


@dataclass(frozen=True)
class GoStruct:
    """A Go struct whose fields are all strings, e.g. Kuma's template stub."""

    fields: Mapping[str, str]

    @property
    def type_name(self) -> str:
        return "struct { " + "; ".join(f"{name} string" for name in self.fields) + " }"


@dataclass(frozen=True)
class GoFunc:
    """A template function: `params` are "string" or "any"; `variadic` makes the last
    one repeatable. `call` returns the value or raises ValueError (Go's error result)."""

    params: tuple[str, ...]
    call: Callable[..., Any]
    variadic: bool = False


class _Missing:
    pass


_MISSING = _Missing()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def go_type(value: Any) -> str:
    if isinstance(value, GoStruct):
        return value.type_name
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]string"
    return "<nil>"


def go_format_float(value: float) -> str:
    """Go's %v of a float64: shortest digits, in exponent form from 1e+06 and below 1e-04."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits)) or "0"
    assert isinstance(exponent, int)
    point = len(text) + exponent
    prefix = "-" if sign else ""
    if text == "0":
        return prefix + "0"
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def go_sprint(value: Any) -> str:
    """fmt.Sprint of one value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_format_float(value)
    if isinstance(value, GoStruct):
        return "{" + " ".join(value.fields.values()) + "}"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{value[k]}" for k in sorted(value)) + "]"
    return str(value)


def is_true(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | str | list | dict):
        return bool(value)
    return True


class Executor:
    def __init__(
        self, trees: Mapping[str, ListNode], text: str, functions: Mapping[str, GoFunc]
    ) -> None:
        self.trees = trees
        self.text = text
        self.functions = functions
        self.vars: list[tuple[str, Any]] = []
        self.node: Node | None = None
        self.depth = 0
        self.out: list[str] = []
        self.name = ""

    # -- errors -----------------------------------------------------------------
    def at(self, node: Node) -> None:
        self.node = node

    def error(self, message: str) -> NoReturn:
        if self.node is None:
            raise TemplateError(f"template: : {message}")
        before = self.text[: self.node.pos]
        line = 1 + before.count("\n")
        column = len(before[before.rfind("\n") + 1 :].encode())
        context = str(self.node)
        context = context if len(context) <= 20 else context[:20] + "..."
        raise TemplateError(
            f"template: :{line}:{column}: executing {go_quote(self.name)} at <{context}>: "
            + message
        )

    # -- walking ------------------------------------------------------------------
    def run(self, data: Any) -> str:
        self.vars = [("$", data)]
        self.walk(data, self.trees[""])
        return "".join(self.out)

    def walk(self, dot: Any, node: Node) -> None:
        self.at(node)
        if isinstance(node, ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.out.append("<no value>" if value is None else go_sprint(value))
        elif isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, BranchNode):
            self.walk_branch(dot, node)
        elif isinstance(node, LoopControlNode):
            raise _Break if node.keyword == "break" else _Continue
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)

    def walk_branch(self, dot: Any, node: BranchNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if node.keyword == "range":
                self.walk_range(dot, node, value)
            elif is_true(value):
                self.walk(value if node.keyword == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: BranchNode, value: Any) -> None:
        if isinstance(value, list):
            elements = list(enumerate(value))
        elif isinstance(value, dict):
            elements = [(key, value[key]) for key in sorted(value)]  # Go sorts map keys
        elif isinstance(value, int) and not isinstance(value, bool):
            elements = [(i, i) for i in range(value)]
        elif value is None:
            elements = []  # Go treats an invalid value (a nil map, ...) as empty
        else:
            self.at(node)
            self.error(f"range can't iterate over {go_sprint(value)}")
        for index, element in elements:
            self.set_range_vars(node.pipe, index, element)
            mark = len(self.vars)
            try:
                self.walk(element, node.list)
            except _Break:
                break
            except _Continue:
                continue
            finally:
                del self.vars[mark:]
        if not elements and node.else_list is not None:
            self.walk(dot, node.else_list)

    def set_range_vars(self, pipe: PipeNode, index: Any, element: Any) -> None:
        names = [v.ident[0] for v in pipe.decl]
        values = [element] if len(names) == 1 else [index, element]
        for position, (name, value) in enumerate(zip(names, values, strict=False)):
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.vars[len(self.vars) - len(names) + position] = (name, value)

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        tree = self.trees.get(node.name)
        if tree is None:
            self.error(f"template {go_quote(node.name)} not defined")
        if self.depth >= _PYTHON_DEPTH_LIMIT:
            self.error(f"exceeded maximum template depth ({_MAX_DEPTH})")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        saved = (self.vars, self.name)
        self.vars, self.name = [("$", value)], node.name
        self.depth += 1
        try:
            self.walk(value, tree)
        finally:
            self.vars, self.name = saved
            self.depth -= 1

    # -- evaluation -----------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        self.at(pipe)
        value: Any = _MISSING
        for command in pipe.cmds:
            value = self.eval_command(dot, command, value)
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.vars.append((variable.ident[0], value))
        return None if value is _MISSING else value

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.error(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        for var_name, value in reversed(self.vars):
            if var_name == name:
                return value
        self.error(f"undefined variable: {name}")

    def eval_command(self, dot: Any, command: CommandNode, final: Any) -> Any:
        first = command.args[0]
        if isinstance(first, FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, first.ident, command.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain(dot, first, command.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, command.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(command.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, command.args, final)
        self.at(first)
        self.not_a_function(command.args, final)
        if isinstance(first, NilNode):
            self.error("nil is not a command")
        return self.literal(dot, first)

    def literal(self, dot: Any, node: Node) -> Any:
        if isinstance(node, BoolNode):
            return node.value
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NumberNode):
            return node.value
        if isinstance(node, StringNode):
            return node.text
        return None

    def not_a_function(self, args: list[Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            self.error(f"can't give argument to non-function {args[0]}")

    def eval_variable(self, dot: Any, node: VariableNode, args: list[Node], final: Any) -> Any:
        self.at(node)
        value = self.var_value(node.ident[0])
        if len(node.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, node.ident[1:], args, final)

    def eval_chain(self, dot: Any, node: ChainNode, args: list[Node], final: Any) -> Any:
        self.at(node)
        if isinstance(node.node, NilNode):
            self.error(f"indirection through explicit nil in {node}")
        receiver = self.eval_arg(dot, "any", node.node)
        self.at(node)
        return self.eval_field_chain(dot, receiver, node.fields, args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, names: list[str], args: list[Node], final: Any
    ) -> Any:
        for name in names[:-1]:
            receiver = self.eval_field(receiver, name, [], _MISSING)
        return self.eval_field(receiver, names[-1], args, final)

    def eval_field(self, receiver: Any, name: str, args: list[Node], final: Any) -> Any:
        if receiver is None:
            return None  # Go's default missingkey option: an invalid value, no error
        if isinstance(receiver, GoStruct) and name in receiver.fields:
            if len(args) > 1 or final is not _MISSING:
                self.error(f"{name} has arguments but cannot be invoked as function")
            return receiver.fields[name]
        if isinstance(receiver, dict):
            if len(args) > 1 or final is not _MISSING:
                self.error(f"{name} is not a method but has arguments")
            return receiver.get(name)  # a missing key is an invalid value, as in Go
        self.error(f"can't evaluate field {name} in type {go_type(receiver)}")

    def eval_function(self, dot: Any, node: IdentifierNode, args: list[Node], final: Any) -> Any:
        self.at(node)
        function = self.functions.get(node.ident)
        if function is None:
            self.error(f"{go_quote(node.ident)} is not a defined function")
        given = args[1:]
        count = len(given) + (0 if final is _MISSING else 1)
        fixed = len(function.params) - (1 if function.variadic else 0)
        if function.variadic and count < fixed:
            self.error(
                f"wrong number of args for {node.ident}: want at least {fixed} got {len(given)}"
            )
        if not function.variadic and count != len(function.params):
            self.error(
                f"wrong number of args for {node.ident}: want {len(function.params)} got {count}"
            )
        if node.ident in ("and", "or"):
            return self.short_circuit(dot, node.ident, given, final)
        values = [
            self.eval_arg(dot, function.params[min(i, len(function.params) - 1)], arg)
            for i, arg in enumerate(given)
        ]
        if final is not _MISSING:
            values.append(self.check_type(final, function.params[-1]))
        try:
            return function.call(*values)
        except ValueError as error:
            self.at(node)
            self.error(f"error calling {node.ident}: {error}")

    def short_circuit(self, dot: Any, name: str, args: list[Node], final: Any) -> Any:
        value: Any = None
        for arg in args:
            value = self.eval_arg(dot, "any", arg)
            if is_true(value) != (name == "and"):
                return value
        return final if final is not _MISSING else value

    def eval_arg(self, dot: Any, param: str, node: Node) -> Any:
        self.at(node)
        if isinstance(node, DotNode):
            return self.check_type(dot, param)
        if isinstance(node, NilNode):
            if param == "any":
                return None
            self.error(f"cannot assign nil to {param}")
        if isinstance(node, FieldNode):
            return self.check_type(
                self.eval_field_chain(dot, dot, node.ident, [node], _MISSING), param
            )
        if isinstance(node, VariableNode):
            return self.check_type(self.eval_variable(dot, node, [], _MISSING), param)
        if isinstance(node, PipeNode):
            return self.check_type(self.eval_pipeline(dot, node), param)
        if isinstance(node, IdentifierNode):
            return self.check_type(self.eval_function(dot, node, [node], _MISSING), param)
        if isinstance(node, ChainNode):
            return self.check_type(self.eval_chain(dot, node, [], _MISSING), param)
        if param == "string" and not isinstance(node, StringNode):
            self.error(f"expected string; found {node}")
        return self.literal(dot, node)

    def check_type(self, value: Any, param: str) -> Any:
        if param == "string" and not isinstance(value, str):
            if value is None:
                self.error("invalid value; expected string")
            self.error(f"wrong type for value; expected string; got {go_type(value)}")
        return value


def execute(
    trees: Mapping[str, ListNode], text: str, data: Any, functions: Mapping[str, GoFunc]
) -> str:
    """Render the main template; TemplateError with Go's message on failure."""
    return Executor(trees, text, {**BUILTIN_FUNCS, **functions}).run(data)


# -- builtins ------------------------------------------------------------------------


def _length(item: Any) -> int:
    if isinstance(item, list | dict):
        return len(item)
    if isinstance(item, str):
        return len(item.encode())
    raise ValueError(f"len of type {go_type(item)}")


def _index(item: Any, *indexes: Any) -> Any:
    for position in indexes:
        item = _index_map(item, position) if isinstance(item, dict) else _index_one(item, position)
    return item


def _index_map(item: dict[str, Any], key: Any) -> Any:
    if not isinstance(key, str):
        raise ValueError(f"value has type {go_type(key)}; should be string")
    return item.get(key, "")  # a missing key gives the zero value


def _index_one(item: Any, position: Any) -> Any:
    if not isinstance(item, str | list):
        raise ValueError(f"can't index item of type {go_type(item)}")
    if isinstance(position, bool) or not isinstance(position, int):
        raise ValueError(f"cannot index slice/array with type {go_type(position)}")
    sequence = item.encode() if isinstance(item, str) else item
    if not 0 <= position < len(sequence):
        raise ValueError(f"index out of range: {position}")
    return sequence[position]


def _slice(item: Any, *indexes: Any) -> Any:
    if not isinstance(item, str | list):
        raise ValueError(f"can't slice item of type {go_type(item)}")
    if len(indexes) > (2 if isinstance(item, str) else 3):
        raise ValueError(f"too many slice indexes: {len(indexes)}")
    bounds = [i for i in indexes]
    for bound in bounds:
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise ValueError(f"cannot index slice/array with type {go_type(bound)}")
        if not 0 <= bound <= len(item):
            raise ValueError(f"index out of range: {bound}")
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(item)
    if start > end:
        raise ValueError(f"invalid slice index: {start} > {end}")
    return item[start:end]


def _comparable(a: Any, b: Any) -> bool:
    kinds = (bool, str, int | float)
    return any(isinstance(a, k) and isinstance(b, k) for k in kinds) and (
        isinstance(a, bool) == isinstance(b, bool)
    )


def _eq(first: Any, *others: Any) -> bool:
    for other in others:
        if first is None or other is None:
            if first is other:
                return True
            continue
        if not _comparable(first, other):
            raise ValueError("incompatible types for comparison")
        if first == other:
            return True
    return False


def _less(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not _comparable(a, b):
        raise ValueError(
            "invalid type for comparison"
            if isinstance(a, bool)
            else "incompatible types for comparison"
        )
    return bool(a < b)


_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}
_HTML_ESCAPES = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def _js(*args: Any) -> str:
    out = []
    for char in _sprint(*args):
        if char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif char < " " or not char.isprintable():
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


def _html(text: str) -> str:
    return "".join(_HTML_ESCAPES.get(c, c) for c in text)


def _sprintln(*args: Any) -> str:
    return " ".join(go_sprint(a) for a in args) + "\n"


def _sprint(*args: Any) -> str:
    """fmt.Sprint: spaces between operands when neither is a string."""
    out = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_sprint(arg))
    return "".join(out)


def _sprintf(format_text: str, *args: Any) -> str:
    """fmt.Sprintf for the plain verbs %v %s %d %q %t %x and %%."""
    out, used, i = [], 0, 0
    while i < len(format_text):
        char = format_text[i]
        if char != "%" or i + 1 >= len(format_text):
            out.append("%!(NOVERB)" if char == "%" else char)
            i += 1
            continue
        verb = format_text[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_verb(verb, args[used]))
        used += 1
    for extra in args[used:]:
        out.append(f"%!(EXTRA {go_type(extra)}={go_sprint(extra)})")
    return "".join(out)


def _format_verb(verb: str, value: Any) -> str:
    if verb == "v" or (verb == "s" and isinstance(value, str | GoStruct | list)):
        return go_sprint(value)
    if verb == "d" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if verb == "q" and isinstance(value, str):
        return go_quote(value)
    if verb == "t" and isinstance(value, bool):
        return go_sprint(value)
    if verb == "x" and isinstance(value, str):
        return value.encode().hex()
    if verb == "x" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:x}"
    return f"%!{verb}({go_type(value)}={go_sprint(value)})"


BUILTIN_FUNCS: dict[str, GoFunc] = {
    "and": GoFunc(("any", "any"), lambda *a: a[-1], variadic=True),
    "or": GoFunc(("any", "any"), lambda *a: a[-1], variadic=True),
    "not": GoFunc(("any",), lambda a: not is_true(a)),
    "len": GoFunc(("any",), _length),
    "index": GoFunc(("any", "any"), _index, variadic=True),
    "slice": GoFunc(("any", "any"), _slice, variadic=True),
    "eq": GoFunc(("any", "any"), _eq, variadic=True),
    "ne": GoFunc(("any", "any"), lambda a, b: not _eq(a, b)),
    "lt": GoFunc(("any", "any"), _less),
    "le": GoFunc(("any", "any"), lambda a, b: _less(a, b) or _eq(a, b)),
    "gt": GoFunc(("any", "any"), lambda a, b: not (_less(a, b) or _eq(a, b))),
    "ge": GoFunc(("any", "any"), lambda a, b: not _less(a, b)),
    "print": GoFunc(("any",), _sprint, variadic=True),
    "println": GoFunc(("any",), _sprintln, variadic=True),
    "printf": GoFunc(("string", "any"), _sprintf, variadic=True),
    "html": GoFunc(("any",), lambda *a: _html(_sprint(*a)), variadic=True),
    "js": GoFunc(("any",), _js, variadic=True),
    "urlquery": GoFunc(("any",), lambda *a: urllib.parse.quote_plus(_sprint(*a)), variadic=True),
    "call": GoFunc(("any", "any"), lambda f, *a: _not_callable(f), variadic=True),
}


def _not_callable(value: Any) -> NoReturn:
    raise ValueError(f"non-function {go_sprint(value)} of type {go_type(value)}")
