"""Attribute an answer to heads: direct logit attribution and attribution patching.

Direct logit attribution (Wang et al. 2022, Section 3.1; Elhage et al. 2021)
reads a head's write at the answer position straight through the unembedding,
with the final norm's scale frozen at its value in the clean run.

Attribution patching (Nanda 2023; Syed et al. 2023) estimates what activation
patching a head's output would do to a metric, for every head at once, by a
first-order expansion: effect ≈ (z_patched - z_clean) · d metric / d z_clean.
One forward and one backward pass stand in for one patched pass per head,
which is what makes causal tests fit a 2-core CPU.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ingest.capture import Captured, final_hidden, logits_of
from ingest.families import output_projection_weight, projection
from ingest.lens import Hook, ModelLens

# Per-row metric of the logits at each row's answer position: [batch, vocab] -> [batch].
Metric = Callable[[Tensor], Tensor]


def token_directions(lens: ModelLens, targets: Tensor, foils: Tensor | None = None) -> Tensor:
    """Readout directions of target tokens, minus their foils': [batch] ids -> [batch, d_model]."""
    directions = lens.unembedding[targets]  # [batch, d_model]
    return directions if foils is None else directions - lens.unembedding[foils]


def head_writes_at_answer(
    lens: ModelLens, captured: Captured, answer_at: Tensor, parts: Tensor | None = None
) -> Tensor:
    """Each head's write to the residual stream at each row's answer position: [layer, batch, head, d_model].

    Args:
        parts: [layer, batch, head, d_head], a part of each head's output to
            write instead of the whole (e.g. what it reads from one position);
            a norm on the attention output keeps the scale of the whole.
    """
    at_answer = captured.outputs_at(answer_at)  # [layer, batch, head, d_head]
    writes = []
    for layer, z in enumerate(at_answer):  # z: [batch, head, d_head]
        weight = output_projection_weight(lens.model, layer).cpu()  # [d_model, head * d_head]
        weight = weight.reshape(weight.shape[0], captured.n_heads, -1)  # [d_model, head, d_head]
        whole = torch.einsum("bhd,mhd->bhm", z, weight)  # [batch, head, d_model]
        part = whole if parts is None else torch.einsum("bhd,mhd->bhm", parts[layer], weight)
        writes.append(_through_post_attention_norm(lens, layer, part, whole))
    return torch.stack(writes)  # [layer, batch, head, d_model]


def _through_post_attention_norm(lens: ModelLens, layer: int, write: Tensor, whole: Tensor) -> Tensor:
    """Gemma normalises the attention output before adding it: apply that norm's gain and its frozen scale."""
    norm = lens.post_attention_norm(layer)
    if norm is None:
        return write
    gain, eps = norm
    total = whole.sum(dim=1)  # [batch, d_model]: the attention output (Gemma's o_proj has no bias)
    scale = (total.pow(2).mean(-1) + eps).sqrt()  # [batch]
    return write * gain / scale[:, None, None]  # [batch, head, d_model]


def direct_effects(
    lens: ModelLens, captured: Captured, answer_at: Tensor, directions: Tensor, parts: Tensor | None = None
) -> Tensor:
    """Each head's direct effect on the logit (difference) along `directions`: [layer, batch, head].

    `captured` must come from a capture with `answer_at`, which keeps the final
    norm's input there, and keep the answer's query rows; `parts` as in
    head_writes_at_answer.
    """
    if captured.final_residual is None:
        raise ValueError("Direct effects need the final residual; capture with answer_at")
    writes = head_writes_at_answer(lens, captured, answer_at, parts)  # [layer, batch, head, d_model]
    residual = captured.final_residual  # [batch, d_model]
    if lens.centred_norm:
        writes = writes - writes.mean(-1, keepdim=True)
        residual = residual - residual.mean(-1, keepdim=True)
    scale = (residual.pow(2).mean(-1) + lens.final_norm_eps).sqrt()  # [batch]
    readout = directions * lens.final_norm_gain / scale[:, None]  # [batch, d_model]
    return torch.einsum("lbhm,bm->lbh", writes, readout)  # [layer, batch, head]


def values_read_from(captured: Captured, answer_at: Tensor, source_at: Tensor) -> Tensor:
    """What each head's output at the answer position reads from one source position: [layer, batch, head, d_head].

    A head's output is the attention-weighted sum of its value vectors, so the
    part from position k is attention(answer -> k) * value(k), exactly; a head
    that attends elsewhere gets little from k, whatever its total effect.
    `captured` must hold the values at `source_at` (capture with values_at).
    """
    values = captured.values_of(source_at)  # [layer, batch, head, d_head]
    weights = captured.pattern_from(answer_at)  # [layer, batch, head, k_pos]
    weights = weights.gather(
        -1, source_at[None, :, None, None].expand(*weights.shape[:-1], 1)
    )  # [layer, batch, head, 1]
    return values * weights  # [layer, batch, head, d_head]


def head_output_gradients(
    lens: ModelLens, input_ids: Tensor, attention_mask: Tensor, answer_at: Tensor, metric: Metric
) -> tuple[Tensor, Tensor, Tensor]:
    """Every head's output and the metric's gradient with respect to it, from one forward and one backward pass.

    Returns:
        z: [layer, batch, pos, head, d_head], the heads' outputs;
        grad: the same shape, d sum(metric) / d z;
        values: [batch], the metric per row.
    """
    leaves: list[Tensor] = []
    n_heads = lens.n_heads
    rows = torch.arange(input_ids.shape[0])
    with torch.enable_grad(), _leaf_head_outputs(lens, leaves):
        hidden = final_hidden(lens, input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        values = metric(logits_of(lens, hidden[rows, answer_at.to(hidden.device)]))  # [batch]
        values.sum().backward()
    z = torch.stack([leaf.detach() for leaf in leaves]).cpu()  # [layer, batch, pos, head * d_head]
    grad = torch.stack([leaf.grad for leaf in leaves]).cpu()  # type: ignore[misc]
    shape = (*z.shape[:3], n_heads, -1)
    return z.reshape(shape), grad.reshape(shape), values.detach()


@contextmanager
def _leaf_head_outputs(lens: ModelLens, leaves: list[Tensor]) -> Iterator[None]:
    """Make each output projection's input a float32 leaf that keeps its gradient, within the block."""

    def as_leaf(_module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        leaf = inputs[0].detach().float().requires_grad_(True)
        leaves.append(leaf)
        return (leaf.to(inputs[0].dtype), *inputs[1:])

    hooks: list[Hook] = [
        (projection(lens.model, layer, "output_projection"), "pre", as_leaf) for layer in range(lens.n_layers)
    ]
    with lens.hooked(hooks):
        yield


def patching_effects(z_clean: Tensor, grad: Tensor, z_patched: Tensor, positions: Tensor | None = None) -> Tensor:
    """First-order effect on the metric of patching each head's output: [layer, batch, head].

    Args:
        z_clean, grad: from head_output_gradients on the clean inputs.
        z_patched: [layer, batch, pos, head, d_head], the outputs patched in
            (a corrupted run's, or a mean), broadcastable to z_clean.
        positions: [batch, pos] bool, the positions patched; all when None.
    """
    delta = (z_patched - z_clean) * grad  # [layer, batch, pos, head, d_head]
    if positions is not None:
        delta = delta * positions[None, :, :, None, None]
    return delta.sum(dim=(2, 4))  # [layer, batch, head]
