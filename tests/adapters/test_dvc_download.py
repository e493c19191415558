"""The S3 download path of the DVC adapter: parallel ranged GETs, in order, resumed, refused, in bounded memory.

A fake botocore client stands in for S3 so a cut in the middle of a body, a server that ignores
Range or sends too much, and the number of buffers can be arranged exactly; the real client
against a real S3 protocol server is covered by tests/e2e/test_s3.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, ResponseStreamingError
from modelreg.adapters import dvc
from modelreg.core.problems import ModelregError


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """Parts of 1000 bytes read 100 at a time by 3 threads: many parts from small objects."""
    monkeypatch.setattr(dvc, "_PART", 1000)
    monkeypatch.setattr(dvc, "_PIECE", 100)
    monkeypatch.setattr(dvc, "_THREADS", 3)
    monkeypatch.setattr(dvc, "_CHUNK", 300)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # the pause before a retry


class Body:
    def __init__(self, data: bytes, fail_at: int | None = None, on_close=lambda: None):
        self.data, self.position, self.fail_at, self.on_close = data, 0, fail_at, on_close

    def readinto(self, view) -> int:
        if self.fail_at is not None and self.position >= self.fail_at:
            raise ResponseStreamingError(error="connection reset by peer")
        stop = len(self.data) if self.fail_at is None else self.fail_at
        count = min(len(view), stop - self.position)
        view[:count] = self.data[self.position:self.position + count]
        self.position += count
        return count

    def read(self, amount: int) -> bytes:
        chunk = self.data[self.position:self.position + amount]
        self.position += len(chunk)
        return chunk

    def close(self) -> None:
        self.on_close()


class FakeS3:
    """get_object/head_object over one bucket; `cuts` makes the next GETs break off after that many bytes."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects
        self.ranges: list[str | None] = []
        self.cuts: list[int] = []
        self.ignore_range = False
        self.extra_bytes = b""
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def head_object(self, Bucket, Key, **extra):
        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"ContentLength": len(self.objects[Key])}

    def get_object(self, Bucket, Key, Range=None, **extra):
        data = self.objects[Key]
        with self.lock:
            self.ranges.append(Range)
            self.in_flight += 1  # until the body is closed
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            cut = self.cuts.pop(0) if self.cuts else None
        if Range is None or self.ignore_range:
            return {"Body": Body(data + self.extra_bytes, cut, self.closed)}
        start, end = (int(number) for number in Range.removeprefix("bytes=").split("-"))
        return {"Body": Body(data[start:end + 1] + self.extra_bytes, cut, self.closed),
                "ContentRange": f"bytes {start}-{end}/{len(data)}"}

    def closed(self) -> None:
        with self.lock:
            self.in_flight -= 1


def reader(client: FakeS3) -> dvc._S3Reader:
    made = dvc._S3Reader.__new__(dvc._S3Reader)
    made.client, made.extra = client, {}
    return made


def source(client: FakeS3) -> dvc._Source:
    made = dvc._Source.__new__(dvc._Source)
    made.odb = SimpleNamespace(oid_to_path=lambda oid: f"bucket/files/md5/{oid[:2]}/{oid[2:]}")
    made.s3 = reader(client)
    return made


def key_of(md5: str) -> str:
    return f"files/md5/{md5[:2]}/{md5[2:]}"


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 12_345])
def test_the_parts_come_in_order_and_make_the_object(size):
    data = os.urandom(size)
    client = FakeS3({"k": data})
    parts = [bytes(part) for part in reader(client).read("bucket/k", size)]
    assert b"".join(parts) == data
    assert all(len(part) == 1000 for part in parts[:-1])
    if size <= 1000:  # one plain GET for a small object
        assert client.ranges == ([None] if size else [])
    else:
        assert sorted(client.ranges, key=lambda r: int(r.split("=")[1].split("-")[0])) == [
            f"bytes={start}-{min(start + 1000, size) - 1}" for start in range(0, size, 1000)]


def test_memory_stays_at_a_few_parts_whatever_the_size():
    data = os.urandom(200_000)  # 200 parts
    client = FakeS3({"k": data})
    seen: set[int] = set()
    digest = hashlib.md5()
    for part in reader(client).read("bucket/k", len(data)):
        seen.add(id(part.obj))  # the buffer under the view
        digest.update(part)
    assert digest.hexdigest() == hashlib.md5(data).hexdigest()
    assert len(seen) <= dvc._THREADS + 1 and client.most_in_flight <= dvc._THREADS


def test_a_body_cut_in_the_middle_resumes_where_it_stopped():
    data = os.urandom(3000)
    client = FakeS3({"k": data})
    view = memoryview(bytearray(1000))
    client.cuts = [350]  # the first GET breaks off after 350 bytes
    assert bytes(reader(client).part("bucket/k", 1000, view, whole=False)) == data[1000:2000]
    assert client.ranges == ["bytes=1000-1999", "bytes=1350-1999"]


def test_a_body_that_keeps_breaking_off_fails_the_download_and_nothing_is_verified(tmp_path):
    data = os.urandom(5000)
    md5 = hashlib.md5(data).hexdigest()
    client = FakeS3({key_of(md5): data})
    client.cuts = [10] * 100
    with pytest.raises(ModelregError, match="could not download the artifact from DVC remote 'r': .*connection reset"):
        dvc._download(source(client), md5, tmp_path / "artifact", "r", "the artifact")


def test_a_server_that_ignores_the_range_is_refused():
    data = os.urandom(3000)
    client = FakeS3({"k": data})
    client.ignore_range = True
    with pytest.raises(OSError, match="asked for bytes 1000-1999, the server answered with the whole object"):
        reader(client).part("bucket/k", 1000, memoryview(bytearray(1000)), whole=False)


def test_an_object_longer_than_its_size_is_refused():
    data = os.urandom(500)
    client = FakeS3({"k": data})
    client.extra_bytes = b"x"
    with pytest.raises(OSError, match="longer than the 500 bytes"):
        reader(client).part("bucket/k", 0, memoryview(bytearray(500)), whole=True)


def test_download_verifies_md5_and_returns_sha256(tmp_path):
    data = os.urandom(7777)
    md5 = hashlib.md5(data).hexdigest()
    client = FakeS3({key_of(md5): data})
    target = tmp_path / "artifact"
    assert dvc._download(source(client), md5, target, "r", "the artifact") == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data


def test_bytes_that_do_not_hash_to_the_md5_are_refused(tmp_path):
    data = os.urandom(4321)
    md5 = hashlib.md5(b"other bytes").hexdigest()
    client = FakeS3({key_of(md5): data})
    with pytest.raises(ModelregError, match=f"failed verification: expected md5 {md5}"):
        dvc._download(source(client), md5, tmp_path / "artifact", "r", "the artifact")


def test_a_missing_object_is_named_missing(tmp_path):
    with pytest.raises(ModelregError, match="is missing from DVC remote 'r'"):
        dvc._download(source(FakeS3({})), "0" * 32, tmp_path / "artifact", "r", "the artifact")


def from_dvc_s3(config: dict) -> tuple:
    """What dvc-s3 hands s3fs for these settings, put as _s3_settings puts it (s3fs's client set-up)."""
    from botocore import UNSIGNED
    from dvc_s3 import S3FileSystem

    args = S3FileSystem(**config).fs_args
    client = {"aws_access_key_id": args.get("key"), "aws_secret_access_key": args.get("secret"),
              "aws_session_token": args.get("token"), "use_ssl": args.get("use_ssl", True),
              **args.get("client_kwargs", {})}
    settings = {"connect_timeout": 5, "read_timeout": 15,  # s3fs's defaults; botocore reads the aws config
                **{name: value for name, value in args.get("config_kwargs", {}).items() if name != "s3"}}  # file's s3
    if args.get("anon"):
        settings["signature_version"] = UNSIGNED
        client.update(aws_access_key_id=None, aws_secret_access_key=None, aws_session_token=None)
    get = {name: value for name, value in args.get("s3_additional_kwargs", {}).items()
           if name.startswith("SSECustomer")}  # what s3fs passes on to a GetObject call
    return (args.get("profile"), {name: value for name, value in client.items() if value is not None}, settings, get)


@pytest.mark.parametrize("config", [
    {"endpointurl": "http://127.0.0.1:9000"},
    {"region": "eu-west-1", "access_key_id": "id", "secret_access_key": "secret", "session_token": "token"},
    {"profile": "ml", "use_ssl": False, "ssl_verify": "/etc/ca.pem", "read_timeout": 60, "connect_timeout": 2},
    {"allow_anonymous_login": True, "access_key_id": "id", "secret_access_key": "secret"},
    {"sse_customer_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "acl": "private"},
    {"sse_customer_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "sse_customer_algorithm": "AES256"},
    {"ssl_verify": False, "listobjects": True, "verify": True},
])
def test_the_client_reads_the_remote_as_dvc_s3_sets_up_s3fs(config, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))  # no aws config file section to merge
    assert dvc._s3_settings(config) == from_dvc_s3(config)


def test_the_client_is_made_from_the_settings():
    from botocore import UNSIGNED

    made = dvc._S3Reader({"endpointurl": "http://127.0.0.1:9", "region": "eu-west-1", "ssl_verify": False,
                          "access_key_id": "id", "secret_access_key": "secret", "read_timeout": 33,
                          "sse_customer_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})
    assert made.client.meta.endpoint_url == "http://127.0.0.1:9" and made.client.meta.region_name == "eu-west-1"
    assert made.client.meta.config.read_timeout == 33 and made.client.meta.config.connect_timeout == 5
    assert made.extra == {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": b"0123456789abcdef0123456789abcdef"}
    anonymous = dvc._S3Reader({"allow_anonymous_login": True})
    assert anonymous.client.meta.config.signature_version is UNSIGNED


@pytest.mark.slow
def test_pull_from_a_real_s3_server_and_an_endpoint_dying_in_the_middle(moto_endpoint, tmp_path, monkeypatch):
    import boto3
    from s3_support import FlakyProxy

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                       "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(dvc, "_PART", 1 << 20)
    proxy = FlakyProxy(moto_endpoint)
    data = os.urandom((5 << 20) + 123)
    md5 = hashlib.md5(data).hexdigest()
    s3 = boto3.client("s3", endpoint_url=f"http://{moto_endpoint[0]}:{moto_endpoint[1]}")
    s3.create_bucket(Bucket="pulls")
    s3.put_object(Bucket="pulls", Key=f"store/files/md5/{md5[:2]}/{md5[2:]}", Body=data)
    root = tmp_path / "repo"
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc" / "config").write_text(f"['remote \"registry\"']\n    url = s3://pulls/store\n"
                                          f"    endpointurl = {proxy.url}\n")
    try:
        pulled = dvc.pull(root, md5, tmp_path / "out" / "model.bin", sha256=hashlib.sha256(data).hexdigest())
        assert pulled.read_bytes() == data

        proxy.cut_after = proxy.sent + 2000  # a couple of requests in, the endpoint dies and stays down
        target = tmp_path / "out" / "again.bin"
        with pytest.raises(ModelregError, match="could not download the artifact from DVC remote 'registry': .*"
                                                "nothing was written"):
            dvc.pull(root, md5, target)
        assert not target.exists() and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.bin"]
    finally:
        proxy.close()


def test_a_listing_name_reaches_the_error_escaped(tmp_path, monkeypatch):
    """A .dir listing's relpath is artifact text: a control sequence in it must not reach the terminal."""
    name = "sub/a\x1b]0;owned\x07b.bin"
    listing = json.dumps([{"md5": hashlib.md5(b"reviewed").hexdigest(), "relpath": name}]).encode()
    dir_md5 = hashlib.md5(listing).hexdigest() + ".dir"
    client = FakeS3({key_of(dir_md5): listing, key_of(hashlib.md5(b"reviewed").hexdigest()): b"tampered"})
    fake = source(client)
    monkeypatch.setattr(dvc, "_Source", lambda odb: fake)
    with pytest.raises(ModelregError) as caught:
        dvc._fetch_verified(None, dir_md5, tmp_path / "staging", "r", None)
    message = str(caught.value)
    assert "file sub/a\\x1b]0;owned\\x07b.bin of the artifact" in message and "failed verification" in message
    assert "\x1b" not in message and "\x07" not in message


@pytest.mark.parametrize("name", ["../escape.bin", "sub/../../escape.bin", "/etc/escape.bin", ""])
def test_a_listing_name_outside_the_folder_is_refused_and_nothing_is_written(tmp_path, monkeypatch, name):
    data = b"bytes"
    listing = json.dumps([{"md5": hashlib.md5(data).hexdigest(), "relpath": name}]).encode()
    dir_md5 = hashlib.md5(listing).hexdigest() + ".dir"
    fake = source(FakeS3({key_of(dir_md5): listing, key_of(hashlib.md5(data).hexdigest()): data}))
    monkeypatch.setattr(dvc, "_Source", lambda odb: fake)
    (tmp_path / "work").mkdir()
    with pytest.raises(ModelregError, match="the directory listing names an unsafe path"):
        dvc._fetch_verified(None, dir_md5, tmp_path / "work" / "staging", "r", None)
    assert not (tmp_path / "escape.bin").exists() and not (tmp_path / "work" / "escape.bin").exists()
    assert not (tmp_path / "work" / "staging").exists() or not any((tmp_path / "work" / "staging").iterdir())
