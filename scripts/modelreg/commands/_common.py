"""Wiring shared by the commands: options, finding and loading the registry, printing a change."""

from __future__ import annotations

import argparse
from contextlib import contextmanager

from ..adapters import registry_file
from ..core.problems import UsageError


def add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="FILE",
                        help="registry file (default: models/registry.yaml of this repository)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_change_options(parser: argparse.ArgumentParser) -> None:
    """--reason, --by and how to record the change (write, --commit or --pr): promote, archive, rollback."""
    parser.add_argument("--reason", help="why; kept in history (required)")
    parser.add_argument("--by", help="who asks for it (default: $MODELREG_USER, $GITHUB_ACTOR or git user.name)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--commit", action="store_true", help="commit the edit with a descriptive message")
    mode.add_argument("--pr", action="store_true",
                      help="propose it on a new branch as a pull request (needs GITHUB_TOKEN to open it)")
    add_registry_option(parser)


def load(args: argparse.Namespace, check: bool = True) -> registry_file.Loaded:
    return registry_file.load(registry_file.find_registry(getattr(args, "registry", None)), check=check)


@contextmanager
def load_reading_tags(args: argparse.Namespace):
    """(the registry file, loaded and checked as `load(args)` does it, a git.TagReader of its repository's tags):
    git reads the tags while the file is parsed (audit and site read both)."""
    from ..adapters import git

    path = registry_file.find_registry(getattr(args, "registry", None))
    with git.TagReader(registry_file.repo_of(path)) as reading:
        yield registry_file.load(path), reading


def load_model(args: argparse.Namespace):
    """(registry, model) for args.name, or a refusal that lists the models there are.

    Reads and checks only the settings and that model's block when the file is laid out simply (as
    resolve does): a question about one model costs that model, not the other 9,999 versions.
    """
    from ..core import sections
    from ..core.document import parse_valid
    from ..core.problems import ModelregError
    from ..core.registry import Registry

    path = registry_file.find_registry(getattr(args, "registry", None))
    text = registry_file.read_text(path)
    only = sections.one_model_document(text, args.name)
    data = parse_valid(only if only is not None else text, registry_file.display_name(path))[0]
    registry = Registry(data)
    model = registry.model(args.name)
    if model is None:
        raise ModelregError(f"no model named '{args.name}' (models: {', '.join(registry.model_names) or 'none'})")
    return registry, model


def resolve_args(args: argparse.Namespace):
    """(answer, registry path) for args.reference and --stage, through resolve's fast path."""
    from ..core.lookup import parse_reference, resolve

    ref = parse_reference(args.reference, args.stage)
    path = registry_file.find_registry(args.registry)
    return resolve(registry_file.read_text(path), ref, registry_file.display_name(path)), path


def require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise UsageError("--reason is required: say why; it is kept in history and shown in review")
    return reason


def requester(args: argparse.Namespace, loaded: registry_file.Loaded) -> str:
    from ..adapters import git

    return args.by or git.user(loaded.repo)


def mode_of(args: argparse.Namespace) -> str:
    from ..flows import change

    return change.PROPOSE if getattr(args, "pr", False) else change.COMMIT if getattr(args, "commit", False) \
        else change.WRITE


def write_change(args: argparse.Namespace, loaded: registry_file.Loaded, new: dict, intent) -> int:
    """Record a prepared change as the command line asked, and say what happened."""
    from ..flows import change

    outcome = change.apply(loaded, new, intent, mode=mode_of(args))
    for event in outcome.events:
        print(event.describe())
    if outcome.proposed:
        print("\n".join(outcome.messages))
        return 0
    print(f"wrote {loaded.display}")
    if outcome.commit:
        print(f"committed {outcome.commit[:12]}: {intent.title}")
    else:
        print("review it with `git diff`, then commit (or pass --commit, or --pr to open a pull request)")
    return 0
