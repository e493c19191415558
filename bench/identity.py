"""What sha256 identities and signatures cost at artifact size: hashing, signing and verifying.

    python bench/identity.py [--gb 1] [--runs 3]

Fresh processes for each step, medians of --runs. Hashing is one pass that computes md5 and sha256
together (what registration and every verified pull do); signing and verifying use OpenSSF
model-signing with an elliptic-curve key pair (keyless signing adds a network round trip in CI).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HASH = "import sys; from pathlib import Path; from modelreg.adapters.dvc import local_sha256; local_sha256(Path(sys.argv[1]))"
SIGN = ("import sys, model_signing; model_signing.signing.Config().use_elliptic_key_signer(private_key=sys.argv[2])"
        ".sign(sys.argv[1], sys.argv[3])")
VERIFY = ("import sys, model_signing; model_signing.verifying.Config().use_elliptic_key_verifier(public_key=sys.argv[2])"
          ".verify(sys.argv[1], sys.argv[3])")


def timed(code: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        artifact = folder / "model.bin"
        block = bytes(range(256)) * 4096
        with open(artifact, "wb") as handle:
            for _ in range(int(args.gb * (1 << 30)) // len(block)):
                handle.write(block)
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
        (folder / "key.pub").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        rows = {"python -c pass (floor)": [timed("pass") for _ in range(args.runs)],
                "md5 + sha256, one pass": [timed(HASH, str(artifact)) for _ in range(args.runs)],
                "sign (model-signing, EC key)": [timed(SIGN, str(artifact), str(folder / "key.pem"),
                                                       str(folder / "bundle.sig")) for _ in range(args.runs)],
                "verify (model-signing, EC key)": [timed(VERIFY, str(artifact), str(folder / "key.pub"),
                                                         str(folder / "bundle.sig")) for _ in range(args.runs)]}
    print(f"| step ({args.gb:g} GB, medians of {args.runs} fresh processes) | seconds | GB/s |")
    print("|---|---:|---:|")
    for name, values in rows.items():
        median = statistics.median(values)
        rate = f"{args.gb / median:.2f}" if "floor" not in name else ""
        print(f"| {name} | {median:.2f} | {rate} |")


if __name__ == "__main__":
    main()
