"""Subject, relation and mixed heads (Chughtai et al. 2024): factual recall as a sum of source-specific updates.

Chughtai et al. (Section 4) extend direct logit attribution to the source
tokens a head reads from: at "The capital of France is", a subject head's
output read from "France" raises the capital, a relation head's output read
from "capital" raises capitals in general, and a mixed head does both. We
take the exact part of each head's output read from the subject's last token
and from the relation word (attention times value, ingest.attribution) and
read it along logit(right capital) - mean logit(1,000 common words), as a share
of the model's own margin (relation heads raise every capital, so the margin is
taken against words that are no answer at all); a mixed head scores the
smaller of its two shares.
The task check asks whether the model recalls the capitals (chance: 1 in 20).
Which one should you use? These split a recall into where its evidence comes from.
"""

import torch
from torch import Tensor

from ingest.attribution import direct_effects, values_read_from
from ingest.capture import Captured
from ingest.detectors.base import Detector
from ingest.detectors.copy_suppression import common_word_tokens
from ingest.detectors.facts import RECALL, recall_prompts
from ingest.detectors.tasks import TaskDetector, TaskProbe, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

RELATION_WORD = "capital"


def recall_sources(lens: ModelLens, probe: TaskProbe) -> dict[str, Tensor]:
    """Where each row's subject, relation and first word stand, [batch] each: the sources a fact head reads."""
    word_at = {
        name: (probe.input_ids == token_id(lens.tokenizer, word)).int().argmax(dim=1)
        for name, word in (("relation", " " + RELATION_WORD), ("first", RECALL.split()[0]))
    }
    return {"subject": probe.answer_at - 1, **word_at}  # the subject's last token stands just before " is"


def recall_margins(lens: ModelLens, captured: Captured, probe: TaskProbe) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Direct effects on logit(answer) - mean logit(common words), through the subject and through the relation.

    Returns the subject path's and the relation path's effects [layer, batch, head], the model's margin [batch]
    and the readout direction [batch, d_model].
    """
    words = common_word_tokens(lens.tokenizer)  # [n_words]
    direction = lens.unembedding[probe.answers] - lens.unembedding[words].mean(dim=0)  # [batch, d_model]
    sources = recall_sources(lens, probe)
    effects = []
    for source_at in (sources["subject"], sources["relation"]):
        parts = values_read_from(captured, probe.answer_at, source_at)
        effects.append(direct_effects(lens, captured, probe.answer_at, direction, parts))
    logits = captured.logits  # type: ignore[union-attr]  # [batch, vocab]
    margin = logits.gather(1, probe.answers[:, None])[:, 0] - logits[:, words].mean(1)
    return effects[0], effects[1], margin, direction


class FactHeadDetector(TaskDetector):
    """Scores a head by the share of the recall margin it writes from one source (or from both, for mixed heads)."""

    method = "scoring"  # source-resolved direct logit attribution
    ablation_effect = "lowers"  # they write the recalled answer
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Chughtai et al. rank heads by source-resolved attribution without a cut-off; 10% of "
        "the model's mean recall margin from one head and source"
    )
    baseline_description = "the same share read from the word 'The' at the start of the prompt"
    seeded_material = False  # the capitals are fixed; the seed draws only the other candidate answers

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return recall_prompts(tokenizer, seed=seed)

    def sources_read(self, lens: ModelLens, probe: TaskProbe) -> Tensor:
        """What a head reads from the subject, the relation or the first word is its value vector there."""
        return torch.stack(list(recall_sources(lens, probe).values()), dim=1)  # [batch, 3]

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        subject, relation, margin, direction = recall_margins(lens, captured, probe)
        scale = margin.mean().clamp(min=1e-6)  # per prompt over the mean margin: the prompts' mean is the share
        shares = {"subject": subject.transpose(0, 1) / scale, "relation": relation.transpose(0, 1) / scale}
        parts = values_read_from(captured, probe.answer_at, recall_sources(lens, probe)["first"])
        control = direct_effects(lens, captured, probe.answer_at, direction, parts).transpose(0, 1) / scale
        return self.combine(shares), control.abs()  # [prompt, layer, head] each

    def combine(self, shares: dict[str, Tensor]) -> Tensor:
        return shares[self.source]

    source: str

    def parameters(self) -> dict[str, object]:
        return {"prompt": RECALL, "relation_word": RELATION_WORD}


class SubjectHeadDetector(FactHeadDetector):
    name = "subject_head"
    version = "1"
    head_type = "subject-head"
    source = "subject"


class RelationHeadDetector(FactHeadDetector):
    name = "relation_head"
    version = "1"
    head_type = "relation-head"
    source = "relation"


class MixedHeadDetector(FactHeadDetector):
    """A mixed head writes the answer from both sources on the same prompt: the smaller share, prompt by prompt."""

    name = "mixed_head"
    version = "2"
    head_type = "mixed-head"
    source = "both"

    def combine(self, shares: dict[str, Tensor]) -> Tensor:
        return torch.minimum(shares["subject"], shares["relation"])


@hookimpl
def register_detectors() -> list[Detector]:
    return [SubjectHeadDetector(), RelationHeadDetector(), MixedHeadDetector()]
