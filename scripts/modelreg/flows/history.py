"""The registry's history on a branch: every commit that changed it, as events, oldest first.

The release plans tags from it, and the audit log maps history entries to the
main commits that made them.

Two walks give the same events for the same commits:

- the whole first-parent history of HEAD (`full=True`, or when nothing better is known);
- the commits after the newest release: modelreg's tag messages record the main
  commit whose change each tag describes (`registry_commit`), so the walk reads
  `git log` only back to the newest of those commits and diffs from the registry
  as it was there. It is used only when the tags cover that registry completely
  (`core/tags.baseline_gaps`): then the commits before it can add no tag the
  full walk would add.

Either way the files come through one `git cat-file --batch` process, and a
commit's registry is parsed incrementally: the text is cut into one block per
model (block-style YAML, as the edit writer keeps it) and only the blocks that
changed since the previous commit are parsed and diffed. Anything not laid out
that simple way is parsed whole, so the incremental reader can only be faster,
never different (a property test compares the two on mutated files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters import git
from ..core import tags as tag_rules
from ..core import yamlread
from ..core.diff import diff
from ..core.document import parse
from ..core.problems import ModelregError
from ..core.tags import ExistingTag, RegistryCommit


@dataclass
class Walk:
    changes: list[RegistryCommit]
    state: dict | None  # the registry after the last change that parses
    warnings: list[str] = field(default_factory=list)
    since: str | None = None  # the release commit the walk started after; None: the whole history
    gaps: list[str] = field(default_factory=list)  # why the whole history was read although tags exist


def registry_history(root: Path, relative: str) -> tuple[list[RegistryCommit], dict | None, list[str]]:
    """Every change main made to the registry, as events per commit, and the latest state."""
    walked = walk(root, relative, full=True)
    return walked.changes, walked.state, walked.warnings


_COMMIT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def release_commits(existing: dict[str, ExistingTag]) -> set[str]:
    """The main commits whose changes modelreg's tags describe (their messages' registry_commit)."""
    commits = set()
    for tag in existing.values():
        data = tag.data
        commit = data.get("registry_commit") if data else None
        if isinstance(commit, str) and _COMMIT_ID.fullmatch(commit):
            commits.add(commit)
    return commits


def walk(root: Path, relative: str, existing: dict[str, ExistingTag] | None = None, *,
         blobs: git.BlobReader | None = None, head: tuple[str, dict] | None = None, full: bool = False,
         check_tags: bool = True) -> Walk:
    """The registry's changes on HEAD's first-parent history, oldest first.

    existing: the repository's tags (to start after the newest release); head: (blob id, parsed data)
    of the registry at HEAD, when the caller has it (a rerun with nothing to do then parses nothing
    more); check_tags: start after the newest release only when the tags cover the registry there
    (the release needs this; the audit checks what it needs itself).
    """
    if blobs is None:
        with git.BlobReader(root) as reader:
            return walk(root, relative, existing, blobs=reader, head=head, full=full, check_tags=check_tags)
    candidates = set() if full or not existing else release_commits(existing)
    newest_first, since = git.first_parent_changes_until(relative, candidates, root)
    reader = _IncrementalReader()
    if since is not None:
        baseline = _baseline(blobs, reader, since, relative, head)
        gaps = ["the registry there does not parse"] if baseline is None else \
            tag_rules.baseline_gaps(baseline, existing or {}) if check_tags else []
        if not gaps:
            return _walk(blobs, reader, relative, list(reversed(newest_first)), baseline, since)
        newest_first, _ = git.first_parent_changes_until(relative, set(), root)
        result = _walk(blobs, _IncrementalReader(), relative, list(reversed(newest_first)), None, None)
        result.gaps = gaps
        return result
    return _walk(blobs, reader, relative, list(reversed(newest_first)), None, None)


def _baseline(blobs: git.BlobReader, reader: "_IncrementalReader", commit: str, relative: str,
              head: tuple[str, dict] | None) -> dict | None:
    found = blobs.read(commit, relative)
    if found is None:
        return None
    oid, text = found
    if head is not None and head[0] == oid:
        reader.prime(text, head[1])
        return head[1]
    try:
        return reader.read(text, f"{commit[:12]}:{relative}")[0]
    except ModelregError:
        return None


def _walk(blobs: git.BlobReader, reader: "_IncrementalReader", relative: str, commits: list[tuple[str, int]],
          previous: dict | None, since: str | None) -> Walk:
    changes, warnings = [], []
    for (sha, date), found in zip(commits, blobs.read_many([sha for sha, _ in commits], relative)):
        if found is None:
            continue
        try:
            state, changed = reader.read(found[1], f"{sha[:12]}:{relative}")
        except ModelregError as error:
            warnings.append(f"{sha[:12]}: the registry does not parse there ({error.problems[0].message}); "
                            "its changes are taken from the next commit that parses")
            continue
        if changed is None or previous is None:
            events, _ = diff(previous, state)
        else:  # the other models' blocks are the same text, so the same data: no events there
            events, _ = diff(*_changed_parts(previous, state, changed))
        changes.append(RegistryCommit(sha, date, tuple(events)))
        previous = state
    return Walk(changes, previous, warnings, since)


def _changed_parts(old: dict, new: dict, names: set) -> tuple[dict, dict]:
    """The changed models of two states, each with only the versions whose records changed.

    An unchanged piece of text is parsed once and its record reused, so an unchanged version is the
    very same object in both states and can make no event (diff() compares versions one by one).
    """
    old_models, new_models = old.get("models"), new.get("models")
    old_models = old_models if isinstance(old_models, dict) else {}
    new_models = new_models if isinstance(new_models, dict) else {}
    before, after = {}, {}
    for name in names:
        a, b = old_models.get(name), new_models.get(name)
        va = a.get("versions") if isinstance(a, dict) else None
        vb = b.get("versions") if isinstance(b, dict) else None
        if isinstance(va, dict) and isinstance(vb, dict):
            keys = [k for k in vb if va.get(k) is not vb[k]] + [k for k in va if k not in vb]
            a = {**a, "versions": {k: va[k] for k in keys if k in va}}
            b = {**b, "versions": {k: vb[k] for k in keys if k in vb}}
        if name in old_models:
            before[name] = a
        if name in new_models:
            after[name] = b
    return {"models": before}, {"models": after}


# ---- incremental parsing: one block per model ----

_MODELS_LINE = re.compile(r"models:[ ]*(?:#[^\n]*)?(?=\n|\Z)")
_SHALLOW = re.compile(r"\n {0,2}[^ \n#]")
_FIRST_CONTENT = re.compile(r"\n *[^ \n#]")
_MODEL_KEY = re.compile(r"\n  [a-z0-9](?:[a-z0-9-]*[a-z0-9])?:(?=[ \n]|\Z)")


class _Split(Exception):
    """The text is not laid out the simple way: parse it whole."""


def split(text: str) -> tuple[str, list[str]] | None:
    """(the text without the model blocks, the model blocks) or None when the layout is not the simple one:
    `models:` once at column 0, then only `  NAME:` lines at indentation 2 until the next top-level line."""
    if "\r" in text or "\t" in text or text.startswith("\ufeff"):
        return None
    at = 0 if text.startswith("models:") else text.find("\nmodels:") + 1
    line = _MODELS_LINE.match(text, at) if at or text.startswith("models:") else None
    if line is None or text.find("\nmodels:", line.end()) != -1:
        return None  # no models: line, or a second one (the whole parse names the duplicate)
    start = line.end() + 1  # just past the newline of the models: line
    if start > len(text):
        return text, []
    keys, end = [], len(text)
    for match in _SHALLOW.finditer(text, start - 1):  # content lines indented 0, 1 or 2, in one pass
        indent = match.end() - match.start() - 2
        if indent == 0:
            end = match.start() + 1
            break
        if indent == 1 or not _MODEL_KEY.match(text, match.start()):
            return None
        keys.append(match.start())
    first = _FIRST_CONTENT.search(text, start - 1, end)
    if first is not None and (not keys or first.start() != keys[0]):
        return None
    bounds = [at + 1 for at in keys] + [end]
    blocks = [text[bounds[i]:bounds[i + 1]] for i in range(len(keys))]
    return text[:start] + text[end:], blocks


_FIELD = re.compile(r"\n    (versions|history):[ ]*(?:#[^\n]*)?(?=\n|\Z)")
_MODEL_END = re.compile(r"\n {0,4}[^ \n#]")  # a content line indented 4 or less
_INDENT_FIVE = re.compile(r"\n {5}[^ \n#]")
_INDENT_SIX = re.compile(r"\n {6}[^ \n#]")
_CHILD = {"versions": re.compile(r"\n {6}[A-Za-z0-9][A-Za-z0-9._-]*:(?=[ \n]|\Z)"), "history": re.compile(r"\n {6}- ")}
_WRAP = {"versions": "models:\n  m:\n    versions:\n", "history": "models:\n  m:\n    history:\n"}


def split_model(block: str) -> tuple[str, dict[str, list[str]]] | None:
    """A model block without the bodies of `versions:` and `history:`, and those bodies cut into one piece
    per version and per history entry; None when the block is not laid out the simple way."""
    first = block.find("\n")
    if first == -1 or block[block.index(":") + 1:first].strip(" ").split("#")[0].strip():
        return None  # the model's value is on its key line (flow style): parse it whole
    pieces: dict[str, list[str]] = {}
    cuts = []
    for match in _FIELD.finditer(block, first):
        field_name = match.group(1)
        if field_name in pieces:
            return None
        start = match.end() + 1
        if start > len(block):
            continue
        end_match = _MODEL_END.search(block, start - 1)
        end = end_match.start() + 1 if end_match else len(block)
        children = [m.start() for m in _INDENT_SIX.finditer(block, start - 1, end)]
        if not children:
            continue  # nothing under it (or only comments): leave it to the model's own parse
        content = _FIRST_CONTENT.search(block, start - 1, end)
        if _INDENT_FIVE.search(block, start - 1, end) or content is None or content.start() != children[0]:
            return None
        pattern = _CHILD[field_name]
        if not all(pattern.match(block, at) for at in children):
            return None
        bounds = [at + 1 for at in children] + [end]
        pieces[field_name] = [block[bounds[i]:bounds[i + 1]] for i in range(len(children))]
        cuts.append((start, end))
    rest, at = [], 0
    for start, end in cuts:
        rest.append(block[at:start])
        at = end
    rest.append(block[at:])
    return "".join(rest), pieces


class _IncrementalReader:
    """Parses registry texts one after another, re-parsing only the model blocks that changed.

    Within a changed model block, only the versions and history entries that are new are parsed.
    """

    def __init__(self):
        self._blocks: dict[str, tuple[object, dict]] | None = None  # block text -> (model name, data)
        self._rest: tuple[str, dict] | None = None
        self._pieces: dict[str, dict[str, object]] = {}  # model key -> piece text -> parsed piece

    def prime(self, text: str, state: dict) -> None:
        """Remember a text whose parsed data the caller already has."""
        cut = split(text)
        models = state.get("models") if isinstance(state, dict) else None
        self._blocks, self._rest, self._pieces = None, None, {}
        if cut is None or not isinstance(models, dict):
            return
        rest, blocks = cut
        names = [block[2:block.index(":")] for block in blocks]
        if len(set(names)) != len(names) or set(names) != set(models) or not all(isinstance(k, str) for k in models):
            return
        self._blocks = {block: (name, models[name]) for block, name in zip(blocks, names)}
        self._rest = (rest, {key: (None if key == "models" else value) for key, value in state.items()}) \
            if blocks else None

    def read(self, text: str, label: str) -> tuple[dict, set | None]:
        """(state, the models that may differ from the previous state read, or None: compare them all)."""
        try:
            state, blocks, rest, changed = self._read(text, label)
        except (_Split, ModelregError):
            self._blocks, self._rest, self._pieces = None, None, {}
            state, _ = parse(text, label)  # raises with the whole file's own message
            return state, None
        previous = self._blocks
        self._blocks, self._rest = blocks, rest
        return state, (changed | {name for name, _ in previous.values()} - set(state.get("models") or {})
                       if previous is not None else None)

    def _read(self, text: str, label: str):
        cut = split(text)
        if cut is None:
            raise _Split
        rest_text, block_texts = cut
        if self._rest is not None and self._rest[0] == rest_text:
            rest = self._rest[1]
        else:
            rest, _ = yamlread.load(rest_text, label)
            if not isinstance(rest, dict) or "models" not in rest or rest["models"] is not None:
                raise _Split
        old = self._blocks or {}
        blocks, models, changed = {}, {}, set()
        for block in block_texts:
            known = old.get(block)
            if known is None:
                known = self._model(block, label)
                changed.add(known[0])
            name, model = known
            if name in models:
                raise _Split  # the same model twice: the whole parse names the duplicate
            blocks[block] = known
            models[name] = model
        if not block_texts:
            return dict(rest), {}, (rest_text, rest), changed
        state = {key: (models if key == "models" else value) for key, value in rest.items()}
        return state, blocks, (rest_text, rest), changed

    def _model(self, block: str, label: str) -> tuple[object, dict]:
        key = block[2:block.index(":")]
        cut = split_model(block)
        if cut is None:
            data, _ = yamlread.load("models:\n" + block, label)
            self._pieces.pop(key, None)
            return _single(data)
        rest_text, pieces = cut
        old = self._pieces.get(key, {})
        cache: dict[str, object] = {}
        name, model = _single(self._piece(old, cache, rest_text, "models:\n" + rest_text, label))
        if not isinstance(model, dict):
            raise _Split
        model = dict(model)
        for field_name, texts in pieces.items():
            if model.get(field_name, 0) is not None:
                raise _Split
            values = []
            for text in texts:
                data = self._piece(old, cache, text, _WRAP[field_name] + text, label)
                inner = _single(data)[1]
                inner = inner.get(field_name) if isinstance(inner, dict) and len(inner) == 1 else None
                if field_name == "history":
                    if not isinstance(inner, list) or len(inner) != 1:
                        raise _Split
                    values.append(inner[0])
                else:
                    if not isinstance(inner, dict) or len(inner) != 1:
                        raise _Split
                    values.append(next(iter(inner.items())))
            if field_name == "history":
                model[field_name] = values
            else:
                keys = [k for k, _ in values]
                if len(set(keys)) != len(keys):
                    raise _Split
                model[field_name] = dict(values)
        self._pieces[key] = cache
        return name, model

    @staticmethod
    def _piece(old: dict, cache: dict, text: str, document: str, label: str):
        if text in old:
            value = old[text]
        elif text in cache:
            value = cache[text]
        else:
            value, _ = yamlread.load(document, label)
        cache[text] = value
        return value


def _single(data) -> tuple[object, object]:
    """The one model of a parsed `models:` piece."""
    inner = data.get("models") if isinstance(data, dict) and len(data) == 1 else None
    if not isinstance(inner, dict) or len(inner) != 1:
        raise _Split
    return next(iter(inner.items()))
