"""modelreg compare NAME [VERSION ...]: metrics side by side, deltas against production, gates."""

from __future__ import annotations

import argparse

from ..core.compare import compare
from ..views.markdown import comparison_markdown, rows, signature_lines
from ..core.problems import ModelregError
from ..views.format import number
from ..views.terminal import emit_json, safe, table
from ._common import add_registry_option, load_model


def add_parser(sub) -> None:
    parser = sub.add_parser("compare", help="compare versions of a model")
    parser.add_argument("name")
    parser.add_argument("versions", nargs="*", help="versions to compare (default: every live version)")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry, model = load_model(args)
    missing = [v for v in args.versions if v not in model.versions]
    if missing:
        raise ModelregError(f"{model.name} has no version {', '.join(missing)} "
                            f"(registered: {', '.join(v.name for v in model.ordered_versions()) or 'none'})")
    result = compare(model, args.versions or None, registry.stage_names)
    if not result.versions:
        raise ModelregError(f"{model.name} has no versions to compare yet")
    if args.format == "json":
        emit_json(result.as_dict())
    elif args.format == "markdown":
        print(comparison_markdown(result), end="")
    else:
        headers, body = rows(result)
        baseline = f"deltas vs {result.baseline.name} (production)" if result.baseline else "no production version"
        table(headers, body, title=f"{model.name}: {model.metric or 'no primary metric'} ({model.goal}); {baseline}")
        for key, values in result.differing_params.items():
            print(safe(f"param {key}: " + ", ".join(f"{v}={number(x)}" for v, x in values.items())))
        failed = [(v, c) for v in result.versions for checks in result.gate_results[v.name].values()
                  for c in checks if not c.passed]
        for version, check in failed:
            print(safe(f"gate {check.stage} fails for {version.name}: {check.detail}"))
        for line in signature_lines(result):
            print(f"input {safe(line)}")
        lineage = {name: (data or {}).get("md5") for name, data in result.data.items()}
        if len(set(lineage.values())) > 1:
            print(safe("training data differs: " + ", ".join(
                f"{name}={(result.data[name] or {}).get('path', '?')}@{(md5 or '?')[:8]}"
                for name, md5 in lineage.items())))
    return 0
