"""sha256 identities of artifacts: a file's digest, and one digest for a folder's files. Pure.

md5 is DVC's content address; sha256 is the identity modelreg verifies,
because md5 collisions can be made. A folder artifact's sha256 is the sha256
of its manifest: one `sha256sum`-style line per file ("<sha256>  <relpath>"),
sorted by path, so `sha256sum` users can recompute it.
"""

from __future__ import annotations

import hashlib
import re

SHA256_RE = re.compile(r"[0-9a-f]{64}\Z")


def manifest(files: list[tuple[str, str]]) -> str:
    """The manifest text of (relative POSIX path, sha256) pairs."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(files))


def folder_sha256(files: list[tuple[str, str]]) -> str:
    return hashlib.sha256(manifest(files).encode("utf-8")).hexdigest()
