"""Attention-sink heads: most of a head's attention parks on the first token.

Xiao et al. (2024) named attention sinks; Gu et al. (2025) count a head as a
sink when its mean attention to the first token passes a threshold. The score
is the mean attention from every later position to position 0 over ordinary
sentences. Which one should you use? This one finds heads that are mostly
"switched off" (active-dormant heads, Guo et al. 2024) on ordinary text.
"""

import dataclasses

import torch
from torch import Tensor

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.scoring import attention_on_targets, random_earlier_targets
from ingest.detectors.texts import sentence_batch, sentences, words_of
from ingest.hookspecs import hookimpl


def sentence_probe(tokenizer) -> Probe:  # type: ignore[no-untyped-def]
    """Every probe sentence, with every real position after the first as a query and no target yet."""
    probe, _ = sentence_batch(tokenizer, [words_of(s) for s in sentences().sentences])
    queries = probe.attention_mask.bool().clone()
    queries[:, 0] = False
    return dataclasses.replace(probe, queries=queries)


class AttentionSinkDetector(PatternDetector):
    name = "attention_sink"
    version = "1"
    head_type = "attention-sink-head"
    method = "scoring"
    threshold = 0.3
    threshold_source = (
        "arXiv_2410_10781 (Gu et al.) Section 3.2: a head sinks on the first token when its mean "
        "attention to it exceeds 0.3"
    )
    baseline_description = "the same heads' attention to one random later token instead of the first"
    seeded_material = False  # the probe sentences are fixed; the seed moves only the control

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        probe = sentence_probe(tokenizer)
        targets = torch.zeros_like(probe.targets)
        targets[:, :, 0] = probe.queries  # [batch, q_pos, k_pos]: key 0 for every scored query
        return dataclasses.replace(probe, targets=targets)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return dataclasses.replace(probe, targets=random_earlier_targets(probe.queries, probe.targets, seed=seed))

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return attention_on_targets(pattern, probe.targets, probe.queries)

    def parameters(self) -> dict[str, object]:
        return {"probe": "data/sentences.yaml", "sentences": len(sentences().sentences)}


@hookimpl
def register_detectors() -> list[Detector]:
    return [AttentionSinkDetector()]
