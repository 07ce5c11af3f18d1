"""The shared scores, on hand-built attention patterns whose answers are known."""

import pytest
import torch

from ingest.detectors.scoring import argmax_hits, attention_on_targets, random_earlier_targets

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
    assert attention_on_targets(previous_token_pattern(), targets, queries).item() == 1.0


def test_uniform_pattern_scores_the_mean_of_one_over_position() -> None:
    targets, queries = previous_targets()
    expected = sum(1 / (q + 1) for q in range(1, N_POS)) / (N_POS - 1)
    assert abs(attention_on_targets(uniform_pattern(), targets, queries).item() - expected) < 1e-6


def test_unscored_queries_do_not_dilute_the_score() -> None:
    targets, queries = previous_targets()
    queries[0, 1:3] = False
    assert attention_on_targets(previous_token_pattern(), targets, queries).item() == 1.0


def test_argmax_hits_are_one_for_a_perfect_head_and_ignore_the_first_key() -> None:
    targets, queries = previous_targets()
    queries[0, 1] = False  # its target is key 0, which the argmax leaves out
    assert argmax_hits(previous_token_pattern(), targets, queries).item() == 1.0


def test_argmax_hits_leave_the_pattern_unchanged() -> None:
    pattern = previous_token_pattern()
    before = pattern.clone()
    argmax_hits(pattern, *previous_targets())
    assert torch.equal(pattern, before)


def test_a_layer_alone_scores_as_it_does_among_all_layers() -> None:
    patterns = torch.cat([previous_token_pattern(), uniform_pattern()])  # [layer, 1, 1, q, k]
    targets, queries = previous_targets()
    together = attention_on_targets(patterns, targets, queries)  # [layer, batch, head]
    assert torch.equal(attention_on_targets(patterns[1], targets, queries), together[1])


def test_random_earlier_targets_avoid_the_real_target_and_the_first_key() -> None:
    targets, queries = previous_targets()
    control = random_earlier_targets(queries, targets, seed=0)
    assert not (control & targets).any()
    assert not control[..., 0].any()
    assert (control.sum(-1) <= 1).all()


def test_random_earlier_targets_give_every_scored_query_one_key_and_others_none() -> None:
    targets, queries = previous_targets()
    queries[0, 3] = False
    picked = random_earlier_targets(queries, targets, seed=1).sum(-1)[0]  # [q_pos]
    assert picked.tolist() == [0, 1, 1, 0, 1, 1]  # query 0 and the unscored query 3 get none


def test_random_earlier_targets_draw_every_allowed_key() -> None:
    targets, queries = previous_targets()
    drawn = torch.stack([random_earlier_targets(queries, targets, seed=s)[0, 5] for s in range(200)]).any(0)
    assert drawn.tolist() == [False, True, True, True, False, True]  # 1..5 but the target 4 and the sink


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
    by_prompt = attention_on_targets(patterns, targets, queries)  # [layer, prompt, head]
    assert by_prompt[0, :, 0].tolist() == pytest.approx([1.0, (1 / 2 + 1 / 3) / 2])


def test_a_prompt_without_scored_queries_is_left_out() -> None:
    patterns, targets, queries = two_prompts_of_unequal_length()
    queries[1] = False
    by_prompt = attention_on_targets(patterns, targets, queries)  # [layer, prompt, head]
    assert by_prompt[:, 1].isnan().all() and by_prompt.nanmean(dim=1).item() == 1.0
