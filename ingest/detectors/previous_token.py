"""Previous-token heads: each position attends to the one just before it.

Olsson et al. (2022) and Wang et al. (2022, Appendix H) score them on repeated
random tokens; the score is TransformerLens's `previous_token_head` score:
mean attention to position q-1. Which one should you use? This one finds the
heads that build "what came before me" features, the first half of an
induction circuit; use `positional` for other fixed offsets.
"""

import dataclasses

from torch import Tensor

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.probes import repeated_random_probe
from ingest.detectors.scoring import (
    HEADATLAS_ATTENTION_SOURCE,
    HEADATLAS_ATTENTION_THRESHOLD,
    attention_on_targets,
    random_earlier_targets,
)
from ingest.hookspecs import hookimpl

# Probe size: rows of random tokens and the length of each copy.
BATCH, N_TOKENS = 8, 64


class PreviousTokenDetector(PatternDetector):
    name = "previous_token"
    version = "1"
    head_type = "previous-token-head"
    method = "scoring"
    threshold = HEADATLAS_ATTENTION_THRESHOLD
    threshold_source = HEADATLAS_ATTENTION_SOURCE
    baseline_description = "the same heads' attention to one random earlier token instead of the previous one"

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return repeated_random_probe(tokenizer, seed=seed, batch=BATCH, n_tokens=N_TOKENS, lag=1)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return dataclasses.replace(probe, targets=random_earlier_targets(probe.queries, probe.targets, seed=seed))

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return attention_on_targets(pattern, probe.targets, probe.queries)

    def parameters(self) -> dict[str, object]:
        return {"batch": BATCH, "n_tokens": N_TOKENS, "probe": "repeated random tokens"}


@hookimpl
def register_detectors() -> list[Detector]:
    return [PreviousTokenDetector()]
