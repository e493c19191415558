"""The one write path for every change of the registry: CLI, Python API, imports and proposals.

load -> pure transition -> check -> minimal edit -> verify -> atomic write ->
commit or propose. Nothing is written unless every rule holds for the new
state and for the step, and the edited text parses back to exactly the
intended data; a refusal leaves the file byte-for-byte as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..adapters import registry_file
from ..adapters.registry_file import Loaded
from ..core import edit, sections, transitions
from ..core.diff import Event
from ..core.document import parse
from ..core.positions import Deferred
from ..core.problems import ModelregError, Problem, Refusal
from ..core.registry import PRODUCTION
from ..core.rules import check_change, check_state
from ..core.yamlread import compose_paused

WRITE, COMMIT, PROPOSE = "write", "commit", "propose"


@dataclass(frozen=True)
class Intent:
    """What a change is, in words: the commit title, the reason, who asks, and what it is about."""

    action: str  # promote, archive, rollback, register, import
    model: str
    version: str
    title: str
    reason: str
    requester: str = ""

    @property
    def message(self) -> str:
        return f"{self.title}\n\n{self.reason}".strip()


@dataclass
class Outcome:
    events: list[Event]
    text: str
    commit: str | None = None  # the commit made with mode=COMMIT
    proposed: bool = False
    messages: list[str] = field(default_factory=list)  # what the proposal did, in words


def transition(loaded: Loaded, step: Callable[[dict], dict]) -> dict:
    """Run a pure transition on the loaded data; its refusals get the file's name and line."""
    try:
        return step(loaded.data)
    except Refusal as refusal:
        raise refusal.at(loaded.display, loaded.root) from None


def _changed_model(old: dict, new: dict) -> str | None:
    """The one model a write changed, when it changed exactly one existing model and nothing else."""
    if set(old) != set(new) or any(old[k] is not new[k] for k in old if k != "models"):
        return None
    before, after = old.get("models"), new.get("models")
    if not isinstance(before, dict) or not isinstance(after, dict) or set(before) != set(after):
        return None
    changed = [name for name in after if after[name] is not before[name]]
    return changed[0] if len(changed) == 1 else None


def _edit_tree(loaded: Loaded, name: str | None):
    """The node tree the editor needs: for a write to one model, only that model's block is composed
    (the other models are blanked to spaces, so every index stays the file's), not 10,000 versions.
    A wrong edit from it could not pass the verification after it."""
    root = loaded.root
    if name is None or not isinstance(root, Deferred) or root.composed:
        return root
    masked = sections.one_model_document(loaded.text, name, same_length=True)
    return root if masked is None else compose_paused(masked)


def _verify_one_model(loaded: Loaded, text: str, new: dict, name: str) -> tuple[dict, object] | None:
    """Parse back only the changed model (the rest of the text must be byte-identical), or None."""
    old_block, new_block = sections.model_block(loaded.text, name), sections.model_block(text, name)
    if old_block is None or new_block is None:
        return None
    if loaded.text[:old_block.start] != text[:new_block.start] or \
            loaded.text[old_block.end:] != text[new_block.end:]:
        return None
    only = sections.one_model_document(text, name)
    if only is None:
        return None
    parsed, nodes = parse(only, loaded.display)
    if parsed.get("models", {}).get(name) != new["models"][name] or \
            {k: v for k, v in parsed.items() if k != "models"} != {k: v for k, v in new.items() if k != "models"}:
        raise ModelregError([Problem(loaded.display, None, None, "", "internal error: the edit would not "
                                     "produce the intended registry; nothing was written",
                                     "please report this with the registry file")])
    return parsed, nodes


def prepare(loaded: Loaded, new: dict) -> tuple[str, list[Event]]:
    """The edited text and the events of loaded -> new, after every check; writes nothing.

    A write that changes one model is verified and checked on that model alone (the
    rest of the text is byte-identical and was valid when loaded); anything else on
    the whole file.
    """
    name = _changed_model(loaded.data, new)
    text = edit.rewrite(loaded.text, loaded.data, new, _edit_tree(loaded, name))
    one = _verify_one_model(loaded, text, new, name) if name is not None else None
    if one is not None:
        parsed_one, nodes = one
        problems = check_state(parsed_one, nodes, loaded.display)
        events, step_problems = check_change(loaded.data, new, nodes, loaded.display)
        if problems or step_problems:
            raise ModelregError(problems + step_problems)
        return text, events
    try:
        parsed, _ = parse(text, loaded.display)
    except ModelregError as error:
        raise ModelregError([Problem(loaded.display, None, None, "", "internal error: the edited registry does "
                                     f"not parse ({error.problems[0].message}); nothing was written",
                                     "please report this with the registry file")]) from None
    if parsed != new:
        raise ModelregError([Problem(loaded.display, None, None, "", "internal error: the edit would not "
                                     "produce the intended registry; nothing was written",
                                     "please report this with the registry file")])
    problems = check_state(new, loaded.root, loaded.display)
    events, step_problems = check_change(loaded.data, new, loaded.root, loaded.display)
    if problems or step_problems:
        raise ModelregError(problems + step_problems)
    return text, events


def apply(loaded: Loaded, new: dict, intent: Intent, *, mode: str = WRITE,
          before_write: Callable[[], None] | None = None, also_commit: tuple[str, ...] = ()) -> Outcome:
    """Check and write the change, then commit or propose it as `mode` says.

    before_write runs after every check and before the file changes (register
    pushes the artifact there, so no version is recorded whose bytes are not
    stored); also_commit names more files for the commit (dvc.lock).
    """
    text, events = prepare(loaded, new)
    if mode == PROPOSE:
        from .propose import propose

        outcome = Outcome(events, text, proposed=True)
        outcome.messages = propose(loaded, new, text, events, intent)
        return outcome
    if before_write is not None:
        before_write()
    registry_file.write_atomic(loaded.path, text)
    outcome = Outcome(events, text)
    if mode == COMMIT:
        from ..adapters import git

        outcome.commit = git.commit([loaded.relative_to(), *also_commit], intent.message, cwd=loaded.repo)
    return outcome


def promote(loaded: Loaded, name: str, version: str, stage: str, reason: str, by: str) -> tuple[dict, Intent]:
    new = transition(loaded, lambda data: transitions.set_stage(data, name, stage, version, reason, by))
    return new, Intent("promote", name, version, f"Promote {name} {version} to {stage}", reason, by)


def archive(loaded: Loaded, name: str, version: str, reason: str, by: str) -> tuple[dict, Intent]:
    new = transition(loaded, lambda data: transitions.archive(data, name, version, reason))
    return new, Intent("archive", name, version, f"Archive {name} {version}", reason, by)


def rollback(loaded: Loaded, name: str, reason: str, by: str, version: str | None = None,
             stage: str = PRODUCTION) -> tuple[dict, Intent]:
    target = version or transition(loaded, lambda data: transitions.rollback_target(data, name, stage))
    new = transition(loaded, lambda data: transitions.set_stage(data, name, stage, target, f"Rollback: {reason}",
                                                                 by))
    return new, Intent("rollback", name, target, f"Roll back {name} {stage} to {target}", reason, by)
