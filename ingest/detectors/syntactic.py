"""Syntactic heads: the strongest attention goes to the word a dependency relation links to.

Voita et al. (2019, Section 5.2) score a head on one relation by how often its
maximum weight falls on the related word, and call it syntactic when that
accuracy beats, by at least 10 points, the baseline that always picks the
relation's most frequent relative position. Our sentences are generated from
a template, so nsubj, dobj, amod and advmod are known by construction, while
optional adjectives, compound nouns and a prepositional phrase vary the distances. A causal
model only looks back, so each relation is scored from its later word: the
verb to its subject, the object to its verb, the noun to its adjective and the
adverb to its verb. Which one should you use? These find heads that track
grammar rather than position; one detector per relation.
"""

import random
from collections import Counter
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.scoring import argmax_hits
from ingest.detectors.texts import sentence_batch, syntax_words
from ingest.hookspecs import hookimpl

# Sentences generated per run.
N_SENTENCES = 48
# relation -> (query role, target role): the later word and the word it relates to.
RELATIONS = {
    "nsubj": ("verb", "subject"),
    "dobj": ("object", "verb"),
    "amod": ("noun", "adjective"),
    "advmod": ("adverb", "verb"),
}


def generate_sentence(
    rng: random.Random,
) -> tuple[list[str], dict[str, list[tuple[int, list[int]]]]]:
    """One sentence, and per relation its (query word, target words) pairs by word index."""
    words_of = syntax_words()
    words: list[str] = ["The"]
    subject_adjectives = [len(words) + i for i in range(rng.randint(0, 2))]
    words += rng.sample(words_of.adjectives, len(subject_adjectives))
    words += [rng.choice(words_of.places)] if rng.random() < 0.5 else []  # a compound: "the old harbour sailor"
    subject = len(words)
    words.append(rng.choice(words_of.nouns))
    if rng.random() < 0.5:
        words += [rng.choice(words_of.prepositions), "the", rng.choice(words_of.places)]
    verb = len(words)
    words += [rng.choice(words_of.verbs), "the"]
    object_adjectives = [len(words) + i for i in range(rng.randint(0, 2))]
    words += rng.sample(words_of.adjectives, len(object_adjectives))
    words += [rng.choice(words_of.places)] if rng.random() < 0.5 else []
    obj = len(words)
    words.append(rng.choice(words_of.objects))
    adverb = len(words)
    words.append(rng.choice(words_of.adverbs) + ".")
    pairs = {
        "nsubj": [(verb, [subject])],
        "dobj": [(obj, [verb])],
        "amod": [
            (n, adjectives) for n, adjectives in ((subject, subject_adjectives), (obj, object_adjectives)) if adjectives
        ],
        "advmod": [(adverb, [verb])],
    }
    return words, pairs


@dataclass(frozen=True)
class RelationProbe(Probe):
    """Sentences whose queries target their related words, and how well position alone finds those words."""

    rule_accuracy: float  # share of queries whose related words include the relation's most frequent offset


class SyntacticDetector(PatternDetector):
    """One dependency relation's test."""

    version = "1"
    head_type = "syntactic-head"
    method = "scoring"
    rule = "margin"
    threshold = 0.10
    threshold_source = (
        "SpecialHead_19_ACL_Russia (Voita et al.) Section 5.2: accuracy at least 10 points above the "
        "most-frequent-relative-position baseline"
    )
    baseline_description = "accuracy of always picking the relation's most frequent relative position (in words)"

    def __init__(self, relation: str) -> None:
        self.relation = relation
        self.name = f"syntactic_{relation}"

    def inputs(self, tokenizer, *, seed: int) -> RelationProbe:  # type: ignore[no-untyped-def]
        rng = random.Random(seed)
        sentences = [generate_sentence(rng) for _ in range(N_SENTENCES)]
        probe, owners = sentence_batch(tokenizer, [words for words, _ in sentences])
        queries = torch.zeros_like(probe.queries)
        targets = torch.zeros_like(probe.targets)
        offsets: list[list[int]] = []  # per query, the word offsets back to its related words
        for b, ((_, pairs), owner) in enumerate(zip(sentences, owners, strict=True)):
            for query_word, target_words in pairs[self.relation]:
                q = max(p for p, w in enumerate(owner) if w == query_word)  # the query word's last token
                queries[b, q] = True
                targets[b, q, [p for p, w in enumerate(owner) if w in target_words]] = True
                offsets.append([query_word - t for t in target_words])
        commonest = Counter(o for row in offsets for o in set(row)).most_common(1)[0][0]
        positional = sum(commonest in row for row in offsets) / len(offsets)
        return RelationProbe(probe.input_ids, probe.attention_mask, queries, targets, rule_accuracy=positional)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        return probe  # the baseline is a rule's accuracy, not a head's score on other material

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        return argmax_hits(pattern, probe.targets, probe.queries)

    def baseline(self, control_scores: Tensor, probe: Probe) -> Tensor:
        assert isinstance(probe, RelationProbe)
        return torch.full_like(control_scores, probe.rule_accuracy)

    def parameters(self) -> dict[str, object]:
        direction = "{} -> {}".format(*RELATIONS[self.relation])
        return {
            "relation": self.relation,
            "direction": direction,
            "sentences": N_SENTENCES,
            "probe": "data/syntax.yaml",
        }


@hookimpl
def register_detectors() -> list[Detector]:
    return [SyntacticDetector(relation) for relation in RELATIONS]
