"""The git command line, for the few facts modelreg needs from it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..core.problems import ModelregError


def run(args: list[str], cwd: Path | str | None = None, check: bool = True) -> str:
    """`git ARGS` in `cwd`; a refusal that says what is wrong: no git, no such folder, or not a repository."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except (FileNotFoundError, NotADirectoryError):
        # subprocess raises the same error for a missing executable and a missing working directory
        if cwd is not None and not Path(cwd).is_dir():
            raise ModelregError(f"{cwd} does not exist (or is not a folder), so it is no git repository: run "
                                "modelreg inside your repository, or pass --registry with the path of "
                                "models/registry.yaml in one") from None
        import shutil

        if shutil.which("git") is None:
            raise ModelregError("git is not installed or not on PATH") from None
        raise
    if check and result.returncode != 0:
        raise _failure(args, cwd, result.stdout, result.stderr)
    return result.stdout


def _failure(args: list[str], cwd: Path | str | None, stdout: str, stderr: str) -> ModelregError:
    """What `run` says when git refuses."""
    detail = stderr.strip() or stdout.strip()
    if "not a git repository" in detail.lower():
        return ModelregError(f"{Path(cwd) if cwd is not None else Path.cwd()} is not inside a git repository "
                             f"(git {args[0]}): run modelreg in your project's repository (git init starts "
                             "one), or pass --registry with the path of a registry in one")
    return ModelregError(f"git {' '.join(args)} failed: {detail}")


def toplevel(cwd: Path | str | None = None) -> Path:
    return Path(run(["rev-parse", "--show-toplevel"], cwd).strip())


def head_commit(cwd: Path | str | None = None) -> str:
    return run(["rev-parse", "HEAD"], cwd).strip()


def user(cwd: Path | str | None = None) -> str:
    """Who is acting: $MODELREG_USER, $GITHUB_ACTOR, git's user.name, or the login name."""
    for variable in ("MODELREG_USER", "GITHUB_ACTOR"):
        if os.environ.get(variable):
            return os.environ[variable]
    name = run(["config", "user.name"], cwd, check=False).strip()
    if name:
        return name
    import getpass

    return getpass.getuser()


def dirty(paths: list[str], cwd: Path | str | None = None) -> list[str]:
    """Those of `paths` with uncommitted changes (modified, staged or untracked)."""
    if not paths:
        return []
    out = run(["status", "--porcelain", "--untracked-files=all", "--", *paths], cwd)
    return [line[3:] for line in out.splitlines() if line.strip()]


def show_file(rev: str, path: str, cwd: Path | str | None = None) -> str | None:
    result = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=cwd, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def commit(paths: list[str], message: str, cwd: Path | str | None = None) -> str:
    run(["add", "--", *paths], cwd)
    run(["commit", "-q", "-m", message, "--", *paths], cwd)
    return head_commit(cwd)


def first_commit_containing(text: str, path: str, cwd: Path | str | None = None) -> str | None:
    """The oldest commit (on HEAD's history) whose change to `path` added `text`, if any."""
    out = run(["log", "--reverse", "--format=%H", "-S", text, "--", path], cwd, check=False)
    commits = out.split()
    return commits[0] if commits else None


_TAG_FIELDS = "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00%(taggerdate:unix)%00%(contents)"
_TAGS = ["for-each-ref", "refs/tags", f"--format={_TAG_FIELDS}%01"]


def tags(cwd: Path | str | None = None) -> dict:
    """Every tag: name -> ExistingTag (target commit, tagger date, message)."""
    return _parse_tags(run(_TAGS, cwd))


class TagReader:
    """`tags(cwd)`, started now and read while the caller does something else (use as a context manager).

    git reads the tag objects in its own process while Python parses the registry, so the two
    overlap on a machine with more than one CPU. `result()` returns what `tags(cwd)` returns and
    raises what it raises; leaving the context without asking stops git.
    """

    def __init__(self, cwd: Path | str | None = None):
        import threading

        self._cwd, self._result, self._output = cwd, None, ("", "")
        try:
            self._process = subprocess.Popen(["git", *_TAGS], cwd=cwd, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
        except (FileNotFoundError, NotADirectoryError):
            self._process = None  # result() asks again, through run(), for its refusal
            return
        try:  # room for all of git's output (Linux): it need not wait for the reader to get the GIL
            import fcntl

            fcntl.fcntl(self._process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except (ImportError, AttributeError, OSError):
            pass
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            self._output = self._process.communicate()
        except Exception as error:  # raised by result(), as tags() would raise it
            self._output = error

    def result(self) -> dict:
        if self._result is None:
            if self._process is None:
                self._result = tags(self._cwd)
            else:
                self._reader.join()
                if isinstance(self._output, Exception):
                    raise self._output
                out, err = self._output
                if self._process.returncode != 0:
                    raise _failure(_TAGS, self._cwd, out or "", err or "")
                self._result = _parse_tags(out)
        return self._result

    def close(self) -> None:
        if self._process is not None and self._reader.is_alive():
            self._process.kill()
            self._reader.join()

    def __enter__(self) -> "TagReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _parse_tags(out: str) -> dict:
    from ..core.tags import ExistingTag

    result = {}
    for record in out.split("\x01"):
        record = record.lstrip("\n")
        if not record:
            continue
        name, kind, peeled, obj, date, message = record.split("\x00", 5)
        target = peeled if kind == "tag" else obj
        result[name] = ExistingTag(name, target, int(date or 0), message.strip())
    return result


def registry_changes(path: str, cwd: Path | str | None = None) -> list[tuple[str, int]]:
    """Commits of HEAD's first-parent history that touched `path`, oldest first, with committer dates."""
    out = run(["log", "--first-parent", "--reverse", "--format=%H %ct", "--", path], cwd)
    return [(sha, int(date)) for sha, date in (line.split() for line in out.splitlines() if line.strip())]


def create_tag(name: str, target: str, message: str, date: int, tagger: str, cwd: Path | str | None = None) -> None:
    """An annotated tag whose tagger date is `date` (GTO orders stage changes by it)."""
    email = f"{tagger}@users.noreply.github.com" if "@" not in tagger else tagger
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{date} +0000", "GIT_COMMITTER_NAME": tagger,
           "GIT_COMMITTER_EMAIL": email}
    result = subprocess.run(["git", "tag", "-a", name, "-F", "-", target], cwd=cwd, input=message, text=True,
                            capture_output=True, env=env)
    if result.returncode != 0:
        raise ModelregError(f"git tag {name} failed: {result.stderr.strip()}")


def push(refs: list[str], remote: str, cwd: Path | str | None = None, token: str | None = None,
         atomic: bool = False) -> None:
    """`git push` of full refs; a GitHub token goes to this one command only, never to disk."""
    env = dict(os.environ)
    if token:
        import base64

        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
                    "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}"})
    options = ["--atomic"] if atomic else []
    result = subprocess.run(["git", "push", "--quiet", *options, remote, *refs], cwd=cwd, capture_output=True,
                            text=True, env=env)
    if result.returncode != 0:
        raise ModelregError(f"git push of {', '.join(refs)} to {remote} failed: {result.stderr.strip()}")


def push_tags(names: list[str], remote: str, cwd: Path | str | None = None, token: str | None = None) -> None:
    """Push tags in one atomic push: all of them or none, so a rerun starts from a clean state."""
    if names:
        try:
            push([f"refs/tags/{n}" for n in names], remote, cwd, token, atomic=True)
        except ModelregError as error:
            raise ModelregError(f"{error.problems[0].message}; run the release again: it only adds what is "
                                "missing") from None


def current_branch(cwd: Path | str | None = None) -> str:
    return run(["rev-parse", "--abbrev-ref", "HEAD"], cwd).strip()


def branch_exists(branch: str, cwd: Path | str | None = None) -> bool:
    return bool(run(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd, check=False).strip())


def commit_on_branch(root: Path, relative: str, text: str, branch: str, message: str) -> str:
    """A new branch whose one commit is HEAD with `relative` replaced by `text`.

    Built with plumbing in a private index, so the working tree, the index and
    the current branch stay exactly as they were.
    """
    if branch_exists(branch, root):
        raise ModelregError(f"branch {branch} already exists; delete it or merge its pull request first")

    def plumbing(args: list[str], env: dict | None = None, stdin: str | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=root, env=env, input=stdin, text=True, capture_output=True)
        if result.returncode != 0:
            raise ModelregError(f"git {args[0]} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    blob = plumbing(["hash-object", "-w", "--stdin"], stdin=text)
    index = Path(plumbing(["rev-parse", "--git-dir"])) / f"modelreg-index-{os.getpid()}"
    index = index if index.is_absolute() else root / index
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    try:
        plumbing(["read-tree", "HEAD"], env)
        plumbing(["update-index", "--cacheinfo", f"100644,{blob},{relative}"], env)
        tree = plumbing(["write-tree"], env)
    finally:
        index.unlink(missing_ok=True)
    commit = plumbing(["commit-tree", tree, "-p", "HEAD", "-F", "-"], stdin=message)
    run(["update-ref", f"refs/heads/{branch}", commit, ""], root)
    return commit


def origin_repository(root: Path) -> str | None:
    """OWNER/REPO of a GitHub origin remote, or None."""
    import re

    url = run(["remote", "get-url", "origin"], root, check=False).strip()
    match = re.search(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?$", url)
    return match.group(1) if match else None


def git_dir(root: Path) -> Path:
    path = Path(run(["rev-parse", "--git-dir"], root).strip())
    return path if path.is_absolute() else root / path


def has_commit(sha: str, root: Path) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=root, capture_output=True).returncode == 0


def changed_paths(base: str, head: str | None, root: Path) -> list[str]:
    """Files the change touches: from the merge base of base and head to head (or the working tree),
    as GitHub lists a pull request's files."""
    fork = run(["merge-base", base, head or "HEAD"], root).strip()
    out = run(["diff", "--name-only", "--no-renames", fork, *([head] if head else []), "--"], root)
    return [line for line in out.splitlines() if line]


def commit_time(rev: str, root: Path) -> int:
    """Committer time of a commit, in seconds since the epoch."""
    return int(run(["log", "-1", "--format=%ct", rev], root).strip())


def export_tree(rev: str, destination: Path, root: Path) -> None:
    """The files of commit `rev` written into `destination` (no .git): a clean copy of reviewed code."""
    import io
    import tarfile

    result = subprocess.run(["git", "archive", "--format=tar", rev], cwd=root, capture_output=True)
    if result.returncode != 0:
        raise ModelregError(f"git archive {rev} failed: {result.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(destination, filter="data")  # the data filter refuses links and paths leaving it


# ---- history at scale: one process per kind of question, not one per commit or tag ----

class BlobReader:
    """Files at revisions through one `git cat-file --batch` process (use as a context manager)."""

    def __init__(self, cwd: Path | str | None = None):
        try:
            self._process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise ModelregError("git is not installed or not on PATH") from None
        try:  # let git run a few files ahead of the reader (Linux; elsewhere the default pipe)
            import fcntl

            fcntl.fcntl(self._process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except (ImportError, AttributeError, OSError):
            pass

    def read(self, rev: str, path: str) -> tuple[str, str] | None:
        """(blob id, text) of `path` at `rev`, or None when it is not there."""
        self._request([f"{rev}:{path}"])
        return self._response(rev, path)

    def read_many(self, revs: list[str], path: str):
        """(blob id, text) or None for `path` at each of `revs`, in order; git works ahead while the caller
        handles each one (the requests are written from a thread)."""
        import threading

        writer = threading.Thread(target=self._request, args=([f"{rev}:{path}" for rev in revs],), daemon=True)
        writer.start()
        try:
            for rev in revs:
                yield self._response(rev, path)
        finally:
            writer.join()

    def _request(self, names: list[str]) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        for name in names:
            if "\n" in name:
                raise ModelregError(f"a revision or path with a line break cannot be read: {name!r}")
        stdin.write("".join(f"{name}\n" for name in names).encode())
        stdin.flush()

    def _response(self, rev: str, path: str) -> tuple[str, str] | None:
        process = self._process
        assert process.stdout is not None
        header = process.stdout.readline().decode()
        if not header:
            raise ModelregError(f"git cat-file stopped while reading {rev}:{path}")
        fields = header.split()
        if len(fields) != 3 or fields[1] not in ("blob", "tree", "commit", "tag"):
            return None  # "<rev>:<path> missing" (or ambiguous)
        data = process.stdout.read(int(fields[2]) + 1)[:-1]
        if fields[1] != "blob":
            return None
        text = data.decode("utf-8", errors="replace")
        if "\r" in text:  # as show_file reads it (universal newlines)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return fields[0], text

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def __enter__(self) -> "BlobReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def first_parent_changes_until(path: str, stop: set[str], cwd: Path | str | None = None) -> tuple[list[tuple[str, int]], str | None]:
    """Commits of HEAD's first-parent history that touched `path`, newest first, back to the first one in
    `stop` (excluded). Returns (commits, the stop commit found or None when the whole history was read).

    One `git log`, read as it is written and stopped as soon as a commit of `stop` shows up, so the cost
    is that of the commits after it, not of the whole history.
    """
    try:
        process = subprocess.Popen(["git", "log", "--first-parent", "--format=%H %ct", "HEAD", "--", path], cwd=cwd,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise ModelregError("git is not installed or not on PATH") from None
    assert process.stdout is not None
    commits, found = [], None
    for line in process.stdout:
        sha, _, date = line.strip().partition(" ")
        if not sha:
            continue
        if sha in stop:
            found = sha
            break
        commits.append((sha, int(date)))
    if found:
        process.kill()
    process.stdout.close()
    error = process.stderr.read() if process.stderr else ""
    code = process.wait()
    if not found and code != 0:
        if any(text in error for text in ("does not have any commits", "bad default revision", "bad revision",
                                          "unknown revision")):
            return [], None  # an empty repository
        raise ModelregError(f"git log --first-parent -- {path} failed: {error.strip()}")
    return commits, found


def _crud(byte: int) -> bool:
    return byte <= 32 or byte in b".,:;<>\"\\'"


def _without_crud(text: str) -> bytes:
    """git's ident cleaning (ident.c strbuf_addstr_without_crud): crud off both ends, no < > or newline."""
    raw = text.encode("utf-8", "surrogateescape")
    start, end = 0, len(raw)
    while start < end and _crud(raw[start]):
        start += 1
    while end > start and _crud(raw[end - 1]):
        end -= 1
    return bytes(b for b in raw[start:end] if b not in b"\n<>")


def _cleanup_message(message: str) -> bytes:
    """`git tag -F -`'s default cleanup (strip): no trailing whitespace, no # lines, no runs of blank lines."""
    lines = []
    for line in message.split("\n"):
        if line.startswith("#"):
            continue
        line = line.rstrip(" \t\n\v\f\r")
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return ("\n".join(lines) + "\n").encode() if lines else b""


def tag_object(name: str, target: str, message: str, date: int, tagger: str) -> bytes:
    """The annotated tag object `create_tag` makes (git tag -a), byte for byte."""
    email = f"{tagger}@users.noreply.github.com" if "@" not in tagger else tagger
    who = _without_crud(tagger)
    if not who:
        raise ModelregError(f"git tag {name} failed: the tagger name {tagger!r} has no usable characters")
    if "\0" in tagger or "\0" in message:
        raise ModelregError(f"git tag {name} failed: a NUL character in the tagger or the message")
    body = _cleanup_message(message)
    if not body:
        raise ModelregError(f"git tag {name} failed: empty tag message")
    return (f"object {target}\ntype commit\ntag {name}\n".encode() + b"tagger " + who + b" <"
            + _without_crud(email) + f"> {int(date)} +0000\n\n".encode() + body)


def create_tags(tags: list[tuple[str, str, str, int, str]], cwd: Path | str | None = None) -> None:
    """Annotated tags (name, target, message, date, tagger), exactly as `create_tag` makes them, all or none.

    The tag objects are written by one `git hash-object -t tag -w --stdin-paths` (git checks each
    object's format) and the refs created in one `git update-ref --stdin` transaction, which fails
    as a whole if any of the tags exists.
    """
    import tempfile

    if not tags:
        return
    with tempfile.TemporaryDirectory(prefix="modelreg-tags-") as folder:
        paths = []
        for number, (name, target, message, date, tagger) in enumerate(tags):
            path = Path(folder) / f"{number}.tag"
            path.write_bytes(tag_object(name, target, message, date, tagger))
            paths.append(str(path))
        result = subprocess.run(["git", "hash-object", "-t", "tag", "-w", "--stdin-paths"], cwd=cwd,
                                input="\n".join(paths) + "\n", capture_output=True, text=True)
        if result.returncode != 0:
            raise ModelregError(f"git hash-object of {len(tags)} tag(s) failed: {result.stderr.strip()}")
    objects = result.stdout.split()
    if len(objects) != len(tags):
        raise ModelregError(f"git hash-object wrote {len(objects)} of {len(tags)} tag objects")
    commands = "".join(f"create refs/tags/{name} {oid}\n" for (name, *_), oid in zip(tags, objects))
    result = subprocess.run(["git", "update-ref", "--stdin"], cwd=cwd, input=commands, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise ModelregError(f"creating {len(tags)} tag(s) failed, none was created: {result.stderr.strip()}")
