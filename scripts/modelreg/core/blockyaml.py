"""A reader for the plain block-style YAML a registry is written in, that declines everything else.

Reading a registry with PyYAML costs most of `validate` (libyaml builds a node tree of Python
objects: two marks and a node per scalar; docs/benchmarks.md). Registries are written in a small
part of YAML: block mappings and lists, one value per line, plain or simply quoted scalars, and
one-line flow collections such as `{roc_auc: 0.91, accuracy: 0.88}`. This module reads exactly
that part, line by line with a few regular expressions, and answers `None` — "not mine" — for
anything outside it: tags, anchors and aliases, block scalars, multi-line values, tabs, control
or line-break characters, duplicate keys, keys that are not simple names, document markers, deep
nesting, a key or value it is unsure of. Then the caller reads the text with PyYAML as before,
which also says what is wrong and where.

What it accepts, it must read exactly as core/yamlread.py reads it with PyYAML: the same
structure, and every plain scalar typed by the same function (`yamlread.plain_typer`), so
`yes`, `017` and `1e3` mean what they mean there. The property tests in
tests/properties/test_block_reader.py hold the two readers side by side on registries in random
layouts, on every YAML type planted at every place, and on texts mutated a character at a time.
No positions come out of it: a caller that needs a line (to report a problem) composes the text
with PyYAML then (`yamlread.Deferred`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Container

# A key: a simple name (model names, version names, field names). Quoted or odd keys decline.
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}"
# The first character of a plain scalar: not an indicator, not a space; or "-" before a digit or dot.
_PLAIN_START = r"(?:[^-?:,\[\]{}#&*!|>'\"%@`\s]|-(?=[0-9.]))"
# A plain value on a block line with no comment after it: ":" only before a character that is not
# a space, "#" only after one that is not. Trailing spaces are matched and stripped afterwards.
_BLOCK_PLAIN = _PLAIN_START + r"[^:#\n]*(?:(?::(?=[^ \n])|(?<=[^ ])#)[^:#\n]*)*"  # unrolled: 2x faster
# One line: indentation, an optional "- " entry marker, an optional "key:", then either a simple
# plain value or the rest. The last group takes anything, so every line matches and none can be
# skipped unseen.
_LINE = re.compile(rf"( *)(- *)?(?:({_KEY}):(?: +|(?=\n)))?(?:({_BLOCK_PLAIN})(?=\n)|(.*))\n")
# What the reader declines on sight: anything but printable characters and "\n" (a tab, "\r", a
# control character, a byte order mark, YAML's other line breaks U+0085, U+2028 and U+2029). An
# ASCII text is checked by deleting the bytes it may hold (bytes.translate: a few instructions a
# byte, where a pattern's search takes sixty); any other text by a pattern naming what it may not
# hold — the complement of "\n", U+0020-U+007E, U+00A0-U+2027, U+202A-U+D7FF, U+E000-U+FEFE,
# U+FF00-U+FFFD and U+10000 up, which is how it reads best but takes ~15 ms to compile, as this
# takes well under one (tests/core/test_blockyaml.py holds the two alike on every code point).
_USUAL_ASCII = bytes([10, *range(0x20, 0x7f)])
_UNUSUAL = "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
# Inside [ ] and { }: no ",", brackets, "#", "?" or quotes, and ":" only before a character that
# cannot end the scalar (as in 10:04:00; libyaml and PyYAML's Python scanner differ on the rest).
_FLOW_PLAIN = _PLAIN_START + r"[^,\[\]{}:#\"'?\n]*(?::(?=[^ ,?\[\]{}:#\"'\n])[^,\[\]{}:#\"'?\n]*)*"
_QUOTED = r"\"[^\"\\]*\"|'[^']*'"  # one-line quoted text without escapes
_FLAT_MAP = re.compile(rf"\{{ *(?:{_KEY}: +{_FLOW_PLAIN}(?:, *{_KEY}: +{_FLOW_PLAIN})*)?\}}")
_FLAT_LIST = re.compile(rf"\[ *(?:{_FLOW_PLAIN}(?:, *{_FLOW_PLAIN})*)?\]")
# One token of a nested flow collection, after its leading spaces and line breaks (a collection
# continued over lines is joined with "\n"; a plain token never holds one). Tokens are taken one
# match at a time from where the last ended: a pattern for a whole run of them could split
# "a b c" in many ways and backtrack through all of them on a line it fails on.
_FLOW_TOKEN = re.compile(rf"([ \n]*)(?:([\[\]{{}},]|: +)|({_QUOTED})|({_FLOW_PLAIN}))")
_EMPTY_RUN = re.compile("\n\n\n+")
_KEY_WHOLE = re.compile(_KEY)
_BLOCK_PLAIN_WHOLE = re.compile(_BLOCK_PLAIN)
_QUOTED_VALUE = re.compile(rf"({_QUOTED})(?: +#.*)? *")
_UNCLOSED = re.compile(r"[ \n]*(?:\"[^\"\\]*|'[^']*)")  # quoted text that goes on on the next line

# Block collections nest at most this deep (the top mapping is depth 0), and flow collections
# inside them at most _FLOW_DEPTH more: every value stays within yamlread.MAX_DEPTH (32), so what
# this reader accepts, PyYAML's path accepts too.
MAX_DEPTH = 16
_FLOW_DEPTH = 14
_SIMPLE_KEY = 128  # a key's length at most (libyaml refuses a key of more than 1024 before its ":")

_ENTRY, _KEYED, _SCALAR = 0, 1, 2  # kinds of line
_NOTHING = object()  # no value on the line: it follows on the next lines, or is null


class _Decline(Exception):
    """The text is outside the part of YAML this reader takes: read it with PyYAML."""


class _Incomplete(_Decline):
    """A flow collection or quoted text not closed on its line: it may go on on the next."""


def read(text: str, plain: Callable[[str], Any], typed_starts: Container[str]) -> dict | None:
    """The registry data of `text`, or None when the text is not plain block YAML.

    `plain(text)` types a plain scalar (it raises ValueError for one it refuses); a text whose
    first character is not in `typed_starts` is a string without asking it.
    """
    if not text.endswith("\n"):
        text += "\n"
    if _has_unusual(text):
        return None
    if "\n\n\n" in text:
        # A run of empty lines reads as one: no value this reader takes spans an empty line (a
        # continued one with any is declined, one or many). A question about one model reads the
        # file with the other models' lines emptied, 100,000 of them at 10,000 versions.
        text = _EMPTY_RUN.sub("\n\n", text)
    try:
        lines = _Lines(plain, typed_starts).read(text)
        # The top mapping at column 0 takes every line or declines (a first line elsewhere included).
        return _Reader(lines).mapping(0, 0) if lines else None
    except (_Decline, ValueError, RecursionError):
        return None


def _has_unusual(text: str) -> bool:
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _USUAL_ASCII))
    return re.compile(_UNUSUAL).search(text) is not None


class _Lines:
    """The lines that hold something, as (column, kind, key, value), keys and values typed.

    An entry's key or scalar becomes a line of its own at the entry's content column, as YAML reads
    "- a: 1" ("-", then a mapping starting at "a"); `value` is _NOTHING when the line ends after
    "key:" or "-".
    """

    def __init__(self, plain: Callable[[str], Any], typed_starts: Container[str]):
        self.plain, self.typed_starts = plain, typed_starts
        self.keys: dict[str, Any] = {}  # a registry repeats its keys: each is typed once
        self.indents: list[int] = []  # of the lines of the value `continued` is joining

    def key(self, text: str) -> Any:
        typed = self.keys.get(text, _NOTHING)
        if typed is _NOTHING:
            typed = self.keys[text] = self.plain(text)
        return typed

    def read(self, text: str) -> list[tuple[int, int, Any, Any]]:
        lines: list[tuple[int, int, Any, Any]] = []
        add = lines.append
        plain, typed_starts, value_of, keys = self.plain, self.typed_starts, self.value, self.keys
        raw: list[str] | None = None  # the text's lines, split only for a value that continues
        skip = 0
        for number, (indent, dash, key, simple, rest) in enumerate(_LINE.findall(text)):
            if skip:
                skip -= 1
                continue
            column = len(indent)
            if dash:
                if len(dash) == 1 and (key or simple or rest):  # "-x" or "-:" is not an entry
                    raise _Decline
                add((column, _ENTRY, None, _NOTHING))
                column += len(dash)
            if simple:
                simple = simple.rstrip(" ")
                value = plain(simple) if simple[0] in typed_starts else simple
            elif rest and rest[0] != "#":
                try:
                    value = value_of(rest)
                except _Incomplete:
                    raw = text.split("\n") if raw is None else raw
                    value, skip = self.continued(rest, raw, number, len(indent))
            else:  # nothing, or a comment
                value = _NOTHING
            if key:
                typed = keys.get(key, _NOTHING)  # self.key(key), without a call per line
                if typed is _NOTHING:
                    typed = keys[key] = plain(key)
                add((column, _KEYED, typed, value))
            elif value is not _NOTHING:
                add((column, _SCALAR, None, value))
        return lines

    def continued(self, rest: str, raw: list[str], number: int, base: int) -> tuple[Any, int]:
        """A flow collection or quoted text that goes on over the next lines, and how many it took.

        The lines' stripped texts are joined with "\n": YAML folds each line break, with the spaces
        around it, into one space, which is what a quoted text gets (no line may be blank or hold a
        comment); a key or its ":" must not cross a break. As core/yamlread.py requires, every line
        is indented past the first one, and a value that starts on a later line has its own lines
        indented past the line it starts on.
        """
        joined = rest.rstrip(" ")
        self.indents = [base]
        for taken in range(1, len(raw) - number - 1):
            line = raw[number + taken]
            stripped = line.lstrip(" ")
            if not stripped.strip(" ") or "#" in line or len(line) - len(stripped) <= base:
                raise _Decline
            joined += "\n" + stripped.rstrip(" ")
            self.indents.append(len(line) - len(stripped))
            try:
                return self.value(joined), taken
            except _Incomplete:
                continue
        raise _Decline

    def value(self, rest: str) -> Any:
        """A value on a line that is not a simple plain scalar: flow, quoted, or with a comment.
        _Incomplete: a flow collection or quoted text that is not closed on this line."""
        first = rest[0]
        if first == '"' or first == "'":
            matched = _QUOTED_VALUE.fullmatch(rest)
            if matched is not None:
                return matched.group(1)[1:-1].replace("\n", " ")  # folded
            raise _Incomplete if _UNCLOSED.fullmatch(rest) else _Decline
        cut = rest.find(" #")
        if first == "{" or first == "[":
            if cut >= 0:
                if '"' in rest or "'" in rest:
                    raise _Decline  # the "#" might be inside quotes
                rest = rest[:cut]
            return self.flow(rest.rstrip(" "))
        if cut < 0:
            raise _Decline  # not a simple plain scalar, and no comment to blame
        rest = rest[:cut].rstrip(" ")
        if not _BLOCK_PLAIN_WHOLE.fullmatch(rest):
            raise _Decline
        return self.plain(rest)

    def flow(self, text: str) -> Any:
        """A flow collection: the flat ones by one pattern, nested ones token by token."""
        plain = self.plain
        if text[0] == "{":
            if _FLAT_MAP.fullmatch(text):
                # Keys cannot hold "," or ":", values not ",": the pattern has made the cuts safe.
                result: dict = {}
                inner = text[1:-1].strip(" ")
                if inner:
                    typed_starts, key_of = self.typed_starts, self.key
                    for pair in inner.split(","):
                        key, _, value = pair.partition(":")
                        key = key_of(key.strip(" "))
                        if key in result:
                            raise _Decline
                        value = value.strip(" ")
                        result[key] = plain(value) if value[0] in typed_starts else value
                return result
        elif _FLAT_LIST.fullmatch(text):
            inner = text[1:-1].strip(" ")
            return [plain(item.strip(" ")) for item in inner.split(",")] if inner else []
        tokens, at, match = [], 0, _FLOW_TOKEN.match
        while at < len(text):
            token = match(text, at)
            if token is None:
                raise _Incomplete if _UNCLOSED.fullmatch(text, at) else _Decline
            tokens.append(token.groups(""))
            at = token.end()
        if "\n" in text and not _breaks_allowed(tokens, self.indents):
            raise _Decline
        value, end = _FlowParser(tokens, plain).node(0, 0)
        if end != len(tokens):
            raise _Decline
        return value


class _Reader:
    """The block structure of the lines: mappings and lists by their columns, as YAML nests them."""

    def __init__(self, lines: list[tuple[int, int, Any, Any]]):
        self.lines, self.at = lines, 0

    def node(self, parent_column: int, in_mapping: bool, depth: int) -> Any:
        """The value that follows "key:" or "-" with nothing after it on the line."""
        if self.at == len(self.lines):
            return None
        column, kind, _, value = self.lines[self.at]
        if column > parent_column:
            if kind == _SCALAR:
                self.at += 1
                return value
            return self.mapping(column, depth + 1) if kind == _KEYED else self.sequence(column, depth + 1)
        if column == parent_column and kind == _ENTRY and in_mapping:
            return self.sequence(column, depth + 1)  # "key:" then "- item" at the key's own column
        return None

    def mapping(self, column: int, depth: int) -> dict:
        if depth > MAX_DEPTH:
            raise _Decline
        result: dict = {}
        lines = self.lines
        end = len(lines)
        at = self.at
        while at < end:
            indent, kind, key, value = lines[at]
            if indent != column or kind != _KEYED:
                if indent < column:
                    break
                raise _Decline  # a continuation, a misplaced entry or scalar: PyYAML decides
            if key in result:
                raise _Decline
            at += 1
            if value is _NOTHING:
                self.at = at
                value = self.node(column, True, depth)
                at = self.at
            result[key] = value
        self.at = at
        return result

    def sequence(self, column: int, depth: int) -> list:
        if depth > MAX_DEPTH:
            raise _Decline
        result: list = []
        lines = self.lines
        while self.at < len(lines):
            indent, kind, _, _ = lines[self.at]
            if indent < column or (indent == column and kind == _KEYED):
                break
            if indent > column or kind != _ENTRY:
                raise _Decline
            self.at += 1
            result.append(self.node(column, False, depth))
        return result


class _FlowParser:
    """Nested one-line flow collections, e.g. `{roc_auc: {min: 0.8}}` or `[alice, "@acme/ml"]`."""

    def __init__(self, tokens: list[tuple[str, str, str, str]], plain: Callable[[str], Any]):
        self.tokens, self.plain = tokens, plain

    def node(self, at: int, depth: int) -> tuple[Any, int]:
        tokens = self.tokens
        if at >= len(tokens):
            raise _Incomplete
        _, punct, quoted, plain = tokens[at]
        if quoted:
            return quoted[1:-1].replace("\n", " "), at + 1  # folded
        if plain:
            return self.plain(plain.rstrip(" ")), at + 1
        if punct != "{" and punct != "[":
            raise _Decline
        depth += 1
        if depth > _FLOW_DEPTH:
            raise _Decline
        closing = "}" if punct == "{" else "]"
        result: Any = {} if punct == "{" else []
        at += 1
        if at < len(tokens) and tokens[at][1] == closing:
            return result, at + 1
        while True:
            if punct == "{":
                key, at = self.key(at)
                if key in result:
                    raise _Decline
                if at >= len(tokens):
                    raise _Incomplete
                space, colon = tokens[at][0], tokens[at][1]
                if colon[:1] != ":" or "\n" in space:  # a key and its ":" on one line
                    raise _Decline
                result[key], at = self.node(at + 1, depth)
            else:
                item, at = self.node(at, depth)
                result.append(item)
            if at >= len(tokens):
                raise _Incomplete
            separator = tokens[at][1]
            if separator == closing:
                return result, at + 1
            if separator != ",":
                raise _Decline
            at += 1

    def key(self, at: int) -> tuple[Any, int]:
        if at >= len(self.tokens):
            raise _Incomplete
        _, _, quoted, plain = self.tokens[at]
        if len(quoted) > _SIMPLE_KEY or len(plain) > _SIMPLE_KEY or "\n" in quoted:
            raise _Decline  # libyaml's simple keys: on one line, and not too long before the ":"
        if quoted:
            return quoted[1:-1], at + 1
        plain = plain.rstrip(" ")
        if not _KEY_WHOLE.fullmatch(plain):
            raise _Decline
        return self.plain(plain), at + 1


def _breaks_allowed(tokens: list[tuple[str, str, str, str]], indents: list[int]) -> bool:
    """In a flow collection joined from several lines (`indents`: each line's indentation): is
    every collection or quoted text that goes on over lines continued on lines indented past the
    line it starts on? core/yamlread.py refuses the text otherwise."""

    def indented_past(start: int, end: int) -> bool:
        return all(indents[number] > indents[start] for number in range(start + 1, end + 1))

    line, opened = 0, []  # the line each open collection started on
    for space, punct, quoted, _ in tokens:
        line += space.count("\n")
        if quoted:
            end = line + quoted.count("\n")
            if not indented_past(line, end):
                return False
            line = end
        elif punct == "{" or punct == "[":
            opened.append(line)
        elif (punct == "}" or punct == "]") and opened and not indented_past(opened.pop(), line):
            return False
    return True
