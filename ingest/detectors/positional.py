"""Positional heads: a head whose strongest attention goes to a fixed relative position.

Voita et al. (2019) call a head positional when its most-attended token sits at
one fixed offset in most cases. A decoder only sees earlier tokens, so the
offsets tried are 1 to MAX_OFFSET tokens back; the score is the best offset's
rate. The first token (the sink) is left out of the argmax. Which one should
you use? This one finds heads defined by position alone; `previous_token`
measures attention mass to offset 1 rather than argmax.
"""

import dataclasses

import torch
from torch import Tensor

from ingest.capture import Captured
from ingest.detectors.attention_sink import sentence_probe
from ingest.detectors.base import Detector, PatternDetector, Probe, RunModel
from ingest.detectors.scoring import argmax_hits_by_prompt, random_earlier_targets
from ingest.hookspecs import hookimpl

# The farthest offset tried.
MAX_OFFSET = 4


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

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        probe = sentence_probe(tokenizer)
        queries = probe.queries.clone()
        queries[:, : MAX_OFFSET + 1] = False  # every offset must land after the first token
        return dataclasses.replace(probe, queries=queries, extra={"offset_targets": self._offsets(queries)})

    def score(self, captured: Captured, probe: Probe) -> Tensor:
        hits = [
            argmax_hits_by_prompt(captured.patterns, targets, probe.queries)
            for targets in probe.extra["offset_targets"]
        ]
        return best_of(torch.stack(hits))  # [prompt, layer, head], at each head's best offset

    def baseline(self, captured: Captured, probe: Probe, run: RunModel, tokenizer, *, seed: int) -> Tensor:  # type: ignore[no-untyped-def]
        none = torch.zeros_like(probe.targets)
        hits = [
            argmax_hits_by_prompt(
                captured.patterns,
                random_earlier_targets(probe.queries, none, seed=seed + i),
                probe.queries,
            )
            for i in range(MAX_OFFSET)
        ]
        return best_of(torch.stack(hits))  # the best of as many random positions as offsets tried

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
    """[choice, prompt, layer, head] -> [prompt, layer, head] at each head's choice with the highest mean rate."""
    best = hits.nanmean(dim=1).argmax(dim=0)  # [layer, head]
    return hits.gather(0, best.expand(1, *hits.shape[1:])).squeeze(0)


@hookimpl
def register_detectors() -> list[Detector]:
    return [PositionalDetector()]
