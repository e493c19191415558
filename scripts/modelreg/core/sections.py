"""Find one model's part of registry.yaml without parsing the rest.

`modelreg resolve` must answer in well under 100 ms with 10,000 versions in
the file, and a full parse costs about half a second there. The registry is
block-style YAML, so a key's block runs from its line to the next line that is
indented no deeper. These helpers cut out just the blocks a lookup needs and
the caller parses only those.

They return None whenever the text is not laid out the simple way (a quoted
or duplicated key, a flow-style mapping, a key that cannot be found); callers
then fall back to a full parse, so the fast path can only ever be faster, never
different. `yamlread` refuses continuation lines that are not indented past
their first line, which is what makes "a line that looks like a key at this
indentation is a key" true for every file that loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def _other_breaks(text: str) -> bool:
    """YAML also breaks lines at "\\r", U+0085, U+2028 and U+2029, which these helpers do not: a text
    holding one goes the full way (where yamlread refuses it, at its line)."""
    from .yamlread import other_break

    return other_break(text) is not None


class Ambiguous(Exception):
    """A key appears twice: only a full parse can say what the file means."""


@dataclass(frozen=True)
class Block:
    start: int  # offset of the key's line
    end: int  # offset just past the block
    indent: int

    def text(self, source: str) -> str:
        return source[self.start:self.end]


# Every pattern starts with a newline: Python's regex engine scans for a literal
# first character at C speed, while a MULTILINE "^" is tried at every offset
# (about 15x slower on a 4 MB file).
_CONTENT_LINE = re.compile(r"\n( *)[^ \n#\r]")


@lru_cache(maxsize=64)
def _key_pattern(indent: int, key: str) -> re.Pattern:
    return re.compile(r"\n" + " " * indent + re.escape(key) + r":(?=[ \t\r\n]|\Z)")


@lru_cache(maxsize=16)
def _boundary(indent: int) -> re.Pattern:
    # a content line indented no deeper than `indent` (comments and blank lines do not count)
    return re.compile(r"\n {0,%d}[^ \n#\r]" % indent)


def child_indent(text: str, start: int, end: int) -> int | None:
    """Indentation of the first content line in [start, end), if it is a mapping key line."""
    match = _CONTENT_LINE.search(text, max(start - 1, 0), end)
    if match is None or text.startswith("-", match.end() - 1):
        return None
    return len(match.group(1))


def find_key(text: str, start: int, end: int, indent: int, key: str) -> Block | None:
    """The block of `key` at exactly `indent` spaces within [start, end); None if it is not there.

    `start` must be the start of a line. Raises Ambiguous if the key is there twice.
    """
    pattern = _key_pattern(indent, key)
    if start == 0 and indent == 0 and _key_pattern(0, key).match("\n" + text[:len(key) + 2]):
        key_start = 0
    else:
        match = pattern.search(text, max(start - 1, 0), end)
        if match is None:
            return None
        key_start = match.start() + 1
    if pattern.search(text, key_start, end) is not None:
        raise Ambiguous(key)  # a second key of that name: the full parse reports the duplicate
    boundary = _boundary(indent).search(text, key_start, end)
    block_end = end if boundary is None else boundary.start() + 1
    return Block(key_start, block_end, indent)


def model_blocks(text: str, name: str, fields: tuple[str, ...]) -> dict[str, Block] | None:
    """Blocks of the given fields of model `name`; None when the fast path cannot be trusted.

    A field that is absent from the model maps to nothing (missing from the result).
    """
    try:
        return _model_blocks(text, name, fields)
    except Ambiguous:
        return None


def _model_blocks(text: str, name: str, fields: tuple[str, ...]) -> dict[str, Block] | None:
    model = _model_block(text, name)
    if model is None:
        return None
    indent = model.indent
    model_body = text.find("\n", model.start) + 1
    field_indent = child_indent(text, model_body, model.end)
    if field_indent is None or field_indent <= indent:
        return None
    found = {}
    for field in fields:
        block = find_key(text, model_body, model.end, field_indent, field)
        if block is not None:
            found[field] = block
    return found


def nested_block(text: str, parent: Block, key: str) -> Block | None:
    """The block of `key` directly inside a block-style mapping `parent`."""
    body = text.find("\n", parent.start) + 1
    if body == 0 or body >= parent.end:
        return None
    indent = child_indent(text, body, parent.end)
    if indent is None or indent <= parent.indent:
        return None
    try:
        return find_key(text, body, parent.end, indent, key)
    except Ambiguous:
        return None


def top_level_text(text: str) -> str:
    """Every top-level key except `models`, for reading the file's settings cheaply."""
    try:
        models = find_key(text, 0, len(text), 0, "models")
    except Ambiguous:
        return text
    if models is None:
        return text
    return text[:models.start] + text[models.end:]


def model_block(text: str, name: str) -> Block | None:
    """The whole block of `models.<name>` (key line included); None when the fast path cannot be trusted."""
    try:
        return _model_block(text, name)
    except Ambiguous:
        return None


def _model_block(text: str, name: str) -> Block | None:
    if _other_breaks(text):  # every entry point starts here (model_blocks through _model_blocks)
        return None
    models = find_key(text, 0, len(text), 0, "models")
    if models is None:
        return None
    body = text.find("\n", models.start) + 1
    indent = child_indent(text, body, models.end)
    if not indent:
        return None
    return find_key(text, body, models.end, indent, name)


def one_model_document(text: str, name: str, same_length: bool = False) -> str | None:
    """The registry text with every model but `name` blanked out, line for line.

    Blank lines keep every remaining line at its number, so a parse of the result
    points problems at the right lines of the real file; it holds the settings,
    the `models:` key and the one model, which is all a question about one model
    (or a write to it) needs to read and check. With same_length, the blanked lines
    keep their length as spaces, so every character also keeps its index (what the
    editor's node tree needs).
    """
    block = model_block(text, name)
    if block is None:
        return None
    try:
        models = find_key(text, 0, len(text), 0, "models")
    except Ambiguous:
        return None
    header_end = text.find("\n", models.start) + 1
    if header_end <= 0 or header_end > block.start:
        return None

    def blank(part: str) -> str:
        if same_length:
            return "\n".join(" " * len(line) for line in part.split("\n"))
        return "\n" * part.count("\n")

    return (text[:header_end] + blank(text[header_end:block.start]) + text[block.start:block.end]
            + blank(text[block.end:models.end]) + text[models.end:])
