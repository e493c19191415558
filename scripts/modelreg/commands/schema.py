"""modelreg schema: print or write the registry's JSON Schema (for editors and other tools)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.schema import schema_text


def add_parser(sub) -> None:
    parser = sub.add_parser("schema", help="print the registry JSON Schema, or write it with -o")
    parser.add_argument("-o", "--output", metavar="FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        Path(args.output).write_text(schema_text(), "utf-8")
        print(f"wrote {args.output}")
    else:
        print(schema_text(), end="")
    return 0
