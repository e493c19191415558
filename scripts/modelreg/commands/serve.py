"""modelreg serve [NAME ...]: serve the production models and swap to new versions as the registry changes."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..core.problems import ModelregError, UsageError
from ._common import add_registry_option


def add_parser(sub) -> None:
    parser = sub.add_parser("serve", help="serve models over HTTP and follow the registry")
    parser.add_argument("names", nargs="*", metavar="NAME", help="models to serve (default: all with the stage)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="production")
    parser.add_argument("--source", choices=("git", "file", "github"), default="git",
                        help="where to poll the registry: git (fetch and read --ref, default), file (the "
                             "working file), github (the contents API with ETags; needs GITHUB_REPOSITORY)")
    parser.add_argument("--ref", default="origin/main", help="git ref to follow (default origin/main; "
                                                              "'main' for --source github)")
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    parser.add_argument("--remote", default="registry", help="DVC remote to pull from (default registry)")
    parser.add_argument("--max-body-bytes", type=int, default=None, metavar="N",
                        help="refuse request bodies over N bytes with 413 (default $MODELREG_MAX_BODY_BYTES "
                             "or 4194304, 4 MiB)")
    parser.add_argument("--allow-non-finite", action="store_true",
                        help="accept NaN, Infinity and -Infinity as feature values (refused with 422 by default)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="load pickle and joblib versions (loading them runs code from the file; refused "
                             "by default): only if you trust every version that can reach the stage")
    parser.add_argument("--batch-ms", type=float, default=2.0, metavar="MS",
                        help="gather concurrent requests for a model for at most MS milliseconds and answer "
                             "them with one call (default 2; 0 turns batching off)")
    parser.add_argument("--two-pass", action="store_true",
                        help="always call predict and predict_proba for a classifier, as before one-pass "
                             "answers (for comparison; by default predictions come from predict_proba where "
                             "that is verified to be exact)")
    parser.add_argument("--no-direct-trees", dest="direct_trees", action="store_false",
                        help="answer scikit-learn forests through their own predict/predict_proba (joblib's "
                             "dispatch per call) instead of calling their trees directly (the same bits, checked "
                             "when each version is loaded), for comparison")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="serve with N worker processes sharing the port, fed by one registry follower "
                             "(default: the number of CPUs this process may use; 1 serves in this process)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def _source(args, root: Path, relative: str):
    from ..serving import sources

    if args.source == "file":
        return sources.FileSource(root / relative)
    if args.source == "github":
        from ..adapters import github

        repository = github.repository_from_env()
        if not repository:
            raise UsageError("--source github needs GITHUB_REPOSITORY (owner/name)")
        ref = "main" if args.ref == "origin/main" else args.ref
        return sources.GitHubSource(github.api_url_from_env(), repository, relative, ref, github.token_from_env())
    return sources.GitSource(root, relative, args.ref, fetch="/" in args.ref)


def max_body_bytes(args: argparse.Namespace) -> int:
    from ..serving.limits import DEFAULT_MAX_BODY_BYTES

    if args.max_body_bytes is not None:
        value, where = args.max_body_bytes, "--max-body-bytes"
    elif os.environ.get("MODELREG_MAX_BODY_BYTES", "").strip():
        where = "MODELREG_MAX_BODY_BYTES"
        try:
            value = int(os.environ[where])
        except ValueError:
            raise UsageError(f"{where} must be a number of bytes, not '{os.environ[where]}'") from None
    else:
        return DEFAULT_MAX_BODY_BYTES
    if value < 1:
        raise UsageError(f"{where} must be a positive number of bytes")
    return value


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..adapters import git, registry_file
    from ..core.document import parse
    from ..core.registry import Registry
    from ..serving.app import create_app
    from ..serving.models import Follower, ModelTable, artifact_loader, sample_reader
    from ..serving.workers import default_workers, one_openmp_thread, serve_workers

    limit = max_body_bytes(args)
    if args.batch_ms < 0:
        raise UsageError("--batch-ms must be 0 (no batching) or a positive number of milliseconds")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive number of processes (1 serves in this process), "
                         f"not {args.workers}")
    workers = default_workers() if args.workers is None else args.workers
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    path = registry_file.find_registry(args.registry).resolve()
    root = git.toplevel(path.parent)
    relative = path.relative_to(root).as_posix()
    source = _source(args, root, relative)
    text = source.poll()
    names = args.names
    if not names:
        try:
            names = [m.name for m in Registry(parse(text, source.name)[0]).models() if args.stage in m.stages]
        except ModelregError:
            raise
        except Exception as error:  # a registry that breaks the reader in a way it does not foresee
            raise ModelregError(f"cannot read {source.name} to find the models to serve: "
                                f"{type(error).__name__}: {error}; name the models to serve") from None
    if not names:
        raise UsageError(f"no model has a {args.stage} version in {source.name}; name the models to serve")
    # with several workers this process loads and checks each version once, forks the workers with the
    # models in memory, then only follows: it keeps no model (serving/workers.py)
    table = ModelTable(names, args.stage, source.name, artifact_loader(root, args.remote, args.allow_pickle),
                       samples=sample_reader(root), two_pass=args.two_pass, direct_trees=args.direct_trees)
    if workers > 1:
        one_openmp_thread()  # before anything runs OpenMP: the workers are forked after the first check
    table.update(text)
    follower = Follower(table, source, args.poll_seconds, text=text)
    try:
        if workers == 1:
            follower.start()
            uvicorn.run(create_app(table, follower, max_body_bytes=limit, allow_non_finite=args.allow_non_finite,
                                   batch_ms=args.batch_ms),
                        host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=10)
        elif not serve_workers(table, follower, workers, args.host, args.port, {
                "root": str(root), "remote": args.remote, "allow_pickle": args.allow_pickle,
                "two_pass": args.two_pass, "direct_trees": args.direct_trees, "names": names, "stage": args.stage, "max_body_bytes": limit,
                "allow_non_finite": args.allow_non_finite, "batch_ms": args.batch_ms}):
            raise ModelregError("no worker process started serving; see the log above")
    finally:
        follower.stop()
    return 0
