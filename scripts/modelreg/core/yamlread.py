"""Safe, fast reading of registry YAML.

Plain block YAML, what registries are, is read by blockyaml.py; for anything it
declines, PyYAML's C composer builds the node tree and a small constructor of our
own turns it into plain Python data. Both type plain scalars with plain_typer().
Owning the reading buys four things PyYAML's SafeLoader does not give: duplicate keys are errors (PyYAML keeps the last one
silently), aliases and merge keys are refused (no alias bomb can expand),
no tag can construct anything beyond str/int/float/bool/null/map/seq, and
timestamps stay the strings the user wrote so the data is JSON-compatible.
It is also about twice as fast as SafeLoader's construction, and the node tree
stays available for pointing error messages at lines.

Typing is PyYAML's (YAML 1.1: `yes` and `on` are booleans, `017` is 15, `0x1f` is 31),
done with PyYAML's own resolver patterns, except that timestamps stay text. Why no
third-party (Rust) reader is used instead: docs/benchmarks.md, "Faster YAML readers".
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import blockyaml
from .positions import Deferred
from .problems import ModelregError, Problem

try:  # libyaml is nearly always present in PyYAML wheels.
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_T + "str", _T + "int", _T + "float", _T + "bool", _T + "null")
_TIMESTAMP, _MAP, _SEQ, _MERGE = _T + "timestamp", _T + "map", _T + "seq", _T + "merge"
_PLAIN = "!modelreg/plain"  # an untagged plain scalar, typed by construct() below
_PLAIN_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_BOOL_VALUES = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers

_slow = yaml.SafeLoader("")  # only for PyYAML's rarer int/float spellings
MAX_DEPTH = 32  # a registry nests about six levels; anything far deeper is an attack on the reader


class _Loader(_BaseLoader):
    """Defers typing of plain scalars to the constructor.

    PyYAML calls resolve() from C for every scalar; doing the same work lazily
    in our constructor, with a shortcut for values that cannot be typed, saves
    about a third of the parse time on large registries.
    """

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _MAP if kind is MappingNode else _SEQ

    # The C composer also calls descend_resolver(parent, index) and ascend_resolver() around
    # every node, for path resolvers: resolve() above ignores them, so they need do nothing.
    # Builtins that take those arguments and return at once cost no Python frame (a class
    # attribute that is a type is not bound to the instance): ~10% of composing.
    descend_resolver = slice
    ascend_resolver = tuple


class _Refused(ValueError):  # a ValueError, so the block reader (which takes any) declines the text
    def __init__(self, node: Node, message: str, hint: str = "", alias: bool = False):
        self.node, self.message, self.hint, self.alias = node, message, hint, alias


def _first_alias(text: str):
    """Where the first *alias is: the composed tree only knows where its anchor was."""
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            return event.start_mark
    raise AssertionError("an alias was found while composing but not while parsing")


def compose(text: str) -> Node | None:
    """Parse text into a node tree with the C parser (aliases are not expanded here)."""
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _typed(value: str, tag: str, node: ScalarNode | None = None) -> Any:
    """The value of a scalar with its (explicit or resolved) tag; any tag but the JSON-like ones is refused.
    `node` is the scalar's node when there is one; one is made only for PyYAML's rarer spellings and refusals."""
    if tag == _STR or tag == _TIMESTAMP:
        return value
    if tag == _NULL:
        return None
    if tag == _FLOAT:
        try:
            return float(value)
        except ValueError:
            pass
    elif tag == _INT and _PLAIN_INT.match(value):
        return int(value)
    node = node or ScalarNode(tag, value)
    if tag == _FLOAT:
        try:
            return _slow.construct_yaml_float(node)
        except ValueError:
            raise _Refused(node, f"{value!r} is not a number (!!float)", "remove the tag or fix the value")
    if tag == _INT:
        try:
            return _slow.construct_yaml_int(node)
        except ValueError:
            raise _Refused(node, f"{value!r} is not an integer (!!int)", "remove the tag or fix the value")
    if tag == _BOOL:
        if value.lower() not in _BOOL_VALUES:
            raise _Refused(node, f"{value!r} is not a boolean (!!bool)", "remove the tag or fix the value")
        return _BOOL_VALUES[value.lower()]
    if tag == _MERGE:
        raise _Refused(node, "YAML merge keys (<<) are not allowed in the registry", "write the keys out in full")
    raise _Refused(node, f"YAML tag {tag!r} is not allowed in the registry", "remove the explicit !tag")


def _resolving(resolvers: list[tuple[str, re.Pattern]]) -> tuple[Callable[[str], Any], dict[int, str]]:
    """One pattern for PyYAML's implicit resolvers of a first character: their patterns as
    alternatives in their order, each in a group of its own. An alternation takes its first
    alternative that matches, as Resolver.resolve() takes the first resolver that matches, so one
    match finds the tag three tries found (the last group to close is the alternative's own)."""
    flags = {re.I: "i", re.M: "m", re.S: "s", re.X: "x"}
    parts = []
    for index, (_, regexp) in enumerate(resolvers):
        if regexp.flags & ~(re.I | re.M | re.S | re.X | re.U):
            raise ValueError(f"a resolver pattern with flags {regexp.flags!r}")  # none of PyYAML's
        scoped = "".join(letter for flag, letter in flags.items() if regexp.flags & flag)
        parts.append(f"(?P<_{index}>(?{scoped}:{regexp.pattern}))" if scoped else f"(?P<_{index}>{regexp.pattern})")
    pattern = re.compile("|".join(parts))
    return pattern.match, {pattern.groupindex[f"_{index}"]: tag for index, (tag, _) in enumerate(resolvers)}


class _Resolving(dict):
    """First character -> `_resolving` of PyYAML's resolvers for it (None: no type starts with it), made
    when a text first starts with it: a registry's texts start with a few of the thirty characters."""

    def __missing__(self, first: str):
        resolvers = _IMPLICIT.get(first)
        made = self[first] = _resolving(resolvers) if resolvers else None
        return made


_RESOLVING = _Resolving()


def plain_typer() -> Callable[..., Any]:
    """A function typing a plain scalar's text as PyYAML's resolvers do: `plain(text, node=None)`.

    Both readers type through it (the block reader without a node). It remembers each text it
    typed: a registry repeats most of the texts YAML types. A refused value raises _Refused.
    """
    resolving_of = _RESOLVING.__getitem__
    typing: dict[str, Any] = {}
    known = typing.get

    def plain(value: str, node: ScalarNode | None = None) -> Any:
        if not value:
            return None
        resolving = resolving_of(value[0])
        if resolving is None:  # most keys and texts: no YAML type starts with their first character
            return value
        result = known(value, typing)
        if result is typing:  # PyYAML's resolve(): the first implicit resolver that matches
            match, tags = resolving
            matched = match(value)
            result = value if matched is None else _typed(value, tags[matched.lastindex], node)
            typing[value] = result
        return result

    return plain


def construct(root: Node | None, text_has_alias: bool = True, line_offset: int = 0,
              multiline: list[Node] | None = None) -> Any:
    """Build plain data from nodes.

    Quoted scalars and flow collections that span lines are appended to
    `multiline` so that load() can check their continuation lines.
    """
    seen: set[int] | None = set() if text_has_alias else None
    if multiline is None:
        multiline = []
    plain = plain_typer()

    def scalar(node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _PLAIN:
            return plain(node.value, node)
        if node.style is not None and node.start_mark.line != node.end_mark.line:
            multiline.append(node)
        return _typed(node.value, tag, node)

    def build(node: Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(node, f"values nest deeper than {MAX_DEPTH} levels", "flatten the value")
        if seen is not None:
            if id(node) in seen:
                raise _Refused(node, "YAML aliases (*name) are not allowed in the registry",
                               "write the value out in full", alias=True)
            seen.add(id(node))
        cls = node.__class__
        if cls is ScalarNode:
            return scalar(node)
        # Scalars inside a collection are built here directly (most nodes are scalars): without
        # aliases no node can be met twice, and a scalar one level down is within MAX_DEPTH.
        direct = seen is None and depth < MAX_DEPTH
        tag = node.tag
        if cls is MappingNode:
            if node.flow_style and node.start_mark.line != node.end_mark.line:
                multiline.append(node)
            if tag == _MAP:
                result: dict = {}
                for key_node, value_node in node.value:
                    if direct and key_node.__class__ is ScalarNode:
                        key = scalar(key_node)
                    else:
                        key = build(key_node, depth + 1)
                        if isinstance(key, (dict, list)):
                            raise _Refused(key_node, "a mapping key must be a plain value")
                    if key in result:
                        raise _Refused(key_node, f"duplicate key {key!r} (first defined on line "
                                       f"{first_line(node, key) + line_offset})", "keep one of them")
                    result[key] = scalar(value_node) if direct and value_node.__class__ is ScalarNode \
                        else build(value_node, depth + 1)
                return result
        elif cls is SequenceNode:
            if node.flow_style and node.start_mark.line != node.end_mark.line:
                multiline.append(node)
            if tag == _SEQ:
                return [scalar(item) if direct and item.__class__ is ScalarNode else build(item, depth + 1)
                        for item in node.value]
        raise _Refused(node, f"YAML tag {tag!r} is not allowed in the registry",
                       "remove the explicit !tag")

    def first_line(mapping: MappingNode, key: Any) -> int:
        """The line of the first key of `mapping` that is `key` (only for the message of a duplicate).
        The same test as the dict's: identity, then equality (PyYAML makes every .nan one object)."""
        for key_node, _ in mapping.value:
            if key_node.__class__ is ScalarNode:
                other = scalar(key_node)
                if other is key or other == key:
                    return key_node.start_mark.line + 1
        raise AssertionError("a duplicate key without a first one")

    return None if root is None else build(root)


def load(text: str, filename: str, line_offset: int = 0) -> tuple[Any, Node | Deferred | None]:
    """Return (data, node tree); raise ModelregError naming file and line on any problem.

    Plain block YAML (what registries are) is read by core/blockyaml.py, two to three times
    faster, and its node tree is composed only when a place is asked for (`positions.tree`);
    any other text is composed and constructed here.
    """
    with _collector_paused():
        data = blockyaml.read(text, plain_typer(), _IMPLICIT)
        if data is not None:
            return data, Deferred(partial(compose_paused, text))
        return _load_composed(text, filename, line_offset)


def compose_paused(text: str) -> Node | None:
    """compose() for a deferred node tree, later: with the collector paused as for the first read
    (a collection pass per few hundred nodes made composing 10,000 versions take 5 s, not 0.5 s)."""
    with _collector_paused():
        return compose(text)


def load_composed(text: str, filename: str, line_offset: int = 0) -> tuple[Any, Node | None]:
    """`load` through PyYAML's node tree alone: the reference the block reader is held to."""
    with _collector_paused():
        return _load_composed(text, filename, line_offset)


@contextmanager
def _collector_paused():
    """The collector rescans everything a reader makes, and finds no cycles there: it is paused,
    and what was made is moved out of its sight afterwards (else the first collection after
    re-enabling rescans every value: ~0.3 s at 10,000 versions)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


_OTHER_BREAK = re.compile("[\r\x85\u2028\u2029]")
_BREAK_NAMES = {"\r": "a carriage return (\\r)", "\x85": "U+0085 (next line)", "\u2028": "U+2028 (line separator)",
                "\u2029": "U+2029 (paragraph separator)"}


def other_break(text: str) -> int | None:
    """Where the text first holds a line break other than "\\n", or None.

    YAML breaks lines at "\\r", U+0085, U+2028 and U+2029 too; git, editors' line numbers and the
    fast paths that cut one model's block out of the text (core/sections.py) do not. A text with
    one can show YAML a different line structure than everything else sees (a red-team session
    hid a `stages:` line in a quoted text that way), so it is refused, and the fast paths go around it.
    """
    if text.isascii():
        at = text.find("\r")
        return None if at < 0 else at
    found = _OTHER_BREAK.search(text)
    return None if found is None else found.start()


def _refuse_other_breaks(text: str, filename: str, line_offset: int) -> None:
    at = other_break(text)
    if at is None:
        return
    line = text.count("\n", 0, at) + 1 + line_offset
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    hint = ("save the file with \\n line endings (e.g. dos2unix, or git config core.autocrlf input)"
            if text[at] == "\r" else "remove it, or write it as an escape inside double quotes")
    raise ModelregError([Problem(filename, line, column, "", f"{_BREAK_NAMES[text[at]]}: YAML reads it as a line "
                                 "break, and registry lines end with \\n alone", hint)])


def _load_composed(text: str, filename: str, line_offset: int) -> tuple[Any, Node | None]:
    _refuse_other_breaks(text, filename, line_offset)  # the block reader declines such a text: only here
    try:
        root = compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + line_offset if mark else None
        col = mark.column + 1 if mark else None
        detail = " ".join(x for x in (error.context, error.problem) if x)
        raise ModelregError([Problem(filename, line, col, "", f"not valid YAML: {detail}",
                                     "fix the syntax at that place")]) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow: no mark, an offset
        raise ModelregError([_reader_problem(text, error, filename, line_offset)]) from None
    except yaml.YAMLError as error:
        raise ModelregError([Problem(filename, None, None, "", f"not valid YAML: {error}")]) from None
    except RecursionError:  # the composer recurses once per level of [ and {
        line, column = _too_deep(text)
        raise ModelregError([Problem(filename, line + line_offset, column, "",
                                     f"values nest deeper than {MAX_DEPTH} levels", "flatten the value")]) from None
    multiline: list[Node] = []
    try:
        data = construct(root, "*" in text, line_offset, multiline)
    except _Refused as refused:
        mark = _first_alias(text) if refused.alias else refused.node.start_mark
        raise ModelregError([Problem(filename, mark.line + 1 + line_offset, mark.column + 1, "",
                                     refused.message, refused.hint)]) from None
    except (ValueError, yaml.YAMLError) as error:
        raise ModelregError([Problem(filename, None, None, "", f"not valid YAML: {error}")]) from None
    if multiline:
        _check_continuations(text, multiline, filename, line_offset)
    return data, root


_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what the YAML reader counts as a line break


def _reader_problem(text: str, error: yaml.reader.ReaderError, filename: str, line_offset: int) -> Problem:
    """The problem of a character the YAML reader refuses, at its line and column.

    PyYAML reports such a character by its position only: a byte offset into the UTF-8 text
    from libyaml, a character index from the pure-Python reader.
    """
    position = error.position
    if _BaseLoader is not yaml.SafeLoader:
        position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
    before = text[:position]
    breaks = list(_BREAK.finditer(before))
    line = len(breaks) + 1 + line_offset
    column = position - (breaks[-1].end() if breaks else 0) + 1
    detail = f"#x{error.character:04x}" if isinstance(error.character, int) else repr(error.character)
    return Problem(filename, line, column, "", f"not valid YAML: unacceptable character {detail}: {error.reason}",
                   "remove it; inside a double-quoted string, write it as an escape such as \\x01")


def _too_deep(text: str) -> tuple[int, int]:
    """Line and column where flow brackets first nest deeper than MAX_DEPTH (quotes are not parsed:
    this only points the error message at the place)."""
    depth = 0
    for line_number, line in enumerate(text.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            if depth > MAX_DEPTH:
                return line_number, column
    return 1, 1


def _check_continuations(text: str, nodes: list[Node], filename: str, line_offset: int) -> None:
    """Refuse continuation lines that are not indented past the line they continue.

    YAML 1.2 requires this of flow content inside block collections; PyYAML
    does not check it. The rule matters here because fast lookups find a
    model's block by its indentation (see sections.py): with it, a line that
    looks like a key at a lower indentation always is one.
    """
    lines = text.split("\n")
    problems = []
    for node in nodes:
        first = node.start_mark.line
        base = len(lines[first]) - len(lines[first].lstrip(" "))
        # a block scalar (| or >) ends at column 0 of the line after its content: that line is not part of it
        last = node.end_mark.line if node.end_mark.column else node.end_mark.line - 1
        for number in range(first + 1, last + 1):
            line = lines[number]
            stripped = line.lstrip(" ")
            if stripped and len(line) - len(stripped) <= base:
                problems.append(Problem(
                    filename, number + 1 + line_offset, 1, "",
                    f"this line continues the value that starts on line {first + 1 + line_offset} "
                    "but is not indented past it", "indent it further, or keep the value on one line"))
                break
    if problems:
        raise ModelregError(problems)

