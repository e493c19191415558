"""The follower thread cannot die silently: whatever the registry text or an artifact throws at it, it
reports the error on /healthz and /metrics, keeps the old version serving, and applies later changes."""

from __future__ import annotations

import time

import pytest
from conftest import SAMPLE
from serving_support import Client, running

MODEL = "churn-classifier"
PROMOTED = SAMPLE.replace("production: v1.2.0", "production: v1.3.0")
NESTED = "models: " + "[" * 500 + "]" * 500


class Model:
    def __init__(self, version: str):
        self.version = version

    def predict(self, rows):
        return [0 for _ in rows]


def loader(answer):
    return Model(answer.version)


def wait(condition, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no text for you")


def _raise(error: BaseException):
    def resolve(*args, **kwargs):
        raise error
    return resolve


@pytest.fixture
def following(tmp_path):
    """A registry file, a table following it in a running thread, and the HTTP app over them."""
    from modelreg.serving.app import create_app
    from modelreg.serving.models import Follower, ModelTable
    from modelreg.serving.sources import FileSource

    path = tmp_path / "registry.yaml"
    path.write_text(SAMPLE)
    source = FileSource(path)
    table = ModelTable([MODEL], "production", "registry.yaml", loader)
    text = source.poll()
    table.update(text)
    follower = Follower(table, source, interval=0.02, text=text)
    follower.start()
    with running(create_app(table, follower)) as url, Client(url) as client:
        yield path, table, follower, client
    follower.stop()


def served(client) -> str:
    return client.get(f"/models/{MODEL}").json()["version"]


@pytest.mark.parametrize("breaker", ["nested-brackets", "RecursionError", "MemoryError", "SystemExit",
                                     "unprintable", "KeyError"])
def test_a_registry_that_breaks_the_reader_degrades_and_a_later_promotion_still_applies(following, monkeypatch,
                                                                                         breaker):
    from modelreg.serving import models

    path, _, follower, client = following
    assert served(client) == "v1.2.0" and client.get("/healthz").json()["status"] == "ok"
    if breaker != "nested-brackets":  # whatever the YAML reader does with it, resolve itself may throw anything
        real = models.resolve
        error = {"RecursionError": RecursionError("maximum recursion depth exceeded"),
                 "MemoryError": MemoryError(), "SystemExit": SystemExit(3), "unprintable": Unprintable(),
                 "KeyError": KeyError("versions")}[breaker]
        monkeypatch.setattr(models, "resolve", lambda text, *a, **k: _raise(error)() if text == NESTED
                            else real(text, *a, **k))
    path.write_text(NESTED)
    health = wait(lambda: (h := client.get("/healthz").json())["status"] == "degraded" and h, "degraded")
    assert health["models"][MODEL]["version"] == "v1.2.0"  # the old version keeps serving
    assert health["models"][MODEL]["last_error"].startswith("cannot ")
    assert health["follower"]["running"] and health["follower"]["errors"] >= 1
    metrics = client.get("/metrics").text
    assert f'modelreg_last_update_failed{{model="{MODEL}"}} 1.0' in metrics
    assert "modelreg_follower_last_update_failed 1.0" in metrics and "modelreg_follower_up 1.0" in metrics
    errors = float(next(line.split()[1] for line in metrics.splitlines()
                        if line.startswith("modelreg_follower_errors ")))
    assert errors >= 1
    assert client.post(f"/models/{MODEL}/predict", json={"rows": [[1.0]]}).json()["version"] == "v1.2.0"

    path.write_text(PROMOTED)
    wait(lambda: served(client) == "v1.3.0", "the promotion after the bad text")
    health = wait(lambda: (h := client.get("/healthz").json())["status"] == "ok" and h, "ok again")
    assert health["models"][MODEL]["last_error"] is None and follower.running
    assert "modelreg_follower_last_update_failed 0.0" in client.get("/metrics").text
    path.write_text(SAMPLE)  # and a rollback after it
    wait(lambda: served(client) == "v1.2.0", "the rollback")


def test_the_nested_text_is_reported_with_its_error(following):
    path, _, _, client = following
    path.write_text(NESTED)
    health = wait(lambda: (h := client.get("/healthz").json())["status"] == "degraded" and h, "degraded")
    error = health["models"][MODEL]["last_error"]
    assert error.startswith("cannot ") and len(error) < 1100  # the reader's complaint, whatever it is
    assert "\n" not in error


def test_a_failure_is_retried_on_the_next_poll_though_the_source_has_not_changed(monkeypatch):
    from modelreg.serving import models
    from modelreg.serving.models import Follower, ModelTable

    class Fixed:
        name = "fixed"

        def __init__(self):
            self.texts = [PROMOTED]

        def poll(self):
            return self.texts.pop() if self.texts else None  # the text once, then "unchanged"

    real, calls = models.resolve, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError()
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "resolve", flaky)
    table = ModelTable([MODEL], "production", "registry.yaml", loader)
    follower = Follower(table, Fixed(), interval=60)
    assert follower.poll_once() == [] and table.get(MODEL) is None
    assert "MemoryError" in table.status[MODEL].last_error
    assert follower.poll_once() == [f"{MODEL} - -> v1.3.0"]  # unchanged source, tried again
    assert table.status[MODEL].last_error is None and table.status[MODEL].errors == 1


def test_a_loader_that_raises_systemexit_does_not_stop_the_follower(following, monkeypatch):
    path, table, follower, client = following

    def exiting(answer):
        if answer.version == "v1.3.0":
            raise SystemExit("an unpickled object called sys.exit()")
        return Model(answer.version)

    table.loader = exiting
    path.write_text(PROMOTED)
    health = wait(lambda: (h := client.get("/healthz").json())["status"] == "degraded" and h, "degraded")
    assert "SystemExit" in health["models"][MODEL]["last_error"] and follower.running
    path.write_text(SAMPLE.replace("production: v1.2.0", "production: v1.0.0"))
    wait(lambda: served(client) == "v1.0.0", "the next promotion")


def test_the_thread_survives_whatever_escapes_a_poll(following, monkeypatch):
    path, table, follower, client = following

    def broken(text):
        raise SystemExit("escaped")

    monkeypatch.setattr(table, "update", broken)
    path.write_text(PROMOTED)
    health = wait(lambda: (h := client.get("/healthz").json())["status"] == "degraded" and h, "degraded")
    assert "SystemExit" in health["follower"]["last_error"] and follower.running
    monkeypatch.undo()
    wait(lambda: served(client) == "v1.3.0", "the promotion once update works again")
    assert client.get("/healthz").json()["status"] == "ok"


def test_an_unreadable_source_stays_reported_until_it_changes(tmp_path):
    from modelreg.serving.models import Follower, ModelTable
    from modelreg.serving.sources import FileSource

    path = tmp_path / "registry.yaml"
    path.write_text(SAMPLE)
    table = ModelTable([MODEL], "production", "registry.yaml", loader)
    follower = Follower(table, FileSource(path), interval=60)
    assert follower.poll_once() == [f"{MODEL} - -> v1.2.0"]
    path.write_bytes(b"schema: 1\nmodels: \xff\xfe\n")
    follower.poll_once()
    assert "UnicodeDecodeError" in follower.last_poll_error
    follower.poll_once()  # the same bytes: still an error, not an "unchanged" that hides it
    assert follower.last_poll_error is not None
    path.write_text(PROMOTED)
    assert follower.poll_once() == [f"{MODEL} v1.2.0 -> v1.3.0"] and follower.last_poll_error is None


def test_describe_is_one_bounded_line():
    from modelreg.serving.models import describe

    assert describe(ValueError("a\nb\x1b[31m")) == "ValueError: a\\nb\\x1b[31m"
    assert describe(Unprintable()) == "Unprintable"
    assert len(describe(ValueError("x" * 100_000))) == 1003
    assert describe(MemoryError()) == "MemoryError"
