"""The Python API: register, pull and load, as training scripts and notebooks use them.

A thin facade over the flows, so the API and the command line cannot drift apart.
"""

from __future__ import annotations

from .flows.artifacts import cached_artifact, load, load_verified, pull, resolve_reference
from .flows.register import register

__all__ = ["register", "load", "pull", "resolve_reference", "cached_artifact", "load_verified"]
