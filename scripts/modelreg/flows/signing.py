"""Signed releases: the release job signs each released artifact; loads verify signature and signer.

Signatures are OpenSSF model-signing bundles (Sigstore bundle format, a DSSE
envelope over an in-toto statement of the artifact's sha256 manifest). In
GitHub Actions the release signs keylessly with the workflow's OIDC identity;
elsewhere (and in tests) with an elliptic-curve key pair. The bundle is stored
in the `registry` remote beside DVC's objects, as modelreg/signatures/MD5.sig.
Which stages require a signature, and whose, is policy in `settings`:

    settings:
      require_signature: [production]
      signing: {identity: "https://github.com/ORG/REPO/.github/workflows/registry-release.yml@refs/heads/main"}
      # or: signing: {public_key: .github/modelreg-signing.pub}
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..adapters import dvc
from ..core.problems import ModelregError

ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"


def bundle_name(md5: str) -> str:
    return f"signatures/{md5}.sig"


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
