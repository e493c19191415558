"""modelreg validate: every rule of the registry, optionally against DVC's records and a remote."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..problems import ModelregError, Problem
from ..render import emit_json
from ._common import add_json_option, add_registry_option, load, repo_root


def add_parser(sub) -> None:
    parser = sub.add_parser("validate", help="check the registry file against every rule")
    add_registry_option(parser)
    add_json_option(parser)
    parser.add_argument("--dvc", action="store_true",
                        help="also check versions against the md5 dvc.lock / .dvc files record (with --base: "
                             "the versions added since REV, against the workspace)")
    parser.add_argument("--base", metavar="REV", help="also check the change from the registry at REV (git)")
    parser.add_argument("--remote", metavar="NAME", help="also check each version is in this DVC remote")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load(args, check=False)
    from ..rules import check_change, check_state

    problems = check_state(loaded.data, loaded.root, loaded.display)
    root = repo_root(loaded)
    events = []
    if args.base:
        from .. import store
        from ..adapters import git

        relative = str(loaded.path.resolve().relative_to(root))
        old_text = git.show_file(args.base, relative, cwd=root)
        old = store.parse(old_text, f"{args.base}:{relative}")[0] if old_text is not None else None
        events, step = check_change(old, loaded.data, loaded.root, loaded.display)
        problems += step
    if args.dvc and not problems:
        problems += _check_dvc_records(loaded, root, events if args.base else None)
    if args.remote and not problems:
        problems += _check_remote(loaded, root, args.remote)
    if args.json:
        emit_json({"ok": not problems, "file": loaded.display, "problems": [p.as_dict() for p in problems],
                   "events": [e.as_dict() for e in events]})
        return 1 if problems else 0
    if problems:
        raise ModelregError(problems)
    models = loaded.data.get("models") or {}
    count = sum(len(m.get("versions") or {}) for m in models.values())
    print(f"{loaded.display}: valid ({len(models)} models, {count} versions)")
    for event in events:
        print(f"  {event.describe()}")
    return 0


def _check_dvc_records(loaded, root: Path, events) -> list[Problem]:
    """Each version has the md5 DVC recorded for its path in the commit that registered it.

    With --base, the versions the change adds are checked against the workspace's
    dvc.lock (they are registered "in that same commit"). Without it, every version
    is checked against dvc.lock (or the .dvc file) as of the first commit whose
    registry contains its md5, found with `git log -S`; versions not committed yet
    are checked against the workspace.
    """
    from ..adapters import dvcfiles, git
    from ..diff import VERSION_REGISTERED
    from ..registry import Registry
    from ..rules import render_path
    from ..yamlread import locate

    registry = Registry(loaded.data)
    relative = str(loaded.path.resolve().relative_to(root))
    added = None if events is None else {(e.model, e.version) for e in events if e.kind == VERSION_REGISTERED}
    problems = []
    for model in registry.models():
        for version in model.versions.values():
            if added is not None and (model.name, version.name) not in added:
                continue
            commit = None if added is not None else git.first_commit_containing(version.md5, relative, root)
            if commit is None:
                record, where = dvcfiles.find_out(root, model.path), "the workspace"
            else:
                record = dvcfiles.find_out(root, model.path, git.show_file(commit, "dvc.lock", root) or "",
                                           git.show_file(commit, model.path + ".dvc", root) or "")
                where = f"commit {commit[:12]}"
            path = ("models", model.name, "versions", version.name, "md5")
            line, column = locate(loaded.root, path) or (None, None)
            if record is None:
                problems.append(Problem(loaded.display, line, column, render_path(path),
                                        f"DVC has no record of {model.path} in {where}",
                                        "declare it as a stage output in dvc.yaml or run dvc add, and commit "
                                        "dvc.lock with the registry"))
            elif record.md5 != version.md5:
                problems.append(Problem(loaded.display, line, column, render_path(path),
                                        f"{version.md5} differs from {record.md5}, which {record.source} records "
                                        f"for {model.path} in {where}", "register the artifact DVC tracks, and "
                                        "commit dvc.lock together with the registry"))
    return problems


def _check_remote(loaded, root: Path, remote: str) -> list[Problem]:
    from ..adapters import dvc
    from ..registry import Registry
    from ..rules import render_path
    from ..yamlread import locate

    registry = Registry(loaded.data)
    wanted = {}
    where = {}
    for model in registry.models():
        for version in model.versions.values():
            wanted[version.md5] = version.size
            where.setdefault(version.md5, ("models", model.name, "versions", version.name))
    status = dvc.remote_status(root, remote, wanted)
    problems = []
    for md5, message in status.items():
        if message:
            line, column = locate(loaded.root, where[md5]) or (None, None)
            problems.append(Problem(loaded.display, line, column, render_path(where[md5]), message,
                                    "push it: dvc push -r " + remote))
    return problems
