"""Wiring shared by the commands: finding and loading the registry, writing and committing."""

from __future__ import annotations

import argparse
from pathlib import Path

from contextlib import contextmanager

from .. import store
from ..problems import Refusal, UsageError


def add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="FILE",
                        help="registry file (default: models/registry.yaml of this repository)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def load(args: argparse.Namespace, check: bool = True) -> store.Loaded:
    return store.load(store.find_registry(getattr(args, "registry", None)), check=check)


def load_model(args: argparse.Namespace):
    """(registry, model) for args.name, or a refusal that lists the models there are."""
    from ..registry import Registry

    registry = Registry(load(args).data)
    model = registry.model(args.name)
    if model is None:
        from ..problems import ModelregError

        raise ModelregError(f"no model named '{args.name}' (models: {', '.join(registry.model_names) or 'none'})")
    return registry, model


def resolve_args(args: argparse.Namespace):
    """(answer, registry path) for args.reference and --stage, through resolve's fast path."""
    from ..lookup import parse_reference, resolve

    ref = parse_reference(args.reference, args.stage)
    path = store.find_registry(args.registry)
    return resolve(store.read_text(path), ref, store.display_name(path)), path


def repo_root(loaded: store.Loaded) -> Path:
    """The repository a registry belongs to: the folder above models/."""
    return loaded.path.resolve().parent.parent


def write_change(args: argparse.Namespace, loaded: store.Loaded, new: dict, title: str, reason: str,
                 action: str, model: str, version: str) -> int:
    """Check and write the change (or propose it as a pull request), and commit it when asked."""
    message = f"{title}\n\n{reason}"
    if getattr(args, "pr", False):
        from ..proposal import propose

        text, events = store.apply(loaded, new, dry_run=True)
        for event in events:
            print(event.describe())
        return propose(loaded, new, text, events, action=action, model=model, version=version, title=title,
                       reason=reason, requester=getattr(args, "by_user", "") or "")
    _, events = store.apply(loaded, new)
    for event in events:
        print(event.describe())
    print(f"wrote {loaded.display}")
    if getattr(args, "commit", False):
        from ..adapters import git

        root = repo_root(loaded)
        sha = git.commit([str(loaded.path.resolve().relative_to(root))], message, cwd=root)
        print(f"committed {sha[:12]}: {title}")
    else:
        print("review it with `git diff`, then commit (or pass --commit, or --pr to open a pull request)")
    return 0


@contextmanager
def placed(loaded: store.Loaded):
    """Give refusals from pure code the registry's file name and line numbers."""
    try:
        yield
    except Refusal as refusal:
        raise refusal.at(loaded.display, loaded.root) from None


def require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise UsageError("--reason is required: say why; it is kept in history and shown in review")
    return reason
