"""Resampled evidence on hand-built scores: intervals, the paired test, the correction, and what counts as found."""

import math

import torch

from ingest.evidence import (
    ALPHA,
    INTERVAL_OVER_PROMPTS,
    MIN_PASS_RATE,
    TEST_OVER_PROMPTS,
    TEST_OVER_SEEDS,
    benjamini_hochberg,
    bootstrap_interval,
    paired_p_values,
    resampled,
    resampled_means,
    two_stage_interval,
)


def test_bootstrap_interval_contains_the_mean_and_narrows_with_less_spread() -> None:
    wide = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])  # [seed, head]
    narrow = wide * 0.1
    low, high = bootstrap_interval(wide, seed=0)
    narrow_low, narrow_high = bootstrap_interval(narrow, seed=0)
    assert float(low) < 2.0 < float(high)
    assert float(narrow_high - narrow_low) < float(high - low)


def test_bootstrap_interval_of_a_constant_is_that_constant() -> None:
    low, high = bootstrap_interval(torch.full((5, 2), 0.7), seed=0)
    assert torch.allclose(low, torch.full((2,), 0.7)) and torch.allclose(high, torch.full((2,), 0.7))


def test_bootstrap_interval_leaves_nan_seeds_out() -> None:
    samples = torch.tensor([[1.0], [float("nan")], [1.0], [1.0], [1.0]])
    low, high = bootstrap_interval(samples, seed=0)
    assert float(low) == float(high) == 1.0


def test_paired_test_is_significant_for_a_consistent_gap_and_not_for_noise() -> None:
    scores = torch.tensor([[0.80, 0.10], [0.82, 0.30], [0.79, 0.05], [0.81, 0.25], [0.80, 0.12]])
    baselines = torch.tensor([[0.02, 0.15], [0.03, 0.10], [0.01, 0.20], [0.02, 0.15], [0.02, 0.14]])
    p = paired_p_values(scores, baselines)
    assert float(p[0]) < 1e-5
    assert float(p[1]) > 0.05


def test_paired_test_matches_scipy_on_known_numbers() -> None:
    from scipy import stats

    scores = torch.tensor([[0.3], [0.5], [0.1], [0.4], [0.2]])
    baselines = torch.tensor([[0.1], [0.1], [0.2], [0.1], [0.1]])
    expected = stats.ttest_rel(scores[:, 0].numpy(), baselines[:, 0].numpy(), alternative="greater").pvalue
    assert math.isclose(float(paired_p_values(scores, baselines)[0]), expected, rel_tol=1e-4)


def test_paired_test_needs_two_seeds() -> None:
    p = paired_p_values(torch.tensor([[0.9], [float("nan")]]), torch.tensor([[0.0], [0.0]]))
    assert p.isnan().all()


def test_benjamini_hochberg_on_a_textbook_example() -> None:
    p = torch.tensor([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4/1, x4/2, x4/3, x4/4 = 0.02, 0.02, 0.04, 0.04 (monotone from the top)
    assert torch.allclose(benjamini_hochberg(p), torch.tensor([0.02, 0.04, 0.04, 0.02]))


def test_benjamini_hochberg_skips_nan() -> None:
    q = benjamini_hochberg(torch.tensor([0.01, float("nan")]))
    assert math.isclose(float(q[0]), 0.01, rel_tol=1e-6) and math.isnan(float(q[1]))


def _evidence(scores: list[list[float]], passed: list[list[bool]]):  # type: ignore[no-untyped-def]
    stack = torch.tensor(scores)[..., None]  # [seed, layer, head=1]
    return resampled(tuple(range(len(scores))), stack, torch.zeros_like(stack), torch.tensor(passed)[..., None])


def test_a_head_passing_in_one_seed_of_five_is_not_found() -> None:
    evidence = _evidence([[0.9], [0.8], [0.85], [0.9], [0.88]], [[True], [False], [False], [False], [False]])
    assert math.isclose(float(evidence.pass_rate[0, 0]), 0.2, rel_tol=1e-6)
    assert MIN_PASS_RATE > 0.2
    assert not bool(evidence.found(torch.ones(1, 1, dtype=torch.bool))[0, 0])


def test_a_head_that_passes_every_seed_and_the_test_is_found() -> None:
    evidence = _evidence([[0.9], [0.8], [0.85], [0.9], [0.88]], [[True]] * 5)
    assert float(evidence.q_value[0, 0]) < ALPHA
    assert bool(evidence.found(torch.ones(1, 1, dtype=torch.bool))[0, 0])


def test_the_rule_on_the_means_still_decides() -> None:
    evidence = _evidence([[0.9], [0.8], [0.85], [0.9], [0.88]], [[True]] * 5)
    assert not bool(evidence.found(torch.zeros(1, 1, dtype=torch.bool))[0, 0])


def test_a_score_no_higher_than_its_control_is_not_found_however_often_the_rule_passed() -> None:
    stack = torch.tensor([[0.5], [0.6], [0.4], [0.5], [0.5]])[..., None]
    evidence = resampled(tuple(range(5)), stack, stack + 0.01, torch.ones_like(stack, dtype=torch.bool))
    assert not bool(evidence.found(torch.ones(1, 1, dtype=torch.bool))[0, 0])


def test_two_stage_interval_of_constant_prompts_is_that_constant() -> None:
    low, high = two_stage_interval([torch.full((4, 2), 0.3), torch.full((6, 2), 0.3)], seed=0)
    assert torch.allclose(low, torch.full((2,), 0.3)) and torch.allclose(high, torch.full((2,), 0.3))


def test_two_stage_interval_widens_with_the_spread_between_prompts_of_one_seed() -> None:
    spread = torch.tensor([[0.0], [1.0], [0.0], [1.0], [0.0], [1.0]])  # [prompt, head]: mean 0.5
    low, high = two_stage_interval([spread], seed=0)
    assert float(low) < 0.5 < float(high)
    assert float(high - low) > 0.3  # a mean of six coin flips: the standard error is about 0.2


def test_resampled_means_weigh_each_drawn_prompt_once_per_draw() -> None:
    prompts = torch.tensor([[2.0], [4.0]])
    means = resampled_means(prompts, torch.Generator().manual_seed(0))  # [resample, 1]
    assert set(means[:, 0].tolist()) <= {2.0, 3.0, 4.0}
    assert abs(float(means.mean()) - 3.0) < 0.1


def test_one_seed_with_prompt_scores_is_tested_over_its_prompts() -> None:
    scores = torch.tensor([0.6, 0.7, 0.65, 0.62, 0.68, 0.66])[:, None, None]  # [prompt, layer, head]
    baselines = torch.tensor([0.1, 0.05, 0.12, 0.08, 0.1, 0.09])[:, None, None]
    evidence = resampled(
        (0,),
        scores.mean(0)[None],
        baselines.mean(0)[None],
        torch.ones(1, 1, 1, dtype=torch.bool),
        prompts=[(scores, baselines)],
    )
    assert evidence.test == TEST_OVER_PROMPTS and evidence.interval == INTERVAL_OVER_PROMPTS
    assert float(evidence.p_value[0, 0]) < 1e-4
    assert float(evidence.low[0, 0]) < float(evidence.mean[0, 0]) < float(evidence.high[0, 0])


def test_one_seed_without_prompt_scores_has_no_test() -> None:
    evidence = _evidence([[0.9]], [[True]])
    assert evidence.p_value.isnan().all() and not bool(evidence.found(torch.ones(1, 1, dtype=torch.bool))[0, 0])


def test_several_seeds_are_tested_over_seeds_even_with_prompt_scores() -> None:
    per_seed = [(torch.full((3, 1, 1), 0.5 + 0.01 * s), torch.zeros(3, 1, 1)) for s in range(5)]
    stack = torch.stack([scores.mean(0) for scores, _ in per_seed])
    evidence = resampled(
        tuple(range(5)), stack, torch.zeros_like(stack), torch.ones_like(stack, dtype=torch.bool), prompts=per_seed
    )
    assert evidence.test == TEST_OVER_SEEDS and evidence.interval == INTERVAL_OVER_PROMPTS


def test_resampled_means_leave_nan_prompts_out() -> None:
    prompts = torch.tensor([[2.0, float("nan")], [float("nan"), float("nan")], [2.0, 5.0]])
    means = resampled_means(prompts, torch.Generator().manual_seed(0))
    drew_a_finite_prompt = means[:, 0].isfinite()
    assert torch.all(means[drew_a_finite_prompt, 0] == 2.0)
    assert torch.all(means[means[:, 1].isfinite(), 1] == 5.0)
