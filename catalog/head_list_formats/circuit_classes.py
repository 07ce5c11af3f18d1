"""Circuits given as classes of heads (ACDC's IOI_CIRCUIT and greater-than CIRCUIT, auto-circuit's copies).

A JSON object from a class name ("name mover", "s2 inhibition") to its heads
as [layer, head] pairs, 0-based query heads, without scores. The sources write
them as Python dicts of tuples; the reviewed files hold the same as JSON.
"""

import json

from catalog.head_list_formats import FormatError, Grid, HeadListFormat, ListedHead, is_index, parse_json


def read(text: str) -> list[ListedHead]:
    raw = parse_json(text, dict, "an object from class names to [layer, head] pairs")
    return [
        ListedHead(*_pair(label, n, pair), label=label)
        for label, pairs in raw.items()
        for n, pair in _each(label, pairs)
    ]


def _each(label: str, pairs: object) -> list[tuple[int, object]]:
    if not isinstance(pairs, list) or not pairs:
        raise FormatError(f"class {label!r}: expected a non-empty list of [layer, head] pairs")
    return list(enumerate(pairs))


def _pair(label: str, n: int, pair: object) -> tuple[int, int]:
    if not (isinstance(pair, list) and len(pair) == 2 and all(is_index(i) for i in pair)):
        raise FormatError(f"class {label!r}, entry {n}: expected [layer, head] with 0-based indices, found {pair!r}")
    return pair[0], pair[1]


def write(heads: list[ListedHead], grid: Grid) -> str:
    classes: dict[str, list[list[int]]] = {}
    for listed in heads:
        if listed.label is None:
            raise FormatError(f"L{listed.layer}H{listed.head} has no class; every head of a circuit needs one")
        classes.setdefault(listed.label, []).append([listed.layer, listed.head])
    return json.dumps(classes, indent=1)


FORMAT = HeadListFormat("circuit-classes-json", "query-head", False, True, ".json", read, write)
