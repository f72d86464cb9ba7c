"""Parser for Go's text/template: the parse tree and the parse errors Go's
text/template/parse gives (`template: :1: function "x" not defined`, ...)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, NoReturn

from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.gotemplate.lex import Item, Lexer, T

BUILTINS = frozenset(
    [
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    ]
)


class TemplateError(Exception):
    """A parse or execution error, with Go's message text."""


# -- nodes --------------------------------------------------------------------


@dataclass
class Node:
    pos: int

    def __str__(self) -> str:
        raise NotImplementedError


@dataclass
class TextNode(Node):
    text: str

    def __str__(self) -> str:
        return go_quote(self.text)


@dataclass
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass
class IdentifierNode(Node):
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass
class FieldNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass
class VariableNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class BoolNode(Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class NumberNode(Node):
    text: str
    value: int | float

    def __str__(self) -> str:
        return self.text


@dataclass
class StringNode(Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass
class PipeNode(Node):
    line: int
    is_assign: bool = False
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return text + " | ".join(str(c) for c in self.cmds)


@dataclass
class ChainNode(Node):
    node: Node
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        base = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return base + "".join("." + f for f in self.fields)


@dataclass
class ActionNode(Node):
    line: int
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass
class BranchNode(Node):
    keyword: str
    line: int
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None

    def __str__(self) -> str:
        text = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            text += "{{else}}" + str(self.else_list)
        return text + "{{end}}"


@dataclass
class LoopControlNode(Node):
    keyword: str  # "break" or "continue"

    def __str__(self) -> str:
        return "{{" + self.keyword + "}}"


@dataclass
class TemplateNode(Node):
    line: int
    name: str
    pipe: PipeNode | None

    def __str__(self) -> str:
        pipe = "" if self.pipe is None else f" {self.pipe}"
        return "{{template " + go_quote(self.name) + pipe + "}}"


@dataclass
class _Else(Node):
    def __str__(self) -> str:
        return "{{else}}"


@dataclass
class _End(Node):
    def __str__(self) -> str:
        return "{{end}}"


# -- literals -------------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}


def go_unquote(quoted: str) -> str:
    """strconv.Unquote; ValueError("invalid syntax") when Go would refuse it."""
    if len(quoted) < 2 or quoted[0] != quoted[-1] or quoted[0] not in "\"'`":
        raise ValueError("invalid syntax")
    quote, body = quoted[0], quoted[1:-1]
    if quote == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if "\n" in body:
        raise ValueError("invalid syntax")
    out, i = [], 0
    while i < len(body):
        char, i = _unquote_char(body, i, quote)
        out.append(char)
    text = "".join(out)
    if quote == "'" and len(text) != 1:
        raise ValueError("invalid syntax")
    return text


def _unquote_char(body: str, i: int, quote: str) -> tuple[str, int]:
    char = body[i]
    if char == quote:
        raise ValueError("invalid syntax")
    if char != "\\":
        return char, i + 1
    if i + 1 >= len(body):
        raise ValueError("invalid syntax")
    kind = body[i + 1]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], i + 2
    if kind in "'\"":
        if kind != quote:
            raise ValueError("invalid syntax")
        return kind, i + 2
    widths = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}
    if kind in widths:
        width, base = widths[kind]
        digits = body[i + 2 : i + 2 + width]
        if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("invalid syntax")
        value = int(digits, base)
        if kind != "x" and (value > 0x10FFFF or 0xD800 <= value <= 0xDFFF):
            raise ValueError("invalid syntax")
        return chr(value), i + 2 + width
    digits = body[i + 1 : i + 4]
    if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) <= 255:
        return chr(int(digits, 8)), i + 4
    raise ValueError("invalid syntax")


def parse_number(text: str) -> int | float:
    """The value of a number or character constant; ValueError with Go's message."""
    if text.startswith("'"):
        return ord(go_unquote(text))
    body = text.lstrip("+-")
    negative = text.startswith("-")
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            value: int | float = int(body.replace("_", ""), 8)
        else:
            value = int(body, 0)
        if value > (1 << 64) - 1:
            raise OverflowError
        return -value if negative else value
    except OverflowError:
        raise ValueError(f"integer overflow: {go_quote(text)}") from None
    except ValueError:
        pass
    try:
        value = float.fromhex(body) if body[:2] in ("0x", "0X") else float(body)
    except ValueError:
        raise ValueError(f"illegal number syntax: {go_quote(text)}") from None
    if not any(c in text for c in ".eEpP"):
        raise ValueError(f"integer overflow: {go_quote(text)}")
    return -value if negative else value


# -- parser ---------------------------------------------------------------------


class Parser:
    """Parses one template text into named trees ("" is the main one)."""

    def __init__(self, text: str, functions: Collection[str]) -> None:
        self.items = Lexer(text).run()
        self.index = 0
        self.seen = 0
        self.functions = set(functions) | BUILTINS
        self.vars = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.trees: dict[str, ListNode] = {}

    def parse(self) -> dict[str, ListNode]:
        root = ListNode(0)
        while self._peek().typ != T.EOF:
            if self._peek().typ == T.LEFT_DELIM:
                start = self.index
                self._next()
                if self._next_non_space().typ == T.DEFINE:
                    self._definition()
                    continue
                self.index = start
            node = self._text_or_action()
            if isinstance(node, _Else | _End):
                self._error(f"unexpected {node}")
            root.nodes.append(node)
        self._add_tree("", root)
        return self.trees

    # -- token stream ---------------------------------------------------------
    def _next(self) -> Item:
        item = self.items[min(self.index, len(self.items) - 1)]
        self.index += 1
        self.seen = max(self.seen, self.index - 1)
        return item

    def _backup(self) -> None:
        self.index -= 1

    def _peek(self) -> Item:
        item = self._next()
        self._backup()
        return item

    def _next_non_space(self) -> Item:
        item = self._next()
        while item.typ == T.SPACE:
            item = self._next()
        return item

    def _peek_non_space(self) -> Item:
        item = self._next_non_space()
        self._backup()
        return item

    def _error(self, message: str) -> NoReturn:
        line = self.items[min(self.seen, len(self.items) - 1)].line
        raise TemplateError(f"template: :{line}: {message}")

    def _unexpected(self, item: Item, context: str) -> NoReturn:
        if item.typ == T.ERROR:
            extra = ""
            if self.action_line not in (0, item.line):
                extra = f" in action started at :{self.action_line}"
                if item.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            self._error(f"{item}{extra}")
        self._error(f"unexpected {item} in {context}")

    def _expect(self, typ: T, context: str) -> Item:
        item = self._next_non_space()
        if item.typ != typ:
            self._unexpected(item, context)
        return item

    # -- structure ------------------------------------------------------------
    def _add_tree(self, name: str, tree: ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or _is_empty(existing):
            self.trees[name] = tree
        elif not _is_empty(tree):
            self._error(f"template: multiple definition of template {go_quote(name)}")

    def _template_name(self, item: Item, context: str) -> str:
        if item.typ not in (T.STRING, T.RAW_STRING):
            self._unexpected(item, context)
        try:
            return go_unquote(item.val)
        except ValueError as error:
            self._error(str(error))

    def _definition(self) -> None:
        context = "define clause"
        name = self._template_name(self._next_non_space(), context)
        self._expect(T.RIGHT_DELIM, context)
        body, end = self._with_own_vars(self._item_list)
        if not isinstance(end, _End):
            self._error(f"unexpected {end} in {context}")
        self._add_tree(name, body)

    def _with_own_vars(self, parse: Callable[[], Any]) -> Any:
        saved, self.vars = self.vars, ["$"]
        try:
            return parse()
        finally:
            self.vars = saved

    def _item_list(self) -> tuple[ListNode, Node]:
        result = ListNode(self._peek_non_space().pos)
        while self._peek_non_space().typ != T.EOF:
            node = self._text_or_action()
            if isinstance(node, _Else | _End):
                return result, node
            result.nodes.append(node)
        self._error("unexpected EOF")

    def _text_or_action(self) -> Node:
        item = self._next_non_space()
        if item.typ == T.TEXT:
            return TextNode(item.pos, item.val)
        if item.typ == T.LEFT_DELIM:
            self.action_line = item.line
            try:
                return self._action()
            finally:
                self.action_line = 0
        self._unexpected(item, "input")

    def _action(self) -> Node:
        item = self._next_non_space()
        controls: dict[T, Callable[[Item], Node]] = {
            T.BLOCK: lambda _: self._block(),
            T.BREAK: lambda i: self._loop_control(i, "break"),
            T.CONTINUE: lambda i: self._loop_control(i, "continue"),
            T.ELSE: lambda _: self._else(),
            T.END: lambda _: _End(self._expect(T.RIGHT_DELIM, "end").pos),
            T.IF: lambda _: self._control("if"),
            T.RANGE: lambda _: self._control("range"),
            T.TEMPLATE: lambda _: self._template(),
            T.WITH: lambda _: self._control("with"),
        }
        if item.typ in controls:
            return controls[item.typ](item)
        self._backup()
        item = self._peek()
        return ActionNode(item.pos, item.line, self._pipeline("command", T.RIGHT_DELIM))

    def _loop_control(self, item: Item, keyword: str) -> Node:
        if self.range_depth == 0:
            self._error(f"{{{{{keyword}}}}} outside {{{{range}}}}")
        following = self._next_non_space()
        if following.typ != T.RIGHT_DELIM:
            self._unexpected(following, f"{{{{{keyword}}}}}")
        return LoopControlNode(item.pos, keyword)

    def _else(self) -> Node:
        following = self._peek_non_space()
        if following.typ in (T.IF, T.WITH):
            return _Else(following.pos)
        return _Else(self._expect(T.RIGHT_DELIM, "else").pos)

    def _control(self, context: str) -> BranchNode:
        saved = len(self.vars)
        try:
            pipe = self._pipeline(context, T.RIGHT_DELIM)
            loop_depth = 1 if context == "range" else 0
            self.range_depth += loop_depth
            body, following = self._item_list()
            self.range_depth -= loop_depth
            else_list = None
            if isinstance(following, _Else):
                if context in ("if", "with") and self._peek().typ == (
                    T.IF if context == "if" else T.WITH
                ):
                    self._next()
                    else_list = ListNode(following.pos, [self._control(context)])
                else:
                    else_list, following = self._item_list()
                    if not isinstance(following, _End):
                        self._error(f"expected end; found {following}")
            return BranchNode(pipe.pos, context, pipe.line, pipe, body, else_list)
        finally:
            del self.vars[saved:]

    def _template(self) -> Node:
        context = "template clause"
        item = self._next_non_space()
        name = self._template_name(item, context)
        pipe = None
        if self._next_non_space().typ != T.RIGHT_DELIM:
            self._backup()
            pipe = self._pipeline(context, T.RIGHT_DELIM)
        return TemplateNode(item.pos, item.line, name, pipe)

    def _block(self) -> Node:
        context = "block clause"
        item = self._next_non_space()
        name = self._template_name(item, context)
        pipe = self._pipeline(context, T.RIGHT_DELIM)
        body, end = self._with_own_vars(self._item_list)
        if not isinstance(end, _End):
            self._error(f"unexpected {end} in {context}")
        self._add_tree(name, body)
        return TemplateNode(item.pos, item.line, name, pipe)

    # -- pipelines --------------------------------------------------------------
    def _pipeline(self, context: str, end: T) -> PipeNode:
        first = self._peek_non_space()
        pipe = PipeNode(first.pos, first.line)
        self._declarations(pipe, context)
        operand_starts = {
            T.BOOL,
            T.CHAR_CONSTANT,
            T.DOT,
            T.FIELD,
            T.IDENTIFIER,
            T.NUMBER,
            T.NIL,
            T.RAW_STRING,
            T.STRING,
            T.VARIABLE,
            T.LEFT_PAREN,
        }
        while True:
            item = self._next_non_space()
            if item.typ == end:
                self._check_pipeline(pipe, context)
                return pipe
            if item.typ not in operand_starts:
                self._unexpected(item, context)
            self._backup()
            pipe.cmds.append(self._command())

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        """`$x :=`, `$x =` and range's `$i, $e :=` before the commands of a pipeline."""
        while self._peek_non_space().typ == T.VARIABLE:
            start = self.index
            variable = self._next_non_space()
            following = self._peek_non_space()
            if following.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = following.typ == T.ASSIGN
                self._next_non_space()
                pipe.decl.append(VariableNode(variable.pos, [variable.val]))
                self.vars.append(variable.val)
                return
            if following.typ != T.CHAR or following.val != ",":
                self.index = start  # `$x` is the first operand, not a declaration
                return
            self._next_non_space()
            pipe.decl.append(VariableNode(variable.pos, [variable.val]))
            self.vars.append(variable.val)
            if context != "range" or len(pipe.decl) >= 2:
                self._error(f"too many declarations in {context}")
            if self._peek_non_space().typ not in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                self._error("range can only initialize variables")

    @staticmethod
    def _check_pipeline_stage(pipe: PipeNode) -> int | None:
        for stage, command in enumerate(pipe.cmds[1:], start=2):
            if isinstance(command.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                return stage
        return None

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self._error(f"missing value for {context}")
        stage = self._check_pipeline_stage(pipe)
        if stage is not None:
            self._error(f"non executable command in pipeline stage {stage}")

    def _command(self) -> CommandNode:
        command = CommandNode(self._peek_non_space().pos)
        while True:
            self._peek_non_space()
            operand = self._operand()
            if operand is not None:
                command.args.append(operand)
            item = self._next()
            if item.typ == T.SPACE:
                continue
            if item.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self._backup()
            elif item.typ != T.PIPE:
                self._unexpected(item, "operand")
            break
        if not command.args:
            self._error("empty command")
        return command

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None or self._peek().typ != T.FIELD:
            return node
        chain = ChainNode(self._peek().pos, node)
        while self._peek().typ == T.FIELD:
            chain.fields.append(self._next().val[1:])
        if isinstance(node, FieldNode):
            return FieldNode(chain.pos, node.ident + chain.fields)
        if isinstance(node, VariableNode):
            return VariableNode(chain.pos, node.ident + chain.fields)
        if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
            self._error(f"unexpected . after term {go_quote(str(node))}")
        return chain

    def _term(self) -> Node | None:
        item = self._next_non_space()
        if item.typ == T.IDENTIFIER:
            if item.val not in self.functions:
                self._error(f"function {go_quote(item.val)} not defined")
            return IdentifierNode(item.pos, item.val)
        if item.typ == T.DOT:
            return DotNode(item.pos)
        if item.typ == T.NIL:
            return NilNode(item.pos)
        if item.typ == T.VARIABLE:
            return self._use_var(item)
        if item.typ == T.FIELD:
            return FieldNode(item.pos, item.val[1:].split("."))
        if item.typ == T.BOOL:
            return BoolNode(item.pos, item.val == "true")
        if item.typ in (T.NUMBER, T.CHAR_CONSTANT):
            try:
                return NumberNode(item.pos, item.val, parse_number(item.val))
            except ValueError as error:
                self._error(str(error))
        if item.typ == T.LEFT_PAREN:
            return self._pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if item.typ in (T.STRING, T.RAW_STRING):
            try:
                return StringNode(item.pos, item.val, go_unquote(item.val))
            except ValueError as error:
                self._error(str(error))
        self._backup()
        return None

    def _use_var(self, item: Item) -> VariableNode:
        parts = item.val.split(".")
        if parts[0] not in self.vars:
            self._error(f"undefined variable {go_quote(parts[0])}")
        return VariableNode(item.pos, parts)


def _is_empty(tree: ListNode) -> bool:
    return all(isinstance(n, TextNode) and not n.text.strip() for n in tree.nodes)


def parse_template(text: str, functions: Collection[str]) -> dict[str, ListNode]:
    """The named trees of `text`; TemplateError with Go's message if it does not parse."""
    return Parser(text, functions).parse()
