"""modelreg: a model registry that lives in a Git repository.

Importing the package is cheap: the API functions are loaded on first use, so
`modelreg resolve` never pays for DVC or scikit-learn.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["register", "load", "pull", "resolve_reference"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'modelreg' has no attribute {name!r}")
