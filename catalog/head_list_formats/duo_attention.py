"""DuoAttention's gates (mit-han-lab/duo-attention, attn_patterns/*/full_attention_heads.tsv).

Tab-separated, one row per layer and one column per KV head (0-based by
position), each value the trained gate: near 1 for a head that needs the whole
cache (a retrieval head), near 0 for one that needs only the sink and recent
tokens (a streaming head). Written with numpy's `%.18e`, as its own
`np.savetxt` does; DuoAttention and kvpress read it with `np.loadtxt(...,
delimiter="\\t")` and clip to [0, 1]. Every KV head has a value, so a head not
given is written as 0, a streaming head.
"""

import math

from catalog.head_list_formats import FormatError, Grid, HeadListFormat, ListedHead


def read(text: str) -> list[ListedHead]:
    rows = [line.split("\t") for line in text.splitlines() if line.strip()]
    if not rows:
        raise FormatError("no rows: expected one tab-separated row of gates per layer")
    heads = []
    for layer, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise FormatError(f"row {layer}: {len(row)} values, but row 0 has {len(rows[0])}")
        heads.extend(ListedHead(layer, head, score=_gate(layer, head, value)) for head, value in enumerate(row))
    return heads


def _gate(layer: int, head: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise FormatError(f"row {layer}, column {head}: {text!r} is not a number") from error
    if not math.isfinite(value):
        raise FormatError(f"row {layer}, column {head}: {text!r} is not finite")
    return value


def write(heads: list[ListedHead], grid: Grid) -> str:
    gates = [[0.0] * grid.n_heads for _ in range(grid.n_layers)]
    for listed in heads:
        if not (0 <= listed.layer < grid.n_layers and 0 <= listed.head < grid.n_heads):
            raise FormatError(f"L{listed.layer} KV head {listed.head} is outside {grid.n_layers} x {grid.n_heads}")
        gates[listed.layer][listed.head] = 0.0 if listed.score is None else listed.score
    return "".join("\t".join(f"{value:.18e}" for value in row) + "\n" for row in gates)


# DuoAttention gives a head its full cache when its gate is above 0.5 (duo_attn/patch/llama.py at fe93c31, line 187).
FORMAT = HeadListFormat("duo-attention-tsv", "kv-head", True, False, ".tsv", read, write, counted_above=0.5)
