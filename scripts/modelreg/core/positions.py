"""Where a value sits in the registry file: the line and column every problem points at.

Kept apart from the reader and from the problems so both can use it without
importing each other.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class Deferred:
    """The node tree of a text that was read without one: composed the first time a place is asked
    for (a valid registry never needs it, so `validate` of one composes nothing)."""

    def __init__(self, compose: Callable[[], Node | None]):
        self._compose: Callable[[], Node | None] | None = compose
        self._node: Node | None = None

    @property
    def composed(self) -> bool:
        return self._compose is None

    def node(self) -> Node | None:
        if self._compose is not None:
            self._node, self._compose = self._compose(), None
        return self._node


def tree(root: Node | Deferred | None) -> Node | None:
    """The node tree, composing a deferred one now."""
    return root.node() if isinstance(root, Deferred) else root


def locate(root: Node | Deferred | None, path: Iterable[Any], key: bool = False) -> tuple[int, int] | None:
    """Line and column (1-based) of the node at `path`, or of its nearest existing ancestor.

    With key=True the position of the mapping key is given instead of its value,
    which is where editors should point for "unknown key" style problems.
    """
    node = tree(root)
    best = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else None
    for step in path:
        found = None
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == str(step):
                    found = (key_node, value_node)
                    break
        elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            item = node.value[step]
            found = (item, item)
        if found is None:
            return best
        key_node, node = found
        target = key_node if key else node
        best = (target.start_mark.line + 1, target.start_mark.column + 1)
    return best
