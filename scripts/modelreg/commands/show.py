"""modelreg show NAME [VERSION]: a model card, or one version's full record."""

from __future__ import annotations

import argparse

from ..core.problems import ModelregError
from ..views.format import number, size
from ..views.terminal import emit_json, safe, table
from ._common import add_json_option, add_registry_option, load_model


def add_parser(sub) -> None:
    parser = sub.add_parser("show", help="show a model, or one of its versions")
    parser.add_argument("name")
    parser.add_argument("version", nargs="?")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry, model = load_model(args)
    if args.version:
        version = model.version(args.version)
        if version is None:
            raise ModelregError(f"{model.name} has no version {args.version}")
        record = dict(model.raw["versions"][args.version])
        if args.json:
            emit_json({"name": model.name, "version": args.version, "stages": model.stages_of(args.version),
                       **record})
            return 0
        print(f"{model.name} {args.version}" + (f"  [{', '.join(model.stages_of(args.version))}]"
                                                 if model.stages_of(args.version) else ""))
        for key, value in record.items():  # the record's text is the PR author's: one escaped line each
            print(f"  {safe(key):9} {safe(value)}")
        return 0
    if args.json:
        emit_json({"name": model.name, **model.raw})
        return 0
    print(safe(f"{model.name}: {model.description}".rstrip(": ")))
    print(f"  path    {safe(model.path)} ({safe(model.format or 'unknown format')})")
    print(f"  owners  {safe(', '.join(model.owners) or '-')}")
    print(f"  metric  {safe(model.metric or '-')} ({safe(model.goal)})")
    for stage in registry.stage_names:
        print(f"  {stage:10} {safe(model.stages.get(stage, '-'))}")
    metric_names = sorted({m for v in model.versions.values() for m in v.metrics})
    rows = []
    for version in reversed(model.ordered_versions()):
        rows.append([version.name, ", ".join(model.stages_of(version.name)) or
                     ("archived" if version.archived else ""), *[number(version.metrics.get(m))
                                                                for m in metric_names],
                     size(version.size), version.created, version.author or ""])
    table(["version", "stage", *metric_names, "size", "created", "author"], rows)
    return 0
