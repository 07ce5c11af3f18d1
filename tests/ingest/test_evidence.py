"""Resampled evidence on hand-built scores: intervals, the paired test, the correction, and what counts as found."""

import math

import torch

from ingest.evidence import ALPHA, MIN_PASS_RATE, benjamini_hochberg, bootstrap_interval, paired_p_values, resampled


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
