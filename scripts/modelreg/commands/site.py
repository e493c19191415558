"""modelreg site -o DIR: the registry's web page (static, self-contained), for GitHub Pages."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from ._common import add_registry_option


def add_parser(sub) -> None:
    parser = sub.add_parser("site", help="write the registry's static web page")
    parser.add_argument("-o", "--output", required=True, metavar="DIR")
    parser.add_argument("--repo-url", help="https://github.com/ORG/REPO for commit and PR links "
                                           "(default: from GITHUB_SERVER_URL and GITHUB_REPOSITORY)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import git
    from ..adapters.github import web_url_from_env
    from ..adapters.registry_file import write_atomic
    from ..core.registry import Registry
    from ..flows.audit import gather
    from ..views.site import page
    from ._common import load_reading_tags

    with load_reading_tags(args) as (loaded, reading):
        registry = Registry(loaded.data)
        root = git.toplevel(loaded.repo)
        changes = gather(root, loaded.relative_to(root), registry, registry.model_names,
                         existing=reading.result())
    repo_url = args.repo_url or web_url_from_env()
    head = git.head_commit(root)
    html = page(registry, changes, repo_url, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  f"{loaded.display} at {head[:12]}")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(output / "index.html", html)
    print(f"wrote {output / 'index.html'} ({len(registry.model_names)} models, {len(changes)} stage changes)")
    return 0
