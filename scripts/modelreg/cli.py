"""The `modelreg` command line: parse, dispatch to commands/<name>.py, report problems."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .commands import COMMANDS
from .core.problems import EXIT_USAGE, ModelregError


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's (its module alone is imported: resolve stays cold-fast)."""
    parser = argparse.ArgumentParser(
        prog="modelreg", description="A model registry that lives in a Git repository.",
        epilog="exit codes: 0 ok, 1 invalid or refused, 2 usage")
    parser.add_argument("--version", action="version", version=f"modelreg {__version__}")
    parser.add_argument("--registry", metavar="FILE", dest="global_registry",
                        help="registry file for the command (also accepted after it; default: "
                             "models/registry.yaml of this repository)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command behind a guard: no line it prints can start a GitHub Actions workflow command."""
    from .views.terminal import CommandGuard

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CommandGuard(out), CommandGuard(err)
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


def command_of(argv: list[str]) -> str | None:
    """The subcommand's name: the first argument that is not a global option (or --registry's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--registry":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _main(argv: list[str]) -> int:
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    chosen = getattr(args, "global_registry", None)
    if chosen is not None:
        own = getattr(args, "registry", None)
        if own is not None and own != chosen:
            parser.error(f"--registry {chosen} before the command and --registry {own} after it disagree; "
                         "give one")
        if not hasattr(args, "registry"):
            parser.error(f"{args.command} does not read a registry file; drop --registry")
        args.registry = chosen
    try:
        return args.run(args) or 0
    except ModelregError as error:
        from .views.terminal import safe

        if getattr(args, "json", False) is True:
            import json

            print(json.dumps({"ok": False, "problems": [p.as_dict() for p in error.problems]}, indent=2))
        for problem in error.problems:  # its text can quote the registry or an artifact: one escaped line
            print(f"error: {safe(problem.render())}", file=sys.stderr)
        if error.exit_code != EXIT_USAGE and len(error.problems) > 1:
            print(f"{len(error.problems)} problems; nothing was changed", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


# Commands whose every write is finished (closed, renamed into place) when they return.
_NO_TEARDOWN = {"validate", "resolve", "list", "show", "history", "compare", "schema", "audit", "site"}


def entry() -> None:
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `modelreg list | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os._exit(0)
    if command_of(sys.argv[1:]) in _NO_TEARDOWN:
        # Skip interpreter teardown: freeing a large parsed registry (or a history's
        # rows) object by object costs more than the lookup itself.
        os._exit(code)
    sys.exit(code)
