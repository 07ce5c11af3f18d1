"""Many interventions at the answer position in one forward pass: the answer token, branched.

An intervention made only at each row's answer position changes nothing
before that position, and the answer's logits read nothing after it. So k
interventions need not cost k passes: the prompt up to the answer runs once,
followed by k copies of the answer token, each seeing the prompt and itself
(a 4D attention mask) at the answer's own position id, and each under its own
intervention. Copy j's logits are then exactly those of a pass made under
intervention j alone, up to float rounding, on every family whose attention
takes a prepared 4D mask (all of ingest.families; checked on each in the
tests). A model with a sliding window is branched only where the prompt fits
in the window, since a prepared mask replaces the window's own.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ingest.capture import final_hidden, logits_of
from ingest.confirmation import Head
from ingest.families import projection
from ingest.lens import Hook, ModelLens


@dataclass(frozen=True)
class Branched:
    """A batch of prompts cut before the answer, then `branches` copies of each row's answer token."""

    input_ids: Tensor  # [batch, first + branches]
    attention_mask: Tensor  # [batch, 1, first + branches, first + branches], additive (0 or the dtype's minimum)
    position_ids: Tensor  # [batch, first + branches]: the prompt's own positions; every copy at the answer's
    first: int  # where the copies start: the longest prompt before its answer
    branches: int


def branched(
    input_ids: Tensor, attention_mask: Tensor, answer_at: Tensor, branches: int, *, dtype: torch.dtype
) -> Branched:
    """The prompts up to each row's answer, then `branches` copies of the answer token, each blind to the others.

    Args:
        input_ids: [batch, pos] token ids.
        attention_mask: [batch, pos], 1 for real tokens.
        answer_at: [batch], the position whose logits are read.
        branches: how many copies of the answer token.
        dtype: the model's dtype, for the additive mask.
    """
    batch = input_ids.shape[0]
    first = int(answer_at.max())
    width = first + branches
    rows = torch.arange(batch)
    key = torch.arange(width)
    real = F.pad(attention_mask[:, :first], (0, branches)).bool()  # [batch, key]
    before_answer = (key[None, :] < answer_at[:, None]) & real  # [batch, key]
    causal = key[None, :] <= key[:, None]  # [query, key]
    visible = causal[None] & before_answer[:, None, :]  # prompt queries see their own prompt's keys
    visible[:, first:, :first] = before_answer[:, None, :first]  # each copy sees the prompt before the answer
    visible[:, key, key] = True  # and itself (padding too, so that no row of the mask is empty)
    visible[:, first:, first:] = torch.eye(branches, dtype=torch.bool)
    tokens = F.pad(input_ids[:, :first], (0, branches))
    tokens[:, first:] = input_ids[rows, answer_at][:, None]
    positions = key.repeat(batch, 1)
    positions[:, first:] = answer_at[:, None]
    mask = torch.zeros(visible.shape, dtype=dtype).masked_fill(~visible, torch.finfo(dtype).min)
    return Branched(tokens, mask[:, None], positions, first, branches)


@contextmanager
def mean_ablated_branches(lens: ModelLens, sets: list[list[Head]], means: Tensor, first: int) -> Iterator[None]:
    """Within the block, branch j (position first + j) has the heads of `sets[j]` output `means[layer, head]`."""
    chosen = torch.zeros(lens.n_layers, len(sets), lens.n_heads, dtype=torch.bool)  # [layer, branch, head]
    for branch, heads in enumerate(sets):
        for layer, head in heads:
            chosen[layer, branch, head] = True

    def ablater(layer: int) -> Callable[..., tuple[Tensor, ...]]:
        def ablate(_module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            z = inputs[0].clone()  # [batch, pos, head * d_head]
            z = z.reshape(*z.shape[:2], lens.n_heads, -1)  # [batch, pos, head, d_head]
            where = chosen[layer].to(z.device)[None, :, :, None]  # [1, branch, head, 1]
            z[:, first:] = torch.where(where, means[layer].to(z.device, z.dtype), z[:, first:])
            return (z.reshape(*z.shape[:2], -1), *inputs[1:])

        return ablate

    hooks: list[Hook] = [
        (projection(lens.model, layer, "output_projection"), "pre", ablater(layer))
        for layer in range(lens.n_layers)
        if chosen[layer].any()
    ]
    with lens.hooked(hooks):
        yield


@torch.no_grad()
def metric_by_branch(lens: ModelLens, prompts: Branched, metric: Callable[[Tensor], Tensor]) -> Tensor:
    """[branch, batch]: `metric` of each copy's logits [batch, vocab], all copies from one pass."""
    window = getattr(lens.model.config, "sliding_window", None)
    if window is not None and getattr(lens.model.config, "use_sliding_window", True) and prompts.first >= window:
        raise ValueError(f"prompts of {prompts.first} tokens do not fit this model's sliding window of {window}")
    hidden = final_hidden(
        lens,
        input_ids=prompts.input_ids,
        attention_mask=prompts.attention_mask,
        position_ids=prompts.position_ids,
        use_cache=False,
    )  # [batch, first + branches, d_model]
    return torch.stack(
        [metric(logits_of(lens, hidden[:, prompts.first + branch])) for branch in range(prompts.branches)]
    )
