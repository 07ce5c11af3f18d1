"""Rare-words heads: the strongest attention goes to the least frequent word of the sentence.

Voita et al. (2019, Section 5.3) found a head that points to the rarest token
of a sentence in 66% of cases; word frequencies here come from the wordfreq
package. The probe puts one clearly rare word into ordinary sentences, and a
head is scored on how often its argmax (the first token left out) from each
later token lands on that word. Which one should you use? This one finds
heads that single out unusual content words.
"""

import dataclasses
import random

import torch
from torch import Tensor
from wordfreq import zipf_frequency

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.scoring import argmax_hits, random_earlier_targets
from ingest.detectors.texts import sentence_batch, sentences, words_of
from ingest.hookspecs import hookimpl


def rarest_word(words: list[str]) -> int:
    """Index of the least frequent word (wordfreq's Zipf scale, punctuation stripped)."""
    return min(range(len(words)), key=lambda i: zipf_frequency(words[i].strip(".,;:!?"), "en"))


class RareWordsDetector(PatternDetector):
    name = "rare_words"
    version = "1"
    head_type = "rare-words-head"
    method = "scoring"
    threshold = 0.5
    threshold_source = (
        "headatlas convention informed by SpecialHead_19_ACL_Russia Section 5.3, whose rare-words head "
        "points to the rarest token in 66% of sentences; the paper sets no cut-off"
    )
    baseline_description = (
        "how often the same heads' argmax lands on one random earlier token that is not the rare word"
    )

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        rows = self._sentences(seed)
        probe, owners = sentence_batch(tokenizer, rows)
        queries = torch.zeros_like(probe.queries)
        targets = torch.zeros_like(probe.targets)
        for b, (words, owner) in enumerate(zip(rows, owners, strict=True)):
            rare = rarest_word(words)
            rare_tokens = [p for p, w in enumerate(owner) if w == rare]
            after = [p for p, w in enumerate(owner) if w > rare]
            queries[b, after] = True
            for q in after:
                targets[b, q, rare_tokens] = True
        return dataclasses.replace(probe, queries=queries, targets=targets)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return dataclasses.replace(probe, targets=random_earlier_targets(probe.queries, probe.targets, seed=seed))

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return argmax_hits(pattern, probe.targets, probe.queries)

    def parameters(self) -> dict[str, object]:
        return {
            "probe": "data/sentences.yaml with one rare word each",
            "frequencies": "wordfreq (en, Zipf)",
        }

    @staticmethod
    def _sentences(seed: int) -> list[list[str]]:
        """Each base sentence with a rare word placed near its start: 'Beside the walrus, the old bridge …'."""
        texts = sentences()
        generator = random.Random(seed)
        rows = []
        for sentence in texts.sentences:
            words = words_of(sentence)
            rare = generator.choice(texts.rare_words)
            rows.append(["Beside", "the", rare + ",", words[0].lower(), *words[1:]])
        return rows


@hookimpl
def register_detectors() -> list[Detector]:
    return [RareWordsDetector()]
