"""The shared test of duplicate-token and induction heads: random tokens written twice.

Both scores come from one probe, [BOS] x_1..x_n x_1..x_n: each token of the
second copy is scored on its attention to a fixed key of the first copy. The
control writes fresh random tokens in the second half, so the same positions
carry no repetition to react to.
"""

from abc import abstractmethod
from typing import ClassVar

from torch import Tensor

from ingest.detectors.base import PatternDetector, Probe
from ingest.detectors.probes import repeated_random_probe
from ingest.detectors.scoring import attention_on_targets

# Probe size: rows of random tokens and the length of each copy.
BATCH, N_TOKENS = 8, 64
# Each copy's length in the prompt whose attention the head pages draw: both copies fit the picture.
EXAMPLE_TOKENS = 23


class RepetitionDetector(PatternDetector):
    """Attention to targets in a probe with repetition, against the same probe written without it."""

    method = "scoring"

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return self._probe(tokenizer, seed=seed, repeat=True)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return self._probe(tokenizer, seed=seed, repeat=False)

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return attention_on_targets(pattern, probe.targets, probe.queries)

    @abstractmethod
    def _probe(self, tokenizer, *, seed: int, repeat: bool) -> Probe:  # type: ignore[no-untyped-def]
        """The probe; with repeat=False the same positions hold fresh random tokens."""


class RepeatedTokensDetector(RepetitionDetector):
    """Scores attention from the second copy to the key `step_past_copy` tokens after the first occurrence."""

    step_past_copy: ClassVar[int]
    baseline_description = "the same positions when the second half is fresh random tokens (no repetition)"

    def parameters(self) -> dict[str, object]:
        return {"batch": BATCH, "n_tokens": N_TOKENS, "probe": "repeated random tokens"}

    def _probe(self, tokenizer, *, seed: int, repeat: bool) -> Probe:  # type: ignore[no-untyped-def]
        lag = N_TOKENS - self.step_past_copy
        return repeated_random_probe(tokenizer, seed=seed, batch=BATCH, n_tokens=N_TOKENS, lag=lag, repeat=repeat)

    def example_prompt(self, tokenizer, *, seed: int) -> Tensor:  # type: ignore[no-untyped-def]
        """The probe's construction with shorter copies, so that the picture shows both."""
        lag = EXAMPLE_TOKENS - self.step_past_copy
        return repeated_random_probe(tokenizer, seed=seed, batch=1, n_tokens=EXAMPLE_TOKENS, lag=lag).input_ids[0]
