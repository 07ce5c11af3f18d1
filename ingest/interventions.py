"""Interventions during a forward pass: the ablations and patches causal tests need.

Hooks replace chosen heads' outputs (the input of each output projection) or
queries (the query projection's output, laid out as the family record says,
ingest.families) at chosen positions. They are registered through the lens's
`hooked` block, so a model is never left patched, and captures taken inside
are never shared with clean ones.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ingest.confirmation import Head
from ingest.families import d_head, projection
from ingest.lens import Hook, ModelLens


@contextmanager
def replaced_head_outputs(lens: ModelLens, heads: list[list[int]], values: Tensor, positions: Tensor) -> Iterator[None]:
    """Within the block, head (layer, h) outputs `values[layer, ..., h]` at each row's position `positions[row]`.

    Args:
        lens: the model to run.
        heads: (layer, head) pairs to replace.
        values: what each replaced head outputs instead: [layer, head, d_head]
            for the same value in every row (a mean, or zeros), or
            [layer, batch, head, d_head] for a value per row (another run's).
        positions: [batch], the position replaced in each row, or a [batch, pos]
            bool mask of every position replaced (with a value shared by all rows).
    """
    n_heads = lens.n_heads

    def replacer(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def replace(_module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            z = inputs[0].clone()  # [batch, pos, head * d_head]
            z = z.reshape(*z.shape[:2], n_heads, -1)  # [batch, pos, head, d_head]
            where = (positions,) if positions.dtype == torch.bool else (torch.arange(z.shape[0]), positions)
            for head in chosen:
                z[(*where, head)] = values[layer, ..., head, :].to(z.device, z.dtype)  # [d_head] or [batch, d_head]
            return (z.reshape(*z.shape[:2], -1), *inputs[1:])

        return replace

    hooks: list[Hook] = [
        (projection(lens.model, layer, "output_projection"), "pre", replacer(layer, chosen))
        for layer, chosen in _by_layer(heads).items()
    ]
    with lens.hooked(hooks):
        yield


def query_columns(lens: ModelLens) -> dict[int, slice]:
    """Per head, the columns of the query projection's output that hold its query."""
    width = d_head(lens.model)
    return {head: lens.family.query_columns(head, width) for head in range(lens.n_heads)}


@contextmanager
def recorded_queries(lens: ModelLens, heads: list[Head], positions: Tensor) -> Iterator[dict[Head, Tensor]]:
    """Yield a dict that a forward pass within the block fills with each head's query at `positions`.

    The query is the query projection's output (before rotary embeddings or
    Gemma's query norm, which depend on nothing a patch changes): [batch, d_head]
    per head, a copy that keeps its autograd graph when gradients are on.
    """
    recorded: dict[Head, Tensor] = {}
    rows = torch.arange(len(positions))
    columns = query_columns(lens)

    def recorder(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def record(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            for head in chosen:
                recorded[(layer, head)] = output[rows, positions, columns[head]].clone()  # [batch, d_head]

        return record

    hooks: list[Hook] = [
        (projection(lens.model, layer, "query_projection"), "post", recorder(layer, chosen))
        for layer, chosen in _by_layer(heads).items()
    ]
    with lens.hooked(hooks, intervening=False):
        yield recorded


@contextmanager
def replaced_queries(lens: ModelLens, values: dict[Head, Tensor], positions: Tensor) -> Iterator[None]:
    """Within the block, each head in `values` queries with `values[head]`, [batch, d_head], at `positions`, [batch]."""
    rows = torch.arange(len(positions))
    columns = query_columns(lens)

    def replacer(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def replace(_module: nn.Module, _inputs: object, output: Tensor) -> Tensor:
            patched = output.clone()  # [batch, pos, query columns]
            for head in chosen:
                patched[rows, positions, columns[head]] = values[(layer, head)].to(patched.device, patched.dtype)
            return patched

        return replace

    hooks: list[Hook] = [
        (projection(lens.model, layer, "query_projection"), "post", replacer(layer, chosen))
        for layer, chosen in _by_layer(values).items()
    ]
    with lens.hooked(hooks):
        yield


def _by_layer(heads: Iterable[Sequence[int]]) -> dict[int, list[int]]:
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    return by_layer
