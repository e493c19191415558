"""Minimal, comment-preserving edits of registry.yaml.

Commands compute the new registry as plain data (pure functions in transitions.py);
this module turns "old text + old data -> new data" into the smallest text
change: a changed scalar is replaced in place, a new mapping entry or sequence
item is inserted after its last sibling, a removed entry loses only its own
lines. Everything else - comments, key order, quoting, blank lines - stays byte
for byte. A round-trip library would do the same at ~10x PyYAML's cost, which
is seconds on a large registry; the caller re-parses the result and compares it
with the intended data, so an edit this module gets wrong is refused, never written.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .positions import tree
from .yamlread import compose

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")


def inline(value: Any) -> str:
    """One-line YAML for a scalar or a flow collection.

    Timestamps are written plain, as people write them (our reader keeps them
    as text either way); PyYAML would quote them and add an explicit tag.
    """
    if isinstance(value, dict):
        return "{" + ", ".join(f"{inline(k)}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return value
        if any(ch in value for ch in "\n\r\t") or not value.isprintable():
            return json.dumps(value, ensure_ascii=False)  # a JSON string is a one-line YAML scalar
    text = yaml.safe_dump([value], default_flow_style=True, width=1 << 30, allow_unicode=True)
    return text.strip()[1:-1]


def _is_leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) or (not v) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) for v in value)
    return True


def block_lines(key: Any, value: Any, indent: int) -> list[str]:
    """Lines for `key: value` at `indent`, in the registry's house style.

    Mappings of mappings are written as blocks; mappings of plain values
    (metrics, params, data) and lists of plain values as one flow line;
    lists of mappings (history) as one flow mapping per item.
    """
    pad = " " * indent
    head = f"{pad}{inline(key)}:"
    if isinstance(value, dict) and value and not _is_leaf(value):
        lines = [head]
        for child_key, child in value.items():
            lines += block_lines(child_key, child, indent + 2)
        return lines
    if isinstance(value, list) and value and not _is_leaf(value):
        return [head] + [f"{pad}  - {inline(item)}" for item in value]
    return [f"{head} {inline(value)}"]


def _line_end(text: str, index: int) -> int:
    """Index just past the newline that ends the line containing `index` (the editor's text ends with one)."""
    return text.index("\n", index) + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _content_end(node: Node) -> int:
    """Index just past the last character that belongs to `node` (not the comments after it)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return node.end_mark.index


def _is_block(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and bool(node.value)


class _Fallback(Exception):
    """The node is not a block collection: replace it whole instead."""


class _Editor:
    def __init__(self, text: str):
        self.text = text
        self.edits: list[tuple[int, int, str]] = []

    def replace_value(self, key_node: Node, value_node: Node, new: Any, indent: int) -> None:
        """Replace the value of the key at `indent` with `new`."""
        empty = isinstance(value_node, ScalarNode) and value_node.value == "" and not value_node.style
        grows = not _is_block(value_node) and isinstance(new, (dict, list)) and bool(new) and (
            empty or (isinstance(value_node, (MappingNode, SequenceNode)) and not value_node.value))
        if not empty and not grows and not _is_block(value_node) and _is_leaf(new):
            self.edits.append((value_node.start_mark.index, value_node.end_mark.index, inline(new)))
            return
        end = _content_end(value_node)  # an empty value ends after its colon, or after its tag (`a: !!null`)
        if grows:  # an empty {} / [] / nothing that gets content becomes a block, as people write it
            pad = " " * (indent + 2)
            if isinstance(new, dict):
                lines = [line for key, value in new.items() for line in block_lines(key, value, indent + 2)]
            else:
                lines = [f"{pad}- {inline(item)}" for item in new]
            body = "\n" + "\n".join(lines)
        elif _is_leaf(new):
            body = " " + inline(new)
        else:
            body = "\n" + "\n".join(block_lines("k", new, indent)[1:])
        self.edits.append((key_node.end_mark.index, end, ":" + body))

    def mapping(self, node: MappingNode, old: dict, new: dict) -> None:
        if not _is_block(node):
            raise _Fallback
        pairs = {str(key_node.value): (key_node, value_node) for key_node, value_node in node.value}
        indent = node.value[0][0].start_mark.column
        for key in old:
            if key not in new:
                key_node, value_node = pairs[str(key)]
                start = _line_start(self.text, key_node.start_mark.index)
                self.edits.append((start, _line_end(self.text, _content_end(value_node) - 1), ""))
        for key, value in new.items():
            if key in old and old[key] != value:
                key_node, value_node = pairs[str(key)]
                self.value(key_node, value_node, old[key], value, indent)
        added = [key for key in new if key not in old]
        if added:
            at = _line_end(self.text, _content_end(node) - 1)
            lines = []
            for key in added:
                lines += block_lines(key, new[key], indent)
            self.edits.append((at, at, "\n".join(lines) + "\n"))

    def value(self, key_node: Node, node: Node, old: Any, new: Any, indent: int) -> None:
        if isinstance(node, MappingNode) and isinstance(old, dict) and isinstance(new, dict) and new:
            try:
                self.mapping(node, old, new)
                return
            except _Fallback:
                pass
        if isinstance(node, SequenceNode) and _is_block(node) and isinstance(old, list) \
                and isinstance(new, list) and len(new) > len(old) and new[:len(old)] == old:
            line_start = _line_start(self.text, node.value[0].start_mark.index)
            dash = self.text.index("-", line_start)
            at = _line_end(self.text, _content_end(node) - 1)
            pad = " " * (dash - line_start)
            lines = [f"{pad}- {inline(item)}" for item in new[len(old):]]
            self.edits.append((at, at, "\n".join(lines) + "\n"))
            return
        self.replace_value(key_node, node, new, indent)


def rewrite(text: str, old: dict, new: dict, root: Node | None = None) -> str:
    """The text of `new`, written as a minimal edit of `text` (which parses to `old`; `root` is its node
    tree when the caller has it, so the text is not composed twice)."""
    root = compose(text) if root is None else tree(root)
    if not isinstance(root, MappingNode) or not root.value or root.flow_style:
        return "\n".join(line for key, value in new.items() for line in block_lines(key, value, 0)) + "\n"
    # The editor sees the text and one more line break (the node tree's indices stay right), so the last line is
    # ended even when the file's is not and lines inserted after it need no line break of their own first. Only
    # an edit at the end of a file without its last line break reaches the extra one; otherwise it goes again.
    ended = text + "\n"
    editor = _Editor(ended)
    editor.mapping(root, old, new)
    result = ended
    # From the end backwards, so the places still to edit do not move. At one place, a removal goes first (an
    # insertion there must not go with it), then the insertions, the one made last first: a nested block's
    # lines are made before its parent's and so stay above them.
    edits = sorted(((start, end, order, replacement) for order, (start, end, replacement) in enumerate(editor.edits)),
                   reverse=True)
    for start, end, _, replacement in edits:
        result = result[:start] + replacement + result[end:]
    if not any(end == len(ended) for _, end, _ in editor.edits):
        result = result[:-1]
    return result
