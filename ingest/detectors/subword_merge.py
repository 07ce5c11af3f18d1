"""Subword-merge heads: a word's later tokens attend to its earlier tokens.

Correia et al. (2019) saw BPE-merging heads, and Ferrando & Voita (2024) find
subword-merging heads important in Llama 2; neither defines a score. Ours: the
attention from each non-initial token of a word to the earlier tokens of the
same word, against a control from each word-initial token to the previous
word (what a plain previous-token head also does). Which one should you use?
This one separates heads that assemble words from previous-token heads.
"""

import dataclasses
import random

import torch
from torch import Tensor

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.scoring import attention_on_targets
from ingest.detectors.texts import sentence_batch, sentences, words_of
from ingest.hookspecs import hookimpl


class SubwordMergeDetector(PatternDetector):
    name = "subword_merge"
    version = "1"
    head_type = "subword-merge-head"
    method = "scoring"
    rule = "margin"
    threshold = 0.2
    threshold_source = (
        "headatlas convention: SubwordHead_19_ACL_Portugal and InformationFlow_24_arXiv_Meta name the "
        "heads without a cut-off; 0.2 more attention to the word's own earlier tokens than to the previous word"
    )
    baseline_description = "attention from each word-initial token to the previous word's tokens"

    def inputs(self, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return self._probe(tokenizer, seed=seed, within_word=True)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return self._probe(tokenizer, seed=seed, within_word=False)  # the same tokens, other queries and targets

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return attention_on_targets(pattern, probe.targets, probe.queries)

    def parameters(self) -> dict[str, object]:
        return {"probe": "data/sentences.yaml, each followed by a short sentence ending in a rare word"}

    @staticmethod
    def _probe(tokenizer, *, seed: int, within_word: bool) -> Probe:  # type: ignore[no-untyped-def]
        probe, owners = sentence_batch(tokenizer, _sentences_ending_in_rare_words(seed))
        queries = torch.zeros_like(probe.queries)
        targets = torch.zeros_like(probe.targets)
        for b, owner in enumerate(owners):
            for q in range(1, len(owner)):
                word, previous = owner[q], owner[q - 1]
                if word < 0 or previous < 0:
                    continue
                if within_word and previous == word:  # a later piece of a split word
                    sources = [p for p in range(q) if owner[p] == word]
                elif not within_word and previous == word - 1:  # the first piece of a word
                    sources = [p for p in range(q) if owner[p] == previous]
                else:
                    continue
                queries[b, q] = True
                targets[b, q, sources] = True
        return dataclasses.replace(probe, queries=queries, targets=targets)


def _sentences_ending_in_rare_words(seed: int) -> list[list[str]]:
    """Each probe sentence followed by a short one ending in a rare word, which the tokenizer splits.

    The split words come late, so that a head attending evenly cannot put much
    attention on a word's earlier pieces by chance.
    """
    texts = sentences()
    generator = random.Random(seed)
    return [
        [*words_of(s), "It", "was", "near", "the", generator.choice(texts.rare_words) + "."] for s in texts.sentences
    ]


@hookimpl
def register_detectors() -> list[Detector]:
    return [SubwordMergeDetector()]
