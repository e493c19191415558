"""core/blockyaml.py's check of the characters a registry may hold (the reader itself is held to
PyYAML's path in tests/properties/test_block_reader.py)."""

from __future__ import annotations

import re

from modelreg.core import blockyaml

# What a registry the block reader reads may hold, as YAML's printable set less tabs, "\r", the byte
# order mark and the line breaks U+0085, U+2028 and U+2029: the definition the reader's tables must match.
ALLOWED = "\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"


def test_the_pattern_for_unusual_characters_is_the_complement_of_the_allowed_ones_on_every_code_point():
    every = "".join(map(chr, range(0x110000)))
    assert re.findall(blockyaml._UNUSUAL, every) == re.findall(f"[^{ALLOWED}]", every)


def test_every_ascii_character_is_judged_as_the_definition_judges_it():
    for code in range(128):
        character = chr(code)
        assert blockyaml._has_unusual(f"a: b{character}c\n") is (re.fullmatch(f"[{ALLOWED}]", character) is None)


def test_texts_that_are_not_ascii_are_judged_by_the_pattern():
    for character in ["\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\x7f", "\x9f", "\ud800"]:
        assert blockyaml._has_unusual(f"a: é{character}\n")
    for character in ["\xa0", "\u2027", "\u202a", "\ufefe", "\uff00", "\ufffd", "\U00010000", "\U0010ffff"]:
        assert not blockyaml._has_unusual(f"a: é{character}\n")
    assert blockyaml.read("a: é\u2028\n", str, ()) is None
    assert blockyaml.read("a: café\n", str, ()) == {"a": "café"}


def test_a_one_model_document_reads_as_the_model_in_the_whole_file():
    """`show`, `history` and `compare` read the file with the other models' lines emptied: the run of
    empty lines reads as one (one match, not one per line), and the model reads as in the whole file."""
    import sys
    from pathlib import Path

    from modelreg.core import sections, yamlread

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from generate import generate

    text = generate(400)
    whole = blockyaml.read(text, yamlread.plain_typer(), yamlread._IMPLICIT)
    only = sections.one_model_document(text, "model-007")
    assert only is not None and "\n" * 1000 in only
    read = blockyaml.read(only, yamlread.plain_typer(), yamlread._IMPLICIT)
    assert read == {**whole, "models": {"model-007": whole["models"]["model-007"]}}
    assert read == yamlread.load_composed(only, "x")[0]


def test_empty_lines_inside_a_continued_value_are_declined_one_or_many():
    """Collapsing runs of empty lines must not change a value that spans them (PyYAML keeps one line
    break per empty line of a quoted text): any empty line in a continued value is declined."""
    from modelreg.core import yamlread

    for empty in ("\n", "\n\n", "\n\n\n\n"):
        text = f'a: "one\n{empty}  two"\n'
        assert blockyaml.read(text, yamlread.plain_typer(), yamlread._IMPLICIT) is None
        assert "\n" in yamlread.load_composed(text, "x")[0]["a"]
