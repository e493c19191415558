"""modelreg validate: every rule of the registry, optionally against DVC's records and a remote."""

from __future__ import annotations

import argparse
from ..flows import verify
from ..core.problems import ModelregError
from ..views.terminal import emit_json, safe
from ._common import add_json_option, add_registry_option, load


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
    from ..core.rules import check_change, check_state

    problems = check_state(loaded.data, loaded.root, loaded.display)
    root = loaded.repo
    problems += _codeowners(loaded, root)
    events = []
    if args.base:
        from ..adapters import registry_file

        old = registry_file.at_revision(root, args.base, loaded.relative_to(root))
        events, step = check_change(old, loaded.data, loaded.root, loaded.display)
        problems += step
    if args.dvc and not problems:
        problems += verify.dvc_records(loaded, root, events if args.base else None)
    if args.remote and not problems:
        problems += verify.remote_presence(loaded, root, args.remote)
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
        print(f"  {safe(event.describe())}")  # a reason or a name is the PR author's text
    return 0


def _codeowners(loaded, root) -> list:
    """A .github/CODEOWNERS that exists must match the owners in the registry."""
    from ..views.codeowners import codeowners_text, first_difference
    from ..core.problems import Problem
    from ..core.policy import maintainers
    from ..core.registry import Registry

    target = root / ".github" / "CODEOWNERS"
    if not target.is_file() or not isinstance(loaded.data.get("models"), dict):
        return []
    expected = codeowners_text(Registry(loaded.data), loaded.relative_to(root), maintainers(loaded.data))
    actual = target.read_text("utf-8")
    if actual == expected:
        return []
    return [Problem(".github/CODEOWNERS", first_difference(expected, actual), 1, "",
                    f"out of date with the owners in {loaded.display}", "run modelreg codeowners and commit it")]
