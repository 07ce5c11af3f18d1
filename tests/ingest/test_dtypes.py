"""Scores in bfloat16 against float32 on SmolLM2, and on CUDA where there is one.

Captured patterns and outputs are cast to float32 before any sum, so a model
run in bfloat16 moves scores only by its own rounding. The tolerance is ours:
0.05 on attention shares in [0, 1]; the largest difference measured here on
previous_token at seed 0 was 0.015.
"""

import pytest
import torch

from ingest.detectors.previous_token import PreviousTokenDetector
from ingest.lens import ModelLens
from ingest.model_loading import load_model
from tests.conftest import MODEL_CACHE

BFLOAT16_TOLERANCE = 0.05


def scores_on(device: str, dtype: str):  # type: ignore[no-untyped-def]
    loaded = load_model("smollm2", cache_dir=MODEL_CACHE, device=device, dtype=dtype)
    return PreviousTokenDetector().measure(ModelLens(loaded.model, loaded.tokenizer), seed=0).scores


@pytest.fixture(scope="module")
def float32_scores():  # type: ignore[no-untyped-def]
    return scores_on("cpu", "float32")


def test_bfloat16_scores_match_float32_within_the_stated_tolerance(float32_scores) -> None:  # type: ignore[no-untyped-def]
    difference = (scores_on("cpu", "bfloat16") - float32_scores).abs().max()
    assert float(difference) <= BFLOAT16_TOLERANCE


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_scores_match_the_cpu_scores(float32_scores) -> None:  # type: ignore[no-untyped-def]
    assert torch.allclose(scores_on("cuda", "float32"), float32_scores, atol=1e-4)
