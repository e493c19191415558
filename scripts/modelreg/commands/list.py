"""modelreg list: every model with its stages and newest version."""

from __future__ import annotations

import argparse

from ..core.registry import Registry
from ..views.terminal import emit_json, table
from ._common import add_json_option, add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("list", help="list models, their stages and versions")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = Registry(load(args).data)
    rows = []
    for model in registry.models():
        live = [v for v in model.versions.values() if not v.archived]
        rows.append({"name": model.name, "stages": model.stages, "latest": model.latest_version(),
                     "versions": len(model.versions), "archived": len(model.versions) - len(live),
                     "metric": model.metric, "owners": model.owners})
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no models registered yet (modelreg register NAME)")
        return 0
    stage_names = registry.stage_names
    table(["model", *stage_names, "latest", "versions", "archived"],
          [[r["name"], *[r["stages"].get(s, "-") for s in stage_names], r["latest"] or "-", r["versions"],
            r["archived"]] for r in rows])
    return 0
