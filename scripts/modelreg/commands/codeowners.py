"""modelreg codeowners: write .github/CODEOWNERS from the owners in the registry."""

from __future__ import annotations

import argparse

from ..views.codeowners import codeowners_text
from ..core.problems import ModelregError, Problem
from ..core.policy import maintainers
from ..core.registry import Registry
from ._common import add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("codeowners", help="write .github/CODEOWNERS from the registry's owners")
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load(args)
    root = loaded.repo
    target = root / ".github" / "CODEOWNERS"
    text = codeowners_text(Registry(loaded.data), loaded.relative_to(root), maintainers(loaded.data))
    current = target.read_text("utf-8") if target.exists() else None
    if current == text:
        print(f"{target.relative_to(root)} is up to date")
        return 0
    if args.check:
        raise ModelregError([Problem(".github/CODEOWNERS", None, None, "", "out of date with the registry's owners",
                                     "run modelreg codeowners")])
    target.parent.mkdir(parents=True, exist_ok=True)
    from ..adapters.registry_file import write_atomic

    write_atomic(target, text)
    print(f"wrote {target.relative_to(root)}")
    return 0
