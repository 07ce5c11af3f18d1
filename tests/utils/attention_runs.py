"""Runs carrying a prompt's attention on a hand-made model of 2 layers of 3 heads, written by ingest.write_runs.

No model is loaded: the attention is a seeded uint8 array, as ingest.prompt_attention
would hand it over, and the run's scores are arbitrary. A catalog to write them to
holds the shipped knowledge (the head types and methods a run names).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from sqlalchemy import Engine

from catalog.attention import LEVELS
from catalog.db import make_engine
from catalog.models import RunStatus
from catalog.settings import KNOWLEDGE_DIR
from ingest.evidence import resampled
from ingest.model_loading import ModelFacts
from ingest.prompt_attention import PromptAttention
from ingest.write_knowledge import ingest_knowledge
from ingest.write_runs import RunResult, write_run
from tests.conftest import _empty_database

N_LAYERS, N_HEADS = 2, 3
# Each detector written here with the head type its runs are of.
HEAD_TYPES = {"induction": "induction-head", "duplicate_token": "duplicate-token-head"}
STARTED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@contextmanager
def knowledge_catalog(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh catalog of `backend` holding the shipped knowledge."""
    with _empty_database(backend, folder) as url:
        engine = make_engine(url)
        ingest_knowledge(engine, KNOWLEDGE_DIR)
        engine.dispose()
        yield url


@contextmanager
def knowledge_engine(backend: str, folder: Path) -> Iterator[Engine]:
    """An engine on a fresh catalog of `backend` holding the shipped knowledge."""
    with knowledge_catalog(backend, folder) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def own_model(test_name: str) -> str:
    """A model slug for one test (its name with its parameters), which no other test writes to."""
    return re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")


def model_facts(slug: str) -> ModelFacts:
    return ModelFacts(
        slug=slug,
        name=slug,
        hub_id=None,
        family="llama",
        kind="toy",
        n_layers=N_LAYERS,
        n_heads=N_HEADS,
        n_kv_heads=N_HEADS,
        d_model=24,
        positional="rope",
        quantization=None,
        file_sha256=None,
        identity=f"toy:{slug}",
    )


def attention(n_tokens: int = 5, *, seed: int = 0, start: int = 0, prompt_length: int | None = None) -> PromptAttention:
    """A prompt of `n_tokens` kept tokens (seeded ids) with seeded weights for every head."""
    rng = np.random.default_rng(seed)
    ids = tuple(int(token) for token in rng.integers(0, 1000, size=n_tokens))
    weights = rng.integers(0, LEVELS + 1, size=(N_LAYERS, N_HEADS, n_tokens, n_tokens), dtype=np.uint8)
    return PromptAttention(
        tokens=[f"t{token}" for token in ids],
        start=start,
        prompt_length=start + n_tokens if prompt_length is None else prompt_length,
        weights=weights,
        prompt_ids=ids,
    )


def run_result(detector: str = "induction", *, seed: int = 0, attention: PromptAttention | None = None) -> RunResult:
    """A complete run of `detector` at `seed`, carrying `attention`."""
    scores = torch.rand(1, N_LAYERS, N_HEADS, generator=torch.Generator().manual_seed(seed))  # [seed, layer, head]
    evidence = resampled((seed,), scores, torch.zeros_like(scores), scores > 0.5)
    return RunResult(
        detector=detector,
        detector_version="1",
        head_type=HEAD_TYPES[detector],
        method="scoring",
        threshold=0.5,
        params={},
        seed=seed,
        code_version="test",
        started_at=STARTED,
        finished_at=STARTED,
        timings={},
        evidence=evidence,
        shows_behaviour=scores[0] > 0.5,
        status=RunStatus.COMPLETE,
        attention=attention,
    )


def write(
    engine: Engine, model: str, detector: str = "induction", *, seed: int = 0, attention: PromptAttention | None = None
) -> int:
    """Store a run on `model` as `headatlas verify` would; its id."""
    return write_run(engine, model_facts(model), run_result(detector, seed=seed, attention=attention))
