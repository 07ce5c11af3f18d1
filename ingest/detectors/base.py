"""The detector contract.

A detector builds seeded probe inputs, scores every head from a forward pass,
and measures a baseline the same way on a control (inputs or targets where the
behaviour has no reason to appear). A head shows the
behaviour when it beats its baseline and passes the detector's rule, taken
from the paper the detector cites where one gives a rule:

- "at-least": score >= threshold (Voita et al.'s 90% for positional heads);
- "margin": score - baseline >= threshold (Voita et al.'s +10 points for syntactic heads);
- "top-fraction": among the top `threshold` share of all heads by score
  (Crosbie & Shutova's top 3% for induction heads); the verdict records the
  score this cut-off falls at.

A detector measures one seed; verification runs it over several, each with
fresh probe material, and ingest.evidence decides from all of them: the rule
on the mean scores, a test against the control corrected for every head, and
the share of seeds at which the rule passed. Head types defined by an effect
then confirm their heads as a set (`confirm`, ingest.confirmation).

A score that is a mean over prompts may be returned per prompt instead,
[prompt, layer, head] (Measurement.of takes either): the evidence then
resamples prompts too. A detector whose scored material is the same at every
seed (`seeded_material = False`) must do so, since its one seed's prompts are
all the test has.

A pattern detector never sees all layers' patterns at once: `score_layer`
reduces each layer's pattern to each prompt's scores while the layer runs
(ingest.capture.read_patterns), so its memory grows with one layer.
"""

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Literal

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from ingest.capture import Reading
from ingest.confirmation import Confirmation, Head

if TYPE_CHECKING:
    from ingest.lens import ModelLens


@dataclass(frozen=True)
class Probe:
    """Deterministic inputs for one forward pass, and what the detector looks for in them.

    A detector that needs more (a needle's span, offsets) subclasses it with typed fields.
    """

    input_ids: Tensor  # [batch, pos]
    attention_mask: Tensor  # [batch, pos]
    queries: Tensor  # [batch, q_pos] bool: the query positions that are scored
    targets: Tensor  # [batch, q_pos, k_pos] bool: where a head with the behaviour attends


Rule = Literal["at-least", "margin", "top-fraction"]


@dataclass(frozen=True)
class TaskAccuracy:
    """How well the model does the task a head type is defined by, against chance.

    A causal test means something only if the model does the task: when its
    accuracy is not above chance (one-sided binomial test, p < 0.01), the run
    records "not verifiable on this model" instead of a verdict of absence.
    """

    correct: int
    total: int
    chance: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def p_value(self) -> float:
        """P(at least `correct` right out of `total` by guessing at `chance`)."""
        n, k, p = self.total, self.correct, self.chance
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))

    @property
    def verifiable(self) -> bool:
        return self.total > 0 and self.p_value < 0.01


@dataclass(frozen=True)
class Measurement:
    """What a detector measured on one model: scores and baselines per head, or why there are none."""

    scores: Tensor  # [layer, head], NaN where a head is not scored
    baselines: Tensor  # [layer, head]
    timings: dict[str, float]
    task: TaskAccuracy | None = None  # for head types defined by a task
    params: dict[str, object] = field(default_factory=dict)  # what this run measured beyond the detector's parameters
    gated: bool = False  # heads left unscored because the model did this seed's task at chance
    prompt_scores: Tensor | None = None  # [prompt, layer, head] when the scores are means over prompts
    prompt_baselines: Tensor | None = None  # [prompt, layer, head], the control's, alongside
    eligible: Tensor | None = None  # [layer, head] bool: the heads a second criterion lets the rule pick; None: all

    @classmethod
    def of(cls, scores: Tensor, baselines: Tensor, timings: dict[str, float], **more: object) -> "Measurement":
        """A measurement from scores per head [layer, head] or per prompt [prompt, layer, head] (scores and control).

        A head's score is the mean of its prompts' (NaN prompts left out): a
        score normalised by a total over all prompts divides each prompt's part
        by the mean of that total, not by its own.
        """
        if scores.dim() == 3 and baselines.dim() == 3:
            return cls(
                scores.nanmean(dim=0),
                baselines.nanmean(dim=0),
                timings,
                prompt_scores=scores,
                prompt_baselines=baselines,
                **more,
            )  # type: ignore[arg-type]
        if scores.dim() != 2 or baselines.dim() != 2:
            raise ValueError(
                f"scores {tuple(scores.shape)} and baselines {tuple(baselines.shape)}: both per head or both per prompt"
            )
        return cls(scores, baselines, timings, **more)  # type: ignore[arg-type]

    @classmethod
    def unscored(cls, n_layers: int, n_heads: int, timings: dict[str, float], **why: object) -> "Measurement":
        """No head scored: the model does the task at chance, or the run failed."""
        nan = torch.full((n_layers, n_heads), float("nan"))
        return cls(nan, nan, timings, **why)  # type: ignore[arg-type]


class Detector(ABC):
    """One paper's test for one head type; subclasses fill in the class variables."""

    name: ClassVar[str]  # registry key, e.g. "induction"
    version: ClassVar[str]  # bump when scores would change
    head_type: ClassVar[str]  # the head type slug it verifies
    method: ClassVar[str]  # the survey method slug (methods.yaml)
    rule: ClassVar[Rule] = "at-least"
    threshold: ClassVar[float]
    threshold_source: ClassVar[str]  # paper key and place, or "headatlas" and why
    baseline_description: ClassVar[str]
    needs_predictions: ClassVar[bool] = False
    # False: the scored material is the same at every seed (fixed facts, words or sentences); one seed runs.
    seeded_material: ClassVar[bool] = True

    def applies_to(self, lens: "ModelLens") -> str | None:
        """Why this test cannot run on the model behind `lens` at all, or None when it can.

        A toy model (ingest.toy_models) knows only its task's few symbols.
        """
        if lens.toy_task is not None:
            return f"a toy model trained only on {lens.toy_task}: this probe's tokens are outside its vocabulary"
        return None

    @abstractmethod
    def measure(self, lens: "ModelLens", *, seed: int, score_at_chance: bool = False) -> Measurement:
        """Score every head of the model behind `lens`, and its baseline.

        A task detector scores heads only where the model does the task above
        chance at this seed, unless `score_at_chance` (ingest.verify decides
        from every seed's accuracy pooled).
        """

    def decide(self, score: Tensor, baseline: Tensor, eligible: Tensor | None = None) -> tuple[float, Tensor]:
        """The threshold the scores are compared with, and per head whether it shows the behaviour.

        `eligible` ([layer, head] bool, from the measurement) is a criterion the
        rule is anded with, such as the name movers' copy score.
        """
        if eligible is not None:
            threshold, shows = self.decide(score, baseline)
            return threshold, shows & eligible
        scored = ~score.isnan()
        if not scored.any():  # nothing measured: the task was at chance or the test does not apply
            return self.threshold, scored
        if self.rule == "top-fraction":
            keep = max(1, math.ceil(self.threshold * int(scored.sum())))
            cutoff = float(score[scored].sort(descending=True).values[keep - 1])
            return cutoff, scored & (score >= cutoff) & (score > baseline)
        measured = score - baseline if self.rule == "margin" else score
        return self.threshold, scored & (measured >= self.threshold) & (score > baseline)

    def parameters(self) -> dict[str, object]:
        """What a run records about how the probe was built."""
        return {}

    def example_prompt(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> Tensor | None:
        """One prompt of the probe, [pos] token ids without padding, whose attention the head pages draw; None: none."""
        return None

    def confirm(self, lens: "ModelLens", heads: list[Head], *, seed: int) -> Confirmation | None:
        """Test the heads found as a set by ablating them (ingest.confirmation); None: the type predicts no effect."""
        return None


class PatternDetector(Detector):
    """A detector that reads attention patterns, one layer at a time, on a probe and on its control.

    Both probes are read by `score_layer` in the same forward pass when they
    share their tokens. Readings are planned (`readings`), so that detectors
    probing the same tokens share one pass too (ingest.verify).
    """

    @abstractmethod
    def inputs(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> Probe:
        """The probe that should bring the behaviour out."""

    @abstractmethod
    def control(self, probe: Probe, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> Probe:
        """The same test where the behaviour has no reason to appear.

        Either the probe's tokens with other targets (read in the same pass) or other tokens.
        """

    @abstractmethod
    def score_layer(self, pattern: Tensor, probe: Probe) -> Tensor:
        """One layer's pattern [batch, head, q_pos, k_pos] -> each prompt's score per head, [batch, head].

        NaN where a head cannot be scored. A detector that overrides `scores`
        may keep more per layer, as long as it is small.
        """

    def scores(self, layers: Tensor, probe: Probe, predictions: Tensor | None) -> Tensor:
        """What score_layer kept of every layer, [layer, batch, head], as the measurement's scores.

        Per prompt, [prompt, layer, head], when the material is fixed (its
        prompts are all the evidence has), else the mean over prompts, [layer, head].
        """
        by_prompt = layers.transpose(0, 1)  # [prompt, layer, head]
        return by_prompt.nanmean(dim=0) if self.seeded_material else by_prompt

    def baseline(self, control_scores: Tensor, probe: Probe) -> Tensor:
        """The baseline: the control's scores, unless a detector compares with something other than heads."""
        return control_scores

    def example_prompt(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> Tensor | None:
        probe = self.inputs(tokenizer, seed=seed)
        return probe.input_ids[0][probe.attention_mask[0].bool()]

    def probes(self, tokenizer: PreTrainedTokenizerBase, *, seed: int) -> tuple[Probe, Probe]:
        probe = self.inputs(tokenizer, seed=seed)
        return probe, self.control(probe, tokenizer, seed=seed)

    def readings(self, probes: tuple[Probe, Probe], *, seed: int) -> tuple[Reading, Reading]:
        """The readings of the probe and of its control: what a pass over their tokens must keep for this detector.

        A control that is the probe itself (a baseline that is no head's score) is read once.
        """
        probe, control = probes
        return self._reading(probe, "score", seed), self._reading(
            control, "score" if control is probe else "control", seed
        )

    def _reading(self, probe: Probe, role: str, seed: int) -> Reading:
        return Reading(
            name=f"{self.name}:{role}:{seed}",
            input_ids=probe.input_ids,
            attention_mask=probe.attention_mask,
            read=partial(self.score_layer, probe=probe),
            predict_at=probe.queries if self.needs_predictions else None,
        )

    def measure(self, lens: "ModelLens", *, seed: int, score_at_chance: bool = False) -> Measurement:
        clock = time.perf_counter()
        probe, control = self.probes(lens.tokenizer, seed=seed)
        readings = self.readings((probe, control), seed=seed)
        built = time.perf_counter()
        lens.plan(list(readings))
        seen, unseen = (lens.read(reading) for reading in readings)
        forward = time.perf_counter()
        scores = self.scores(seen.layers, probe, seen.predictions)
        baselines = self.baseline(self.scores(unseen.layers, control, unseen.predictions), probe)
        timings = {"inputs": built - clock, "forward": forward - built, "score": time.perf_counter() - forward}
        return Measurement.of(scores, baselines, timings)
