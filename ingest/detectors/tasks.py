"""Task detectors: head types defined by what a head does to an answer, not by where it attends.

A task detector first checks that the model does the task (its answer beats the
other candidates more often than guessing would, one-sided binomial p < 0.01);
only then does it score heads, with direct logit attribution, attribution
patching, ablation or probes (ingest.attribution). On a model that does the
task at chance, a run records the accuracy and "not verifiable on this model",
never a verdict that the heads are absent.
"""

import time
from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from ingest.branches import branched, mean_ablated_branches, metric_by_branch
from ingest.capture import Captured, final_hidden, logits_of
from ingest.confirmation import Confirmation, Direction, Head, confirm_by_ablation
from ingest.detectors.base import Detector, Measurement, TaskAccuracy
from ingest.lens import ModelLens


@dataclass(frozen=True)
class TaskProbe:
    """Prompts whose answer is one token, predicted at a known position of each row.

    A detector that needs more (where names or words stand) subclasses it with typed fields.
    """

    input_ids: Tensor  # [batch, pos]
    attention_mask: Tensor  # [batch, pos]
    answer_at: Tensor  # [batch]: the position whose next-token prediction is the answer
    candidates: Tensor  # [batch, n_candidates] token ids; the right answer is column 0

    @property
    def answers(self) -> Tensor:
        return self.candidates[:, 0]  # [batch]


@dataclass(frozen=True)
class MarkedProbe(TaskProbe):
    """Task prompts with two marked positions per row: one a head with the behaviour attends to, one comparable."""

    target_at: Tensor  # [batch]: where the head type looks from the answer position
    control_at: Tensor  # [batch]: a comparable position it has no reason to look at


def answered_correctly(logits: Tensor, probe: TaskProbe) -> Tensor:
    """[batch] bool: the right answer has the highest logit among the candidates."""
    ordered = probe.candidates.sort(dim=1).values
    if (ordered[:, 1:] == ordered[:, :-1]).any():  # a tie would count as right: a probe bug, not a model's skill
        raise ValueError("a task probe offers the same token twice as a candidate answer")
    return logits.gather(1, probe.candidates).argmax(dim=1) == 0


def answer_margin(logits: Tensor, probe: TaskProbe) -> Tensor:
    """[batch]: the right answer's logit minus the mean of the other candidates' (the IOI logit difference for two)."""
    chosen = logits.gather(1, probe.candidates)  # [batch, n_candidates]
    return chosen[:, 0] - chosen[:, 1:].mean(dim=1)


@torch.no_grad()
def answer_logits(lens: ModelLens, probe: TaskProbe) -> Tensor:
    """[batch, vocab]: the logits at each row's answer position, computing the unembedding only there."""
    hidden = final_hidden(lens, input_ids=probe.input_ids, attention_mask=probe.attention_mask, use_cache=False)
    rows = torch.arange(len(probe.answer_at))
    return logits_of(lens, hidden[rows, probe.answer_at.to(hidden.device)])


def task_accuracy(logits: Tensor, probe: TaskProbe) -> TaskAccuracy:
    correct = answered_correctly(logits, probe)
    return TaskAccuracy(correct=int(correct.sum()), total=len(correct), chance=1 / probe.candidates.shape[1])


class TaskDetector(Detector):
    """Check the task on one captured pass, then score heads; subclasses say how.

    `ablation_effect` is what the head type predicts for its heads found as a
    set: mean-ablating them at the answer position lowers the answer's margin
    over the other candidates (heads that carry the answer) or raises it (heads
    that write against it). None for types defined otherwise (by their
    weights, or by what a probe reads from them).
    """

    ablation_effect: ClassVar[Direction | None] = None

    @abstractmethod
    def task_inputs(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> TaskProbe:
        """Seeded prompts of the task."""

    def example_prompt(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> Tensor | None:
        """The first prompt up to its answer position, whose row is the one scored."""
        probe = self.task_inputs(tokenizer, seed=seed)
        through = int(probe.answer_at[0]) + 1
        return probe.input_ids[0, :through][probe.attention_mask[0, :through].bool()]

    def queries_read(self, probe: TaskProbe) -> Tensor:
        """[batch, n]: the query positions whose pattern rows and head outputs scoring reads; the answer's."""
        return probe.answer_at[:, None]

    def sources_read(self, lens: ModelLens, probe: TaskProbe) -> Tensor | None:
        """[batch, n]: the source positions whose value vectors scoring reads (values_read_from); None for none."""
        return None

    @abstractmethod
    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        """Scores and baselines per head, [layer, head] each (or per prompt), once the model is known to do the task."""

    def ablated_alongside(self, lens: ModelLens, probe: TaskProbe, *, seed: int) -> list[Head]:
        """Heads ablated in every condition of the confirmation, the clean one included (backups: the name movers)."""
        return []

    def scoring_capture(self, lens: ModelLens, probe: TaskProbe) -> Captured:
        """The pass scoring reads: logits at the answer, and the query rows and values this detector reads."""
        return lens.capture(
            probe.input_ids,
            probe.attention_mask,
            answer_at=probe.answer_at,
            queries_at=self.queries_read(probe),
            values_at=self.sources_read(lens, probe),
        )

    def confirmation_probe(self, lens: ModelLens, *, seed: int) -> TaskProbe:
        """The prompts whose answer margin the heads found should move: the task's, unless scored on others."""
        return self.task_inputs(lens.tokenizer, seed=seed)

    def confirm(self, lens: ModelLens, heads: list[Head], *, seed: int) -> Confirmation | None:
        if self.ablation_effect is None:
            return None
        probe = self.confirmation_probe(lens, seed=seed)
        captured = lens.capture(
            probe.input_ids, probe.attention_mask, answer_at=probe.answer_at, queries_at=probe.answer_at[:, None]
        )
        means = captured.outputs_at(probe.answer_at).mean(dim=1)  # [layer, head, d_head]: the task's mean
        alongside = self.ablated_alongside(lens, probe, seed=seed)

        def margin_with(sets: list[list[Head]]) -> Tensor:
            """[set, batch]: every set ablated in a branch of its own, in one pass (ingest.branches)."""
            prompts = branched(
                probe.input_ids, probe.attention_mask, probe.answer_at, len(sets), dtype=lens.model.dtype
            )
            with mean_ablated_branches(lens, [[*alongside, *ablated] for ablated in sets], means, prompts.first):
                return metric_by_branch(lens, prompts, lambda logits: answer_margin(logits, probe))

        return confirm_by_ablation(
            heads,
            margin_with,
            expected=self.ablation_effect,
            metric="logit of the right answer minus the mean logit of the other candidates, at the answer position",
            shape=(lens.n_layers, lens.n_heads),
            seed=seed,
        )

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        clock = time.perf_counter()
        probe = self.task_inputs(lens.tokenizer, seed=seed)
        built = time.perf_counter()
        captured = self.scoring_capture(lens, probe)
        forward = time.perf_counter()
        task = task_accuracy(captured.logits, probe)  # type: ignore[arg-type]  # asked for with answer_at
        timings = {"inputs": built - clock, "forward": forward - built}
        if not (task.verifiable or score_at_chance):
            return Measurement.unscored(lens.n_layers, lens.n_heads, timings, task=task, gated=True)
        scores, baselines = self.score_heads(lens, captured, probe, seed=seed)
        return Measurement.of(scores, baselines, {**timings, "score": time.perf_counter() - forward}, task=task)


class MarkedAttentionDetector(TaskDetector):
    """Scores a head by its attention from the answer onto a MarkedProbe's target position, against its control's.

    Scores are per prompt, so that the evidence resamples the prompts.
    """

    rule = "margin"
    threshold = 0.1

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, MarkedProbe)
        return attention_to_marked(captured, probe, probe.target_at), attention_to_marked(
            captured, probe, probe.control_at
        )


def single_token_words(tokenizer: PreTrainedTokenizerBase, words: list[str], *, space: bool = True) -> list[str]:
    """The words that are one token for this tokenizer (with a leading space when `space`)."""
    prefix = " " if space else ""
    return [word for word in words if len(tokenizer.encode(prefix + word, add_special_tokens=False)) == 1]


def token_id(tokenizer: PreTrainedTokenizerBase, text: str) -> int:
    """The first token of `text`; answers are compared by their first token."""
    return tokenizer.encode(text, add_special_tokens=False)[0]


def fraction_of(effects: Tensor, total: Tensor) -> Tensor:
    """Per-head effects [layer, batch, head] as a share of the model's mean effect [batch]: [layer, head]."""
    return effects.mean(dim=1) / total.mean().clamp(min=1e-6)


def attention_from_answer(captured: Captured, probe: TaskProbe, keys: Tensor) -> Tensor:
    """Mean attention from each row's answer position onto the marked keys: keys [batch, pos] bool -> [layer, head]."""
    return attention_from_answer_by_prompt(captured, probe, keys).mean(dim=0)


def attention_from_answer_by_prompt(captured: Captured, probe: TaskProbe, keys: Tensor) -> Tensor:
    """Each row's attention from its answer position onto its marked keys: [batch, layer, head]."""
    pattern = captured.pattern_from(probe.answer_at).transpose(0, 1)  # [batch, layer, head, k_pos]
    return (pattern * keys[:, None, None]).sum(-1)


def attention_to_marked(captured: Captured, probe: TaskProbe, at: Tensor) -> Tensor:
    """Each row's attention from its answer position onto its position `at` [batch]: [batch, layer, head]."""
    return attention_from_answer_by_prompt(captured, probe, marked(probe, at[:, None]))


def marked(probe: TaskProbe, positions: Tensor) -> Tensor:
    """[batch, pos] bool marking each row's `positions` [batch, n] in the prompts."""
    keys = torch.zeros(probe.input_ids.shape, dtype=torch.bool)
    return keys.scatter(1, positions, True)


def positions_of(input_ids: Tensor, tokens: Tensor) -> Tensor:
    """[batch, pos] bool: where each row holds its token `tokens[row]`."""
    return input_ids == tokens[:, None]
