"""The signature bundle rides along on the GitHub Release (issue 15).

Three layers, each against the fake GitHub through real PyGithub: the fake's release-asset endpoints
behave as GitHub's REST docs say (so the layers above are not tested against a kind fake); the adapter
attaches an asset idempotently and never replaces other bytes; `modelreg ci release --sign` attaches the
very bundle whose sha256 its tag message records, a rerun writes nothing, and a foreign asset of that name
fails the run.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
import requests
import yaml
from github import Auth, Github, GithubException
from hypothesis import given, strategies as st

from modelreg.adapters.github import GitHub, ReleaseAsset, Settings
from modelreg.core.problems import ModelregError
from modelreg.flows import signing

from conftest import git
from ci_support import MODEL, ci, tags_on

REPO = "Codertocat/Hello-World"
SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*[A-Za-z0-9_]\Z")
BUNDLE = b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}'


def client(fake) -> Github:
    return Github(base_url=fake.base_url, auth=Auth.Token("t0ken"), retry=None, seconds_between_requests=0,
                  seconds_between_writes=0)


def adapter(fake) -> GitHub:
    return GitHub(Settings(REPO, "t0ken", fake.base_url, throttle=False, timeout=10))


def writes(fake) -> list[tuple[str, str]]:
    return [r for r in fake.requests if r[0] in ("POST", "PATCH", "PUT", "DELETE")]


def asset(data: bytes = BUNDLE, name: str = "m-v1.0.0.sig") -> ReleaseAsset:
    return ReleaseAsset(name, hashlib.sha256(data).hexdigest(), lambda: data, "application/json")


# ---- asset names ----

@given(st.text(min_size=0, max_size=300), st.text(min_size=0, max_size=40))
def test_an_asset_name_is_always_in_githubs_alphabet(model, version):
    name = signing.asset_name(model, version)
    assert SAFE.match(name) and name.endswith(".sig") and len(name) <= 204


@pytest.mark.parametrize("model, version, expected", [
    ("churn-classifier", "v1.0.0", "churn-classifier-v1.0.0.sig"),
    ("../../etc/passwd", "v1", "etc_passwd-v1.sig"),
    (".hidden", "v1.0.0", "hidden-v1.0.0.sig"),
    ("a b\n(c)~:d", "v2.0.0", "a_b_c_d-v2.0.0.sig"),
    ("名前", "", "model.sig"),
])
def test_unsafe_characters_never_reach_the_asset_name(model, version, expected):
    assert signing.asset_name(model, version) == expected


# ---- the fake's release assets, as GitHub's REST docs describe them ----

def test_assets_are_uploaded_to_the_upload_url_only(fake):
    repo = client(fake).get_repo(REPO)
    release = repo.create_git_release("m@v1.0.0", "m v1.0.0", "notes")
    assert release.upload_url.startswith(f"{fake.base_url}/uploads/repos/{REPO}/releases/")
    assert release.upload_url.endswith("/assets{?name,label}")
    uploaded = release.upload_asset_from_memory(io.BytesIO(BUNDLE), len(BUNDLE), "m-v1.0.0.sig",
                                                content_type="application/json", label="bundle")
    assert (uploaded.name, uploaded.size, uploaded.state, uploaded.label) == ("m-v1.0.0.sig", len(BUNDLE),
                                                                              "uploaded", "bundle")
    assert uploaded.digest == f"sha256:{hashlib.sha256(BUNDLE).hexdigest()}"
    assert uploaded.content_type == "application/json"
    assert fake.asset_bytes("m@v1.0.0", "m-v1.0.0.sig") == BUNDLE
    # the API host takes no uploads
    api = requests.post(f"{fake.repo_url}/releases/{release.id}/assets", params={"name": "x.sig"}, data=b"x",
                        headers={"Authorization": "token t0ken", "Content-Type": "application/json"})
    assert api.status_code == 404
    # and the release lists its assets
    assert [a.name for a in repo.get_release(release.id).assets] == ["m-v1.0.0.sig"]


def test_a_second_asset_of_the_same_name_is_422_already_exists_and_nothing_is_replaced(fake):
    release = client(fake).get_repo(REPO).create_git_release("m@v1.0.0", "m v1.0.0", "notes")
    fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", b"other bytes")
    with pytest.raises(GithubException) as error:
        release.upload_asset_from_memory(io.BytesIO(BUNDLE), len(BUNDLE), "m-v1.0.0.sig",
                                         content_type="application/json")
    assert error.value.status == 422
    assert error.value.data["errors"] == [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]
    assert fake.asset_bytes("m@v1.0.0", "m-v1.0.0.sig") == b"other bytes"


def test_github_renames_names_outside_its_alphabet(fake):
    release = client(fake).get_repo(REPO).create_git_release("m@v1.0.0", "m v1.0.0", "notes")
    for name, stored in [("my model (1).sig", "my.model..1..sig"), (".sig", "default.sig")]:
        uploaded = release.upload_asset_from_memory(io.BytesIO(b"x"), 1, name,
                                                    content_type="application/octet-stream")
        assert uploaded.name == stored


def test_release_assets_are_listed_30_a_page_with_githubs_link_header(fake):
    release = fake.add_release("m@v1.0.0")
    for i in range(31):
        fake.add_asset("m@v1.0.0", f"a{i}.bin", bytes([i]))
    listed = list(client(fake).get_repo(REPO).get_release(release["id"]).get_assets())
    assert [a.name for a in listed] == [f"a{i}.bin" for i in range(31)]
    url = f"{fake.repo_url}/releases/{release['id']}/assets"
    first = requests.get(url, headers={"Authorization": "token t0ken"})
    link = f"{fake.base_url}/repositories/{fake.repo_id}/releases/{release['id']}/assets?page="
    assert len(first.json()) == 30 and first.headers["Link"] == f'<{link}2>; rel="next", <{link}2>; rel="last"'


def test_an_assets_bytes_come_through_a_302_to_a_tokenless_download_url(fake):
    release = fake.add_release("m@v1.0.0")
    made = fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", BUNDLE)
    url = f"{fake.repo_url}/releases/assets/{made['id']}"
    answer = requests.get(url, headers={"Authorization": "token t0ken", "Accept": "application/octet-stream"},
                          allow_redirects=False)
    assert answer.status_code == 302 and "/_release-assets/" in answer.headers["Location"]
    assert requests.get(answer.headers["Location"]).content == BUNDLE  # no token needed there
    assert requests.get(answer.headers["Location"].split("?")[0]).status_code == 403  # but the signature is
    assert requests.get(url, headers={"Authorization": "token t0ken"}).json()["name"] == "m-v1.0.0.sig"
    got = next(iter(client(fake).get_repo(REPO).get_release(release["id"]).get_assets()))
    _, _, chunks = got.download_asset(chunk_size=1024)
    assert b"".join(chunks) == BUNDLE


def test_a_published_immutable_release_takes_no_asset_but_its_draft_did(fake):
    fake.immutable_releases = True
    repo = client(fake).get_repo(REPO)
    published = repo.create_git_release("m@v1.0.0", "m v1.0.0", "notes")
    assert published.immutable
    with pytest.raises(GithubException) as error:
        published.upload_asset_from_memory(io.BytesIO(b"x"), 1, "x.sig", content_type="text/plain")
    assert error.value.status == 422 and error.value.data["message"] == "Cannot upload assets to an immutable release."
    draft = repo.create_git_release("m@v2.0.0", "m v2.0.0", "notes", draft=True)
    assert not draft.immutable
    draft.upload_asset_from_memory(io.BytesIO(b"x"), 1, "x.sig", content_type="text/plain")
    assert draft.update_release("m v2.0.0", "notes", draft=False).immutable
    assert repo.get_release("m@v2.0.0").assets[0].name == "x.sig"


def test_a_draft_is_not_found_by_its_tag(fake):
    fake.add_release("m@v1.0.0", draft=True)
    with pytest.raises(GithubException) as error:
        client(fake).get_repo(REPO).get_release("m@v1.0.0")
    assert error.value.status == 404


# ---- the adapter: attach, idempotently, never replace ----

def test_a_new_release_is_created_as_a_draft_given_its_asset_then_published(fake):
    fake.immutable_releases = True  # the order matters only here, and then it must be right
    github = adapter(fake)
    assert github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")}, drafts={"m@v1.0.0"}) == {"m@v1.0.0": "created"}
    assert fake.releases["m@v1.0.0"]["draft"]
    attached = github.attach_assets({"m@v1.0.0": asset()})
    assert attached.problems == [] and attached.warnings == []
    assert attached.done == {"m@v1.0.0": "signature bundle attached (m-v1.0.0.sig); published"}
    release = fake.releases["m@v1.0.0"]
    assert not release["draft"] and release["immutable"] and release["body"] == "card"
    assert fake.asset_bytes("m@v1.0.0", "m-v1.0.0.sig") == BUNDLE
    assert [a["content_type"] for a in fake.release_assets("m@v1.0.0")] == ["application/json"]

    before = writes(fake)
    again = adapter(fake)
    assert again.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")}, drafts={"m@v1.0.0"}) == {"m@v1.0.0": "unchanged"}
    rerun = again.attach_assets({"m@v1.0.0": asset()})
    assert (rerun.done, rerun.warnings, rerun.problems) == ({}, [], [])
    assert writes(fake) == before  # a rerun writes nothing
    assert len(fake.release_assets("m@v1.0.0")) == 1


def test_other_bytes_under_the_name_are_a_problem_and_stay(fake):
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", b"forged", uploader="mallory")
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")}, drafts={"m@v1.0.0"})
    attached = github.attach_assets({"m@v1.0.0": asset()})
    assert attached.done == {} and len(attached.problems) == 1
    assert "already has an asset m-v1.0.0.sig" in attached.problems[0]
    assert "uploaded by mallory" in attached.problems[0] and "never replaces" in attached.problems[0]
    assert hashlib.sha256(b"forged").hexdigest() in attached.problems[0]
    assert fake.asset_bytes("m@v1.0.0", "m-v1.0.0.sig") == b"forged"
    assert not any(m == "DELETE" for m, _ in fake.requests)


@pytest.mark.parametrize("same", [True, False])
def test_an_asset_without_a_digest_is_downloaded_and_compared(fake, same):
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", BUNDLE if same else BUNDLE + b" ", digest=False)
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")})
    attached = github.attach_assets({"m@v1.0.0": asset()})
    assert any(p.startswith("/_release-assets/") for _, p in fake.requests)  # the bytes were fetched
    assert (attached.problems == []) is same
    assert writes(fake) == []


def test_an_asset_listed_late_is_found_after_the_422(fake):
    """The listing said no asset, but one came (a concurrent run): GitHub's 422 sends us to the asset list."""
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")})
    fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", BUNDLE)
    assert github.attach_assets({"m@v1.0.0": asset()}).problems == []
    assert [m for m, p in fake.requests if p.startswith("/uploads/")] == ["POST"]  # tried, and was told 422
    assert len(fake.release_assets("m@v1.0.0")) == 1
    fake.add_release("m@v2.0.0", "m v2.0.0", "card")
    github.sync_releases({"m@v2.0.0": ("m v2.0.0", "card")})
    fake.add_asset("m@v2.0.0", "m-v1.0.0.sig", b"forged")
    late = github.attach_assets({"m@v2.0.0": asset()})
    assert len(late.problems) == 1 and "never replaces" in late.problems[0]
    assert any(p.endswith("/assets") and m == "GET" for m, p in fake.requests)


def test_an_incomplete_upload_is_deleted_and_uploaded_again(fake):
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    fake.add_asset("m@v1.0.0", "m-v1.0.0.sig", BUNDLE, state="starter")
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")})
    attached = github.attach_assets({"m@v1.0.0": asset()})
    assert attached.problems == [] and "incomplete upload" in attached.done["m@v1.0.0"]
    assert [(a["name"], a["state"]) for a in fake.release_assets("m@v1.0.0")] == [("m-v1.0.0.sig", "uploaded")]
    assert fake.asset_bytes("m@v1.0.0", "m-v1.0.0.sig") == BUNDLE


def test_a_published_immutable_release_without_its_asset_is_a_warning(fake):
    fake.immutable_releases = True
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")}, drafts={"m@v1.0.0"})
    attached = github.attach_assets({"m@v1.0.0": asset()})
    assert attached.problems == [] and attached.done == {}
    assert len(attached.warnings) == 1 and "immutable" in attached.warnings[0]


def test_bytes_that_are_not_the_named_ones_are_never_uploaded(fake):
    fake.add_release("m@v1.0.0", "m v1.0.0", "card")
    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")})
    wrong = ReleaseAsset("m-v1.0.0.sig", "0" * 64, lambda: BUNDLE, "application/json")
    attached = github.attach_assets({"m@v1.0.0": wrong})
    assert len(attached.problems) == 1 and fake.release_assets("m@v1.0.0") == []


def test_a_loader_refusal_becomes_a_problem_and_the_draft_stays_a_draft(fake):
    def missing() -> bytes:
        raise ModelregError("the registry remote holds no bundle")

    github = adapter(fake)
    github.sync_releases({"m@v1.0.0": ("m v1.0.0", "card")}, drafts={"m@v1.0.0"})
    attached = github.attach_assets({"m@v1.0.0": ReleaseAsset("m-v1.0.0.sig", "0" * 64, missing)})
    assert attached.problems == ["the registry remote holds no bundle"]
    assert fake.releases["m@v1.0.0"]["draft"]  # published once its asset is there (the next run)


# ---- the release: sign, attach, rerun, refuse ----

def key_pair(folder: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = folder / "release.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return private


def tag_message(repo: Path, tag: str) -> dict:
    return json.loads(git("tag", "-l", "--format=%(contents)", tag, cwd=repo))


@pytest.mark.slow
def test_the_release_attaches_the_bundle_its_tag_names_and_a_rerun_writes_nothing(repo, fake, tmp_path):
    from modelreg.adapters import dvc

    key = key_pair(tmp_path)
    result = ci(repo, fake, "release", "--sign", "--key", str(key))
    assert result.returncode == 0, result.stdout + result.stderr
    tag = f"{MODEL}@v1.0.0"
    digest = tag_message(repo, tag)["signature_sha256"]
    release = fake.releases[tag]
    assert not release["draft"] and "**Stages:**" in release["body"]
    [attached] = fake.release_assets(tag)
    assert attached["name"] == f"{MODEL}-v1.0.0.sig" and SAFE.match(attached["name"])
    data = fake.asset_bytes(tag, attached["name"])
    assert hashlib.sha256(data).hexdigest() == digest and attached["digest"] == f"sha256:{digest}"
    version = yaml.safe_load((repo / "models" / "registry.yaml").read_text())["models"][MODEL]["versions"]["v1.0.0"]
    assert dvc.get_side_file(repo, "registry", signing.bundle_name(version["md5"])) == data  # the same bytes
    assert "signature bundle attached" in result.stdout
    # the posted bytes went to the upload host, never to the API host
    assert [p for m, p in fake.requests if m == "POST" and p.endswith("/assets")] == \
        [f"/uploads/repos/{REPO}/releases/{release['id']}/assets"]

    before = writes(fake)
    again = ci(repo, fake, "release", "--sign", "--key", str(key))
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout + again.stderr
    assert writes(fake) == before and len(fake.release_assets(tag)) == 1


@pytest.mark.slow
def test_a_foreign_asset_under_the_bundles_name_fails_the_release(repo, fake, tmp_path):
    key = key_pair(tmp_path)
    tag = f"{MODEL}@v1.0.0"
    fake.add_release(tag, body="made by hand")
    fake.add_asset(tag, f"{MODEL}-v1.0.0.sig", b'{"forged": true}', uploader="mallory")
    registry = (repo / "models" / "registry.yaml").read_bytes()
    head = git("rev-parse", "HEAD", cwd=repo)
    result = ci(repo, fake, "release", "--sign", "--key", str(key))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"release {tag} already has an asset {MODEL}-v1.0.0.sig" in result.stderr
    assert "uploaded by mallory" in result.stderr and "never replaces a release asset" in result.stderr
    assert fake.asset_bytes(tag, f"{MODEL}-v1.0.0.sig") == b'{"forged": true}'  # not replaced
    assert (repo / "models" / "registry.yaml").read_bytes() == registry  # the registry file is untouched
    assert git("rev-parse", "HEAD", cwd=repo) == head and git("status", "--porcelain", "models", cwd=repo) == ""
    assert tag in tags_on(repo.parent / "origin.git")  # tags were out before the releases step
    # the run keeps failing, and saying why, until someone removes the foreign asset
    assert ci(repo, fake, "release", "--sign", "--key", str(key)).returncode == 1
    fake.assets = {i: a for i, a in fake.assets.items() if a["uploader"]["login"] != "mallory"}
    fixed = ci(repo, fake, "release", "--sign", "--key", str(key))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    data = fake.asset_bytes(tag, f"{MODEL}-v1.0.0.sig")
    assert hashlib.sha256(data).hexdigest() == tag_message(repo, tag)["signature_sha256"]


@pytest.mark.slow
def test_a_release_without_signing_attaches_nothing(repo, fake):
    result = ci(repo, fake, "release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature_sha256" not in tag_message(repo, f"{MODEL}@v1.0.0")
    assert fake.release_assets(f"{MODEL}@v1.0.0") == [] and not fake.releases[f"{MODEL}@v1.0.0"]["draft"]


def test_only_tags_that_name_a_bundle_get_one_and_only_those_bytes(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from modelreg.adapters import dvc
    from modelreg.core.tags import ExistingTag

    digest = hashlib.sha256(BUNDLE).hexdigest()
    versions = {v: SimpleNamespace(name=v, md5=f"{i:032x}") for i, v in enumerate(["v1.0.0", "v1.1.0", "v1.2.0"])}
    registry = SimpleNamespace(models=lambda: [SimpleNamespace(name="m", versions=versions)])
    message = lambda **extra: json.dumps({"modelreg": 1, **extra})  # noqa: E731
    tags = {"m@v1.0.0": ExistingTag("m@v1.0.0", "a" * 40, 1, message(signature_sha256=digest)),
            "m@v1.1.0": ExistingTag("m@v1.1.0", "b" * 40, 1, message()),  # not signed by the release
            "m@v1.2.0": ExistingTag("m@v1.2.0", "c" * 40, 1, message(signature_sha256="../x"))}
    stored = {}
    monkeypatch.setattr(dvc, "get_side_file", lambda root, remote, name: stored.get((remote, name)))
    assets = signing.release_assets(tmp_path, registry, tags)
    assert list(assets) == ["m@v1.0.0"]
    wanted = assets["m@v1.0.0"]
    assert (wanted.name, wanted.sha256, wanted.content_type) == ("m-v1.0.0.sig", digest, "application/json")
    with pytest.raises(ModelregError, match="holds none"):
        wanted.content()
    stored[("registry", signing.bundle_name(versions["v1.0.0"].md5))] = BUNDLE + b"\n"
    with pytest.raises(ModelregError, match="was replaced after the release"):
        wanted.content()
    stored[("registry", signing.bundle_name(versions["v1.0.0"].md5))] = BUNDLE
    assert wanted.content() == BUNDLE


@pytest.mark.slow
def test_a_release_interrupted_before_its_release_gets_the_bundle_on_the_rerun(repo, fake, tmp_path):
    import subprocess

    key = key_pair(tmp_path)
    fake.failures.extend([("POST", rf"/repos/{REPO}/releases", 500)] * 4)  # PyGithub retries a 500 three times
    first = ci(repo, fake, "release", "--sign", "--key", str(key))
    assert first.returncode == 1 and fake.releases == {}
    clone = repo.parent / "rerun"  # the next run's fresh checkout: everything it knows comes from the tags
    subprocess.run(["git", "clone", "-q", str(repo.parent / "origin.git"), str(clone)], check=True)
    second = ci(clone, fake, "release")  # even without --sign: the tag names the bundle
    assert second.returncode == 0, second.stdout + second.stderr
    tag = f"{MODEL}@v1.0.0"
    assert not fake.releases[tag]["draft"]
    data = fake.asset_bytes(tag, f"{MODEL}-v1.0.0.sig")
    assert hashlib.sha256(data).hexdigest() == tag_message(repo, tag)["signature_sha256"]
