"""Read heads from their weights: what a head's OV circuit writes about each token it could attend to.

Gould et al. (2023) and McDougall et al. (2023) score heads by the OV circuit
on "effective embeddings": the residual stream after the first block, which
adds MLP0's token features to the raw embedding. We take it as the first
block's output on each token alone (a one-token sequence), which works for any
architecture. A head's OV readout for token t is what it would add to the
logits if it attended only to t: t's effective embedding through the layer's
attention norm, the head's value and output matrices, and the final norm's gain
into the unembedding.

Rank tests (Wang et al.'s copy score, McDougall et al.'s copy suppression) ask
whether a token's own logit is among the k extremes of the whole vocabulary's.
A readout is first ranked among a sample of the vocabulary, which rules most
rows out exactly (k tokens of the sample already beat it); the rest read the
unembedding in chunks of at most LOGITS_BUDGET logits, keeping the k extremes
of each row.
"""

from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import Tensor

from ingest.capture import forward_until
from ingest.families import blocks, n_kv_heads, output_projection_weight, submodule, value_weights
from ingest.lens import ModelLens

# Logits the rank tests hold at once (128 MB of floats): the vocabulary is read in chunks that fit.
LOGITS_BUDGET = 2**25

# Vocabulary tokens every readout is first ranked among, besides the asked ones: most rows are ruled out there.
PREFILTER = 1024

# Which end of a readout a rank test looks at: copying heads raise a token to the top, suppressors push it down.
Side = Literal["highest", "lowest"]
SIDES: tuple[Side, ...] = get_args(Side)


@torch.no_grad()
def effective_embeddings(lens: ModelLens, token_ids: Tensor) -> Tensor:
    """[n_tokens, d_model]: the residual after the first block, each token run alone."""
    family = lens.family
    after_first = blocks(lens.model)[1] if lens.n_layers > 1 else submodule(lens.model, family.final_norm)
    hidden = forward_until(lens, after_first, input_ids=token_ids[:, None], use_cache=False)  # [n_tokens, 1, d_model]
    return hidden[:, 0].float().cpu()


@torch.no_grad()
def ov_readouts(lens: ModelLens, layer: int, sources: Tensor, readout_ids: Tensor) -> Tensor:
    """[head, n_sources, n_readout]: each head's logits on `readout_ids` when it attends to each source alone.

    Args:
        sources: [n_sources, d_model], effective embeddings of the attended tokens.
        readout_ids: [n_readout], the tokens whose logits are read.
    """
    v = _head_values(lens, layer, sources)  # [n, head, d_head]
    w_o = _output_matrices(lens, layer)  # [d_model, head, d_head]
    out = torch.einsum("nhd,mhd->hnm", v, w_o)  # [head, n, d_model]
    post = lens.post_attention_norm(layer)
    if post is not None:
        out = out * post[0]  # Gemma's norm on the attention output: its gain (the scale is common to a row)
    readout = lens.unembedding[readout_ids] * lens.final_norm_gain  # [n_readout, d_model]
    return out @ readout.T  # [head, n, n_readout]


def _head_values(lens: ModelLens, layer: int, sources: Tensor) -> Tensor:
    """[n, head, d_head]: each head's value vector of each source (shared by the heads of a key-value group)."""
    norm = getattr(blocks(lens.model)[layer], lens.family.attention_norm)
    weight = next(norm.parameters())
    normed = norm(sources.to(weight.device, weight.dtype)).float().cpu()  # [n, d_model]
    matrix, bias = value_weights(lens.model, layer)  # [kv_head * d_head, d_model], [kv_head * d_head]
    v = normed @ matrix.cpu().T  # [n, kv_head * d_head]
    if bias is not None:
        v = v + bias.cpu()
    n_heads, n_kv = lens.n_heads, n_kv_heads(lens.model)
    return v.reshape(v.shape[0], n_kv, -1).repeat_interleave(n_heads // n_kv, dim=1)  # [n, head, d_head]


def _output_matrices(lens: ModelLens, layer: int) -> Tensor:
    """[d_model, head, d_head]: the layer's output projection, split by head."""
    w_o = output_projection_weight(lens.model, layer).cpu()  # [d_model, head * d_head]
    return w_o.reshape(w_o.shape[0], lens.n_heads, -1)  # [d_model, head, d_head]


@torch.no_grad()
def in_vocabulary_extremes(
    lens: ModelLens, layer: int, sources: Tensor, columns: Tensor, *, k: int, sides: tuple[Side, ...]
) -> dict[Side, Tensor]:
    """Per side, [head, n_sources, n_columns] bool: whether each head's OV readout of source i puts token
    columns[i, j] among the k highest (or lowest) logits of the whole vocabulary.

    The vocabulary is every token the tokenizer has (vocabulary_size). Ranks do
    not depend on the final norm's scale, which is common to a row, so its gain
    alone is applied, as in ov_readouts.

    Args:
        sources: [n_sources, d_model], effective embeddings of the attended tokens.
        columns: [n_sources, n_columns] token ids whose place in each source's readout is asked.
        sides: "highest", "lowest" or both, read from the same logits.
    """
    v = _head_values(lens, layer, sources).transpose(0, 1)  # [head, n, d_head]
    gain = lens.final_norm_gain  # [d_model]
    post = lens.post_attention_norm(layer)
    if post is not None:
        gain = gain * post[0]  # Gemma's gain on the attention output, folded in with the final norm's
    w_o = (_output_matrices(lens, layer) * gain[:, None, None]).permute(1, 2, 0)  # [head, d_head, d_model]
    unembedding = lens.unembedding[: vocabulary_size(lens)]  # [vocab, d_model]
    return extremes_among_logits(v, w_o, unembedding, columns, k=k, sides=sides)


def vocabulary_size(lens: ModelLens) -> int:
    """The tokens a rank test ranks among: the tokenizer's, without the rows an unembedding is padded with."""
    return min(len(lens.tokenizer), lens.unembedding.shape[0])


def extremes_among_logits(
    values: Tensor,
    w_o: Tensor,
    unembedding: Tensor,
    columns: Tensor,
    *,
    k: int,
    sides: tuple[Side, ...] = ("highest",),
    budget: int = LOGITS_BUDGET,
) -> dict[Side, Tensor]:
    """Per side, [head, n, n_columns] bool: whether token columns[i, j] is among the k highest (lowest) of
    the logits values[h, i] @ w_o[h] @ unembedding.T, over every row of `unembedding`.

    A row is first read on a sample of the vocabulary (the asked tokens and
    PREFILTER others): a token that k of them already beat cannot be among the
    k extremes of the whole vocabulary, so only the other rows are read on all
    of it, in chunks of at most `budget` logits. A token tied with the k-th
    value counts as inside.

    Args:
        values: [head, n, d_head], each head's value vector of each source.
        w_o: [head, d_head, d_model], each head's output matrix, gains folded in.
        unembedding: [vocab, d_model].
        columns: [n, n_columns] token ids below `vocab`.
    """
    n_heads, n, _ = values.shape
    vocab = unembedding.shape[0]
    if not 0 < k <= vocab:
        raise ValueError(f"k={k} must lie between 1 and the vocabulary's {vocab} tokens")
    if not sides or not set(sides) <= set(SIDES):
        raise ValueError(f"Unknown sides {sides!r}; choose from {SIDES}")
    inside = {side: torch.zeros((n_heads, *columns.shape), dtype=torch.bool) for side in sides}
    candidates = _may_be_extreme(values, w_o, unembedding, columns, k=k, sides=sides)  # [head, n]
    # Per vocabulary token, a head's m candidate rows cost m * d_model through their outputs, or
    # d_head * (d_model + m) through d_head first: heads with many candidates (suppressors) go the second way.
    m, (d_head, d_model) = candidates.sum(1), w_o.shape[1:]  # [head]
    through_d_head = m * d_model > d_head * (d_model + m)  # [head]
    heads, rows = (candidates & ~through_d_head[:, None]).nonzero(as_tuple=True)
    parts = [(heads, rows, (values @ w_o)[heads, rows], None)]  # outputs [n_rows, d_model] of the heads read together
    for head in through_d_head.nonzero().squeeze(1).tolist():
        own = candidates[head].nonzero().squeeze(1)  # [n_rows]
        parts.append((torch.full_like(own, head), own, values[head, own], w_o[head]))
    for part_heads, part_rows, left, right in parts:
        found = _extremes_over_vocabulary(left, right, unembedding, columns[part_rows], k, sides, budget)
        for side in sides:
            inside[side][part_heads, part_rows] = found[side]
    return inside


def _may_be_extreme(
    values: Tensor, w_o: Tensor, unembedding: Tensor, columns: Tensor, *, k: int, sides: tuple[Side, ...]
) -> Tensor:
    """[head, n] bool: rows where some asked token is among the k extremes of a sample of the vocabulary.

    The sample is the asked tokens and PREFILTER tokens spread evenly over the
    vocabulary; a token that k of them beat is beaten in the whole vocabulary
    too, whatever the sample, so the rows ruled out here are out exactly.
    """
    vocab = unembedding.shape[0]
    spread = torch.linspace(0, vocab - 1, min(PREFILTER, vocab)).long()  # [PREFILTER]
    sample = torch.cat([columns.flatten(), spread]).unique()  # [m], sorted
    if len(sample) <= k:
        return torch.ones(values.shape[:2], dtype=torch.bool)
    at = torch.searchsorted(sample, columns)  # [n, n_columns]: where each asked token sits in the sample
    candidates = torch.zeros(values.shape[:2], dtype=torch.bool)  # [head, n]
    for head in range(values.shape[0]):
        logits = values[head] @ (w_o[head] @ unembedding[sample].T)  # [n, m]
        asked = logits.gather(-1, at)  # [n, n_columns]
        for side in sides:
            edge = logits.topk(k, dim=-1, largest=side == "highest").values[:, -1:]  # [n, 1]
            candidates[head] |= (asked >= edge if side == "highest" else asked <= edge).any(-1)
    return candidates


def _extremes_over_vocabulary(
    left: Tensor,
    right: Tensor | None,
    unembedding: Tensor,
    columns: Tensor,
    k: int,
    sides: tuple[Side, ...],
    budget: int,
) -> dict[Side, Tensor]:
    """Per side, [n, n_columns] bool for the logits left @ right @ unembedding.T, read chunk by chunk.

    Args:
        left: [n, r], the rows' outputs (r = d_model, `right` None) or one head's values (r = d_head).
        right: [d_head, d_model], that head's output matrix, or None.
        columns: [n, n_columns].
    """
    n, vocab = left.shape[0], unembedding.shape[0]
    if not n:
        return {side: torch.zeros(columns.shape, dtype=torch.bool) for side in sides}
    chunk = max(k, budget // n)
    extreme = {side: left.new_empty((n, 0)) for side in sides}  # [n, <= k]: each row's k extremes so far
    asked = left.new_full(columns.shape, float("nan"))  # [n, n_columns]
    for start in range(0, vocab, chunk):
        block = unembedding[start : start + chunk]  # [c, d_model]
        logits = left @ block.T if right is None else left @ (right @ block.T)  # [n, c]
        for side in sides:
            kept = torch.cat([extreme[side], logits], dim=-1)  # [n, <= k + c]
            extreme[side] = kept.topk(min(k, kept.shape[-1]), dim=-1, largest=side == "highest").values
        inside = (columns >= start) & (columns < start + len(block))  # [n, n_columns]
        local = (columns - start).clamp(0, len(block) - 1)  # [n, n_columns]
        asked = torch.where(inside, logits.gather(-1, local), asked)
    # [n, n_columns] per side, against each row's k-th extreme logit [n, 1]
    return {
        side: asked >= extreme[side][:, -1:] if side == "highest" else asked <= extreme[side][:, -1:] for side in sides
    }


def copy_scores(lens: ModelLens, token_ids: Tensor, *, k: int, sides: tuple[Side, ...]) -> dict[Side, Tensor]:
    """Per side, [layer, head]: the share of tokens whose own logit each head's OV circuit puts among the k
    highest (or lowest) of the vocabulary when the head attends to that token alone.

    Wang et al. (2022, Section 3.1) call the highest side a head's copy score
    (k = 5) and the lowest side, the OV circuit negated, its negative copy
    score; the token is read as its effective embedding (the residual after the
    first block), as they read a name after the first MLP layer.

    Args:
        token_ids: [n] the tokens copied, e.g. single-token names.
    """
    sources = effective_embeddings(lens, token_ids)  # [n, d_model]
    own = token_ids[:, None]  # [n, 1]: each source is asked about itself
    by_layer = [in_vocabulary_extremes(lens, layer, sources, own, k=k, sides=sides) for layer in range(lens.n_layers)]
    # per side: [layer, head], the share of the n tokens inside
    return {side: torch.stack([each[side][..., 0].float().mean(-1) for each in by_layer]) for side in sides}


def all_ov_readouts(lens: ModelLens, sources: Tensor, readout_ids: Tensor) -> Tensor:
    """[layer, head, n_sources, n_readout] for every layer."""
    return torch.stack([ov_readouts(lens, layer, sources, readout_ids) for layer in range(lens.n_layers)])


@dataclass(frozen=True)
class RelationTable:
    """Token pairs of one relation, and the tokens a readout must single the target out from."""

    sources: Tensor  # [n] token ids attended to
    targets: Tensor  # [n] token ids each source should raise
    candidates: Tensor  # [m] token ids, every target among them


def relation_hit_rates(lens: ModelLens, tables: list[RelationTable], *, seed: int) -> tuple[Tensor, Tensor]:
    """Whether each pair's target tops the candidates in each head's OV readout of its source: [pair, layer, head].

    The mean over pairs is the share of pairs a head gets right. The control
    is the same for a random candidate in place of each target.
    """
    generator = torch.Generator().manual_seed(seed)
    hits, control = [], []
    for table in tables:
        readouts = all_ov_readouts(lens, effective_embeddings(lens, table.sources), table.candidates)
        best = table.candidates[readouts.argmax(dim=-1)]  # [layer, head, n]: the top candidate per source
        decoys = table.candidates[torch.randint(len(table.candidates), table.targets.shape, generator=generator)]
        hits.append((best == table.targets).float().permute(2, 0, 1))  # [n, layer, head]
        control.append((best == decoys).float().permute(2, 0, 1))
    return torch.cat(hits), torch.cat(control)
