"""Every pattern detector on SmolLM2-135M-Instruct over seeds 0-4: its strongest head is found and its control is not.

Golden heads, mean scores and 95% intervals were measured with this code on
the bundled Q4_1 weights; a change in a probe or a score shows up here first.
"""

import pytest
import torch

from ingest.detectors.base import PatternDetector
from ingest.detectors.scoring import argmax_hits, attention_on_targets, random_earlier_targets
from ingest.evidence import MIN_PASS_RATE
from ingest.plugins import detectors
from ingest.verify import run_detector
from tests.utils.detectors import SEEDS, assert_control_fails, assert_golden, assert_verdict_as_before
from tests.utils.tiny_models import lens_of

pytestmark = pytest.mark.model

# detector -> (layer, head, mean, low, high) of its best head on SmolLM2 over the seeds: the highest mean
# score, or for margin rules the highest mean above the baseline, with its 95% interval. Attention sinks and
# positional heads read fixed sentences: one seed, the interval over the sentences.
GOLDEN = {
    "previous_token": (16, 0, 0.844, 0.823, 0.862),
    "duplicate_token": (14, 3, 0.519, 0.471, 0.558),
    "induction": (18, 6, 0.749, 0.699, 0.783),
    "attention_sink": (18, 8, 0.999, 0.996, 1.000),
    "positional": (16, 0, 0.965, 0.948, 0.981),
    "rare_words": (12, 1, 0.662, 0.651, 0.674),
    "retrieval": (18, 6, 0.720, 0.697, 0.740),
    "global_retrieval": (18, 6, 0.706, 0.593, 0.811),
    "subword_merge": (3, 2, 0.341, 0.298, 0.381),
    "syntactic_nsubj": (25, 2, 0.950, 0.921, 0.971),
    "syntactic_dobj": (25, 4, 0.958, 0.942, 0.975),
    "syntactic_advmod": (12, 3, 0.900, 0.858, 0.942),
}


def pattern_detectors() -> dict[str, PatternDetector]:
    return {name: d for name, d in detectors(entrypoints=False).items() if isinstance(d, PatternDetector)}


@pytest.fixture(scope="module")
def results(smollm2):  # type: ignore[no-untyped-def]
    return {name: run_detector(smollm2, d, seed=0, n_seeds=SEEDS) for name, d in pattern_detectors().items()}


def test_every_pattern_detector_has_a_golden_head_or_a_stated_absence() -> None:
    assert set(pattern_detectors()) == set(GOLDEN) | {"syntactic_amod"}


@pytest.mark.parametrize("name", sorted(pattern_detectors()))
def test_verdict_is_the_one_recorded_before_the_engine_changed(results, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_verdict_as_before("smollm2", results[name])


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_best_head_matches_its_golden_score(results, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_golden(results[name], pattern_detectors()[name], GOLDEN[name])


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_best_head_shows_the_behaviour(results, name: str) -> None:  # type: ignore[no-untyped-def]
    layer, head, *_ = GOLDEN[name]
    assert bool(results[name].shows_behaviour[layer, head])
    assert float(results[name].evidence.pass_rate[layer, head]) >= MIN_PASS_RATE


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_control_of_the_best_head_does_not_pass(results, name: str) -> None:  # type: ignore[no-untyped-def]
    layer, head, *_ = GOLDEN[name]
    assert_control_fails(results[name], pattern_detectors()[name], layer, head)


def test_shuffled_targets_break_the_syntactic_heads(smollm2) -> None:  # type: ignore[no-untyped-def]
    from ingest.capture import capture

    detector = detectors(entrypoints=False)["syntactic_nsubj"]
    probe = detector.inputs(smollm2.tokenizer, seed=0)
    captured = capture(lens_of(smollm2.model), probe.input_ids, probe.attention_mask)
    shuffled = random_earlier_targets(probe.queries, probe.targets, seed=1)
    layer, head, *_ = GOLDEN["syntactic_nsubj"]
    assert float(argmax_hits(captured.patterns, shuffled, probe.queries).nanmean(dim=1)[layer, head]) < 0.5


def test_amod_is_not_separable_from_position_in_this_probe(results) -> None:  # type: ignore[no-untyped-def]
    result = results["syntactic_amod"]
    assert not result.shows_behaviour.any()
    assert float(result.baselines[0, 0]) > 0.7  # the adjacent word is usually the adjective


def test_same_seeds_give_the_same_scores_and_intervals(smollm2, results) -> None:  # type: ignore[no-untyped-def]
    again = run_detector(smollm2, detectors(entrypoints=False)["induction"], seed=0, n_seeds=SEEDS)
    assert torch.equal(again.scores, results["induction"].scores)
    assert torch.equal(again.evidence.low, results["induction"].evidence.low)


def test_induction_heads_are_confirmed_by_ablation_and_random_heads_are_not(smollm2, results) -> None:  # type: ignore[no-untyped-def]
    from ingest.confirmation import random_sets_like
    from ingest.lens import ModelLens

    found = results["induction"].confirmation
    assert found is not None and found.confirmed and found.effect > 0  # the repeated half's loss rises
    detector, lens = detectors(entrypoints=False)["induction"], ModelLens(smollm2.model, smollm2.tokenizer)
    decoys = random_sets_like(found.heads, (lens.n_layers, lens.n_heads), seed=123, count=1)[0]
    assert not detector.confirm(lens, decoys, seed=0).confirmed


def test_induction_on_unrepeated_tokens_stays_at_chance(smollm2) -> None:  # type: ignore[no-untyped-def]
    from ingest.capture import capture
    from ingest.detectors.probes import repeated_random_probe
    from ingest.detectors.repeated_tokens import BATCH, N_TOKENS

    control = repeated_random_probe(
        smollm2.tokenizer, seed=5, batch=BATCH, n_tokens=N_TOKENS, lag=N_TOKENS - 1, repeat=False
    )
    scores = attention_on_targets(
        capture(lens_of(smollm2.model), control.input_ids, control.attention_mask).patterns,
        control.targets,
        control.queries,
    ).nanmean(dim=1)  # [layer, head]
    assert float(scores.max()) < 0.1
