"""Retrieval heads: while the model copies a needle out of a haystack, the head attends to the token being copied.

Wu et al. (2024, Section 2) call a head's step a copy-paste when the token the
model generates equals the token at the head's most-attended position and
that position lies in the needle; a head's retrieval score is the share of the
needle's tokens it copies this way, and 0.1 makes it a retrieval head. We
teacher-force the answer instead of decoding greedily, count a step only when
the model's own prediction is the needle's next token, and keep only prompts
the model answers (half or more of the needle right), as Wu et al. keep only
answered tests. Haystacks are 16 filler sentences, a few hundred tokens
(theirs: 1K to 50K), as a 2-core CPU allows in every verification; a detector
built with `haystack_tokens` writes haystacks of at least that many tokens,
cycling the filler sentences in fresh orders, and since each layer's pattern
is read and dropped as the layer runs, 2,000 tokens fit on SmolLM2 here
(bench/memory.py). Which one should you use? This one finds heads that fetch
content from far back in the context.
"""

import dataclasses
import random
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.detectors.base import Detector, PatternDetector, Probe
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.scoring import argmax_on_target
from ingest.detectors.texts import sentences
from ingest.hookspecs import hookimpl

# Needle, question and answer: invented facts the model cannot know beforehand.
NEEDLE = "The secret ingredient of the harbour soup is smoked paprika from the northern hills."
QUESTION = "What is the secret ingredient of the harbour soup?"
ANSWER = NEEDLE  # the model is asked to restate the needle
# How many filler sentences make a haystack, and at which depths (share of the haystack) the needle goes.
HAYSTACK_SENTENCES = 16
DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
# A prompt counts only if the model predicts at least this share of the answer (Wu et al.: ROUGE-1 recall > 50%).
ANSWERED = 0.5


@dataclass(frozen=True)
class NeedleProbe(Probe):
    """Haystacks with a needle, whose queries restate it: where the needle and the haystack lie in each row."""

    needle_spans: Tensor  # [batch, 2]: the needle's [start, end) positions
    haystack_ends: Tensor  # [batch]: where the question after the haystack starts


class RetrievalDetector(PatternDetector):
    name = "retrieval"
    version = "1"
    head_type = "retrieval-head"
    method = "scoring"
    threshold = 0.1
    threshold_source = "RetrievalHead_24_arXiv_PKU (Wu et al.) Section 2: copy-paste in at least 10% of needle tokens"
    baseline_description = "the same test counting copies from an equally long random stretch of the haystack"
    needs_predictions = True

    def __init__(self, haystack_tokens: int | None = None) -> None:
        self.haystack_tokens = haystack_tokens  # None: HAYSTACK_SENTENCES sentences

    def inputs(self, tokenizer, *, seed: int) -> NeedleProbe:  # type: ignore[no-untyped-def]
        filler = self._filler(tokenizer, seed=seed)
        rows, needles, answers = [], [], []
        for depth in DEPTHS:
            ids, needle, answer = _prompt(tokenizer, filler, depth)
            rows.append(ids)
            needles.append(needle)
            answers.append(answer)
        input_ids, mask = pad_right(rows, pad_id(tokenizer))
        return _probe(input_ids, mask, needles, answers)

    def control(self, probe: Probe, tokenizer, *, seed: int) -> Probe:  # type: ignore[no-untyped-def]
        """The same rows, with copies counted from a random stretch of haystack as long as the needle."""
        assert isinstance(probe, NeedleProbe)
        generator = random.Random(seed)
        control = torch.zeros_like(probe.targets)
        for b in range(probe.input_ids.shape[0]):
            start, end = (int(x) for x in probe.needle_spans[b])
            length = end - start
            candidates = [s for s in range(1, int(probe.haystack_ends[b]) - length) if s + length <= start or s >= end]
            fake = generator.choice(candidates)
            control[b] = _copy_targets(probe.input_ids[b], probe.queries[b], fake, fake + length)
        return dataclasses.replace(probe, targets=control)

    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        """[batch, head, q_pos] bool: whether each query's most attended key holds the token to copy."""
        return argmax_on_target(pattern, probe.targets, ignore_first=False) & probe.queries[:, None]

    def scores(self, layers: Tensor, probe: Probe, predictions: Tensor | None) -> Tensor:
        """Share of each answered prompt's needle tokens copied by each head, averaged over prompts: [layer, head]."""
        if predictions is None:
            raise ValueError("The retrieval score needs the model's predictions at the answer's positions")
        next_tokens = torch.roll(probe.input_ids, -1, dims=1)  # [batch, pos]: the token each position should predict
        correct = (predictions == next_tokens) & probe.queries  # [batch, q_pos]
        answered = correct.sum(1) >= ANSWERED * probe.queries.sum(1)  # [batch]
        if not answered.any():
            return torch.full(layers.shape[:1] + layers.shape[2:3], float("nan"))
        copied = layers & correct[None, :, None]  # [layer, batch, head, q_pos]
        per_prompt = copied.sum(-1).float() / probe.queries.sum(-1)[None, :, None].clamp(min=1)  # [layer, batch, head]
        return per_prompt[:, answered].mean(dim=1)  # [layer, head]

    def parameters(self) -> dict[str, object]:
        size = {"haystack_tokens": self.haystack_tokens} if self.haystack_tokens else {}
        return {
            "haystack_sentences": HAYSTACK_SENTENCES,
            **size,
            "depths": list(DEPTHS),
            "needle": NEEDLE,
            "decoding": "teacher-forced",
        }

    def _filler(self, tokenizer, *, seed: int) -> list[str]:  # type: ignore[no-untyped-def]
        """The haystack: HAYSTACK_SENTENCES sentences, or rounds of all of them in fresh orders up to the length."""
        generator, pool = random.Random(seed), list(sentences().sentences)
        if self.haystack_tokens is None:
            generator.shuffle(pool)
            return pool[:HAYSTACK_SENTENCES]
        filler: list[str] = []
        while len(tokenizer.encode(" ".join(filler), add_special_tokens=False)) < self.haystack_tokens:
            generator.shuffle(pool)
            filler += pool
        return filler


def _prompt(tokenizer, haystack: list[str], depth: float) -> tuple[list[int], tuple[int, int], tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Token ids of one prompt, with the needle's and the answer's [start, end) spans."""
    cut = round(depth * len(haystack))
    before = " ".join(haystack[:cut])
    after = " ".join(haystack[cut:])
    ids = bos_prefix(tokenizer) + tokenizer.encode(before + (" " if before else ""), add_special_tokens=False)
    needle_start = len(ids)
    ids += tokenizer.encode(NEEDLE, add_special_tokens=False)
    needle_end = len(ids)
    ids += tokenizer.encode(
        " " + after + f"\nBased on the text above, answer. {QUESTION}\nAnswer:",
        add_special_tokens=False,
    )
    answer_start = len(ids)
    ids += tokenizer.encode(" " + ANSWER, add_special_tokens=False)
    return ids, (needle_start, needle_end), (answer_start, len(ids))


def _probe(input_ids: Tensor, mask: Tensor, needles: list, answers: list) -> NeedleProbe:  # type: ignore[type-arg]
    batch, n_pos = input_ids.shape
    queries = torch.zeros((batch, n_pos), dtype=torch.bool)
    for b, (start, end) in enumerate(answers):
        queries[b, start - 1 : end - 1] = True  # positions that predict an answer token
    targets = torch.stack(
        [_copy_targets(input_ids[b], queries[b], *needles[b]) for b in range(batch)]
    )  # [batch, q_pos, k_pos]
    return NeedleProbe(
        input_ids,
        mask,
        queries,
        targets,
        needle_spans=torch.tensor(needles),
        haystack_ends=torch.tensor([start for start, _ in answers]),
    )


def _copy_targets(ids: Tensor, queries: Tensor, start: int, end: int) -> Tensor:
    """For each scored query, the keys in [start, end) holding the token it should produce next."""
    n_pos = ids.shape[0]
    next_tokens = torch.roll(ids, -1)
    span = torch.zeros(n_pos, dtype=torch.bool)
    span[start:end] = True
    targets = (ids[None, :] == next_tokens[:, None]) & span[None, :]  # [q_pos, k_pos]
    return targets & queries[:, None]


@hookimpl
def register_detectors() -> list[Detector]:
    return [RetrievalDetector()]
