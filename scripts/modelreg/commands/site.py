"""modelreg site -o DIR: the registry's web page (static, self-contained), for GitHub Pages."""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from pathlib import Path

from ._common import add_registry_option, load, repo_root


def add_parser(sub) -> None:
    parser = sub.add_parser("site", help="write the registry's static web page")
    parser.add_argument("-o", "--output", required=True, metavar="DIR")
    parser.add_argument("--repo-url", help="https://github.com/ORG/REPO for commit and PR links "
                                           "(default: from GITHUB_SERVER_URL and GITHUB_REPOSITORY)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import git
    from ..audit import gather
    from ..registry import Registry
    from ..site import render
    from ..store import write_atomic

    loaded = load(args)
    registry = Registry(loaded.data)
    root = git.toplevel(repo_root(loaded))
    changes = gather(root, str(loaded.path.resolve().relative_to(root)), registry, registry.model_names)
    repo_url = args.repo_url
    if not repo_url and os.environ.get("GITHUB_REPOSITORY"):
        repo_url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
    head = git.head_commit(root)
    html = render(registry, changes, repo_url, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  f"{loaded.display} at {head[:12]}")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(output / "index.html", html)
    print(f"wrote {output / 'index.html'} ({len(registry.model_names)} models, {len(changes)} stage changes)")
    return 0
