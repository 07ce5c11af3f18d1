"""Interventions during a forward pass: the ablations and patches causal tests need.

Hooks replace chosen heads' outputs (the input of each output projection) or
queries (the query projection's output, laid out per family in
ingest.capture.ARCHITECTURES) at chosen positions, or stop a forward pass once
the part that matters has run; hooks are removed on exit, so a model is never
left patched.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from ingest.capture import architecture, attention_modules, output_projection_weight
from ingest.confirmation import Head


@contextmanager
def replaced_head_outputs(
    model: PreTrainedModel, heads: list[list[int]], values: Tensor, positions: Tensor
) -> Iterator[None]:
    """Within the block, head (layer, h) outputs `values[layer, ..., h]` at each row's position `positions[row]`.

    Args:
        model: the model to run.
        heads: (layer, head) pairs to replace.
        values: what each replaced head outputs instead: [layer, head, d_head]
            for the same value in every row (a mean, or zeros), or
            [layer, batch, head, d_head] for a value per row (another run's).
        positions: [batch], the position replaced in each row, or a [batch, pos]
            bool mask of every position replaced (with a value shared by all rows).
    """
    n_heads = model.config.num_attention_heads
    modules = attention_modules(model)
    projection = architecture(model).output_projection

    def replacer(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def replace(_module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            z = inputs[0].clone()  # [batch, pos, head * d_head]
            z = z.reshape(*z.shape[:2], n_heads, -1)  # [batch, pos, head, d_head]
            where = (positions,) if positions.dtype == torch.bool else (torch.arange(z.shape[0]), positions)
            for head in chosen:
                z[(*where, head)] = values[layer, ..., head, :].to(z.dtype)  # [d_head] or [batch, d_head]
            return (z.reshape(*z.shape[:2], -1), *inputs[1:])

        return replace

    handles = [
        getattr(modules[layer], projection).register_forward_pre_hook(replacer(layer, chosen))
        for layer, chosen in _by_layer(heads).items()
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def d_head(model: PreTrainedModel) -> int:
    """Width of one head's query and output (Gemma's head_dim need not be d_model / n_heads)."""
    return output_projection_weight(model, 0).shape[1] // model.config.num_attention_heads


def query_columns(model: PreTrainedModel, head: int) -> slice:
    """The columns of the query projection's output that hold `head`'s query, whatever the family's layout."""
    width = d_head(model)
    start = head * architecture(model).query_stride * width
    return slice(start, start + width)


def _query_projections(model: PreTrainedModel) -> list[nn.Module]:
    name = architecture(model).query_projection
    return [getattr(module, name) for module in attention_modules(model)]


@contextmanager
def recorded_queries(model: PreTrainedModel, heads: list[Head], positions: Tensor) -> Iterator[dict[Head, Tensor]]:
    """Yield a dict that a forward pass within the block fills with each head's query at `positions`.

    The query is the query projection's output (before rotary embeddings or
    Gemma's query norm, which depend on nothing a patch changes): [batch, d_head]
    per head, a copy that keeps its autograd graph when gradients are on.
    """
    recorded: dict[Head, Tensor] = {}
    rows = torch.arange(len(positions))
    columns = {head: query_columns(model, head) for head in range(model.config.num_attention_heads)}

    def recorder(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def record(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            for head in chosen:
                recorded[(layer, head)] = output[rows, positions, columns[head]].clone()  # [batch, d_head]

        return record

    by_layer = _by_layer(heads)
    projections = _query_projections(model)
    handles = [projections[layer].register_forward_hook(recorder(layer, chosen)) for layer, chosen in by_layer.items()]
    try:
        yield recorded
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def replaced_queries(model: PreTrainedModel, values: dict[Head, Tensor], positions: Tensor) -> Iterator[None]:
    """Within the block, each head in `values` queries with `values[head]`, [batch, d_head], at `positions`, [batch]."""
    rows = torch.arange(len(positions))
    columns = {head: query_columns(model, head) for head in range(model.config.num_attention_heads)}

    def replacer(layer: int, chosen: list[int]):  # type: ignore[no-untyped-def]
        def replace(_module: nn.Module, _inputs: object, output: Tensor) -> Tensor:
            patched = output.clone()  # [batch, pos, query columns]
            for head in chosen:
                patched[rows, positions, columns[head]] = values[(layer, head)].to(patched.dtype)
            return patched

        return replace

    projections = _query_projections(model)
    handles = [
        projections[layer].register_forward_hook(replacer(layer, chosen)) for layer, chosen in _by_layer(values).items()
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


class _Stopped(Exception):
    """Raised by a hook to end a forward pass early; carries what the hook read."""

    def __init__(self, value: Tensor) -> None:
        super().__init__("forward pass stopped")
        self.value = value


def forward_until(model: PreTrainedModel, module: nn.Module, **inputs: object) -> Tensor:
    """Run the model on `inputs` until `module` is called, and return that call's first input.

    What comes after is never computed: a pass that needs only the queries of
    some layer, or the final residual before a large unembedding, costs only
    what it reads. Raises RuntimeError if the module is never called.
    """

    def stop(_module: nn.Module, args: tuple[Tensor, ...]) -> None:
        raise _Stopped(args[0])

    handle = module.register_forward_pre_hook(stop)
    try:
        model(**inputs)
    except _Stopped as stopped:
        return stopped.value
    finally:
        handle.remove()
    raise RuntimeError(f"The forward pass never reached {type(module).__name__}")


def _by_layer(heads: Iterable[Sequence[int]]) -> dict[int, list[int]]:
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    return by_layer
