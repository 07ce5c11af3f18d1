"""How a detector turns scores and baselines into verdicts."""

import math

import pytest
import torch

from ingest.detectors.base import Measurement, TaskAccuracy
from ingest.detectors.induction import InductionDetector
from ingest.detectors.positional import PositionalDetector, best_of
from ingest.detectors.statement_probes import chance_floor
from ingest.detectors.syntactic import SyntacticDetector

SCORES = torch.tensor([[0.95, 0.5, 0.2], [0.91, float("nan"), 0.05]])
LOW_BASELINE = torch.full_like(SCORES, 0.01)


def test_at_least_rule_keeps_scores_over_the_threshold() -> None:
    threshold, shows = PositionalDetector().decide(SCORES, LOW_BASELINE)
    assert threshold == 0.9
    assert shows.tolist() == [[True, False, False], [True, False, False]]


def test_a_head_that_does_not_beat_its_baseline_is_not_found() -> None:
    _, shows = PositionalDetector().decide(SCORES, torch.full_like(SCORES, 0.96))
    assert not shows.any()


def test_margin_rule_compares_score_minus_baseline() -> None:
    baseline = torch.full_like(SCORES, 0.82)
    threshold, shows = SyntacticDetector("nsubj").decide(SCORES, baseline)
    assert threshold == 0.10
    assert shows.tolist() == [[True, False, False], [False, False, False]]


def test_top_fraction_rule_keeps_the_best_share_and_records_its_cutoff() -> None:
    scores = torch.arange(100, dtype=torch.float32).reshape(10, 10) / 100
    threshold, shows = InductionDetector().decide(scores, torch.zeros_like(scores))
    assert int(shows.sum()) == math.ceil(0.03 * 100)
    assert threshold == float(scores.flatten().sort(descending=True).values[2])


def test_unscored_heads_never_show_the_behaviour() -> None:
    _, shows = PositionalDetector().decide(SCORES, LOW_BASELINE)
    assert not shows[1, 1]


def test_top_fraction_rule_finds_nothing_when_no_head_was_scored() -> None:
    nan = torch.full((2, 3), float("nan"))
    threshold, shows = InductionDetector().decide(nan, nan)
    assert threshold == InductionDetector.threshold and not shows.any()


def test_the_chance_floor_of_a_probe_is_what_guessing_reaches_one_time_in_a_hundred() -> None:
    floor = chance_floor(108)
    assert floor == 67 / 108
    assert TaskAccuracy(67, 108, 0.5).p_value < 0.01 <= TaskAccuracy(66, 108, 0.5).p_value


def test_a_heads_eligibility_is_anded_with_the_rule() -> None:
    eligible = torch.tensor([[False, True, True], [True, True, True]])
    _, shows = PositionalDetector().decide(SCORES, LOW_BASELINE, eligible)
    assert shows.tolist() == [[False, False, False], [True, False, False]]


def test_a_measurement_of_prompt_scores_keeps_them_and_their_means() -> None:
    prompts = torch.tensor([0.2, 0.4, 0.9])[:, None, None].expand(3, 2, 3)  # [prompt, layer, head]
    measured = Measurement.of(prompts, torch.zeros(3, 2, 3), {})
    assert measured.prompt_scores is prompts
    assert torch.allclose(measured.scores, torch.full((2, 3), 0.5))


def test_a_measurement_refuses_scores_and_baselines_of_different_shapes() -> None:
    with pytest.raises(ValueError, match="both per head or both per prompt"):
        Measurement.of(torch.zeros(3, 2, 3), torch.zeros(2, 3), {})


def test_positional_scores_each_prompt_at_the_heads_best_offset_by_mean() -> None:
    hits = torch.tensor([[1.0, 0.0], [0.6, 0.6]])[:, :, None, None]  # [offset, prompt, layer, head]: means 0.5, 0.6
    assert best_of(hits)[:, 0, 0].tolist() == pytest.approx([0.6, 0.6])
