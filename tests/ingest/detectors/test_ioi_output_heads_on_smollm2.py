"""The IOI circuit's output heads on SmolLM2-135M-Instruct, seed 0: the copy rule and the backup exclusion.

These read each detector's own contract (measure, then decide), so that they
test the verdicts the detectors give whatever the verification around them.
"""

import pytest
import torch
from torch import Tensor

from ingest.circuits import vocabulary_size
from ingest.detectors.base import Detector, Measurement
from ingest.detectors.copy_suppression import copy_suppression_heads
from ingest.detectors.name_movers import COPY_SHARE, SHARE
from ingest.lens import ModelLens
from ingest.plugins import detectors

pytestmark = pytest.mark.model

NAMES = ["name_mover", "negative_name_mover", "backup_name_mover", "copy_suppression"]


@pytest.fixture(scope="module")
def lens(smollm2) -> ModelLens:  # type: ignore[no-untyped-def]
    return ModelLens(smollm2.model, smollm2.tokenizer)


@pytest.fixture(scope="module")
def measured(lens: ModelLens) -> dict[str, tuple[Measurement, Tensor]]:
    """Per detector, its measurement at seed 0 and the heads it finds."""
    results = {}
    for name in NAMES:
        detector = detectors(entrypoints=False)[name]
        measurement = detector.measure(lens, seed=0)
        results[name] = (
            measurement,
            detector.decide(measurement.scores, measurement.baselines, measurement.eligible)[1],
        )
    return results


def copy_score(measurement: Measurement) -> Tensor:
    return torch.tensor(measurement.params["copy_score"])  # type: ignore[arg-type]  # [layer, head]


def test_name_movers_on_smollm2_pass_the_copy_rule(measured: dict[str, tuple[Measurement, Tensor]]) -> None:
    measurement, found = measured["name_mover"]
    assert found.any()
    assert bool((copy_score(measurement)[found] >= COPY_SHARE).all())


def test_negative_name_movers_on_smollm2_pass_the_negative_copy_rule(
    measured: dict[str, tuple[Measurement, Tensor]],
) -> None:
    measurement, found = measured["negative_name_mover"]
    assert found.any()
    assert bool((copy_score(measurement)[found] >= COPY_SHARE).all())


@pytest.mark.parametrize("name", ["name_mover", "negative_name_mover"])
def test_a_name_mover_verdict_is_the_share_rule_and_the_copy_rule(
    measured: dict[str, tuple[Measurement, Tensor]], name: str
) -> None:
    measurement, found = measured[name]
    _, by_share = Detector.decide(detectors(entrypoints=False)[name], measurement.scores, measurement.baselines)
    assert torch.equal(found, by_share & (copy_score(measurement) >= COPY_SHARE))


def test_a_head_with_a_name_movers_share_but_a_low_copy_score_is_no_name_mover(
    measured: dict[str, tuple[Measurement, Tensor]],
) -> None:
    # L23H7 writes over 10% of the logit difference from the IO, but copies only 13 of the 30 names (43%).
    measurement, found = measured["name_mover"]
    _, by_share = Detector.decide(detectors(entrypoints=False)["name_mover"], measurement.scores, measurement.baselines)
    assert bool(by_share[23, 7]) and not bool(found[23, 7])
    assert float(copy_score(measurement)[23, 7]) == pytest.approx(13 / 30)


def test_no_backup_verdict_is_a_name_mover_or_a_negative_name_mover(
    measured: dict[str, tuple[Measurement, Tensor]],
) -> None:
    _, backups = measured["backup_name_mover"]
    for other in ("name_mover", "negative_name_mover", "copy_suppression"):
        assert not bool((backups & measured[other][1]).any()), other


def test_heads_of_another_ioi_class_are_not_scored_as_backups(
    measured: dict[str, tuple[Measurement, Tensor]], lens: ModelLens
) -> None:
    share = measured["name_mover"][0].scores  # [layer, head]: the share of the logit difference written from the IO
    other_class = (share >= SHARE) | (-share >= SHARE) | copy_suppression_heads(lens)
    assert other_class.any()
    assert bool(measured["backup_name_mover"][0].scores[other_class].isnan().all())


def test_copy_suppression_ranks_each_word_among_the_whole_vocabulary(
    measured: dict[str, tuple[Measurement, Tensor]], lens: ModelLens
) -> None:
    assert measured["copy_suppression"][0].params["vocabulary"] == vocabulary_size(lens) == 49152
