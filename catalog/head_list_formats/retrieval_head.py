"""Wu et al.'s retrieval-head scores (nightdessert/Retrieval_Head, head_score/*.json), also HeadKV's.

A JSON object from "layer-head" (0-based query heads) to the head's score on
each needle test; a head's score is the mean of its list. The reviewed files
keep one mean per head (a one-element list), which the same reader reads.
HeadKV's reader takes the file's order as the index, so heads are written
layer by layer.
"""

import json

from catalog.head_list_formats import (
    FormatError,
    Grid,
    HeadListFormat,
    ListedHead,
    head_pair,
    is_number,
    parse_json,
    sorted_heads,
)


def read(text: str) -> list[ListedHead]:
    raw = parse_json(text, dict, "an object from 'layer-head' to scores")
    return [ListedHead(*head_pair(key, f"key {key!r}"), score=_mean(key, scores)) for key, scores in raw.items()]


def _mean(key: str, scores: object) -> float:
    values = scores if isinstance(scores, list) else [scores]
    if not values or not all(is_number(v) for v in values):
        raise FormatError(f"key {key!r}: expected a non-empty list of finite numbers, found {scores!r}")
    return sum(values) / len(values)


def write(heads: list[ListedHead], grid: Grid) -> str:
    if any(listed.score is None for listed in heads):
        raise FormatError("every head needs a score in this format")
    return json.dumps({f"{h.layer}-{h.head}": [h.score] for h in sorted_heads(heads)})


FORMAT = HeadListFormat("retrieval-head-json", "query-head", True, False, ".json", read, write)
