"""Checks of the registry against DVC's records and remotes (wiring over the adapters)."""

from __future__ import annotations

from pathlib import Path

from ..core.problems import Problem, dotted


def dvc_records(loaded, root: Path, events, revision: str | None = None) -> list[Problem]:
    """Each version has the md5 DVC recorded for its path in the commit that registered it.

    With --base, the versions the change adds are checked against the workspace's
    dvc.lock (they are registered "in that same commit"). Without it, every version
    is checked against dvc.lock (or the .dvc file) as of the first commit whose
    registry contains its md5, found with `git log -S`; versions not committed yet
    are checked against the workspace. With `revision` (the PR check's head
    commit), DVC's records are read from that commit's objects, never from files
    the pull request could have placed in the working tree.
    """
    from ..adapters import dvcfiles, git
    from ..core.diff import VERSION_REGISTERED
    from ..core.registry import Registry
    from ..core.positions import locate

    registry = Registry(loaded.data)
    relative = loaded.relative_to(root)
    added = None if events is None else {(e.model, e.version) for e in events if e.kind == VERSION_REGISTERED}
    problems = []
    for model in registry.models():
        for version in model.versions.values():
            if added is not None and (model.name, version.name) not in added:
                continue
            if revision is not None:
                commit = revision
            elif added is not None:
                commit = None  # versions being added: the workspace's dvc.lock
            else:
                commit = git.first_commit_containing(version.md5, relative, root)
            if commit is None:
                record, where = dvcfiles.find_out(root, model.path), "the workspace"
            else:
                record = dvcfiles.find_out(root, model.path, git.show_file(commit, "dvc.lock", root) or "",
                                           git.show_file(commit, model.path + ".dvc", root) or "")
                where = f"commit {commit[:12]}"
            path = ("models", model.name, "versions", version.name, "md5")
            line, column = locate(loaded.root, path) or (None, None)
            if record is None:
                problems.append(Problem(loaded.display, line, column, dotted(path),
                                        f"DVC has no record of {model.path} in {where}",
                                        "declare it as a stage output in dvc.yaml or run dvc add, and commit "
                                        "dvc.lock with the registry"))
            elif record.md5 != version.md5:
                problems.append(Problem(loaded.display, line, column, dotted(path),
                                        f"{version.md5} differs from {record.md5}, which {record.source} records "
                                        f"for {model.path} in {where}", "register the artifact DVC tracks, and "
                                        "commit dvc.lock together with the registry"))
    return problems


def remote_presence(loaded, root: Path, remote: str, only: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Each version (or each of `only`) is in the DVC remote with its size."""
    from ..adapters import dvc
    from ..core.registry import Registry
    from ..core.positions import locate

    registry = Registry(loaded.data)
    wanted = {}
    where = {}
    for model in registry.models():
        for version in model.versions.values():
            if only is not None and (model.name, version.name) not in only:
                continue
            wanted[version.md5] = version.size
            where.setdefault(version.md5, ("models", model.name, "versions", version.name))
    status = dvc.remote_status(root, remote, wanted)
    problems = []
    for md5, message in status.items():
        if message:
            line, column = locate(loaded.root, where[md5]) or (None, None)
            problems.append(Problem(loaded.display, line, column, dotted(where[md5]), message,
                                    "push it: dvc push -r " + remote))
    return problems


def sha256_recorded(loaded, versions: set[tuple[str, str]]) -> list[Problem]:
    """New versions must record their sha256 identity (md5 alone can be collided)."""
    from ..core.positions import locate
    from ..core.registry import Registry

    registry = Registry(loaded.data)
    problems = []
    for name, version_name in sorted(versions):
        version = registry.model(name).version(version_name)
        if version is not None and not version.sha256:
            path = ("models", name, "versions", version_name)
            line, column = locate(loaded.root, path) or (None, None)
            problems.append(Problem(loaded.display, line, column, dotted(path), "no sha256 recorded",
                                    "register it with modelreg register, which records the artifact's sha256"))
    return problems


def remote_identity(loaded, root: Path, remote: str, versions: set[tuple[str, str]]) -> list[Problem]:
    """The bytes in `remote` under each version's md5 have the sha256 the registry records.

    Downloads each artifact once (md5 verified on the way); an md5 collision shows up here.
    """
    from ..adapters import dvc
    from ..core.positions import locate
    from ..core.problems import ModelregError
    from ..core.registry import Registry

    registry = Registry(loaded.data)
    problems = []
    for name, version_name in sorted(versions):
        version = registry.model(name).version(version_name)
        if version is None or not version.sha256:
            continue
        path = ("models", name, "versions", version_name, "sha256")
        line, column = locate(loaded.root, path) or (None, None)
        try:
            actual = dvc.digest(root, version.md5, remote, version.size)
        except ModelregError as error:
            problems.append(Problem(loaded.display, line, column, dotted(path), error.problems[0].message))
            continue
        if actual != version.sha256:
            problems.append(Problem(loaded.display, line, column, dotted(path),
                                    f"the bytes under md5 {version.md5} in '{remote}' have sha256 {actual}, not the "
                                    f"recorded {version.sha256}", "these are not the bytes that were registered"))
    return problems
