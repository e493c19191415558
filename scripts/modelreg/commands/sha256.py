"""modelreg sha256: record the sha256 identity of versions registered before modelreg recorded it."""

from __future__ import annotations

import argparse

from ._common import add_registry_option, load, mode_of, requester


def add_parser(sub) -> None:
    parser = sub.add_parser("sha256", help="record sha256 for versions that lack it (verified by md5 first)")
    parser.add_argument("--remote", default="registry", help="DVC remote to read the bytes from (default registry)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--commit", action="store_true", help="commit the edit")
    mode.add_argument("--pr", action="store_true", help="propose it as a pull request (the check verifies it)")
    parser.add_argument("--by", help="who asks for it (default: git user)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change
    from ..flows.identity import fill_sha256
    from ..views.terminal import safe

    loaded = load(args)
    new, filled = fill_sha256(loaded, args.remote)
    if not filled:
        print("every version records its sha256; nothing to do")
        return 0
    for line in filled:
        print(safe(line))
    intent = change.Intent("sha256", "registry", "all", f"Record sha256 for {len(filled)} version(s)",
                           "sha256 identities, computed from bytes verified by md5", requester(args, loaded))
    outcome = change.apply(loaded, new, intent, mode=mode_of(args))
    if outcome.proposed:
        print("\n".join(outcome.messages))
    else:
        print(f"wrote {loaded.display}" + (f"; committed {outcome.commit[:12]}" if outcome.commit else
                                           "; review it with git diff and commit it in a pull request"))
    return 0
