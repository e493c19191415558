"""views.codeowners: CODEOWNERS text from the registry's owners, machinery lines last."""

from __future__ import annotations

from modelreg.core import document
from modelreg.core.registry import Registry
from modelreg.views.codeowners import HEADER, codeowners_text, first_difference

from conftest import SAMPLE

# the machinery patterns, in the order they must appear (after every model line: the last match wins)
MACHINERY = ["/.github/", "/scripts/", "/pyproject.toml", "/.dvc/", "/dvc.yaml", "/.github/CODEOWNERS"]


def registry(models: dict) -> Registry:
    return Registry({"schema": 1, "models": {name: {"path": path, "owners": owners, "versions": {}}
                                             for name, (path, owners) in models.items()}})


def body(text: str) -> list[str]:
    assert text.startswith(HEADER) and text.endswith("\n")
    return text[len(HEADER):].splitlines()


def test_sample_codeowners():
    everyone = "@alice @acme/ml-leads @carol"
    assert body(codeowners_text(Registry(document.parse(SAMPLE, "r.yaml")[0]))) == [
        f"/models/registry.yaml {everyone}",
        "/models/churn-classifier/model.pkl @alice @acme/ml-leads",
        "/models/churn-classifier/model.pkl.dvc @alice @acme/ml-leads",
        "/models/fraud-detector/model.onnx @carol",
        "/models/fraud-detector/model.onnx.dvc @carol",
        *[f"{pattern} {everyone}" for pattern in MACHINERY],
    ]


def test_registry_line_lists_each_owner_once_in_first_seen_order():
    lines = body(codeowners_text(registry({"b": ("m/b", ["zed", "amy"]), "a": ("m/a", ["amy", "@org/t", "bo"])})))
    assert lines[0] == "/models/registry.yaml @zed @amy @org/t @bo"
    assert lines[1:5] == ["/m/b @zed @amy", "/m/b.dvc @zed @amy", "/m/a @amy @org/t @bo",
                          "/m/a.dvc @amy @org/t @bo"]  # registry order, not sorted


def test_maintainers_own_the_machinery_and_come_last():
    lines = body(codeowners_text(registry({"a": ("m/a", ["x"])}), maintainers=["lead", "@org/admins"]))
    assert lines[:3] == ["/models/registry.yaml @x", "/m/a @x", "/m/a.dvc @x"]
    assert lines[3:] == [f"{pattern} @lead @org/admins" for pattern in MACHINERY]


def test_handles_get_one_at_sign():
    lines = body(codeowners_text(registry({"a": ("m/a", ["alice", "@alice2", "@acme/leads"])})))
    assert lines[1] == "/m/a @alice @alice2 @acme/leads"


def test_slashes_around_paths_are_normalised():
    lines = body(codeowners_text(registry({"a": ("/m/dir/", ["x"])})))
    assert lines[1:3] == ["/m/dir @x", "/m/dir.dvc @x"]


def test_models_without_owners_get_no_lines():
    text = codeowners_text(registry({"a": ("m/a", []), "b": ("m/b", ["x"])}))
    assert "/m/a" not in text and "/m/b @x" in text
    assert codeowners_text(registry({"a": ("m/a", [])})) == HEADER + "\n"  # nobody to name at all


def test_custom_registry_path():
    assert body(codeowners_text(registry({"a": ("m/a", ["x"])}), "config/models.yaml"))[0] == "/config/models.yaml @x"


def test_first_difference():
    assert first_difference("a\nb\nc\n", "a\nB\nc\n") == 2
    assert first_difference("a\nb\n", "a\nb\nc\n") == 3
    assert first_difference("x\n", "y\n") == 1
