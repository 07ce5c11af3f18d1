"""Catalog objects the site is drawn from, built by hand: a model and a run, for figures specified with no catalog.

A hand-built model is a toy with no checkpoint behind it, and a run one of the
induction detector that found nothing; each test says only what it turns on.
"""

from datetime import datetime
from typing import Any

from catalog.schemas import ModelPublic, RunDetail

# What every hand-built model is, whatever its size: a causal toy with rotary positions that no paper reports a head
# of, with no checkpoint behind it (so nothing is known of where it comes from, what file it is, or how wide).
TOY: dict[str, Any] = {"family": "toy", "kind": "causal", "positional": "rope", "reported_heads": 0}
TOY |= dict.fromkeys(("hub_id", "revision", "d_model", "quantization", "license", "file_sha256", "identity"))


def a_model(slug: str = "m", *, n_layers: int = 2, n_heads: int = 3) -> ModelPublic:
    """A toy named after its slug ("Model M" for m), of `n_layers` layers of `n_heads` heads (as many KV heads)."""
    name = f"Model {slug.upper()}"
    return ModelPublic(slug=slug, name=name, n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_heads, **TOY)


def a_run(run_id: int = 1, *, model: str = "m", rule: str = "at-least", status: str = "complete") -> RunDetail:
    """A run of the induction detector on `model` whose verdicts followed `rule` (value 0.03), at seed 0, finding none.

    0.03 is the share a top-fraction rule keeps, the induction detector's own; other rules give theirs as a threshold.
    """
    return RunDetail(
        id=run_id,
        model=model,
        detector="induction",
        detector_version="1",
        head_type="induction-head",
        method=None,
        status=status,
        seed=0,
        seeds=[0],
        evidence={},
        code_version="test",
        params={"rule": rule, "rule_value": 0.03},
        timings={},
        started_at=datetime(2024, 1, 1),
        finished_at=None,
        heads_found=0,
        error=None,
        found=[],
    )
