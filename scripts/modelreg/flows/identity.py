"""Recording sha256 for versions registered before modelreg recorded it: one reviewed migration.

Each version's bytes are fetched from a DVC remote and verified by the md5 the
registry holds today; their sha256 is then written into the version's record
(the one field a registered version may gain). The PR check downloads them
again and verifies the sha256 before the change can merge.
"""

from __future__ import annotations

import copy

from ..adapters import dvc
from ..adapters.registry_file import Loaded
from ..core.registry import Registry


def fill_sha256(loaded: Loaded, remote: str = dvc.REGISTRY) -> tuple[dict, list[str]]:
    """The registry data with sha256 recorded where it is missing, and what was filled, in words."""
    new = copy.deepcopy(loaded.data)
    filled = []
    for model in Registry(loaded.data).models():
        for version in model.ordered_versions():
            if version.sha256:
                continue
            sha256 = dvc.digest(loaded.repo, version.md5, remote, version.size)
            record = new["models"][model.name]["versions"][version.name]
            ordered = {}
            for key, value in record.items():
                ordered[key] = value
                if key == "md5":
                    ordered["sha256"] = sha256
            new["models"][model.name]["versions"][version.name] = ordered
            filled.append(f"{model.name} {version.name}: sha256 {sha256} (md5 {version.md5} verified in '{remote}')")
    return new, filled
