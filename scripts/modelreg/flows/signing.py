"""Signed releases: the release job signs each released artifact; loads verify signature and signer.

Signatures are OpenSSF model-signing bundles (Sigstore bundle format, a DSSE
envelope over an in-toto statement of the artifact's sha256 manifest). In
GitHub Actions the release signs keylessly with the workflow's OIDC identity;
elsewhere (and in tests) with an elliptic-curve key pair. The bundle is stored
in the `registry` remote beside DVC's objects, as modelreg/signatures/MD5.sig,
and the release attaches the same bytes to the version's GitHub Release as
NAME-VERSION.sig (release_assets); the version tag's message records the
bundle's sha256, which both copies must match.
Which stages require a signature, and whose, is policy in `settings`:

    settings:
      require_signature: [production]
      signing: {identity: "https://github.com/ORG/REPO/.github/workflows/registry-release.yml@refs/heads/main"}
      # or: signing: {public_key: .github/modelreg-signing.pub}
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from functools import partial
from pathlib import Path

from ..adapters import dvc
from ..core.digests import SHA256_RE
from ..core.problems import ModelregError

ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")  # GitHub renames asset names with anything else (to periods)


def bundle_name(md5: str) -> str:
    return f"signatures/{md5}.sig"


def asset_name(model: str, version: str) -> str:
    """The release asset that carries a version's bundle: `NAME-VERSION.sig`, in GitHub's asset alphabet.

    Registry names and versions are already safe (core/registry.py); this holds for any text: every run of
    other characters becomes one "_", and no name starts or ends with a period or a dash, so GitHub keeps it
    as given and a rerun finds it under the same name.
    """
    stem = _UNSAFE.sub("_", f"{model}-{version}").strip("._-")[:200].rstrip("._-")
    return f"{stem or 'model'}.sig"


def release_assets(root: Path, registry, tags: dict) -> dict:
    """tag -> the ReleaseAsset (adapters/github.py) of every version whose tag names a bundle (signature_sha256).

    The bytes are read from the registry remote only when an asset has to be uploaded, and only when their
    sha256 is the one the tag names: a Release never carries a bundle the tag does not vouch for.
    """
    from ..adapters.github import ReleaseAsset

    wanted = {}
    for model in registry.models():
        for version in model.versions.values():
            tag = tags.get(f"{model.name}@{version.name}")
            digest = (tag.data or {}).get("signature_sha256") if tag is not None else None
            if not isinstance(digest, str) or not SHA256_RE.match(digest):
                continue
            wanted[tag.name] = ReleaseAsset(asset_name(model.name, version.name), digest,
                                            partial(_bundle, root, version.md5, digest, tag.name),
                                            "application/json", "model-signing bundle (Sigstore)")
    return wanted


def _bundle(root: Path, md5: str, sha256: str, tag: str) -> bytes:
    data = dvc.get_side_file(root, dvc.REGISTRY, bundle_name(md5))
    if data is None:
        raise ModelregError(f"the tag {tag} names a signature bundle (sha256 {sha256}), but DVC remote "
                            f"'{dvc.REGISTRY}' holds none (modelreg/{bundle_name(md5)}): nothing was attached to "
                            "its release; restore the bundle the tag names")
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise ModelregError(f"the signature bundle of {tag} in DVC remote '{dvc.REGISTRY}' "
                            f"(modelreg/{bundle_name(md5)}) has sha256 {found}, but the tag names {sha256}: it was "
                            "replaced after the release, so it was not attached to the GitHub Release; find out who "
                            "replaced it")
    return data


def sign(root: Path, md5: str, sha256: str | None, size: int | None, *, remote: str = dvc.REGISTRY,
         private_key: Path | None = None) -> str:
    """Sign the artifact `md5` as `remote` holds it (bytes verified first); returns the bundle's sha256."""
    import model_signing

    config = model_signing.signing.Config()
    if private_key is not None:
        config.use_elliptic_key_signer(private_key=private_key)
    elif os.environ.get("GITHUB_ACTIONS") == "true":
        config.use_sigstore_signer(use_ambient_credentials=True)
    else:
        raise ModelregError("no signing key: pass --key PRIVATE.pem, or sign in GitHub Actions with id-token: write "
                            "(keyless, with the workflow's identity)")
    with tempfile.TemporaryDirectory(prefix="modelreg-sign-") as work:
        artifact = Path(work) / "artifact"
        dvc.pull(root, md5, artifact, remote=remote, size=size, sha256=sha256)
        bundle = Path(work) / "bundle.sig"
        try:
            config.sign(artifact, bundle)
        except Exception as error:  # model_signing raises plain exceptions from its signers
            raise ModelregError(f"signing {md5} failed: {error}") from None
        data = bundle.read_bytes()
    dvc.put_side_file(root, remote, bundle_name(md5), data)
    return hashlib.sha256(data).hexdigest()


def verify(root: Path, artifact: Path, md5: str, settings: dict, *, remote: str = dvc.REGISTRY) -> str:
    """Verify the release signature of the artifact at `artifact` (already md5/sha256-verified).

    Returns who signed it, in words; raises ModelregError when the bundle is missing,
    tampered with, signed by another key or identity, or does not cover these bytes.
    """
    import model_signing

    signing = settings.get("signing") if isinstance(settings.get("signing"), dict) else {}
    data = dvc.get_side_file(root, remote, bundle_name(md5))
    if data is None:
        raise ModelregError(f"the artifact {md5} has no release signature in DVC remote '{remote}' "
                            f"(modelreg/{bundle_name(md5)}); its stage requires one (settings.require_signature)")
    config = model_signing.verifying.Config()
    if signing.get("public_key"):
        key = dvc.inside(root, signing["public_key"])
        if not key.is_file():
            raise ModelregError(f"settings.signing.public_key names {signing['public_key']}, which does not exist")
        config.use_elliptic_key_verifier(public_key=key)
        signer = f"the key {signing['public_key']}"
    elif signing.get("identity"):
        config.use_sigstore_verifier(identity=signing["identity"], oidc_issuer=signing.get("issuer") or ACTIONS_ISSUER)
        signer = signing["identity"]
    else:
        raise ModelregError("settings.require_signature is set but settings.signing names no public_key or identity")
    with tempfile.TemporaryDirectory(prefix="modelreg-verify-") as work:
        bundle = Path(work) / "bundle.sig"
        bundle.write_bytes(data)
        try:
            config.verify(artifact, bundle)
        except Exception as error:  # wrong key, tampered bundle, other bytes: all refusals
            raise ModelregError(f"the release signature of {md5} does not verify against {signer}: "
                                f"{(str(error) or type(error).__name__).splitlines()[0][:200]}; refusing to load "
                                "it") from None
    return signer


def required(settings: dict, stages: tuple[str, ...] | list[str]) -> bool:
    wanted = settings.get("require_signature") or []
    return any(stage in wanted for stage in stages)
