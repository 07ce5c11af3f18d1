"""Published head-list formats, read and written as the tools that publish them do.

Each module is one format: `read` turns a file's text into the heads it lists,
in the file's own convention (its unit, query head or KV head, and 0-based
indices), and `write` turns heads back into that text, so that a list exported
from the catalog loads in the tool that reads the format and re-imports as the
same heads. The knowledge loader reads datasets with them (ingest), and the
exports write with them (cli, api): they know nothing of either.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from catalog.strict_parsing import ParseError, load_json

Unit = Literal["query-head", "kv-head"]
Parsed = TypeVar("Parsed", dict, list)  # type: ignore[type-arg]


class FormatError(ValueError):
    """A file does not follow its format; the message names the entry and what is wrong with it."""


@dataclass(frozen=True)
class ListedHead:
    """One head as a list gives it: 0-based, in the list's unit."""

    layer: int
    head: int
    score: float | None = None
    label: str | None = None  # the head's class inside the list (a circuit's "name mover"), when it has classes


@dataclass(frozen=True)
class Grid:
    """The shape a format writes into: layers, and heads of the format's unit per layer."""

    n_layers: int
    n_heads: int
    hub_id: str | None = None  # formats that name their model write it


@dataclass(frozen=True)
class HeadListFormat:
    name: str
    unit: Unit
    scored: bool  # whether every head it lists carries a score
    labelled: bool  # whether heads carry classes
    suffix: str
    read: Callable[[str], list[ListedHead]]
    write: Callable[[list[ListedHead], Grid], str]
    counted_above: float | None = None  # where the source itself counts a head as the type: a score above this


def head_pair(text: str, where: str) -> tuple[int, int]:
    """'16-19' as (16, 19); anything else is a FormatError naming `where`."""
    layer, dash, head = text.strip().partition("-")
    if not (dash and layer.isdigit() and head.isdigit()):
        raise FormatError(f"{where}: {text!r} is not of the form layer-head (e.g. 16-19)")
    return int(layer), int(head)


def parse_json(text: str, expected: type[Parsed], what: str) -> Parsed:
    """The JSON value of `text`, which must be a `expected` (dict or list); `what` says what it should hold."""
    try:
        raw = load_json(text)
    except ParseError as error:
        raise FormatError(describe_parse_error(error)) from error
    if not isinstance(raw, expected):
        raise FormatError(f"expected {what}, found {type(raw).__name__}")
    return raw


def describe_parse_error(error: ParseError) -> str:
    """The parser's message, led by where in the document it is."""
    where = " > ".join(map(str, error.location))
    return f"at {where}: {error}" if where else str(error)


def is_number(value: object) -> bool:
    """A finite int or float; JSON's true and false are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_index(value: object) -> bool:
    """A 0-based layer or head index."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def sorted_heads(heads: list[ListedHead]) -> list[ListedHead]:
    """Layer by layer, head by head: some readers take a file's order as its index."""
    return sorted(heads, key=lambda listed: (listed.layer, listed.head))


def to_kv_heads(heads: list[ListedHead], n_heads: int, n_kv_heads: int) -> list[ListedHead]:
    """Query heads as the KV heads they read, each at the largest score of its group (None when none has one)."""
    group = n_heads // n_kv_heads
    best: dict[tuple[int, int], float | None] = {}
    for h in heads:
        key = (h.layer, h.head // group)
        scores = [s for s in (best.get(key), h.score) if s is not None]
        best[key] = max(scores) if scores else None
    return [ListedHead(layer, kv, score) for (layer, kv), score in sorted(best.items())]


def to_query_heads(heads: list[ListedHead], n_heads: int, n_kv_heads: int) -> list[ListedHead]:
    """KV heads as every query head of their group, each with the KV head's score."""
    group = n_heads // n_kv_heads
    return [ListedHead(h.layer, h.head * group + q, h.score, h.label) for h in heads for q in range(group)]


def registered() -> dict[str, HeadListFormat]:
    from catalog.head_list_formats import circuit_classes, duo_attention, function_vectors, qrhead, retrieval_head

    formats = (retrieval_head.FORMAT, duo_attention.FORMAT, qrhead.FORMAT, function_vectors.FORMAT)
    return {f.name: f for f in (*formats, circuit_classes.FORMAT)}
