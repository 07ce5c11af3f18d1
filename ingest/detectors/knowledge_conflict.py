"""Memory and context heads (Jin et al. 2024, "Cutting Off the Head Ends the Conflict"): where an answer comes from.

When the context states a false fact ("In this story, the capital of France is
Rome"), some heads push the answer the model memorised (Paris: memory heads)
and others the one the context gives (Rome: context heads). Jin et al. score
heads by their contribution to the two answers' logits; we read each head's
direct logit attribution on logit(memory) - logit(context) at the answer
position, as a share of the model's mean absolute difference. The task check
asks whether the model knows the capitals without any context (chance: 1 in
20): with no memory there is no conflict to resolve. Which one should you use?
memory_head and context_head find the two sides of the same tug of war.
"""

import dataclasses
import random

import torch
from torch import Tensor

from ingest.attribution import direct_effects, token_directions
from ingest.capture import Captured
from ingest.detectors.base import Detector
from ingest.detectors.facts import capitals, recall_prompts
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens


def conflict_prompts(tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
    """Prompts whose context contradicts a capital; candidates [memorised, contextual, two unrelated capitals]."""
    generator = random.Random(seed)
    pairs = [pair for pair in capitals() if pair[0] != pair[1]]
    names = sorted({capital for _, capital in pairs})
    rows, candidates = [], []
    for country, capital in pairs:
        fake, other_a, other_b = generator.sample([c for c in names if c != capital], 3)
        text = task_texts().conflict.template.format(COUNTRY=country, FAKE=fake)
        rows.append(bos_prefix(tokenizer) + tokenizer.encode(text, add_special_tokens=False))
        candidates.append([token_id(tokenizer, " " + name) for name in (capital, fake, other_a, other_b)])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    return TaskProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates))


class ConflictDetector(TaskDetector):
    """Memory (sign +1) or context (sign -1) heads from the direct effect on logit(memory) - logit(context)."""

    sign: float
    method = "scoring"  # direct logit attribution: a score over head outputs
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Jin et al. rank heads by their contribution without a fixed cut-off; 10% of the "
        "model's mean absolute logit difference between the two answers from one head"
    )
    baseline_description = "the same head's direct effect on the difference of two unrelated capitals"

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return recall_prompts(tokenizer, seed=seed)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        conflict = conflict_prompts(lens.tokenizer, seed=seed)
        seen = lens.capture(
            conflict.input_ids,
            conflict.attention_mask,
            answer_at=conflict.answer_at,
            queries_at=conflict.answer_at[:, None],
        )
        pair, others = conflict.candidates[:, :2], conflict.candidates[:, 2:]
        effects = direct_effects(
            lens, seen, conflict.answer_at, token_directions(lens, *pair.T)
        )  # [layer, batch, head]
        control = direct_effects(lens, seen, conflict.answer_at, token_directions(lens, *others.T))
        chosen = seen.logits.gather(1, pair)  # type: ignore[union-attr]  # [batch, 2]
        scale = (chosen[:, 0] - chosen[:, 1]).abs().mean().clamp(min=1e-6)
        return self.sign * effects.mean(dim=1) / scale, control.mean(dim=1).abs() / scale

    def confirmation_probe(self, lens: ModelLens, *, seed: int) -> TaskProbe:
        """The conflict prompts, with the memorised answer against the stated one: their margin is the tug of war."""
        conflict = conflict_prompts(lens.tokenizer, seed=seed)
        return dataclasses.replace(conflict, candidates=conflict.candidates[:, :2])

    def parameters(self) -> dict[str, object]:
        return {"template": task_texts().conflict.template, "facts": "country capitals"}


class MemoryHeadDetector(ConflictDetector):
    name = "memory_head"
    version = "1"
    head_type = "memory-head"
    sign = 1.0
    ablation_effect = "lowers"  # the memorised answer loses ground to the stated one


class ContextHeadDetector(ConflictDetector):
    name = "context_head"
    version = "1"
    head_type = "context-head"
    sign = -1.0
    ablation_effect = "raises"  # the stated answer loses ground to the memorised one


@hookimpl
def register_detectors() -> list[Detector]:
    return [MemoryHeadDetector(), ContextHeadDetector()]
