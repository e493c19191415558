"""Where the server reads the registry from. Each source answers "the text, if it changed"."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

from ..adapters import git
from ..core.problems import ModelregError


class Source:
    name = "registry"

    def poll(self) -> str | None:
        """The registry text if it changed since the last poll, else None."""
        raise NotImplementedError


class FileSource(Source):
    """A file on disk (a checkout someone else updates)."""

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        self._digest: str | None = None

    def poll(self) -> str | None:
        data = self.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return None
        text = data.decode("utf-8")
        self._digest = digest  # only once read: a text that failed keeps failing, and showing, until it changes
        return text


class GitSource(Source):
    """A local clone: `git fetch`, then the registry as of REF (default origin/main)."""

    def __init__(self, root: Path, relative: str, ref: str = "origin/main", fetch: bool = True):
        self.root, self.relative, self.ref, self.fetch = root, relative, ref, fetch
        self.name = f"{ref}:{relative}"
        self._blob: str | None = None

    def poll(self) -> str | None:
        if self.fetch:
            remote = self.ref.split("/", 1)[0] if "/" in self.ref else "origin"
            git.run(["fetch", "--quiet", remote], self.root)
        blob = git.run(["rev-parse", f"{self.ref}:{self.relative}"], self.root).strip()
        if blob == self._blob:
            return None
        text = git.run(["cat-file", "blob", blob], self.root)
        self._blob = blob  # only once read (see FileSource)
        return text


class GitHubSource(Source):
    """The GitHub contents API with ETags: an unchanged poll is a 304, which costs no rate limit."""

    def __init__(self, api_url: str, repository: str, relative: str, ref: str = "main", token: str | None = None):
        self.url = f"{api_url.rstrip('/')}/repos/{repository}/contents/{relative}?ref={ref}"
        self.token = token
        self.name = f"{repository}@{ref}:{relative}"
        self._etag: str | None = None

    def poll(self) -> str | None:
        request = urllib.request.Request(self.url, headers={"Accept": "application/vnd.github+json",
                                                            "X-GitHub-Api-Version": "2022-11-28"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if self._etag:
            request.add_header("If-None-Match", self._etag)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = json.loads(response.read())
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return None
            raise ModelregError(f"GitHub contents API answered {error.code} for {self.name}") from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise ModelregError(f"cannot reach the GitHub API for {self.name}: {error}") from None
        text = base64.b64decode(payload["content"]).decode("utf-8")
        self._etag = etag  # only once read (see FileSource)
        return text
