"""Causal confirmation: ablate the heads a run found, together, and check the task moves the way the head type says.

A head type defined by what it does to an answer (name movers raise the right
name, negative name movers lower it) makes a prediction about the heads found
as a set: mean-ablating them on the task's own prompts must move the task's
metric in the stated direction, and further than ablating random sets of
heads of the same size from the same layers does. The found set's effect, its
interval over prompts and the random sets' effects are stored on the run; a
set that does not beat them is "not confirmed", and its heads are not found.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch import Tensor

from ingest.evidence import bootstrap_interval

# Random head sets the found set is compared with; with 19, beating all of them is p = 1/20 = 0.05.
RANDOM_SETS = 19
# The found set must move the metric further than this share of the random sets (one-sided, p <= 0.05).
ALPHA = 0.05

# What ablating the set should do to the metric: "lowers" for heads carrying the answer, "raises" for heads against it.
Direction = Literal["lowers", "raises"]
Head = tuple[int, int]
# The metric per prompt for each head set mean-ablated, [set, batch] (an empty set: the clean run).
AblatedMetric = Callable[[list[list[Head]]], Tensor]


@dataclass(frozen=True)
class Confirmation:
    """The found set's mean-ablation effect on the task metric against random sets of the same size and layers."""

    heads: list[Head]
    metric: str  # what was measured, per prompt
    expected: Direction
    clean: float  # the metric's mean on the clean prompts
    effect: float  # mean change of the metric when the set is ablated (ablated - clean)
    low: float  # 95% bootstrap interval of that change over prompts
    high: float
    random_effects: list[float]  # the same change for each random set
    p_value: float  # share of random sets moving the metric at least as far the expected way (+1 smoothing)

    @property
    def confirmed(self) -> bool:
        """The set moves the metric the expected way, with an interval clear of zero, beyond the random sets."""
        clear = self.high < 0 if self.expected == "lowers" else self.low > 0
        return clear and self.p_value <= ALPHA

    def described(self) -> dict[str, object]:
        return {
            "status": "confirmed" if self.confirmed else "not confirmed",
            "method": "mean ablation of the found heads together at the answer position, over the task's own prompts",
            "heads": [list(head) for head in self.heads],
            "metric": self.metric,
            "expected": self.expected,
            "clean": self.clean,
            "effect": self.effect,
            "interval": [self.low, self.high],
            "interval_method": "95% percentile bootstrap over prompts",
            "random_sets": len(self.random_effects),
            "random_effects": self.random_effects,
            "random_sets_drawn": "as many heads, each from the same layer as a found head (nearest layer if full)",
            "p_value": self.p_value,
            "alpha": ALPHA,
        }


def confirm_by_ablation(
    heads: list[Head],
    ablated_metric: AblatedMetric,
    *,
    expected: Direction,
    metric: str,
    shape: tuple[int, int],
    seed: int,
) -> Confirmation:
    """Ablate `heads` together and RANDOM_SETS random sets like them; compare the changes of the metric.

    Args:
        heads: the heads found, (layer, head).
        ablated_metric: the metric per prompt under each set ablated, all sets asked at once.
        expected: the direction the head type predicts.
        metric: what the metric is, in words.
        shape: (n_layers, n_heads) of the model.
        seed: draws the random sets and the bootstrap.
    """
    metrics = ablated_metric([[], heads, *random_sets_like(heads, shape, seed=seed)])  # [set, batch]
    clean, change = metrics[0], metrics[1] - metrics[0]  # [batch] each
    sign = -1.0 if expected == "lowers" else 1.0
    random_effects = [float((decoy - clean).mean()) for decoy in metrics[2:]]
    as_far = sum(sign * effect >= sign * float(change.mean()) for effect in random_effects)
    low, high = bootstrap_interval(change.double(), seed=seed)  # over prompts
    return Confirmation(
        heads=heads,
        metric=metric,
        expected=expected,
        clean=float(clean.mean()),
        effect=float(change.mean()),
        low=float(low),
        high=float(high),
        random_effects=random_effects,
        p_value=(1 + as_far) / (1 + len(random_effects)),
    )


def random_sets_like(
    heads: list[Head], shape: tuple[int, int], *, seed: int, count: int = RANDOM_SETS
) -> list[list[Head]]:
    """`count` sets of as many heads as `heads`, none of them in it, each drawn from the same layer as a found head.

    Where a layer has no head left, the nearest layer that has one is used, so
    that the sets keep the found set's depth band as closely as the model allows.
    """
    generator = random.Random(seed)
    n_layers, n_heads = shape
    found = set(heads)
    sets = []
    for _ in range(count):
        taken = set(found)
        drawn = []
        for layer, _head in heads:
            for candidate_layer in sorted(range(n_layers), key=lambda other: (abs(other - layer), other)):
                free = [(candidate_layer, h) for h in range(n_heads) if (candidate_layer, h) not in taken]
                if free:
                    pick = generator.choice(free)
                    taken.add(pick)
                    drawn.append(pick)
                    break
        sets.append(drawn)
    return sets
