"""Lexer for Go's text/template syntax (default `{{` `}}` delimiters), emitting the
same items, and the same error texts, as Go's text/template/parse lexer."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.golang.strconv import go_quote


class T(enum.Enum):
    ERROR = enum.auto()
    BOOL = enum.auto()
    CHAR = enum.auto()  # a printable ASCII character such as ','
    CHAR_CONSTANT = enum.auto()
    ASSIGN = enum.auto()
    DECLARE = enum.auto()
    EOF = enum.auto()
    FIELD = enum.auto()
    IDENTIFIER = enum.auto()
    LEFT_DELIM = enum.auto()
    LEFT_PAREN = enum.auto()
    NUMBER = enum.auto()
    PIPE = enum.auto()
    RAW_STRING = enum.auto()
    RIGHT_DELIM = enum.auto()
    RIGHT_PAREN = enum.auto()
    SPACE = enum.auto()
    STRING = enum.auto()
    TEXT = enum.auto()
    VARIABLE = enum.auto()
    # keywords
    BLOCK = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DOT = enum.auto()
    DEFINE = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    IF = enum.auto()
    NIL = enum.auto()
    RANGE = enum.auto()
    TEMPLATE = enum.auto()
    WITH = enum.auto()


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "nil": T.NIL,
    "range": T.RANGE,
    "template": T.TEMPLATE,
    "with": T.WITH,
}
_KEYWORD_TYPES = frozenset(KEYWORDS.values())

LEFT, RIGHT = "{{", "}}"
_SPACES = " \t\r\n"
_DECIMAL = "0123456789_"
_HEX = "0123456789abcdefABCDEF_"
_State = Callable[[], Any]  # a lexer state: returns the next state, or None at the end


@dataclass(frozen=True)
class Item:
    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ in _KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return f"{go_quote(self.val[:10])}..."
        return go_quote(self.val)


def is_alphanumeric(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdecimal()


def go_rune(char: str) -> str:
    """Go's `%#U` of a rune."""
    code = f"U+{ord(char):04X}"
    return f"{code} '{char}'" if char.isprintable() else code


class Lexer:
    """Produces every item up to EOF or the first error, like Go's lexer."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.items: list[Item] = []

    def run(self) -> list[Item]:
        state: _State | None = self._text
        while state is not None:
            state = state()
        return self.items

    # -- helpers --------------------------------------------------------------
    def _line(self, pos: int) -> int:
        return 1 + self.text.count("\n", 0, pos)

    def _emit(self, typ: T) -> None:
        self.items.append(
            Item(typ, self.start, self.text[self.start : self.pos], self._line(self.start))
        )
        self.start = self.pos

    def _error(self, message: str) -> _State | None:
        """Emit an error item and end the lexing (the returned state is None)."""
        self.items.append(Item(T.ERROR, self.start, message, self._line(self.start)))
        self.items.append(Item(T.EOF, self.pos, "", self._line(self.pos)))
        return None

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _at_right_delim(self) -> tuple[bool, bool]:
        rest = self.text[self.pos :]
        if _has_right_trim(rest) and rest[2:].startswith(RIGHT):
            return True, True
        return rest.startswith(RIGHT), False

    def _at_terminator(self) -> bool:
        char = self._peek()
        if char == "" or char in _SPACES or char in ".,|:)(":
            return True
        return self.text.startswith(RIGHT, self.pos)

    # -- states ---------------------------------------------------------------
    def _text(self) -> _State | None:
        found = self.text.find(LEFT, self.pos)
        if found < 0:
            self.pos = len(self.text)
            if self.pos > self.start:
                self._emit(T.TEXT)
            self.items.append(Item(T.EOF, self.pos, "", self._line(self.pos)))
            return None
        self.pos = found
        text_end = found
        if _has_left_trim(self.text[found + len(LEFT) :]):
            text_end = len(self.text[self.start : found].rstrip(_SPACES)) + self.start
        if text_end > self.start:
            self.items.append(
                Item(T.TEXT, self.start, self.text[self.start : text_end], self._line(self.start))
            )
        self.start = found
        return self._left_delim

    def _left_delim(self) -> _State | None:
        self.pos += len(LEFT)
        trim = _has_left_trim(self.text[self.pos :])
        after_marker = 2 if trim else 0
        if self.text.startswith("/*", self.pos + after_marker):
            self.pos += after_marker
            self.start = self.pos
            return self._comment
        self._emit(T.LEFT_DELIM)
        self.pos += after_marker
        self.start = self.pos
        self.paren_depth = 0
        return self._inside_action

    def _comment(self) -> _State | None:
        self.pos += 2
        end = self.text.find("*/", self.pos)
        if end < 0:
            return self._error("unclosed comment")
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            return self._error("comment ends before closing delimiter")
        self.pos += (2 if trim else 0) + len(RIGHT)
        if trim:
            self.pos = len(self.text) - len(self.text[self.pos :].lstrip(_SPACES))
        self.start = self.pos
        return self._text

    def _right_delim(self) -> _State | None:
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self.start = self.pos
        self.pos += len(RIGHT)
        self._emit(T.RIGHT_DELIM)
        if trim:
            self.pos = len(self.text) - len(self.text[self.pos :].lstrip(_SPACES))
            self.start = self.pos
        return self._text

    def _inside_action(self) -> _State | None:
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self._right_delim
            return self._error("unclosed left paren")
        char = self._peek()
        if char == "":
            return self._error("unclosed action")
        if char in _SPACES:
            return self._space
        self.pos += 1
        simple = {"=": T.ASSIGN, "|": T.PIPE}
        if char in simple:
            self._emit(simple[char])
        elif char == ":":
            if self._peek() != "=":
                return self._error("expected :=")
            self.pos += 1
            self._emit(T.DECLARE)
        elif char in "\"`'":
            return self._quoted(char)
        elif char == "$":
            return self._field_or_variable(T.VARIABLE)
        elif char == "." and self._peek() != "" and self._peek() not in "0123456789":
            return self._field_or_variable(T.FIELD)
        elif char in "+-." or "0" <= char <= "9":
            self.pos -= 1
            return self._number
        elif is_alphanumeric(char):
            self.pos -= 1
            return self._identifier
        elif char == "(":
            self._emit(T.LEFT_PAREN)
            self.paren_depth += 1
        elif char == ")":
            self._emit(T.RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self._error("unexpected right paren")
        elif ord(char) < 0x80 and char.isprintable():
            self._emit(T.CHAR)
        else:
            return self._error(f"unrecognized character in action: {go_rune(char)}")
        return self._inside_action

    def _space(self) -> _State | None:
        count = 0
        while self._peek() != "" and self._peek() in _SPACES:
            self.pos += 1
            count += 1
        # A space followed by "-}}" belongs to the trim marker of the closing delimiter.
        before = self.text[self.pos - 1 :]
        if _has_right_trim(before) and before[2:].startswith(RIGHT):
            self.pos -= 1
            if count == 1:
                return self._inside_action
        self._emit(T.SPACE)
        return self._inside_action

    def _quoted(self, quote: str) -> _State | None:
        kinds = {'"': T.STRING, "`": T.RAW_STRING, "'": T.CHAR_CONSTANT}
        errors = {
            '"': "unterminated quoted string",
            "`": "unterminated raw quoted string",
            "'": "unterminated character constant",
        }
        while True:
            char = self._peek()
            self.pos += 1
            if char == "\\" and quote != "`":
                if self._peek() not in ("", "\n"):
                    self.pos += 1
                    continue
                char = self._peek()
            if char == "" or (char == "\n" and quote != "`"):
                return self._error(errors[quote])
            if char == quote:
                break
        self._emit(kinds[quote])
        return self._inside_action

    def _field_or_variable(self, typ: T) -> _State | None:
        if self._at_terminator():
            self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return self._inside_action
        while self._peek() != "" and is_alphanumeric(self._peek()):
            self.pos += 1
        if not self._at_terminator():
            return self._error(f"bad character {go_rune(self._peek())}")
        self._emit(typ)
        return self._inside_action

    def _identifier(self) -> _State | None:
        while self._peek() != "" and is_alphanumeric(self._peek()):
            self.pos += 1
        word = self.text[self.start : self.pos]
        if not self._at_terminator():
            return self._error(f"bad character {go_rune(self._peek())}")
        # `break` and `continue` are keywords here: no template function takes their names.
        keyword = KEYWORDS.get(word)
        if keyword is not None:
            self._emit(keyword)
        elif word in ("true", "false"):
            self._emit(T.BOOL)
        else:
            self._emit(T.IDENTIFIER)
        return self._inside_action

    def _number(self) -> _State | None:
        ok = self._scan_number()
        if ok and self._peek() != "" and self._peek() in "+-":
            ok = self._scan_number() and self.text[self.pos - 1] == "i"  # complex: 1+2i
        if not ok:
            return self._error(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
        self._emit(T.NUMBER)
        return self._inside_action

    def _accept(self, chars: str) -> bool:
        if self._peek() != "" and self._peek() in chars:
            self.pos += 1
            return True
        return False

    def _accept_run(self, chars: str) -> None:
        while self._accept(chars):
            pass

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = _DECIMAL
        if self._accept("0"):
            if self._accept("xX"):
                digits = _HEX
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if digits == _DECIMAL and self._accept("eE"):
            self._accept("+-")
            self._accept_run(_DECIMAL)
        if digits == _HEX and self._accept("pP"):
            self._accept("+-")
            self._accept_run(_DECIMAL)
        self._accept("i")
        if self._peek() != "" and is_alphanumeric(self._peek()):
            self.pos += 1
            return False
        return True


def _has_left_trim(text: str) -> bool:
    return len(text) >= 2 and text[0] == "-" and text[1] in _SPACES


def _has_right_trim(text: str) -> bool:
    return len(text) >= 2 and text[0] in _SPACES and text[1] == "-"
