"""Scores shared by the attention-pattern detectors, prompt by prompt: [..., batch, head], one layer or several."""

import torch
from torch import Tensor

# Our cut-off for attention-mass scores where no paper gives one: Olsson et al.
# and Wang et al. rank previous-token, duplicate-token and subword heads rather
# than threshold them. 0.4 means the head puts at least 40% of its attention on
# the target, averaged over the scored queries; on repeated random tokens a
# head attending uniformly scores about 1 / (query position), under 0.02.
HEADATLAS_ATTENTION_THRESHOLD = 0.4
HEADATLAS_ATTENTION_SOURCE = (
    "headatlas convention: no primary paper fixes a cut-off (InductionHeads_22_TCT_Anthropic and "
    "IOI_23_ICLR_Redwood Appendix H-I rank heads); 0.4 of the head's attention on the target"
)


def attention_on_targets(patterns: Tensor, targets: Tensor, queries: Tensor) -> Tensor:
    """Each prompt's attention on its target keys, averaged over its scored queries: [..., batch, head]. Range 0 to 1.

    TransformerLens's head-detector score, prompt by prompt: with attention
    rows summing to one, sum(pattern × target) over each scored query. Its mean
    over prompts is that score. A prompt with no scored query is NaN.

    Args:
        patterns: [..., batch, head, q_pos, k_pos], one layer's or several.
        targets: [batch, q_pos, k_pos] bool.
        queries: [batch, q_pos] bool.
    """
    rows = [
        torch.einsum("...hqk,qk->...hq", patterns[..., b, :, :, :], targets[b].to(patterns.dtype))
        for b in range(targets.shape[0])
    ]  # a row at a time: what the product holds at once is one row's pattern, not the batch's
    return per_prompt_share(torch.stack(rows, dim=-3), queries)


def argmax_hits(patterns: Tensor, targets: Tensor, queries: Tensor, *, ignore_first: bool = True) -> Tensor:
    """Each prompt's share of scored queries whose most-attended key is a target: [..., batch, head]. Range 0 to 1.

    Args:
        patterns: [..., batch, head, q_pos, k_pos].
        targets: [batch, q_pos, k_pos] bool.
        queries: [batch, q_pos] bool.
        ignore_first: leave key 0 out of the argmax, as the papers that use
            this score leave out the sink/BOS token.
    """
    return per_prompt_share(argmax_on_target(patterns, targets, ignore_first=ignore_first).to(patterns.dtype), queries)


def argmax_on_target(patterns: Tensor, targets: Tensor, *, ignore_first: bool) -> Tensor:
    """[..., batch, head, q_pos] bool: whether each query's most attended key is one of its targets."""
    best = patterns[..., 1:].argmax(dim=-1) + 1 if ignore_first else patterns.argmax(dim=-1)  # [..., batch, head, q]
    return targets[:, None].expand(*best.shape, targets.shape[-1]).gather(-1, best.unsqueeze(-1)).squeeze(-1)


def per_prompt_share(values: Tensor, queries: Tensor) -> Tensor:
    """Each prompt's mean of `values` [..., batch, head, q_pos] over its scored queries: [..., batch, head]."""
    weights = queries[:, None].to(values.dtype)  # [batch, 1, q_pos]
    counts = weights.sum(dim=-1)  # [batch, 1]
    return (values * weights).sum(dim=-1).div(counts).where(counts > 0, torch.nan)


def random_earlier_targets(queries: Tensor, targets: Tensor, *, seed: int) -> Tensor:
    """Move each query's target to one random earlier key that is not a target: a shuffled-target control.

    Each scored query q draws uniformly among keys 1..q that are not its
    targets (key 0 is never chosen, so the sink token does not inflate the
    control), all at once: the argmax of seeded uniform noise over the allowed keys.
    """
    batch, n_pos, _ = targets.shape
    keys = torch.arange(n_pos)
    allowed = (keys[None, :] >= 1) & (keys[None, :] <= keys[:, None])  # [q_pos, k_pos]: 1 <= k <= q
    allowed = allowed[None] & ~targets & queries[:, :, None]  # [batch, q_pos, k_pos]
    noise = torch.rand(targets.shape, generator=torch.Generator().manual_seed(seed))
    pick = noise.masked_fill(~allowed, -1.0).argmax(dim=-1, keepdim=True)  # [batch, q_pos, 1]
    return torch.zeros_like(targets).scatter(-1, pick, True) & allowed.any(dim=-1, keepdim=True)
