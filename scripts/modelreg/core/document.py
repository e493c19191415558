"""The registry document: text in, checked data out.

Every reader of a registry (the file on disk, a git revision, a PR's head
commit) goes through `parse`, and every reader that wants a valid registry
through `parse_valid`, so "parse, check, raise" is written once.
"""

from __future__ import annotations

from typing import Any

from . import yamlread
from .problems import ModelregError, Problem


def parse(text: str, name: str) -> tuple[dict, Any]:
    """(data, node tree) of a registry's text; refuses anything that is not a mapping."""
    data, root = yamlread.load(text, name)
    if data is None:
        raise ModelregError([Problem(name, 1, 1, "", "the registry is empty",
                                     "start from 'schema: 1' and 'models: {}'")])
    if not isinstance(data, dict):
        raise ModelregError([Problem(name, 1, 1, "", "the registry must be a mapping with schema: and models:")])
    return data, root


def parse_valid(text: str, name: str) -> tuple[dict, Any]:
    """`parse`, then every schema and rule check; all problems are raised at once."""
    from .rules import check_state

    data, root = parse(text, name)
    problems = check_state(data, root, name)
    if problems:
        raise ModelregError(problems)
    return data, root
