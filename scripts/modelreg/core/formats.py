"""How an artifact's bytes are to be loaded, from its file name when the registry does not say."""

from __future__ import annotations

from pathlib import PurePosixPath

FORMATS_BY_SUFFIX = {".skops": "skops", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib",
                     ".onnx": "onnx"}


def format_for(path: str) -> str:
    """The format a path's suffix implies; a path without a known suffix is a directory artifact."""
    return FORMATS_BY_SUFFIX.get(PurePosixPath(path).suffix, "directory")
