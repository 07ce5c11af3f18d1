"""Reviewed data files are refused, at the line that is wrong, where the standard parsers would let them through."""

from pathlib import Path

import pytest

from catalog.strict_parsing import ParseError, decode_text, load_json, load_yaml, read_text


def test_a_yaml_key_given_twice_is_refused_naming_both_lines() -> None:
    with pytest.raises(ParseError, match=r"key 'title' is given twice \(first on line 2\)") as error:
        load_yaml("papers:\n  - title: a\n    year: 2022\n    title: b\n")
    assert "line 4" in str(error.value)


def test_a_json_key_given_twice_is_refused() -> None:
    with pytest.raises(ParseError, match="key 'a' is given twice"):
        load_json('{"a": 1, "b": {"c": 2}, "a": 3}')


def test_equal_keys_in_different_mappings_are_accepted() -> None:
    assert load_yaml("- {slug: a}\n- {slug: b}\n") == [{"slug": "a"}, {"slug": "b"}]


def test_an_escaped_control_character_is_refused_with_its_place() -> None:
    with pytest.raises(ParseError, match="control character '\\\\x00'") as error:
        load_yaml('papers:\n  - title: "In-context\\0 learning"\n')
    assert error.value.location == ("papers", 0, "title")
    assert error.value.document == {"papers": [{"title": "In-context\x00 learning"}]}


def test_an_escaped_control_character_in_json_is_refused() -> None:
    with pytest.raises(ParseError, match="control character") as error:
        load_json('[{"label": "name\\u0007mover"}]')
    assert error.value.location == (0, "label")


def test_a_raw_control_character_is_refused_with_line_and_column() -> None:
    with pytest.raises(ParseError, match=r"line 2, column 5: control character '\\x1b'"):
        load_yaml("a: 1\nb: x\x1by\n")


def test_tabs_and_line_ends_are_accepted() -> None:
    assert decode_text(b"a\tb\r\nc\n") == "a\tb\r\nc\n"


def test_invalid_utf8_is_refused_with_its_byte_and_line() -> None:
    with pytest.raises(ParseError, match=r"not UTF-8: byte 6 \(line 2\) is b'\\xff'"):
        decode_text(b"a: 1\nb\xff\n")


def test_an_unreadable_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot be read"):
        read_text(tmp_path / "missing.yaml")
