"""S-inhibition heads (Wang et al. 2022, Section 3.2): at the last token they tell name movers which name not to copy.

Wang et al. find them by path patching (ingest.path_patching): each sender
head's output at the last position (END) is patched from the ABC prompts
(three unrelated names) into the clean ones, through the name movers' queries
at END only, and the heads whose patch lowers logit(IO) - logit(S) most are the
S-inhibition heads. The receivers are the heads the name_mover detector's
rule finds on the same prompts (its top three when it finds none). Every head
in a layer before a receiver is a sender: a first-order estimate of its path
effect ranks them all at the cost of two passes, and the strongest, with a few
others drawn at random to check the ranking, are path-patched. A head scores
the share of the model's mean logit difference that its patch removes through
the receivers' queries; the senders left out, and the heads in the receivers'
last layer or after (nothing there reaches a receiver), are not scored (NaN).
Which one should you use? This finds the heads that steer the name movers;
name_mover finds the heads that write the answer.
"""

import copy
import dataclasses
import random
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.detectors.base import Detector, Measurement
from ingest.detectors.ioi import IOIProbe, ioi_probes
from ingest.detectors.name_movers import IOIDetector, NameMoverDetector
from ingest.detectors.tasks import TaskProbe, fraction_of
from ingest.hookspecs import hookimpl
from ingest.interventions import Head
from ingest.lens import ModelLens
from ingest.path_patching import PatchingPrompts, PathPatching

# Receivers when the name_mover rule finds no head: its strongest few.
N_FALLBACK_RECEIVERS = 3
# Path patching every earlier head costs ~27 plain forward passes on SmolLM2 (207 senders, measured); a
# first-order estimate of every sender's path effect (two passes over the last position) chooses the N_SCREENED
# largest, and N_RANDOM others drawn at random check what it passed over. The other senders are NaN.
N_SCREENED, N_RANDOM = 24, 8


class SInhibitionDetector(IOIDetector):
    name = "s_inhibition"
    version = "2"
    head_type = "s-inhibition-head"
    method = "activation-patching"  # path patching, the form of activation patching Wang et al. use
    ablation_effect = "lowers"  # without them the name movers no longer tell the subject from the IO
    rule = "margin"
    threshold = 0.05
    threshold_source = (
        "headatlas convention: Wang et al. (Section 3.2) keep the heads whose path-patching effect on the name "
        "movers' queries stands out, without a cut-off; 5% of the mean logit difference beyond the same path's "
        "effect on two names absent from the prompt"
    )
    baseline_description = "the same path-patching effect on the logit difference of two names absent from the prompt"
    chosen: dict[str, object] | None = None  # in measure()'s copy: what its score_heads chose, to record

    def score_heads(self, lens: ModelLens, captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:  # type: ignore[no-untyped-def]
        receivers, chosen_by = name_mover_receivers(lens, captured, probe, seed=seed)
        scored = path_patching_scores(lens, probe, receivers, seed=seed)
        if self.chosen is not None:
            self.chosen.update(receivers=[f"L{layer}H{head}" for layer, head in receivers], **scored.params)
            self.chosen["receivers_chosen_by"] = chosen_by
        return scored.scores, scored.baselines

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        # TaskDetector.measure checks the task, then calls score_heads, which returns scores only: a copy of
        # this detector for this one call keeps what its score_heads chose (receivers, senders patched).
        run = copy.copy(self)
        run.chosen = {}
        measured = super(SInhibitionDetector, run).measure(lens, seed=seed, score_at_chance=score_at_chance)
        if "random_senders" in run.chosen:  # the random draw finds what the first-order ranking passed over
            _, shows = self.decide(measured.scores, measured.baselines)
            found = {f"L{layer}H{head}" for layer, head in shows.nonzero().tolist()}
            run.chosen["random_senders_found"] = sorted(found & set(run.chosen["random_senders"]))  # type: ignore[arg-type]
        return dataclasses.replace(measured, params={**measured.params, **run.chosen})

    def parameters(self) -> dict[str, object]:
        return {
            **super().parameters(),
            "patching": "path patching from ABC prompts, sender at the last token, into the name movers' queries there",
            "senders_patched": f"the {N_SCREENED} largest first-order estimates and {N_RANDOM} others at random; "
            "the rest, and heads in the receivers' last layer or later, are NaN",
        }


def name_mover_receivers(lens: ModelLens, captured, probe: TaskProbe, *, seed: int) -> tuple[list[Head], str]:  # type: ignore[no-untyped-def]
    """The name movers whose queries S-inhibition heads write to, and how they were chosen.

    They are the heads the name_mover detector's rule finds on these prompts,
    or its strongest N_FALLBACK_RECEIVERS when it finds none.
    """
    detector = NameMoverDetector()
    scores, baselines = detector.score_heads(lens, captured, probe, seed=seed)
    _, found = detector.decide(scores, baselines, detector.copy_rule(lens))
    if found.any():
        return [(layer, head) for layer, head in found.nonzero().tolist()], "found by the name_mover rule"
    top = scores.nan_to_num(float("-inf")).flatten().topk(N_FALLBACK_RECEIVERS).indices.tolist()
    strongest = sorted(divmod(index, scores.shape[1]) for index in top)
    return strongest, f"the name_mover score's top {N_FALLBACK_RECEIVERS} (its rule found none)"


@dataclass(frozen=True)
class SInhibitionScores:
    """What one run measured: scores and controls per head, and what it chose to patch."""

    scores: Tensor  # [layer, head], NaN for heads not path-patched
    baselines: Tensor  # [layer, head]
    params: dict[str, object]


def path_patching_scores(lens: ModelLens, probe: IOIProbe, receivers: list[Head], *, seed: int) -> SInhibitionScores:
    """Path-patch the senders the first-order estimate ranks highest, and a random few more, into the receivers.

    The score is the share of the mean logit(IO) - logit(S) that patching a
    sender's path removes; the control is the same path's effect on the logit
    difference of two names absent from the prompt, as a share of the same
    mean, in absolute value.
    """
    corrupted = ioi_probes(lens.tokenizer, seed=seed).corrupted
    if not torch.equal(corrupted.answer_at, probe.answer_at):
        raise ValueError("The ABC prompts do not align with the clean ones; every name must be one token")
    nan = torch.full((lens.n_layers, lens.n_heads), float("nan"))
    last = max(layer for layer, _ in receivers)
    senders = [(layer, head) for layer in range(last) for head in range(lens.n_heads)]
    if not senders:  # the name movers sit in layer 0: nothing can send to them
        return SInhibitionScores(nan, nan.clone(), {"senders": 0})
    prompts = PatchingPrompts(
        clean_ids=probe.input_ids,
        corrupted_ids=corrupted.input_ids,
        attention_mask=probe.attention_mask,
        end=probe.answer_at,
        read=torch.cat([probe.candidates, probe.other_names], dim=1),  # [batch, 4]: IO, S, two absent names
    )
    patching = PathPatching(lens, prompts, receivers)
    estimates = patching.first_order(senders).mean(dim=1)  # [sender]: the change in logit(IO) - logit(S)
    chosen, drawn = _screened(senders, estimates, seed=seed)
    sign = patching.clean.new_tensor([1.0, -1.0, 1.0, -1.0])  # IO - S, and first absent name - second
    clean = (patching.clean * sign).reshape(-1, 2, 2).sum(-1)  # [batch, 2]: answer, control
    patched = (patching.patched(chosen) * sign).reshape(len(chosen), -1, 2, 2).sum(-1)  # [sender, batch, 2]
    lowered = clean - patched  # [sender, batch, 2]: how much each patch lowers each difference
    effects = torch.full((lens.n_layers, len(probe.answer_at), lens.n_heads, 2), float("nan"))
    layers, heads = torch.tensor(chosen).T  # [sender] each
    effects[layers, :, heads] = lowered  # [layer, batch, head, 2]
    total = clean[:, 0]  # [batch]: the model's logit difference
    params = {
        "senders": len(senders),
        "path_patched": len(chosen),
        "random_senders": [f"L{layer}H{head}" for layer, head in drawn],
    }
    return SInhibitionScores(fraction_of(effects[..., 0], total), fraction_of(effects[..., 1], total).abs(), params)


def _screened(senders: list[Head], estimates: Tensor, *, seed: int) -> tuple[list[Head], list[Head]]:
    """The senders to path-patch: the N_SCREENED largest first-order estimates, and N_RANDOM drawn from the rest."""
    order = estimates.abs().argsort(descending=True).tolist()
    ranked = [senders[index] for index in order]
    rest = sorted(ranked[N_SCREENED:])
    drawn = random.Random(seed).sample(rest, min(N_RANDOM, len(rest)))
    return sorted(ranked[:N_SCREENED] + drawn), sorted(drawn)


@hookimpl
def register_detectors() -> list[Detector]:
    return [SInhibitionDetector()]
