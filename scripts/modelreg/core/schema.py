"""The registry's JSON Schema, compiled to plain Python checks.

The schema file is the single definition: editors validate against it while
people type, and `registry.schema.json` is what this module reads. A generic
validator walks the schema for every one of 10,000 versions and costs seconds;
compiling the (small) subset of keywords the schema uses into closures once
costs microseconds per version. tests/test_schema.py checks that this compiler
and the `jsonschema` library flag the same places on many generated documents.
A keyword the compiler does not know makes compile() fail loudly, so the
schema cannot grow past what is checked without someone noticing.

The same keywords are also compiled into predicates (valid or not, no messages),
which schema_errors() asks first: a valid registry, the common case, costs one
plain function call per value instead of a generator and a path per keyword;
only a registry with problems is walked again for the messages and places.
tests/properties/test_reader_reference.py checks that a predicate says yes
exactly where the checks find nothing.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterator

Path = tuple
Error = tuple[Path, str, str]  # (path, message, hint)
Check = Callable[[Any, Path], Iterator[Error]]
Valid = Callable[[Any], bool]

_IGNORED = {"$schema", "$id", "$defs", "title", "description"}

# What a value must look like, in words, for patterns behind a named definition.
_EXPECT = {
    "modelName": ("a model name of lowercase letters, digits and inner dashes",
                  "GTO and DVC accept only these: e.g. churn-classifier"),
    "stageName": ("a stage name of lowercase letters, digits, '_' and '-'", "e.g. production"),
    "version": ("a semantic version like v1.2.3", "write vMAJOR.MINOR.PATCH without leading zeros"),
    "md5": ("a DVC md5: 32 lowercase hex digits, with '.dir' for a directory",
            "copy it from dvc.lock or the .dvc file"),
    "timestamp": ("an ISO 8601 time with a zone, like 2026-11-26T10:04:00Z", "use UTC and a 'Z'"),
    "text": ("a non-empty text", "write a few words"),
    "path": ("a relative path inside the repository", "like models/NAME/model.skops: no leading /, no . or .. "
             "segments, not under .git/, .github/ or .dvc/, no control characters"),
    "metricName": ("a metric name (letters, digits, _ . : / -, starting with a letter or _)", "e.g. roc_auc"),
}


@lru_cache(maxsize=None)
def pattern(source: str) -> re.Pattern:
    """A JSON Schema pattern as a Python regular expression with its meaning (ECMA-262, no flags).

    The one difference that matters here: `$` is the end of the text there, and in Python also the
    place before a final line break, so Python alone takes "models/m.pkl\n" for a path, "v1.0.0\n"
    for a version and "@team\n" for an owner (a registry's block scalar `|` ends its text with one).
    Every `$` outside a character class becomes `\\Z`; `^` means the same in both. The schema uses no
    `\\d`, `\\w`, `\\s` or `.` where the two differ, and a class that opens with `]` (`[]` matches nothing in
    ECMA-262, and `[^]` anything; Python reads the `]` as a character) is refused, not guessed at.
    """
    out, at, in_class = [], 0, False
    while at < len(source):
        char = source[at]
        if char == "\\":
            out.append(source[at:at + 2])
            at += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            at += 1
            if source[at:at + 1] == "^":
                out.append("^")
                at += 1
            if source[at:at + 1] == "]":
                raise ValueError(f"schema pattern {source!r}: a class opening with ']' means one thing in "
                                 "JSON Schema and another in Python; write the ']' escaped")
            continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        at += 1
    return re.compile("".join(out))


def schema_text() -> str:
    return resources.files("modelreg.core").joinpath("registry.schema.json").read_text("utf-8")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(schema_text())


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# JSON Schema's type test per keyword; exact type() checks are what keep a
# 10,000-version file fast (bool is an int subclass and must not pass as one).
_IS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: type(v) is bool,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "string": lambda v: type(v) is str,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}


def _is(kind: str, value: Any) -> bool:
    return _IS[kind](value)


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}
        self.valid_refs: dict[str, Valid] = {}

    def ref(self, ref: str) -> Check:
        if ref not in self.refs:
            if not ref.startswith("#/$defs/"):
                raise NotImplementedError(f"$ref {ref}")
            name = ref[len("#/$defs/"):]
            slot: list[Check] = []
            self.refs[ref] = lambda v, p: slot[0](v, p)  # allows recursion
            slot.append(self.compile(self.root["$defs"][name], _EXPECT.get(name)))
            self.refs[ref] = slot[0]
        return self.refs[ref]

    def compile(self, node: dict, expect: tuple[str, str] | None = None) -> Check:
        checks: list[Check] = []
        unknown = set(node) - _IGNORED - set(_KEYWORDS)
        if unknown:
            raise NotImplementedError(f"schema keywords {sorted(unknown)}")
        for keyword in _KEYWORDS:
            if keyword in node:
                checks.append(_KEYWORDS[keyword](self, node, expect))
        if len(checks) == 1:
            return checks[0]

        def check_all(value: Any, path: Path) -> Iterator[Error]:
            for check in checks:
                yield from check(value, path)
        return check_all

    def valid_ref(self, ref: str) -> Valid:
        if ref not in self.valid_refs:
            if not ref.startswith("#/$defs/"):
                raise NotImplementedError(f"$ref {ref}")
            slot: list[Valid] = []
            self.valid_refs[ref] = lambda v: slot[0](v)  # allows recursion
            slot.append(self.valid(self.root["$defs"][ref[len("#/$defs/"):]]))
            self.valid_refs[ref] = slot[0]
        return self.valid_refs[ref]

    def valid(self, node: dict) -> Valid:
        """A predicate that is True exactly where compile(node) finds nothing: no generators, no paths."""
        unknown = set(node) - _IGNORED - set(_VALID)
        if unknown:
            raise NotImplementedError(f"schema keywords {sorted(unknown)}")
        fused = _fused(self, node)
        if fused is not None:
            return fused
        tests = tuple(_VALID[keyword](self, node) for keyword in _VALID if keyword in node)
        tests = tuple(test for test in tests if test is not _always)
        if not tests:
            return _always
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            first, second = tests
            return lambda v: first(v) and second(v)

        def valid_all(value: Any) -> bool:
            for test in tests:
                if not test(value):
                    return False
            return True
        return valid_all


def _k_ref(c: _Compiler, node: dict, expect) -> Check:
    return c.ref(node["$ref"])


def _k_type(c: _Compiler, node: dict, expect) -> Check:
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    words = " or ".join("null" if k == "null" else ("an " if k[0] in "aeiou" else "a ") + k for k in kinds)
    tests = [_IS[k] for k in kinds]
    if len(tests) == 1:
        test = tests[0]

        quote = kinds == ["string"]

        def check(value, path):
            if not test(value):
                hint = "YAML reads it as a number or boolean: put it in quotes" if quote and isinstance(
                    value, (int, float)) else ""
                yield path, f"must be {words}, not {_kind(value)} {_show(value)}", hint
        return check

    def check_any(value, path):
        if not any(t(value) for t in tests):
            yield path, f"must be {words}, not {_kind(value)} {_show(value)}", ""
    return check_any


def _typed(kind: str, inner: Check) -> Check:
    """Keywords apply only to values of their own kind, as in JSON Schema."""
    test = _IS[kind]

    def check(value, path):
        if test(value):
            yield from inner(value, path)
    return check


def _k_const(c, node, expect) -> Check:
    const = node["const"]

    def check(value, path):
        if not _same(value, const):
            yield path, f"must be {_show(const)}, not {_show(value)}", ""
    return check


def _k_enum(c, node, expect) -> Check:
    options = node["enum"]
    words = ", ".join(str(o) for o in options)

    def check(value, path):
        if not any(_same(value, o) for o in options):
            yield path, f"{_show(value)} is not one of: {words}", ""
    return check


def _k_pattern(c, node, expect) -> Check:
    regex = pattern(node["pattern"])
    what, hint = expect or (f"text matching {node['pattern']}", "")

    def check(value, path):
        if not regex.search(value):
            yield path, f"{_show(value)} is not {what}", hint
    return _typed("string", check)


def _k_min_length(c, node, expect) -> Check:
    limit = node["minLength"]

    def check(value, path):
        if len(value) < limit:
            yield path, "must not be empty" if limit == 1 else f"must be at least {limit} characters", \
                (expect or ("", ""))[1]
    return _typed("string", check)


def _k_max_length(c, node, expect) -> Check:
    limit = node["maxLength"]

    def check(value, path):
        if len(value) > limit:
            yield path, f"must be at most {limit} characters long", ""
    return _typed("string", check)


def _k_minimum(c, node, expect) -> Check:
    limit = node["minimum"]

    def check(value, path):
        if value < limit:
            yield path, f"must be at least {limit}, not {_show(value)}", ""
    return _typed("number", check)


def _k_required(c, node, expect) -> Check:
    required = node["required"]

    def check(value, path):
        for name in required:
            if name not in value:
                yield path, f"missing required field '{name}'", f"add '{name}:'"
    return _typed("object", check)


def _k_properties(c, node, expect) -> Check:
    properties = {name: c.compile(sub) for name, sub in node["properties"].items()}
    extra = node.get("additionalProperties", True)
    extra_check = c.compile(extra) if isinstance(extra, dict) else None
    allowed = ", ".join(properties)

    def check(value, path):
        for key, item in value.items():
            sub = properties.get(key)
            if sub is not None:
                yield from sub(item, path + (key,))
            elif extra is False:
                yield path + (key,), f"unknown field '{key}'", f"allowed here: {allowed}"
            elif extra_check is not None:
                yield from extra_check(item, path + (key,))
    return _typed("object", check)


def _k_additional(c, node, expect) -> Check:
    if "properties" in node:  # handled together with properties
        return lambda value, path: iter(())
    extra = node["additionalProperties"]
    if extra is False:
        def refuse(value, path):
            for key in value:
                yield path + (key,), f"unknown field '{key}'", "no fields are allowed here"
        return _typed("object", refuse)
    inner = c.compile(extra)

    def check(value, path):
        for key, item in value.items():
            yield from inner(item, path + (key,))
    return _typed("object", check)


def _k_property_names(c, node, expect) -> Check:
    inner = c.compile(node["propertyNames"])

    def check(value, path):
        for key in value:
            for _, message, hint in inner(key, path + (key,)):
                yield path + (key,), f"key {message}", hint
    return _typed("object", check)


def _k_min_properties(c, node, expect) -> Check:
    limit = node["minProperties"]

    def check(value, path):
        if len(value) < limit:
            yield path, "must not be empty", "remove it, or give it a value"
    return _typed("object", check)


def _k_items(c, node, expect) -> Check:
    inner = c.compile(node["items"])

    def check(value, path):
        for index, item in enumerate(value):
            yield from inner(item, path + (index,))
    return _typed("array", check)


def _k_min_items(c, node, expect) -> Check:
    limit = node["minItems"]

    def check(value, path):
        if len(value) < limit:
            yield path, f"must have at least {limit} item(s)", ""
    return _typed("array", check)


def _k_unique(c, node, expect) -> Check:
    def check(value, path):
        seen: list = []
        for item in value:
            if any(_same(item, other) for other in seen):
                yield path, f"lists {_show(item)} more than once", "remove the repeat"
                return
            seen.append(item)
    return _typed("array", check) if node["uniqueItems"] else (lambda v, p: iter(()))


_KEYWORDS: dict[str, Callable[[_Compiler, dict, Any], Check]] = {
    "$ref": _k_ref,
    "type": _k_type,
    "const": _k_const,
    "enum": _k_enum,
    "pattern": _k_pattern,
    "minLength": _k_min_length,
    "maxLength": _k_max_length,
    "minimum": _k_minimum,
    "required": _k_required,
    "properties": _k_properties,
    "additionalProperties": _k_additional,
    "propertyNames": _k_property_names,
    "minProperties": _k_min_properties,
    "items": _k_items,
    "minItems": _k_min_items,
    "uniqueItems": _k_unique,
}


# ---- The same keywords as predicates: True where the check above yields nothing ----
# schema_errors() asks the predicate first and walks the checks only when it says no: a valid
# registry of 10,000 versions costs no generator and no path tuple per value.

def _always(value: Any) -> bool:
    return True


def _v_ref(c: _Compiler, node: dict) -> Valid:
    return c.valid_ref(node["$ref"])


def _v_type(c, node) -> Valid:
    kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
    tests = tuple(_IS[k] for k in kinds)
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _v_const(c, node) -> Valid:
    const = node["const"]
    return lambda v: _same(v, const)


def _v_enum(c, node) -> Valid:
    options = node["enum"]
    return lambda v: any(_same(v, o) for o in options)


def _v_pattern(c, node) -> Valid:
    search = pattern(node["pattern"]).search
    return lambda v: type(v) is not str or search(v) is not None


def _v_min_length(c, node) -> Valid:
    limit = node["minLength"]
    return lambda v: type(v) is not str or not len(v) < limit


def _v_max_length(c, node) -> Valid:
    limit = node["maxLength"]
    return lambda v: type(v) is not str or not len(v) > limit


def _v_minimum(c, node) -> Valid:
    limit = node["minimum"]
    number = _IS["number"]
    return lambda v: not number(v) or not v < limit


def _v_required(c, node) -> Valid:
    required = tuple(node["required"])

    def valid(value):
        if type(value) is dict:
            for name in required:
                if name not in value:
                    return False
        return True
    return valid


def _v_properties(c, node) -> Valid:
    properties = {name: c.valid(sub) for name, sub in node["properties"].items()}
    extra = node.get("additionalProperties", True)
    extra_valid = c.valid(extra) if isinstance(extra, dict) else None
    get = properties.get

    def valid(value):
        if type(value) is dict:
            for key, item in value.items():
                sub = get(key)
                if sub is not None:
                    if not sub(item):
                        return False
                elif extra is False:
                    return False
                elif extra_valid is not None and not extra_valid(item):
                    return False
        return True
    return valid


def _v_additional(c, node) -> Valid:
    if "properties" in node:  # checked together with properties
        return _always
    extra = node["additionalProperties"]
    if extra is False:
        return lambda v: type(v) is not dict or not v
    return _every(c.valid(extra), dict, dict.values)


def _v_property_names(c, node) -> Valid:
    return _every(c.valid(node["propertyNames"]), dict, iter)


def _v_min_properties(c, node) -> Valid:
    limit = node["minProperties"]
    return lambda v: type(v) is not dict or not len(v) < limit


def _v_items(c, node) -> Valid:
    return _every(c.valid(node["items"]), list, iter)


def _every(inner: Valid, kind: type, parts) -> Valid:
    """Valid when a value of `kind` has every one of `parts(value)` valid by `inner` (other values pass)."""
    def valid(value):
        if type(value) is kind:
            for part in parts(value):
                if not inner(part):
                    return False
        return True
    return valid


def _v_min_items(c, node) -> Valid:
    limit = node["minItems"]
    return lambda v: type(v) is not list or not len(v) < limit


def _v_unique(c, node) -> Valid:
    if not node["uniqueItems"]:
        return _always

    def valid(value):
        if type(value) is list:
            seen: list = []
            for item in value:
                if any(_same(item, other) for other in seen):
                    return False
                seen.append(item)
        return True
    return valid


def _fused(c: _Compiler, node: dict) -> Valid | None:
    """One predicate for the shapes nearly every value of a registry has: an object of one type
    with its fields, a string with a pattern or lengths, a number with a minimum (one call each
    instead of one per keyword). None for any other shape."""
    keywords = set(node) - _IGNORED
    kind = node.get("type")
    if kind == "object" and keywords <= {"type", "required", "properties", "additionalProperties",
                                         "propertyNames", "minProperties"}:
        required = tuple(node.get("required", ()))
        get = {name: c.valid(sub) for name, sub in node.get("properties", {}).items()}.get
        extra = node.get("additionalProperties", True)
        extra_valid = c.valid(extra) if isinstance(extra, dict) else None
        names = c.valid(node["propertyNames"]) if "propertyNames" in node else None
        fewest = node.get("minProperties", 0)

        def valid_object(value):
            if type(value) is not dict or len(value) < fewest:
                return False
            for name in required:
                if name not in value:
                    return False
            for key, item in value.items():
                if names is not None and not names(key):
                    return False
                sub = get(key)
                if sub is not None:
                    if not sub(item):
                        return False
                elif extra is False or (extra_valid is not None and not extra_valid(item)):
                    return False
            return True
        return valid_object
    if kind == "string" and keywords <= {"type", "pattern", "minLength", "maxLength"}:
        search = pattern(node["pattern"]).search if "pattern" in node else None
        shortest, longest = node.get("minLength", 0), node.get("maxLength", float("inf"))
        if search is not None and keywords == {"type", "pattern"}:
            return lambda v: type(v) is str and search(v) is not None
        return lambda v: type(v) is str and shortest <= len(v) <= longest and (search is None or search(v) is not None)
    if kind in ("integer", "number") and keywords <= {"type", "minimum"}:
        test = _IS[kind]
        if "minimum" not in node:
            return test
        limit = node["minimum"]
        return lambda v: test(v) and not v < limit
    return None


_VALID: dict[str, Callable[[_Compiler, dict], Valid]] = {
    "$ref": _v_ref,
    "type": _v_type,
    "const": _v_const,
    "enum": _v_enum,
    "pattern": _v_pattern,
    "minLength": _v_min_length,
    "maxLength": _v_max_length,
    "minimum": _v_minimum,
    "required": _v_required,
    "properties": _v_properties,
    "additionalProperties": _v_additional,
    "propertyNames": _v_property_names,
    "minProperties": _v_min_properties,
    "items": _v_items,
    "minItems": _v_min_items,
    "uniqueItems": _v_unique,
}
assert set(_VALID) == set(_KEYWORDS)


@lru_cache(maxsize=1)
def compiled() -> Check:
    root = schema()
    try:
        return _Compiler(root).compile(root)
    except NotImplementedError:
        return _generic(root)


def _generic(root: dict) -> Check:
    """The jsonschema library, for a schema using keywords the compiler does not know (slower)."""
    import jsonschema

    def ecma_pattern(validator, source, instance, _):  # jsonschema's own searches with Python's `$`
        if validator.is_type(instance, "string") and not pattern(source).search(instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {source!r}")

    validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": ecma_pattern})(root)

    def check(value, path):
        for error in validator.iter_errors(value):
            yield path + tuple(error.absolute_path), error.message, ""
    return check


@lru_cache(maxsize=1)
def _valid() -> Valid | None:
    root = schema()
    try:
        return _Compiler(root).valid(root)
    except NotImplementedError:
        return None


def schema_errors(document: Any) -> list[Error]:
    """Every place where `document` breaks the schema, as (path, message, hint)."""
    valid = _valid()
    if valid is not None and valid(document):
        return []
    return list(compiled()(document, ()))
