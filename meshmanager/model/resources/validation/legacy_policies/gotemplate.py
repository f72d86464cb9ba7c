"""A small Go `text/template` for VirtualOutbound's host and port templates.

Parsing follows Go's lexer and parser closely, so that a broken template fails with Go's
message (`template: :1: function "mesh" not defined`). Execution covers what such
templates use: text, fields of the parameter map (`{{.service}}`, `{{ .port }}`), literals,
`if`/`with`/`else`, pipelines and the `print`, `printf`, `eq`, `ne`, `not`, `and`, `or`
and `len` functions. Other valid constructs (variables, `range`, `define`, other
functions) raise `Unsupported`: a caller should then accept the template unevaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources.validation.legacy_policies.golang import go_quote


class TemplateError(Exception):
    """A template Go rejects; the message is Go's error text."""


class Unsupported(Exception):
    """A valid construct this implementation does not execute."""


BUILTINS = frozenset(
    {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf"}
    | {"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}
)
KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)
SPACE = " \t\r\n"
MISSING = object()  # a map key that is not there; Go prints it as "<no value>"


@dataclass
class Token:
    kind: str
    val: str
    pos: int
    line: int

    def describe(self) -> str:
        """Go's `item.String()`."""
        if self.kind == "eof":
            return "EOF"
        if self.kind == "error":
            return self.val
        if self.kind == "keyword" or self.kind == "nil":
            return f"<{self.val}>"
        if len(self.val) > 10:
            return f"{go_quote(self.val[:10])}..."
        return go_quote(self.val)


def _is_alnum(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdecimal()


def _describe_char(char: str) -> str:
    """Go's `%#U`."""
    return f"U+{ord(char):04X} '{char}'" if char.isprintable() else f"U+{ord(char):04X}"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        state = "text"  # the lexer's states, as in Go: text, inside an action, stopped
        while state != "stop":
            state = self._lex_text() if state == "text" else self._lex_action()
        return self.tokens

    def _emit(self, kind: str) -> None:
        self.tokens.append(
            Token(kind, self.text[self.start : self.pos], self.start, self.start_line)
        )
        self._ignore()

    def _ignore(self) -> None:
        self.line += self.text.count("\n", self.start, self.pos)
        self.start, self.start_line = self.pos, self.line

    def _error(self, message: str) -> bool:
        """Record a lexing error, after which the lexer stops."""
        self.tokens.append(Token("error", message, self.start, self.start_line))
        return False

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _at_right_delim(self) -> tuple[bool, bool]:
        rest = self.text[self.pos :]
        if len(rest) >= 2 and rest[0] in SPACE and rest[1] == "-" and rest[2:].startswith("}}"):
            return True, True
        return rest.startswith("}}"), False

    def _lex_text(self) -> str:
        found = self.text.find("{{", self.pos)
        if found < 0:
            self.pos = len(self.text)
            if self.pos > self.start:
                self._emit("text")
            self.tokens.append(Token("eof", "", self.pos, self.line))
            return "stop"
        after = self.text[found + 2 : found + 4]
        trim = len(after) == 2 and after[0] == "-" and after[1] in SPACE
        text_end = found
        if trim:  # "{{- " trims the white space before it
            text_end = self.start + len(self.text[self.start : found].rstrip(SPACE))
        if text_end > self.start:
            self.pos = text_end
            self._emit("text")
        self.pos = found
        self._ignore()
        return self._lex_left_delim(trim)

    def _lex_left_delim(self, trim: bool) -> str:
        self.pos += 2
        marker = 2 if trim else 0
        if self.text.startswith("/*", self.pos + marker):
            self.pos += marker
            self._ignore()
            return self._lex_comment()
        self._emit("left")
        self.pos += marker
        self._ignore()
        self.paren_depth = 0
        return "action"

    def _lex_comment(self) -> str:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            self._error("unclosed comment")
            return "stop"
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            self._error("comment ends before closing delimiter")
            return "stop"
        self._ignore()
        self._skip_right_delim(trim)
        return "text"

    def _skip_right_delim(self, trim: bool) -> None:
        if trim:
            self.pos += 2
        self.pos += 2
        if trim:
            while self._peek() and self._peek() in SPACE:
                self.pos += 1
        self._ignore()

    def _lex_action(self) -> str:
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth:
                    self._error("unclosed left paren")
                    return "stop"
                if trim:
                    self.pos += 2
                    self._ignore()
                self.pos += 2
                self._emit("right")
                if trim:
                    while self._peek() and self._peek() in SPACE:
                        self.pos += 1
                    self._ignore()
                return "text"
            if not self._lex_action_token():
                return "stop"

    def _lex_action_token(self) -> bool:
        char = self._peek()
        if char == "":
            return self._error("unclosed action")
        self.pos += 1
        if char in SPACE:
            return self._lex_space()
        simple = {"=": "assign", "|": "pipe"}
        if char in simple:
            self._emit(simple[char])
        elif char == ":":
            if self._peek() != "=":
                return self._error("expected :=")
            self.pos += 1
            self._emit("declare")
        elif char in "\"`'":
            return self._lex_quote(char)
        elif char == "$":
            return self._lex_field_or_variable("variable")
        elif char == "." and self._peek() and not "0" <= self._peek() <= "9":
            return self._lex_field_or_variable("field")
        elif char in "+-." or "0" <= char <= "9":
            self.pos -= 1
            return self._lex_number()
        elif _is_alnum(char):
            self.pos -= 1
            return self._lex_identifier()
        elif char == "(":
            self.paren_depth += 1
            self._emit("lparen")
        elif char == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self._error("unexpected right paren")
            self._emit("rparen")
        elif ord(char) < 0x80 and char.isprintable():
            self._emit("char")
        else:
            return self._error(f"unrecognized character in action: {_describe_char(char)}")
        return True

    def _lex_space(self) -> bool:
        spaces = 1
        while self._peek() and self._peek() in SPACE:
            self.pos += 1
            spaces += 1
        rest = self.text[self.pos - 1 :]
        if rest[1:2] == "-" and rest[2:].startswith("}}"):
            self.pos -= 1  # leave the space of a trim marker to the right delimiter
            if spaces == 1:
                return True
        self._emit("space")
        return True

    def _at_terminator(self) -> bool:
        char = self._peek()
        return char == "" or char in SPACE or char in ".,|:()" or self._at_right_delim()[0]

    def _lex_field_or_variable(self, kind: str) -> bool:
        if self._at_terminator():
            self._emit("variable" if kind == "variable" else "dot")
            return True
        while self._peek() and _is_alnum(self._peek()):
            self.pos += 1
        if not self._at_terminator():
            return self._error(f"bad character {_describe_char(self._peek())}")
        self._emit(kind)
        return True

    def _lex_identifier(self) -> bool:
        while self._peek() and _is_alnum(self._peek()):
            self.pos += 1
        if not self._at_terminator():
            return self._error(f"bad character {_describe_char(self._peek())}")
        word = self.text[self.start : self.pos]
        if word in ("break", "continue"):
            self._emit("identifier")  # only keywords inside {{range}}, which we do not run
        elif word in KEYWORDS:
            self._emit("keyword")
        elif word == "nil":
            self._emit("nil")
        elif word in ("true", "false"):
            self._emit("bool")
        else:
            self._emit("identifier")
        return True

    def _lex_quote(self, quote: str) -> bool:
        kind, unterminated = {
            '"': ("string", "unterminated quoted string"),
            "`": ("raw", "unterminated raw quoted string"),
            "'": ("charconst", "unterminated character constant"),
        }[quote]
        while True:
            char = self._peek()
            self.pos += 1
            if char == "\\" and quote != "`":
                char = self._peek()
                self.pos += 1
                if char not in ("", "\n"):
                    continue
            if char == "" or (char == "\n" and quote != "`"):
                return self._error(unterminated)
            if char == quote:
                self._emit(kind)
                return True

    def _lex_number(self) -> bool:
        number = re.compile(
            r"[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]*)?"
            r"|0[oO][0-7_]*|0[bB][01_]*|[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]*)?)i?"
        )
        match = number.match(self.text, self.pos)
        assert match is not None  # every branch can match the empty string
        self.pos = match.end()
        if self._peek() and _is_alnum(self._peek()):
            self.pos += 1
            return self._error(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
        self._emit("number")
        return True


# Parse tree: ("text", str) | ("action", pipe) | ("if"|"with", pipe, list, else_list)
# A pipe is a list of commands; a command is a list of operands:
# ("field", names, pos) | ("dot",) | ("literal", value) | ("func", name) | ("pipe", pipe)


@dataclass
class _Parser:
    tokens: list[Token]
    text: str
    index: int = 0
    last: Token | None = None
    action_line: int = 0
    root: list[Any] = field(default_factory=list)

    def error(self, message: str) -> TemplateError:
        line = self.last.line if self.last else 1
        return TemplateError(f"template: :{line}: {message}")

    def next(self) -> Token:
        token = self.tokens[min(self.index, len(self.tokens) - 1)]
        self.index += 1
        self.last = token
        return token

    def backup(self) -> None:
        self.index -= 1

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind == "space":
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.backup()
        return token

    def unexpected(self, token: Token, context: str) -> TemplateError:
        if token.kind == "error":
            extra = ""
            if self.action_line and self.action_line != token.line:
                extra = f" in action started at :{self.action_line}"
            return self.error(f"{token.describe()}{extra}")
        return self.error(f"unexpected {token.describe()} in {context}")

    def parse(self) -> list[Any]:
        while self.peek_kind() != "eof":
            node = self.text_or_action()
            if node[0] in ("end", "else"):
                raise self.error(f"unexpected {{{{{node[0]}}}}}")
            self.root.append(node)
        return self.root

    def peek_kind(self) -> str:
        token = self.next()
        self.backup()
        return token.kind

    def text_or_action(self) -> Any:
        token = self.next_non_space()
        if token.kind == "text":
            return ("text", token.val)
        if token.kind == "left":
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(token, "input")

    def action(self) -> Any:
        token = self.next_non_space()
        if token.kind == "keyword":
            return self.keyword(token.val)
        self.backup()
        return ("action", self.pipeline("command", "right"))

    def keyword(self, word: str) -> Any:
        if word == "end":
            self.expect_right("end")
            return ("end",)
        if word == "else":
            following = self.peek_non_space()
            if following.kind == "keyword" and following.val in ("if", "with"):
                return ("else",)
            self.expect_right("else")
            return ("else",)
        if word in ("if", "with"):
            return self.control(word)
        raise Unsupported(f"{{{{{word}}}}}")

    def expect_right(self, context: str) -> None:
        token = self.next_non_space()
        if token.kind != "right":
            raise self.unexpected(token, context)

    def control(self, word: str) -> Any:
        pipe = self.pipeline(word, "right")
        body, ending = self.item_list()
        else_body: list[Any] = []
        if ending[0] == "else":
            following = self.peek_non_space()
            if following.kind == "keyword" and following.val == word:
                self.next_non_space()
                else_body = [self.control(word)]
            else:
                else_body, ending = self.item_list()
                if ending[0] != "end":
                    raise self.error(f"expected end; found {{{{{ending[0]}}}}}")
        return (word, pipe, body, else_body)

    def item_list(self) -> tuple[list[Any], Any]:
        items: list[Any] = []
        while self.peek_non_space().kind != "eof":
            node = self.text_or_action()
            if node[0] in ("end", "else"):
                return items, node
            items.append(node)
        raise self.error("unexpected EOF")

    def pipeline(self, context: str, end: str) -> list[list[Any]]:
        if self.starts_with_declaration():
            raise Unsupported("template variables")
        commands: list[list[Any]] = []
        operand_kinds = {"bool", "charconst", "dot", "field", "identifier", "number", "nil"}
        operand_kinds |= {"raw", "string", "variable", "lparen"}
        while True:
            token = self.next_non_space()
            if token.kind == end:
                self.check_pipeline(commands, context)
                return commands
            if token.kind not in operand_kinds:
                raise self.unexpected(token, context)
            self.backup()
            commands.append(self.command())

    def starts_with_declaration(self) -> bool:
        kinds = [token.kind for token in self.tokens[self.index :] if token.kind != "space"]
        values = [token.val for token in self.tokens[self.index :] if token.kind != "space"]
        return kinds[:1] == ["variable"] and (
            kinds[1:2] in (["declare"], ["assign"]) or values[1:2] == [","]
        )

    def check_pipeline(self, commands: list[list[Any]], context: str) -> None:
        if not commands:
            raise self.error(f"missing value for {context}")
        for stage, command in enumerate(commands[1:], start=2):
            if command[0][0] in ("literal", "dot"):
                raise self.error(f"non executable command in pipeline stage {stage}")

    def command(self) -> list[Any]:
        operands: list[Any] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                operands.append(operand)
            token = self.next()
            if token.kind == "space":
                continue
            if token.kind in ("right", "rparen"):
                self.backup()
            elif token.kind != "pipe":
                raise self.unexpected(token, "operand")
            break
        if not operands:
            raise self.error("empty command")
        return operands

    def operand(self) -> Any:
        node = self.term()
        if node is None or self.peek_kind() != "field":
            return node
        names = []
        position = self.tokens[self.index].pos
        while self.peek_kind() == "field":
            names.append(self.next().val[1:])
        if node[0] == "field":
            return ("field", node[1] + names, position)
        if node[0] in ("literal", "dot"):
            raise self.error(f"unexpected . after term {go_quote(self.node_text(node))}")
        raise Unsupported("fields of a function result")

    def node_text(self, node: Any) -> str:
        if node[0] == "dot":
            return "."
        value = node[1]
        if isinstance(value, str):
            return go_quote(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "<nil>" if value is None else str(value)

    def term(self) -> Any:
        token = self.next_non_space()
        kind = token.kind
        if kind == "identifier":
            if token.val not in BUILTINS:
                raise self.error(f"function {go_quote(token.val)} not defined")
            return ("func", token.val)
        if kind == "dot":
            return ("dot",)
        if kind == "nil":
            return ("literal", None)
        if kind == "field":
            return ("field", [token.val[1:]], token.pos)
        if kind == "bool":
            return ("literal", token.val == "true")
        if kind == "number":
            return ("literal", self.number(token.val))
        if kind in ("string", "raw"):
            return ("literal", self.unquote(token))
        if kind == "lparen":
            return ("pipe", self.pipeline("parenthesized pipeline", "rparen"))
        if kind == "variable" and token.val != "$":
            # declarations are not supported, so any other variable is undeclared
            raise self.error(f"undefined variable {go_quote(token.val)}")
        if kind in ("variable", "charconst"):
            raise Unsupported(token.val)
        self.backup()
        return None

    def number(self, text: str) -> int | float:
        try:
            return (
                int(text.replace("_", ""), 0) if not re.search(r"[.eEpPi]", text) else float(text)
            )
        except ValueError:
            raise self.error(f"illegal number syntax: {go_quote(text)}") from None

    def unquote(self, token: Token) -> str:
        if token.kind == "raw":
            return token.val[1:-1]
        try:
            decoded: str = (
                token.val[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            )
        except UnicodeDecodeError as exc:
            raise self.error("invalid syntax") from exc
        return decoded


@dataclass
class Template:
    text: str
    tree: list[Any]

    def execute(self, data: Mapping[str, str]) -> str:
        out: list[str] = []
        _run_list(self, self.tree, dict(data), out)
        return "".join(out)


def parse(text: str) -> Template:
    """Parse like Go's `template.New("").Parse(text)`; TemplateError, or Unsupported."""
    return Template(text, _Parser(_Lexer(text).run(), text).parse())


def _run_list(template: Template, nodes: list[Any], dot: Any, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "action":
            out.append(_print(_pipe(template, node[1], dot), in_action=True))
        else:
            value = _pipe(template, node[1], dot)
            if _truth(value):
                _run_list(template, node[2], value if kind == "with" else dot, out)
            else:
                _run_list(template, node[3], dot, out)


def _pipe(template: Template, commands: list[list[Any]], dot: Any) -> Any:
    value: Any = MISSING
    for i, command in enumerate(commands):
        value = _command(template, command, dot, value if i else MISSING, has_final=i > 0)
    return value


def _command(template: Template, command: list[Any], dot: Any, final: Any, has_final: bool) -> Any:
    head = command[0]
    if head[0] == "func":
        args = [_operand(template, arg, dot) for arg in command[1:]]
        return _call(head[1], [*args, final] if has_final else args)
    if len(command) > 1 or has_final:
        raise Unsupported("arguments to a non-function")
    return _operand(template, head, dot)


def _operand(template: Template, node: Any, dot: Any) -> Any:
    kind = node[0]
    if kind == "dot":
        return dot
    if kind == "literal":
        return node[1]
    if kind == "pipe":
        return _pipe(template, node[1], dot)
    if kind == "field":
        return _field(template, node, dot)
    raise Unsupported("a function used as a value")


def _field(template: Template, node: Any, dot: Any) -> Any:
    value = dot
    for name in node[1]:
        if value is MISSING:
            return MISSING
        if isinstance(value, dict):
            value = value.get(name, MISSING)
        elif isinstance(value, str):
            raise _exec_error(template, node, f"can't evaluate field {name} in type string")
        else:
            raise Unsupported("fields of a non-map value")
    return value


def _exec_error(template: Template, node: Any, message: str) -> TemplateError:
    before = template.text[: node[2]]
    line = before.count("\n") + 1
    column = node[2] - (before.rfind("\n") + 1) if "\n" in before else node[2]
    where = "." + ".".join(node[1])
    return TemplateError(f'template: :{line}:{column}: executing "" at <{where}>: {message}')


def _truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    return bool(value)


def _print(value: Any, in_action: bool = False) -> str:
    if value is MISSING:
        return "<no value>" if in_action else "<nil>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_print(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _call(name: str, args: list[Any]) -> Any:
    if name == "print":
        return _sprint(args)
    if name == "printf" and args and isinstance(args[0], str):
        return _sprintf(args[0], args[1:])
    if name == "len" and len(args) == 1 and isinstance(args[0], str | dict):
        return len(args[0])
    if name == "not" and len(args) == 1:
        return not _truth(args[0])
    if name in ("and", "or") and args:
        return _and_or(name, args)
    if name in ("eq", "ne") and len(args) == 2 and _comparable(*args):
        return (args[0] == args[1]) == (name == "eq")
    raise Unsupported(f"function {name}")


def _and_or(name: str, args: list[Any]) -> Any:
    for arg in args[:-1]:
        if _truth(arg) != (name == "and"):
            return arg
    return args[-1]


def _comparable(left: Any, right: Any) -> bool:
    return type(left) is type(right) and isinstance(left, str | int | bool)


def _sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += _print(arg)
    return out


def _sprintf(format_text: str, args: list[Any]) -> str:
    pieces = re.split(r"(%.)", format_text)
    out, remaining = [], list(args)
    for piece in pieces:
        if not (len(piece) == 2 and piece[0] == "%"):
            out.append(piece)
        elif piece == "%%":
            out.append("%")
        elif piece in ("%s", "%v", "%d", "%q") and remaining:
            out.append(_format_verb(piece, remaining.pop(0)))
        else:
            raise Unsupported(f"printf verb {piece}")
    if remaining:
        raise Unsupported("extra printf arguments")
    return "".join(out)


def _format_verb(verb: str, arg: Any) -> str:
    if verb == "%q" and isinstance(arg, str):
        return go_quote(arg)
    if verb == "%d" and not (isinstance(arg, int) and not isinstance(arg, bool)):
        raise Unsupported("%d of a non-integer")
    if verb == "%q":
        raise Unsupported("%q of a non-string")
    return _print(arg)
