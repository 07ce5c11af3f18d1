"""Scores shared by the attention-pattern detectors, all of shape [layer, head]."""

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


def mean_attention_to(patterns: Tensor, targets: Tensor, queries: Tensor) -> Tensor:
    """Attention each head pays to the target keys, averaged over the scored queries.

    This is TransformerLens's head-detector score: with attention rows summing
    to one, sum(pattern × target) / sum(pattern) over each prompt's scored
    queries, averaged over the prompts. Range 0 to 1.

    Args:
        patterns: [layer, batch, head, q_pos, k_pos].
        targets: [batch, q_pos, k_pos] bool.
        queries: [batch, q_pos] bool.
    """
    return attention_to_by_prompt(patterns, targets, queries).nanmean(dim=0)


def attention_to_by_prompt(patterns: Tensor, targets: Tensor, queries: Tensor) -> Tensor:
    """mean_attention_to's score split by prompt, [batch, layer, head]: its mean over prompts is that score."""
    on_target = (patterns * targets[None, :, None].float()).sum(dim=-1)  # [layer, batch, head, q_pos]
    return _per_prompt_share(on_target, queries)


def argmax_hit_rate(patterns: Tensor, targets: Tensor, queries: Tensor, *, ignore_first: bool = True) -> Tensor:
    """How often each head's most-attended key is a target, over each prompt's scored queries, averaged. Range 0 to 1.

    Args:
        patterns: [layer, batch, head, q_pos, k_pos].
        targets: [batch, q_pos, k_pos] bool.
        queries: [batch, q_pos] bool.
        ignore_first: leave key 0 out of the argmax, as the papers that use
            this score leave out the sink/BOS token.
    """
    return argmax_hits_by_prompt(patterns, targets, queries, ignore_first=ignore_first).nanmean(dim=0)


def argmax_hits_by_prompt(patterns: Tensor, targets: Tensor, queries: Tensor, *, ignore_first: bool = True) -> Tensor:
    """argmax_hit_rate's score split by prompt, [batch, layer, head]: its mean over prompts is that rate."""
    candidates = patterns.clone()  # keep the captured patterns as they were
    if ignore_first:
        candidates[..., 0] = -1.0
    best = candidates.argmax(dim=-1)  # [layer, batch, head, q_pos]
    expanded = targets[None, :, None].expand(*best.shape, targets.shape[-1])  # [layer, batch, head, q_pos, k_pos]
    hit = expanded.gather(-1, best.unsqueeze(-1)).squeeze(-1).float()  # [layer, batch, head, q_pos]
    return _per_prompt_share(hit, queries)


def _per_prompt_share(values: Tensor, queries: Tensor) -> Tensor:
    """Each prompt's mean of `values` [layer, batch, head, q_pos] over its scored queries: [batch, layer, head].

    A prompt with no scored query is NaN, and left out of the mean over prompts.
    """
    weights = queries[None, :, None].float()  # [1, batch, 1, q_pos]
    counts = weights.sum(dim=3)  # [1, batch, 1]
    per_prompt = values.mul(weights).sum(dim=3) / counts  # [layer, batch, head]
    return per_prompt.where(counts > 0, torch.nan).permute(1, 0, 2)


def random_earlier_targets(queries: Tensor, targets: Tensor, *, seed: int) -> Tensor:
    """Move each query's target to one random earlier key that is not a target: a shuffled-target control.

    Key 0 is never chosen, so the sink token does not inflate the control.
    """
    generator = torch.Generator().manual_seed(seed)
    batch, n_pos, _ = targets.shape
    control = torch.zeros_like(targets)
    for b in range(batch):
        for q in range(n_pos):
            if not queries[b, q]:
                continue
            options = [k for k in range(1, q + 1) if not targets[b, q, k]]
            if options:
                pick = options[int(torch.randint(len(options), (1,), generator=generator))]
                control[b, q, pick] = True
    return control
