"""modelreg ci check | ci release: what the GitHub workflows run (and what you can run locally)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..core.problems import ModelregError, UsageError
from ._common import add_registry_option


def add_parser(sub) -> None:
    parser = sub.add_parser("ci", help="the pull request check and the release on main (GitHub Actions)")
    ci = parser.add_subparsers(dest="ci_command", metavar="CI_COMMAND", required=True)
    check = ci.add_parser("check", help="check a pull request's registry change (exit 1 while anything is missing)")
    check.add_argument("--base", metavar="REV", help="compare with the registry at REV (default: the PR's base)")
    check.add_argument("--head", metavar="REV", help="the change to check, read from git objects (default: the "
                       "event's head commit; locally, the working tree)")
    check.add_argument("--no-remote", action="store_true", help="do not check the candidates DVC remote")
    check.add_argument("--evaluation", metavar="FILE",
                       help="the evaluation job's results (modelreg evaluate --changed -o FILE); in Actions, versions "
                            "of models that declare an evaluation need one")
    check.add_argument("--no-comment", action="store_true", help="do not post the sticky PR comment")
    add_registry_option(check)
    check.set_defaults(run=run_check)
    release = ci.add_parser("release", help="copy artifacts, create tags and releases for the registry on main")
    release.add_argument("--push-to", default="origin", metavar="REMOTE", help="git remote for tags (default origin)")
    release.add_argument("--no-push", action="store_true", help="create tags locally only")
    release.add_argument("--no-copy", action="store_true", help="do not copy artifacts to the registry remote")
    release.add_argument("--dry-run", action="store_true", help="print what would be done")
    release.add_argument("--sign", action="store_true",
                         help="sign each new version (keyless in Actions, or --key) and record the bundle's sha256 "
                              "in its tag message")
    release.add_argument("--key", metavar="PRIVATE.pem", help="sign with this elliptic-curve key instead")
    release.add_argument("--evaluate", action="store_true",
                         help="re-run each new version's evaluation on main and record the reproduced metrics in its "
                              "tag message and release notes")
    release.add_argument("--full-history", action="store_true",
                         help="walk main's whole history, not just what came after the newest release (rebuilds "
                              "tags deleted by hand)")
    add_registry_option(release)
    release.set_defaults(run=run_release)


def _paths(args) -> tuple[Path, str]:
    from ..adapters import git, registry_file

    path = registry_file.find_registry(args.registry).resolve()
    root = git.toplevel(path.parent)
    return root, path.relative_to(root).as_posix()


PR_EVENTS = ("pull_request", "pull_request_review", "merge_group")


def _reproductions(path: str | None) -> list:
    """The evaluation job's results: data from a job that ran the author's bytes, validated field by field."""
    if not path:
        return []
    from ..core.reproduction import Reproduction

    try:
        items = json.loads(Path(path).read_text("utf-8"))
        return [Reproduction.from_dict(item) for item in items]
    except FileNotFoundError:
        return []  # the job did not run (or found nothing to evaluate): the check says what is missing
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ModelregError(f"{path}: not the evaluation job's results ({error}); the check fails closed") from None


def run_check(args: argparse.Namespace) -> int:
    from ..adapters import actions, github as github_api
    from ..flows import check
    from ..views import report
    from ..views.terminal import safe

    root, relative = _paths(args)
    in_actions = actions.running_in_actions()
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    event = actions.event()
    if in_actions and event_name in PR_EVENTS and event is None:
        raise ModelregError(f"{event_name} run without a readable event payload (GITHUB_EVENT_PATH): the gate "
                            "fails closed; rerun the workflow")
    pr = check.pull_request_from_event(event) if event and ("pull_request" in event or "merge_group" in event) \
        else None
    base = args.base or (pr.base_sha if pr else None)
    if base is None:
        raise UsageError("say what to compare with: --base REV (e.g. --base main), or run on a pull_request event")
    head = args.head or (pr.head_sha if pr else None)
    github = github_api.from_env() if pr else None
    if pr is not None and github is None and in_actions:
        raise ModelregError("no GITHUB_TOKEN (or GITHUB_REPOSITORY) on a pull request run: the approval gate "
                            "cannot be checked, so the check fails closed; pass GITHUB_TOKEN: ${{ github.token }} "
                            "to the step")
    skip_remote = args.no_remote or os.environ.get("MODELREG_NO_REMOTE", "").lower() in ("1", "true", "yes")
    reproductions = _reproductions(args.evaluation)
    result = check.run(root, relative, base, head=head, pr=pr, github=github, check_remote=not skip_remote,
                       reproductions=reproductions, require_reproduction=in_actions and pr is not None)
    if not pr or not github:
        result.notes.append("no sticky comment and no approval check: not running on a pull request with a token")
    body = result.markdown(pr)
    if in_actions:
        for problem in result.problems:
            actions.command(report.annotation(problem))
    else:
        for problem in result.problems:
            print(f"error: {safe(problem.render())}", file=sys.stderr)
    for event_ in result.events:
        print(safe(event_.describe()))
    for change in result.policy:
        print(f"policy: {safe(change.describe())}")
    for missing in result.missing:
        print(f"missing: {safe(missing)}")
    if not in_actions:  # locally the summary file is not shown anywhere: say it all here
        for note in result.notes:
            print(f"note: {safe(note)}")
    actions.add_summary(body)
    if pr and github and not args.no_comment:
        try:
            github.upsert_comment(pr.number, report.COMMENT_MARKER, body)
        except ModelregError as error:  # a fork's read-only token cannot comment; the summary has it all
            print(f"note: no sticky comment: {safe(error.problems[0].message)}")
    print(safe(result.verdict()))
    return 0 if result.ok else 1


def _signer(root: Path, args: argparse.Namespace):
    """Sign a newly released version in the registry remote; None unless --sign."""
    if not args.sign:
        return None
    from ..flows.signing import sign

    key = Path(args.key) if args.key else None
    return lambda version: sign(root, version.md5, version.sha256, version.size, private_key=key)


def _reproducer(root: Path, relative: str):
    """Reproduce a version's metrics with main's own evaluation (flows/evaluate.py), as data for its tag."""
    from ..adapters import registry_file
    from ..flows.evaluate import evaluate

    state = registry_file.at_revision(root, "HEAD", relative) or {}

    def reproduce(name: str, version: str) -> dict:
        result = evaluate(root, "HEAD", state, name, version, [], base_data=state, remote="registry")
        metrics = {m.name: m.reproduced for m in result.metrics if m.reproduced is not None}
        return {"metrics": metrics, "ok": result.ok, "trusted": result.trusted, "skipped": result.skipped,
                "error": result.error}
    return reproduce


def run_release(args: argparse.Namespace) -> int:
    from ..adapters import actions, github as github_api, notifier
    from ..flows import release

    root, relative = _paths(args)
    github = github_api.from_env()
    token = github.settings.token if github else None

    result = release.run(root, relative, push_to=None if args.no_push else args.push_to,
                         copy_artifacts=not args.no_copy, github=github, token=token, dry_run=args.dry_run,
                         notify_urls=notifier.targets(os.environ.get(notifier.ENV)),
                         full_history=args.full_history, sign=_signer(root, args),
                         reproduce=_reproducer(root, relative) if args.evaluate else None)
    text = result.summary()
    if args.dry_run:
        text = text.replace("Tags created:", "Tags to create:")
    print(text, end="")
    if not github:
        print("(no GitHub token: releases and pull request details were skipped)")
    actions.add_summary(text)
    return 0
