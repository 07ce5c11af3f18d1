"""Resampled evidence: what one detector's measurements over several seeds say about each head.

Each seed draws fresh probe material (other random tokens, names, prompts), so
the spread of a head's score across seeds is what a reader would see on
re-running the test with other inputs. Per head this gives:

- the mean score, with a 95% percentile-bootstrap interval over the seeds;
- a one-sided paired t-test of the score against the detector's own control,
  seed by seed (H0: the head scores no higher on the probe than on its control:
  shuffled targets, a control probe, absent names or random heads, as the
  detector states), with Benjamini-Hochberg's correction for testing every
  scored head of the model;
- how often the detector's rule passed, seed by seed.

A head is *found* only when all three agree: the rule holds on the mean
scores, the corrected p-value is under ALPHA, and the rule passed in at least
MIN_PASS_RATE of the seeds. A top-fraction rule therefore still ranks heads,
but no longer crowns the top of a model that has none.
"""

from dataclasses import dataclass

import torch
from scipy import stats
from torch import Tensor

# Seeds a verification runs by default (`headatlas verify --seeds N`).
DEFAULT_SEEDS = 5
# The false-discovery rate a verdict is held to, over all the heads of a model one run scores.
ALPHA = 0.05
# headatlas convention: a head must pass the detector's rule in 80% of the seeds (4 of 5).
MIN_PASS_RATE = 0.8
# Bootstrap resamples for each interval.
RESAMPLES = 2000
# How the run describes its statistics; stored with it, shown wherever its verdicts are.
TEST = (
    "one-sided paired t-test of score against the detector's control across seeds (each seed draws fresh probe "
    "material), Benjamini-Hochberg over every scored head"
)
INTERVAL = "95% percentile bootstrap of the mean score over seeds"


@dataclass(frozen=True)
class Evidence:
    """Per head, the seeds' measurements and what they add up to; every tensor but the stacks is [layer, head]."""

    seeds: tuple[int, ...]
    scores: Tensor  # [seed, layer, head], NaN where a seed did not score the head
    baselines: Tensor  # [seed, layer, head]
    passed: Tensor  # [seed, layer, head] bool: the detector's rule at that seed
    mean: Tensor
    baseline: Tensor
    low: Tensor
    high: Tensor
    pass_rate: Tensor
    p_value: Tensor
    q_value: Tensor

    def found(self, rule_on_mean: Tensor) -> Tensor:
        """[layer, head] bool: the rule holds on the means, the test is significant, the rule passed often enough."""
        significant = self.q_value.nan_to_num(1.0) < ALPHA
        return rule_on_mean & significant & (self.pass_rate >= MIN_PASS_RATE - 1e-9)

    def described(self) -> dict[str, object]:
        """What a run stores about its statistics."""
        return {
            "seeds": list(self.seeds),
            "test": TEST,
            "interval": INTERVAL,
            "correction": "benjamini-hochberg",
            "alpha": ALPHA,
            "min_pass_rate": MIN_PASS_RATE,
            "min_pass_rate_source": "headatlas convention: the rule passes in 4 of 5 seeds",
            "resamples": RESAMPLES,
        }


def resampled(
    seeds: tuple[int, ...], scores: Tensor, baselines: Tensor, passed: Tensor, *, bootstrap_seed: int = 0
) -> Evidence:
    """Combine per-seed measurements into per-head evidence.

    Args:
        seeds: the seeds, in the order of the stacks.
        scores: [seed, layer, head], NaN where unscored.
        baselines: [seed, layer, head], the detector's control.
        passed: [seed, layer, head] bool, the detector's rule at each seed.
        bootstrap_seed: seeds the bootstrap's resampling, so that a run is reproducible.
    """
    low, high = bootstrap_interval(scores, seed=bootstrap_seed)
    p_value = paired_p_values(scores, baselines)
    return Evidence(
        seeds=seeds,
        scores=scores,
        baselines=baselines,
        passed=passed,
        mean=scores.nanmean(dim=0),  # [layer, head]
        baseline=baselines.nanmean(dim=0),  # [layer, head]
        low=low,
        high=high,
        pass_rate=passed.float().mean(dim=0),  # [layer, head]: an unscored seed counts as a failure
        p_value=p_value,
        q_value=benjamini_hochberg(p_value),
    )


def bootstrap_interval(samples: Tensor, *, seed: int, level: float = 0.95) -> tuple[Tensor, Tensor]:
    """Percentile-bootstrap interval of the mean over the first dimension: [n, ...] -> (low, high) of shape [...].

    NaN samples are left out of each resample's mean; a head with no finite sample gets NaN bounds.
    """
    generator = torch.Generator().manual_seed(seed)
    n = samples.shape[0]
    picks = torch.randint(n, (RESAMPLES, n), generator=generator)  # [resample, n]
    means = samples[picks].nanmean(dim=1)  # [resample, ...]
    tail = (1 - level) / 2
    bounds = means.nanquantile(torch.tensor([tail, 1 - tail], dtype=means.dtype), dim=0)  # [2, ...]
    return bounds[0], bounds[1]


def paired_p_values(scores: Tensor, baselines: Tensor) -> Tensor:
    """One-sided paired t-test per head, H0: mean(score - baseline) <= 0, over the seeds: [seed, ...] -> [...].

    Seeds where either is NaN are left out; fewer than two seeds gives NaN. A
    difference with no spread at all (a score that fresh inputs do not move)
    gives p = 0 when it is positive and 1 otherwise: the resampling found no
    variation to weigh it against.
    """
    differences = (scores - baselines).double()  # [seed, ...]
    finite = differences.isfinite()
    n = finite.sum(dim=0)  # [...]
    filled = differences.nan_to_num(0.0)
    mean = filled.sum(dim=0) / n.clamp(min=1)
    spread = ((filled - mean) * finite).pow(2).sum(dim=0) / (n - 1).clamp(min=1)
    error = (spread / n.clamp(min=1)).sqrt()
    t = torch.where(error > 0, mean / error.clamp(min=1e-300), torch.where(mean > 0, torch.inf, -torch.inf))
    p = torch.from_numpy(stats.t.sf(t.numpy(), df=(n - 1).clamp(min=1).numpy()))
    return p.where(n >= 2, torch.nan).float()


def benjamini_hochberg(p_values: Tensor) -> Tensor:
    """Benjamini-Hochberg adjusted p-values (q-values) over every finite entry; NaN stays NaN."""
    flat = p_values.flatten().double()
    finite = flat.isfinite().nonzero().squeeze(1)
    q = torch.full_like(flat, torch.nan)
    if len(finite):
        order = finite[flat[finite].argsort()]
        m = len(order)
        ranked = flat[order] * m / torch.arange(1, m + 1, dtype=torch.float64)
        ranked = ranked.flip(0).cummin(0).values.flip(0).clamp(max=1.0)  # monotone from the largest p down
        q[order] = ranked
    return q.reshape(p_values.shape).to(p_values.dtype)
