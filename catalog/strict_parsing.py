"""Text, YAML and JSON readers that refuse what the standard ones let through.

`yaml.safe_load` keeps the last of two equal keys, `json.loads` too, and both
pass on escaped control characters (a NUL that SQLite stores and PostgreSQL
refuses). Reviewed data files go through these instead, so that such a file is
refused at the line that is wrong, before anything reaches the catalog.
"""

import json
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

# C0 and C1 control characters, bar tab, line feed and carriage return.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

Location = tuple[int | str, ...]  # keys and list indices from the top of a parsed document


class ParseError(ValueError):
    """Text that must not be read; `location` is where in the parsed `document`, when it was parsed."""

    def __init__(self, message: str, location: Location = (), document: Any = None) -> None:
        super().__init__(message)
        self.location = location
        self.document = document


def read_text(path: Path) -> str:
    """A file's text: UTF-8 without control characters, or a ParseError saying where it is not."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot be read: {error.strerror or error}") from error
    return decode_text(data)


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ParseError(
            f"not UTF-8: byte {error.start} (line {line}) is {data[error.start : error.start + 1]!r}"
        ) from error
    check_characters(text)
    return text


def check_characters(text: str) -> None:
    match = CONTROL_CHARACTER.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        raise ParseError(f"line {line}, column {column}: control character {match.group()!r} is not allowed")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with a key given twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if not isinstance(key, str | int | float | bool | None):
                continue  # unhashable keys are refused by SafeLoader itself
            if key in first_lines:
                raise ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {first_lines[key]})", key_node.start_mark
                )
            first_lines[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """YAML with unique keys and no control characters, raw or escaped."""
    check_characters(text)
    try:
        value = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise ParseError(f"not valid YAML: {where}{problem}") from error
    except yaml.YAMLError as error:
        raise ParseError(f"not valid YAML: {error}") from error
    return _with_clean_strings(value)


def load_json(text: str) -> Any:
    """JSON with unique keys and no control characters, raw or escaped."""
    check_characters(text)
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as error:
        raise ParseError(f"not valid JSON: {error}") from error
    return _with_clean_strings(value)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ParseError(f"not valid JSON: key {key!r} is given twice in one object")
        mapping[key] = value
    return mapping


def _with_clean_strings(document: Any) -> Any:
    try:
        check_strings(document)
    except ParseError as error:
        raise ParseError(str(error), error.location, document) from None
    return document


def check_strings(value: Any, location: Location = ()) -> None:
    """Refuse a control character in any key or string of a parsed document, naming where it is."""
    if isinstance(value, str):
        match = CONTROL_CHARACTER.search(value)
        if match:
            raise ParseError(f"control character {match.group()!r} is not allowed", location)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, location)
            check_strings(item, (*location, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_strings(item, (*location, index))
