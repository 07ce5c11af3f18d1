"""Positional heads: a head whose strongest attention goes to a fixed relative position.

Voita et al. (2019) call a head positional when its most-attended token sits at
one fixed offset in most cases. A decoder only sees earlier tokens, so the
offsets tried are 1 to MAX_OFFSET tokens back; the score is the best offset's
rate. The first token (the sink) is left out of the argmax. Which one should
you use? This one finds heads defined by position alone; `previous_token`
measures attention mass to offset 1 rather than argmax.
"""

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.detectors.attention_sink import sentence_probe
from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.scoring import argmax_hits, random_earlier_targets
from ingest.hookspecs import hookimpl

# The farthest offset tried.
MAX_OFFSET = 4


@dataclass(frozen=True)
class OffsetProbe(Probe):
    """Sentences scored at several candidate targets per query, of which each head is judged at its best."""

    choices: Tensor  # [choice, batch, q_pos, k_pos] bool: one target key per query for each choice


class PositionalDetector(PatternDetector):
    name = "positional"
    version = "1"
    head_type = "positional-head"
    method = "scoring"
    threshold = 0.9
    threshold_source = (
        "SpecialHead_19_ACL_Russia (Voita et al.) Section 5.1: the maximum weight sits at one relative "
        "position at least 90% of the time"
    )
    baseline_description = "the best of as many random earlier positions as offsets tried"
    seeded_material = False  # the probe sentences are fixed; the seed moves only the control

    def inputs(self, tokenizer, *, seed: int) -> OffsetProbe:  # type: ignore[no-untyped-def]
        probe = sentence_probe(tokenizer)
        queries = probe.queries.clone()
        queries[:, : MAX_OFFSET + 1] = False  # every offset must land after the first token
        return OffsetProbe(probe.input_ids, probe.attention_mask, queries, probe.targets, self._offsets(queries))

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        none = torch.zeros_like(probe.targets)
        randoms = [random_earlier_targets(probe.queries, none, seed=seed + i) for i in range(MAX_OFFSET)]
        return dataclasses.replace(probe, choices=torch.stack(randoms))  # as many random positions as offsets

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        assert isinstance(probe, OffsetProbe)
        hits = torch.stack([argmax_hits(pattern, targets, probe.queries) for targets in probe.choices])
        return best_of(hits)  # [prompt, head], at each head's best choice

    def parameters(self) -> dict[str, object]:
        return {"probe": "data/sentences.yaml", "offsets": list(range(1, MAX_OFFSET + 1))}

    @staticmethod
    def _offsets(queries: Tensor) -> Tensor:
        """[offset, batch, q_pos, k_pos]: for each offset, the key that many tokens back."""
        batch, n_pos = queries.shape
        targets = torch.zeros((MAX_OFFSET, batch, n_pos, n_pos), dtype=torch.bool)
        for index, offset in enumerate(range(1, MAX_OFFSET + 1)):
            q = torch.arange(offset, n_pos)
            targets[index][:, q, q - offset] = queries[:, q]
        return targets


def best_of(hits: Tensor) -> Tensor:
    """[choice, prompt, ...] -> [prompt, ...] at each head's choice with the highest mean rate over prompts."""
    best = hits.nanmean(dim=1).argmax(dim=0)  # [...]
    return hits.gather(0, best.expand(1, *hits.shape[1:])).squeeze(0)


@hookimpl
def register_detectors() -> list[Detector]:
    return [PositionalDetector()]
