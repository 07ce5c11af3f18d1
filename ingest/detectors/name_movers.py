"""The IOI circuit's output heads (Wang et al. 2022, Section 3.1-3.3): name movers, negative and backup name movers.

All three attend from the last position to the indirect object and act on
logit(IO) - logit(S) directly: name movers copy the IO (GPT-2 small: 9.9,
9.6, 10.0), negative name movers write against it (10.7, 11.10), backup name
movers write more of it once the name movers are ablated (Section 3.3). We
read the direct logit attribution of the part of each head's output that it
reads from the IO token (attention to the IO times the IO's value vector, an
exact share of the output), so that a head that attends to the subject and
suppresses it, which also raises the difference, is not taken for a name
mover. Scores are shares of the model's own mean logit difference, so that
models of any size compare.

A name mover must also copy names in its weights, as Wang et al. check
(Section 3.1): its copy score, the share of names that its OV circuit, read on
the name alone, puts among the top 5 logits of the vocabulary
(ingest.circuits.copy_scores), must reach COPY_SHARE; a negative name mover's
negative copy score (the name among the bottom 5) likewise. A backup name
mover is scored only when it belongs to no other IOI class: name movers
(knocked out), heads writing against the IO, and copy suppression heads are
excluded before the test, since a suppressor that relaxes once the movers are
gone also "grows".
Which one should you use? These find the heads that decide the answer; use
s_inhibition for the heads that steer them.
"""

import dataclasses
import random
from weakref import WeakKeyDictionary

import torch
from torch import Tensor, nn
from transformers import PreTrainedTokenizerBase

from ingest.attribution import direct_effects, token_directions, values_read_from
from ingest.capture import Captured
from ingest.circuits import SIDES, Side, copy_scores
from ingest.detectors.base import Detector, Measurement
from ingest.detectors.copy_suppression import copy_suppression_heads
from ingest.detectors.ioi import IOIProbe, ioi_probes, logit_difference
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, fraction_of, single_token_words, token_id
from ingest.hookspecs import hookimpl
from ingest.interventions import replaced_head_outputs
from ingest.lens import ModelLens

# A head carries a name mover's share of the answer when it writes this share of the mean logit difference.
SHARE = 0.1
SHARE_SOURCE = (
    "headatlas convention: Wang et al. rank heads by direct effect without a cut-off; "
    "10% of the model's mean logit difference from one head"
)
BASELINE = "the same head's direct effect on the logit difference of two names absent from the prompt"
# Wang et al. (Section 3.1): a name mover's OV circuit puts the name it reads among the top 5 logits.
COPY_TOP = 5
# The share of names it must do so for: ours, a majority ("most names"); GPT-2 small's name movers exceed 95%.
COPY_SHARE = 0.5
COPY_SOURCE = (
    f"; and a copy score of at least {COPY_SHARE:.0%} (IOI_23_ICLR_Redwood, Section 3.1: the share of names "
    "that the head's OV circuit, applied to the name's embedding after the first MLP layer, puts among the top 5 "
    f"logits; GPT-2 small's name movers score above 95%; the {COPY_SHARE:.0%} cut-off is ours)"
)
NEGATIVE_COPY_SOURCE = (
    f"; and a negative copy score of at least {COPY_SHARE:.0%} (IOI_23_ICLR_Redwood, Section 3.1: the same "
    f"share with the OV circuit negated, i.e. the name among the bottom 5 logits; the {COPY_SHARE:.0%} cut-off is ours)"
)

# Copy scores per model, both sides from one pass: they read weights only, so every seed and both detectors share them.
_COPY_SCORES: WeakKeyDictionary[nn.Module, dict[Side, Tensor]] = WeakKeyDictionary()


class IOIDetector(TaskDetector):
    """IOI prompts; the task is to prefer the IO over the subject (chance: 50%)."""

    # For s_inhibition, the one subclass that sets no method of its own: path patching, a form of activation
    # patching (its module should say so itself; tests/ingest/detectors/test_methods.py checks the label).
    method = "activation-patching"
    threshold = SHARE
    threshold_source = SHARE_SOURCE
    baseline_description = BASELINE

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return ioi_probes(tokenizer, seed=seed).clean

    def sources_read(self, lens: ModelLens, probe: TaskProbe) -> Tensor:
        """Direct effects through the IO read its value vectors."""
        assert isinstance(probe, IOIProbe)
        return probe.io_at[:, None]

    def parameters(self) -> dict[str, object]:
        return {"prompts": "IOI templates, ABBA and BABA", "metric": "logit(IO) - logit(S) at the last token"}


def name_direct_effects(lens: ModelLens, captured: Captured, probe: TaskProbe) -> tuple[Tensor, Tensor]:
    """Direct effects, through the IO token, on logit(IO) - logit(S) and on two absent names': [layer, batch, head]."""
    assert isinstance(probe, IOIProbe)
    from_io = values_read_from(captured, probe.answer_at, probe.io_at)  # [layer, batch, head, d_head]
    answer = direct_effects(lens, captured, probe.answer_at, token_directions(lens, *probe.candidates.T), from_io)
    other = probe.other_names  # [batch, 2]
    control = direct_effects(lens, captured, probe.answer_at, token_directions(lens, *other.T), from_io)
    return answer, control


def ioi_name_tokens(tokenizer: PreTrainedTokenizerBase) -> Tensor:
    """[n] ids of the IOI names that are one token with a leading space, as the prompts use them."""
    names = single_token_words(tokenizer, task_texts().ioi.names)
    return torch.tensor([token_id(tokenizer, " " + name) for name in names])


def name_copy_scores(lens: ModelLens, side: Side) -> Tensor:
    """[layer, head]: each head's copy score ("highest") or negative copy score ("lowest") on the IOI names.

    Both are computed together, once per model.
    """
    if lens.model not in _COPY_SCORES:
        _COPY_SCORES[lens.model] = copy_scores(lens, ioi_name_tokens(lens.tokenizer), k=COPY_TOP, sides=SIDES)
    return _COPY_SCORES[lens.model][side]


class NameMoverDetector(IOIDetector):
    """Scores the share of the logit difference a head writes from the IO, with the answer (+1) or against it (-1).

    A head shows the behaviour when the base rule holds and its copy score
    (negative copy score for sign -1) reaches COPY_SHARE: `measure` hands the
    copy rule to Detector.decide as the measurement's `eligible` heads, and
    records the copy scores in its params as "copy_score", a [layer][head]
    nested list.
    """

    name = "name_mover"
    version = "3"
    head_type = "name-mover-head"
    method = "scoring"  # direct logit attribution and an OV-circuit copy score: scores over head outputs and weights
    threshold_source = SHARE_SOURCE + COPY_SOURCE
    sign = 1.0
    ablation_effect = "lowers"  # Wang et al.: knocking the name movers out lowers the logit difference

    @property
    def copy_side(self) -> Side:
        return "lowest" if self.sign < 0 else "highest"

    def copy_rule(self, lens: ModelLens) -> Tensor:
        """[layer, head] bool: the heads whose (negative) copy score reaches COPY_SHARE."""
        return name_copy_scores(lens, self.copy_side) >= COPY_SHARE

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        answer, control = name_direct_effects(lens, captured, probe)
        total = logit_difference(captured.logits, probe)  # type: ignore[arg-type]
        return self.sign * fraction_of(answer, total), fraction_of(control, total).abs()

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        measured = super().measure(lens, seed=seed, score_at_chance=score_at_chance)
        if measured.gated:
            return measured
        copy = name_copy_scores(lens, self.copy_side)  # [layer, head]
        params = {"copy_score": copy.tolist(), "copy_names": len(ioi_name_tokens(lens.tokenizer))}
        return dataclasses.replace(measured, params={**measured.params, **params}, eligible=copy >= COPY_SHARE)

    def parameters(self) -> dict[str, object]:
        where = "bottom" if self.sign < 0 else "top"
        return {
            **super().parameters(),
            "copy_rule": f"the name among the {where} {COPY_TOP} logits of the vocabulary in the head's OV readout "
            f"of it, for at least {COPY_SHARE:.0%} of the single-token IOI names",
        }


class NegativeNameMoverDetector(NameMoverDetector):
    name = "negative_name_mover"
    version = "3"
    head_type = "negative-name-mover-head"
    threshold_source = SHARE_SOURCE + NEGATIVE_COPY_SOURCE
    sign = -1.0
    ablation_effect = "raises"  # they write against the IO: without them the difference grows


class BackupNameMoverDetector(IOIDetector):
    """Mean-ablate the name movers at the last position; backups are the heads whose direct effect then grows.

    Heads of another IOI class are not scored (NaN): the name movers knocked
    out, heads whose share writes against the IO by the negative-mover rule,
    and the heads the copy_suppression detector finds.
    """

    name = "backup_name_mover"
    version = "3"
    head_type = "backup-name-mover-head"
    method = "mean-ablation"
    ablation_effect = "lowers"  # with the name movers out, the backups carry what is left of the answer
    rule = "margin"
    threshold = SHARE / 2
    threshold_source = (
        "headatlas convention: Wang et al. (Section 3.3) name heads whose direct effect grows after the name movers "
        "are knocked out, without a cut-off; growth of 5% of the mean logit difference beyond the growth that ablating "
        "as many random heads brings"
    )
    baseline_description = (
        "the same growth after mean-ablating as many random heads of the name movers' layers; heads of another IOI "
        "class are not scored: name movers, negative name movers and copy suppression heads"
    )

    def parameters(self) -> dict[str, object]:
        return {
            **super().parameters(),
            "knocked_out": f"heads writing at least {SHARE:.0%} of the mean logit difference from the IO (name movers)",
            "excluded": (
                f"not scored: the heads knocked out, heads writing at least {SHARE:.0%} of it against the IO "
                "(negative name movers), and the heads passing the copy_suppression detector's rule on its own probe"
            ),
        }

    def ablated_alongside(self, lens: ModelLens, probe: TaskProbe, *, seed: int) -> list[tuple[int, int]]:
        """The name movers knocked out before the backups were scored: the backups are tested without them."""
        captured = self.scoring_capture(lens, probe)
        answer, _ = name_direct_effects(lens, captured, probe)
        before = fraction_of(answer, logit_difference(captured.logits, probe))  # type: ignore[arg-type]
        return [(layer, head) for layer, head in (before >= SHARE).nonzero().tolist()]

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        answer, _ = name_direct_effects(lens, captured, probe)
        total = logit_difference(captured.logits, probe)  # type: ignore[arg-type]
        before = fraction_of(answer, total)  # [layer, head]
        movers = (before >= SHARE).nonzero().tolist()
        if not movers:
            unscored = torch.full_like(before, float("nan"))
            return unscored, unscored
        corrupted = ioi_probes(lens.tokenizer, seed=seed).corrupted
        at_answer = lens.capture(
            corrupted.input_ids, corrupted.attention_mask, queries_at=corrupted.answer_at[:, None]
        ).outputs_at(corrupted.answer_at)  # [layer, batch, head, d_head]
        means = at_answer.mean(dim=1)  # [layer, head, d_head]: the mean over ABC prompts
        growth = self._growth(lens, probe, means, movers, before, total)
        decoys = _random_heads_like(movers, before.shape, seed=seed)
        control = self._growth(lens, probe, means, decoys, before, total)
        # [layer, head] bool: name movers, negative name movers, copy suppression heads
        excluded = (before >= SHARE) | (-before >= SHARE) | copy_suppression_heads(lens)
        return growth.masked_fill(excluded, float("nan")), control

    def _growth(
        self, lens: ModelLens, probe: TaskProbe, means: Tensor, heads: list[list[int]], before: Tensor, total: Tensor
    ) -> Tensor:
        """How much each head's direct-effect share grows when `heads` are mean-ablated at the last position."""
        with replaced_head_outputs(lens, heads, means, probe.answer_at):
            ablated = self.scoring_capture(lens, probe)
            answer, _ = name_direct_effects(lens, ablated, probe)
        return fraction_of(answer, total) - before


def _random_heads_like(heads: list[list[int]], shape: torch.Size, *, seed: int) -> list[list[int]]:
    """As many other heads as `heads`, each from the same layer when it has another head."""
    generator = random.Random(seed)
    taken = {tuple(head) for head in heads}
    decoys = []
    for layer, _ in heads:
        free = [h for h in range(shape[1]) if (layer, h) not in taken]
        if free:
            choice = generator.choice(free)
            taken.add((layer, choice))
            decoys.append([layer, choice])
    return decoys


@hookimpl
def register_detectors() -> list[Detector]:
    return [NameMoverDetector(), NegativeNameMoverDetector(), BackupNameMoverDetector()]
