import pytest
import yaml

from modelreg.core import positions, yamlread
from modelreg.core.problems import ModelregError


def load(text):
    return yamlread.load(text, "f.yaml")[0]


def problem(text):
    with pytest.raises(ModelregError) as info:
        load(text)
    return info.value.problems[0]


def test_plain_types_match_pyyaml_except_timestamps():
    text = ("a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 0x10\ng: 010\nh: 1_000\ni: .inf\nj: 'x'\nk: v1.2.0\n"
            "l: [1, two]\nm: {n: no}\no: 2026-11-26T10:04:00Z\np: 2026-11-26\nq:\n")
    data = load(text)
    reference = yaml.safe_load(text)
    assert data["o"] == "2026-11-26T10:04:00Z" and data["p"] == "2026-11-26"
    for key in "abcdefghijklmq":
        assert data[key] == reference[key], key
    assert type(data["a"]) is int and type(data["b"]) is float and data["c"] is True


def test_duplicate_key_names_both_lines():
    found = problem("models:\n  a: 1\n  b: 2\n  a: 3\n")
    assert (found.line, found.column) == (4, 3)
    assert "duplicate key 'a'" in found.message and "line 2" in found.message


def test_alias_is_refused():
    found = problem("a: &x {b: 1}\nc: *x\n")
    assert found.line == 2 and "aliases" in found.message


def test_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    found = problem("\n".join(lines) + "\n")
    assert "aliases" in found.message


def test_python_object_tag_is_refused():
    found = problem("a: !!python/object/apply:os.system ['echo hacked']\n")
    assert found.line == 1 and "tag" in found.message


def test_custom_tag_is_refused():
    assert "tag" in problem("a: !secret x\n").message


def test_merge_key_is_refused():
    assert "merge keys" in problem("base: {x: 1}\nother:\n  <<: {y: 2}\n").message


def test_syntax_error_has_line_and_column():
    found = problem("models:\n  a: [1, 2\n  b: 3\n")
    assert found.line is not None and found.line >= 2 and "not valid YAML" in found.message


def test_under_indented_continuation_is_refused():
    found = problem('models:\n  a:\n    notes: "one\n  b: two"\n')
    assert found.line == 4 and "indented" in found.message


def test_indented_continuation_is_fine():
    assert load('a:\n  notes: "one\n    two"\n') == {"a": {"notes": "one two"}}


def test_line_offset_is_applied():
    with pytest.raises(ModelregError) as info:
        yamlread.load("a: 1\na: 2\n", "f.yaml", line_offset=10)
    assert info.value.problems[0].line == 12


def test_locate_points_at_values_and_keys():
    text = "models:\n  m:\n    stages:\n      production: v1.0.0\n"
    _, root = yamlread.load(text, "f")
    assert positions.locate(root, ("models", "m", "stages", "production")) == (4, 19)
    assert positions.locate(root, ("models", "m", "stages", "production"), key=True) == (4, 7)
    assert positions.locate(root, ("models", "m", "missing")) == (3, 5)


def test_a_refused_character_is_placed_by_bytes_from_libyaml_and_by_characters_from_pure_python(monkeypatch):
    text = "a: é\nb: x\x01y\n"
    for loader in (yaml.CSafeLoader, yaml.SafeLoader):
        with pytest.raises(yaml.reader.ReaderError) as info:
            yaml.compose(text, Loader=loader)
        monkeypatch.setattr(yamlread, "_BaseLoader", loader)
        found = yamlread._reader_problem(text, info.value, "f.yaml", 0)
        assert (found.line, found.column) == (2, 5), loader


@pytest.mark.parametrize("keys, first", [(".nan, .NaN", 1), ("1, 0x1, true", 1), ("x, 1.0, 1", 2)])
def test_duplicate_keys_are_the_dicts_duplicates_with_the_first_line(keys, first):
    """PyYAML makes every .nan the same object, so two .nan keys are one dict key: refused like 1 and 0x1."""
    text = "".join(f"{key}: {number}\n" for number, key in enumerate(keys.split(", ")))
    found = problem(text)
    assert "duplicate key" in found.message and f"(first defined on line {first})" in found.message


@pytest.mark.parametrize("text", ["a: |\n  x\nb: 1\n", "a: >\n  x\n  y\n\nb: 1\n", "a:\n- |+\n  x\n\n- 2\n",
                                  "a: |-\n  x\n  y\nb: 1"])
def test_a_key_after_a_block_scalar_is_not_a_continuation(text):
    assert yamlread.load(text, "f")[0] == yaml.safe_load(text)


def test_a_quoted_value_continued_at_its_keys_indentation_is_still_refused():
    with pytest.raises(ModelregError):
        yamlread.load("a:\n  b: \"x\n y\"\n", "f")
