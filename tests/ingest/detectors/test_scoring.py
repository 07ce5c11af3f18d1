"""The shared scores, on hand-built attention patterns whose answers are known."""

import pytest
import torch

from ingest.detectors.scoring import (
    argmax_hit_rate,
    argmax_hits_by_prompt,
    attention_to_by_prompt,
    mean_attention_to,
    random_earlier_targets,
)

N_POS = 6


def previous_token_pattern() -> torch.Tensor:
    """One layer, one batch row, one head attending only to the previous token: [1, 1, 1, q, k]."""
    pattern = torch.zeros(N_POS, N_POS)
    pattern[0, 0] = 1.0
    pattern[torch.arange(1, N_POS), torch.arange(0, N_POS - 1)] = 1.0
    return pattern[None, None, None]


def uniform_pattern() -> torch.Tensor:
    causal = torch.tril(torch.ones(N_POS, N_POS))
    return (causal / causal.sum(-1, keepdim=True))[None, None, None]


def previous_targets() -> tuple[torch.Tensor, torch.Tensor]:
    targets = torch.zeros(1, N_POS, N_POS, dtype=torch.bool)
    targets[0, torch.arange(1, N_POS), torch.arange(0, N_POS - 1)] = True
    queries = torch.zeros(1, N_POS, dtype=torch.bool)
    queries[0, 1:] = True
    return targets, queries


def test_perfect_previous_token_pattern_scores_one() -> None:
    targets, queries = previous_targets()
    assert mean_attention_to(previous_token_pattern(), targets, queries).item() == 1.0


def test_uniform_pattern_scores_the_mean_of_one_over_position() -> None:
    targets, queries = previous_targets()
    expected = sum(1 / (q + 1) for q in range(1, N_POS)) / (N_POS - 1)
    assert abs(mean_attention_to(uniform_pattern(), targets, queries).item() - expected) < 1e-6


def test_unscored_queries_do_not_dilute_the_score() -> None:
    targets, queries = previous_targets()
    queries[0, 1:3] = False
    assert mean_attention_to(previous_token_pattern(), targets, queries).item() == 1.0


def test_argmax_hit_rate_is_one_for_a_perfect_head_and_ignores_the_first_key() -> None:
    targets, queries = previous_targets()
    queries[0, 1] = False  # its target is key 0, which the argmax leaves out
    assert argmax_hit_rate(previous_token_pattern(), targets, queries).item() == 1.0


def test_argmax_hit_rate_leaves_the_captured_pattern_unchanged() -> None:
    pattern = previous_token_pattern()
    before = pattern.clone()
    argmax_hit_rate(pattern, *previous_targets())
    assert torch.equal(pattern, before)


def test_random_earlier_targets_avoid_the_real_target_and_the_first_key() -> None:
    targets, queries = previous_targets()
    control = random_earlier_targets(queries, targets, seed=0)
    assert not (control & targets).any()
    assert not control[..., 0].any()
    assert (control.sum(-1) <= 1).all()


def test_random_earlier_targets_are_seeded() -> None:
    targets, queries = previous_targets()
    assert torch.equal(
        random_earlier_targets(queries, targets, seed=3), random_earlier_targets(queries, targets, seed=3)
    )


def two_prompts_of_unequal_length() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A perfect previous-token prompt scored on 5 queries and a uniform one scored on 2: [1, 2, 1, q, k] patterns."""
    patterns = torch.cat([previous_token_pattern(), uniform_pattern()], dim=1)
    targets, queries = previous_targets()
    targets, queries = targets.repeat(2, 1, 1), queries.repeat(2, 1)
    queries[1, 3:] = False
    return patterns, targets, queries


def test_the_attention_score_is_the_mean_of_each_prompts_own_score() -> None:
    patterns, targets, queries = two_prompts_of_unequal_length()
    by_prompt = attention_to_by_prompt(patterns, targets, queries)  # [prompt, layer, head]
    assert by_prompt[:, 0, 0].tolist() == pytest.approx([1.0, (1 / 2 + 1 / 3) / 2])
    assert mean_attention_to(patterns, targets, queries).item() == pytest.approx((1.0 + (1 / 2 + 1 / 3) / 2) / 2)


def test_a_prompt_without_scored_queries_is_left_out() -> None:
    patterns, targets, queries = two_prompts_of_unequal_length()
    queries[1] = False
    assert attention_to_by_prompt(patterns, targets, queries)[1].isnan().all()
    assert mean_attention_to(patterns, targets, queries).item() == 1.0


def test_argmax_hits_by_prompt_average_to_the_rate() -> None:
    patterns, targets, queries = two_prompts_of_unequal_length()
    by_prompt = argmax_hits_by_prompt(patterns, targets, queries)
    assert torch.allclose(by_prompt.mean(dim=0), argmax_hit_rate(patterns, targets, queries))
