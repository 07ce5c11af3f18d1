"""Todd et al.'s function-vector heads (ericwtodd/function_vectors).

The source writes them in code (`top_heads` in
src/utils/extract_utils.py, compute_universal_function_vector): per model, a
list of (layer, head, average indirect effect), 0-based query heads, highest
effect first. The reviewed files hold those triples as a JSON array.
"""

import json

from catalog.head_list_formats import FormatError, Grid, HeadListFormat, ListedHead, is_index, is_number, parse_json


def read(text: str) -> list[ListedHead]:
    raw = parse_json(text, list, "an array of [layer, head, effect]")
    return [_triple(n, entry) for n, entry in enumerate(raw)]


def _triple(n: int, entry: object) -> ListedHead:
    if not (isinstance(entry, list) and len(entry) == 3 and all(is_index(i) for i in entry[:2])):
        raise FormatError(f"entry {n}: expected [layer, head, effect] with 0-based indices, found {entry!r}")
    effect = entry[2]
    if not is_number(effect):
        raise FormatError(f"entry {n}: the effect {effect!r} is not a finite number")
    return ListedHead(entry[0], entry[1], score=float(effect))


def write(heads: list[ListedHead], grid: Grid) -> str:
    if any(listed.score is None for listed in heads):
        raise FormatError("every head needs a score (its indirect effect) in this format")
    ranked = sorted(heads, key=lambda listed: -listed.score)  # type: ignore[operator]  # all scored
    return json.dumps([[h.layer, h.head, h.score] for h in ranked])


FORMAT = HeadListFormat("function-vector-triples", "query-head", True, False, ".json", read, write)
