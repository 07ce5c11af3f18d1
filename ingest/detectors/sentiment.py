"""Sentiment summarizers and summary readers (Tigges et al. 2023): sentiment stored at punctuation, read from there.

Tigges et al. (Section 5) find heads that, at commas and full stops, attend to
the preceding sentiment words and store a summary of the sentiment there,
which later heads read. We write short reviews ("...and it was wonderful.
Overall, I thought it was") and score each head by its attention from the full
stop after the adjective onto the adjective, minus the same attention when a
neutral adjective stands in its place: heads that attend to whatever word came
last cancel out. The task check asks the model to prefer " good" or " bad" as
the review says (chance: 50%). Summary readers are the heads that, at the
final position, read the sentiment from that full stop: the exact part of a
head's output read from it (attention times value), attributed directly to
logit(" good") - logit(" bad"), signed by the review's sentiment, as a share of
the model's own margin. Which one should you use? sentiment_summarizer finds
heads that collect sentiment; summary_reader, heads that use it.
"""

import random
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.attribution import direct_effects, token_directions, values_read_from
from ingest.capture import Captured
from ingest.detectors.base import Detector
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

N_REVIEWS = 40


@dataclass(frozen=True)
class ReviewProbe(TaskProbe):
    """Short reviews, with where each one's adjective stands."""

    adjective_spans: Tensor  # [batch, 2]: the adjective's [start, end) positions; its full stop is at `end`


def reviews(tokenizer, *, seed: int, neutral: bool) -> ReviewProbe:  # type: ignore[no-untyped-def]
    """Half positive, half negative; with `neutral`, the same reviews with a neutral adjective in the slot."""
    texts = task_texts().sentiment
    generator = random.Random(seed)
    good, bad = (token_id(tokenizer, texts.answers[key]) for key in ("positive", "negative"))
    rows, candidates, slots = [], [], []
    for index in range(N_REVIEWS):
        positive = index % 2 == 0
        word = generator.choice(texts.positive if positive else texts.negative)
        shown = generator.choice(texts.neutral) if neutral else word
        before, after = texts.templates[index % len(texts.templates)].split("{ADJ}")
        ids = bos_prefix(tokenizer) + tokenizer.encode(before, add_special_tokens=False)
        adjective = tokenizer.encode(" " + shown.strip(), add_special_tokens=False)
        slots.append((len(ids), len(ids) + len(adjective)))  # the adjective's tokens; the full stop follows
        ids += adjective + tokenizer.encode(after, add_special_tokens=False)
        rows.append(ids)
        candidates.append([good, bad] if positive else [bad, good])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    return ReviewProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates), torch.tensor(slots))


def attention_to_adjective(captured: Captured, probe: TaskProbe) -> Tensor:
    """Mean attention from the token after the adjective onto the adjective's tokens: [layer, head]."""
    assert isinstance(probe, ReviewProbe)
    spans = probe.adjective_spans  # [batch, 2]: [start, end)
    keys = torch.zeros(probe.input_ids.shape, dtype=torch.bool)
    for row, (start, end) in enumerate(spans.tolist()):
        keys[row, start:end] = True
    pattern = captured.pattern_from(spans[:, 1]).transpose(0, 1)  # [batch, layer, head, k_pos]
    return (pattern * keys[:, None, None]).sum(-1).mean(dim=0)  # [layer, head]


class SentimentSummarizerDetector(TaskDetector):
    name = "sentiment_summarizer"
    version = "1"
    head_type = "sentiment-summarizer"
    method = "scoring"
    ablation_effect = "lowers"  # the sentiment they gather is what the answer reads
    rule = "margin"
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Tigges et al. show the attention pattern without a cut-off; 10 points more attention "
        "to a sentiment word than to a neutral word in the same place (as Voita et al.'s margin for syntactic heads)"
    )
    baseline_description = "the same attention when a neutral adjective replaces the sentiment word"

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return reviews(tokenizer, seed=seed, neutral=False)

    def queries_read(self, probe: TaskProbe) -> Tensor:
        """[batch, 2]: the answer's rows (the confirmation's means) and those of the full stop after the adjective."""
        assert isinstance(probe, ReviewProbe)
        return torch.stack([probe.answer_at, probe.adjective_spans[:, 1]], dim=1)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        control = reviews(lens.tokenizer, seed=seed, neutral=True)
        neutral = lens.capture(control.input_ids, control.attention_mask, queries_at=control.adjective_spans[:, 1:])
        return attention_to_adjective(captured, probe), attention_to_adjective(neutral, control)

    def parameters(self) -> dict[str, object]:
        return {"reviews": N_REVIEWS, "templates": len(task_texts().sentiment.templates)}


class SummaryReaderDetector(TaskDetector):
    name = "summary_reader"
    version = "1"
    head_type = "summary-reader"
    method = "scoring"  # source-resolved direct logit attribution
    ablation_effect = "lowers"  # they write the sentiment read from the summary into the answer
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Tigges et al. patch the summary position without a per-head cut-off; 10% of the "
        "model's mean sentiment margin read from the full stop by one head"
    )
    baseline_description = "the same share read from the first word of the review"

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return reviews(tokenizer, seed=seed, neutral=False)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        direction = token_directions(lens, *probe.candidates.T)  # [batch, d_model]: right answer minus the other
        logits = captured.logits.gather(1, probe.candidates)  # type: ignore[union-attr]  # [batch, 2]
        margin = (logits[:, 0] - logits[:, 1]).mean().clamp(min=1e-6)

        def read_from(source_at: Tensor) -> Tensor:
            parts = values_read_from(captured, probe.answer_at, source_at)  # [layer, batch, head, d_head]
            return direct_effects(lens, captured, probe.answer_at, direction, parts).mean(dim=1) / margin

        full_stop, first_word = self.sources_read(lens, probe).T
        return read_from(full_stop), read_from(first_word).abs()

    def sources_read(self, lens: ModelLens, probe: TaskProbe) -> Tensor:
        """[batch, 2]: a head reads its value vectors at the full stop, and at the first word (the control)."""
        assert isinstance(probe, ReviewProbe)
        first_word = torch.full_like(probe.answer_at, len(bos_prefix(lens.tokenizer)))
        return torch.stack([probe.adjective_spans[:, 1], first_word], dim=1)


@hookimpl
def register_detectors() -> list[Detector]:
    return [SentimentSummarizerDetector(), SummaryReaderDetector()]
