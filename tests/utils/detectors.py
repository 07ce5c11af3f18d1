"""Checks shared by the detector test modules: a golden best head with its interval, a control that does not pass."""

import json
from pathlib import Path

from ingest.detectors.base import Detector
from ingest.write_runs import RunResult

# CPU float32 kernels may sum in another order on another machine.
ATOL = 2e-3
# Seeds the detector tests run, as `headatlas verify` does by default.
SEEDS = 5
# (layer, head, mean score over the seeds, low and high ends of its 95% interval)
Golden = tuple[int, int, float, float, float]


def strongest_head(result: RunResult, detector: Detector) -> tuple[int, int]:
    """The highest mean score, or for margin rules the highest mean score above the baseline."""
    strength = result.scores - result.baselines if detector.rule == "margin" else result.scores
    return divmod(int(strength.nan_to_num(-1.0).argmax()), strength.shape[1])


def assert_golden(result: RunResult, detector: Detector, golden: Golden) -> None:
    layer, head, mean, low, high = golden
    evidence = result.evidence
    assert strongest_head(result, detector) == (layer, head)
    assert abs(float(evidence.mean[layer, head]) - mean) < ATOL
    assert abs(float(evidence.low[layer, head]) - low) < ATOL
    assert abs(float(evidence.high[layer, head]) - high) < ATOL


def assert_control_fails(result: RunResult, detector: Detector, layer: int, head: int) -> None:
    baseline = float(result.baselines[layer, head])
    if detector.rule == "margin":
        assert float(result.scores[layer, head]) - baseline >= detector.threshold > 0.0
    else:
        assert baseline < result.threshold


# Every detector's status and heads found per model, recorded by bench/golden_verdicts.py with revision 29faaaa,
# the engine before issue 11 (one table per architecture, the lens, readings layer by layer).
GOLDEN_VERDICTS = Path(__file__).resolve().parent.parent / "data" / "golden_verdicts"
# (model, detector) -> the verdict now, where the engine's change changed it on purpose, and why.
CHANGED_VERDICTS: dict[tuple[str, str], tuple[dict[str, object], str]] = {}


def assert_verdict_as_before(model: str, result: RunResult) -> None:
    """The run's status and heads found are those recorded before the engine changed, or a change explained above."""
    before = json.loads((GOLDEN_VERDICTS / f"{model}.json").read_text())[result.detector]
    expected, _why = CHANGED_VERDICTS.get((model, result.detector), (before, ""))
    found = sorted([layer, head] for layer, head, _ in result.found)
    assert (str(result.status), found) == (expected["status"], expected["found"])
