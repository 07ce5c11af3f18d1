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

Some probes score material that is the same at every seed (a fixed list of
capitals, acronyms, sentences or words; `Detector.seeded_material`): seeds
would repeat one measurement, so such a detector runs one seed and reports
its scores per prompt, and the prompts are what the test and the interval
resample. Where every seed reports prompt scores the interval resamples both:
seeds, then prompts within each seed drawn.

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
TEST_OVER_SEEDS = (
    "one-sided paired t-test of score against the detector's control across seeds (each seed draws fresh probe "
    "material), Benjamini-Hochberg over every scored head"
)
TEST_OVER_PROMPTS = (
    "one-sided paired t-test of score against the detector's control across prompts (the probe material is the "
    "same at every seed, so one seed runs), Benjamini-Hochberg over every scored head"
)
INTERVAL_OVER_SEEDS = "95% percentile bootstrap of the mean score over seeds, each a fresh draw of prompts"
INTERVAL_OVER_PROMPTS = "95% percentile bootstrap of the mean score over seeds, then over prompts within each seed"


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
    test: str  # what the p-values come from, in words
    interval: str  # what the interval resamples, in words

    def found(self, rule_on_mean: Tensor) -> Tensor:
        """[layer, head] bool: the rule holds on the means, the test is significant, the rule passed often enough."""
        significant = self.q_value.nan_to_num(1.0) < ALPHA
        return rule_on_mean & significant & (self.pass_rate >= MIN_PASS_RATE - 1e-9)

    def described(self) -> dict[str, object]:
        """What a run stores about its statistics."""
        return {
            "seeds": list(self.seeds),
            "test": self.test,
            "interval": self.interval,
            "correction": "benjamini-hochberg",
            "alpha": ALPHA,
            "min_pass_rate": MIN_PASS_RATE,
            "min_pass_rate_source": "headatlas convention: the rule passes in 4 of 5 seeds",
            "resamples": RESAMPLES,
        }


# One seed's scores per prompt, [prompt, layer, head], and its control's; their means are that seed's scores.
PromptScores = tuple[Tensor, Tensor]


def resampled(
    seeds: tuple[int, ...],
    scores: Tensor,
    baselines: Tensor,
    passed: Tensor,
    *,
    prompts: list[PromptScores] | None = None,
    bootstrap_seed: int = 0,
) -> Evidence:
    """Combine per-seed measurements into per-head evidence.

    Args:
        seeds: the seeds, in the order of the stacks.
        scores: [seed, layer, head], NaN where unscored.
        baselines: [seed, layer, head], the detector's control.
        passed: [seed, layer, head] bool, the detector's rule at each seed.
        prompts: every seed's scores per prompt, where the detector reports them.
        bootstrap_seed: seeds the bootstrap's resampling, so that a run is reproducible.
    """
    if prompts is None:
        low, high = bootstrap_interval(scores, seed=bootstrap_seed)
        interval = INTERVAL_OVER_SEEDS
    else:
        low, high = two_stage_interval([each for each, _ in prompts], seed=bootstrap_seed)
        interval = INTERVAL_OVER_PROMPTS
    if len(seeds) == 1 and prompts is not None:
        p_value, test = paired_p_values(*prompts[0]), TEST_OVER_PROMPTS
    else:
        p_value, test = paired_p_values(scores, baselines), TEST_OVER_SEEDS
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
        test=test,
        interval=interval,
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


def two_stage_interval(per_seed: list[Tensor], *, seed: int, level: float = 0.95) -> tuple[Tensor, Tensor]:
    """Percentile-bootstrap interval of the mean over seeds and prompts: [prompt, ...] per seed -> (low, high) [...].

    Each resample draws seeds with replacement and, for every seed drawn, that
    seed's prompts with replacement; its value is the mean over the drawn seeds
    of their resampled prompt means. NaN prompts are left out of a mean.
    """
    generator = torch.Generator().manual_seed(seed)
    means = torch.stack([resampled_means(prompts, generator) for prompts in per_seed])  # [seed, resample, ...]
    picks = torch.randint(len(per_seed), (RESAMPLES, len(per_seed)), generator=generator)  # [resample, seed drawn]
    drawn = means[picks, torch.arange(RESAMPLES)[:, None]]  # [resample, seed drawn, ...]
    tail = (1 - level) / 2
    bounds = drawn.nanmean(dim=1).nanquantile(torch.tensor([tail, 1 - tail], dtype=drawn.dtype), dim=0)  # [2, ...]
    return bounds[0], bounds[1]


def resampled_means(prompts: Tensor, generator: torch.Generator) -> Tensor:
    """RESAMPLES bootstrap means over the first dimension, NaN left out: [prompt, ...] -> [resample, ...].

    Each resample is a count of draws per prompt, so the means are two matrix products.
    """
    n = prompts.shape[0]
    picks = torch.randint(n, (RESAMPLES, n), generator=generator)  # [resample, n]
    draws = torch.zeros(RESAMPLES, n, dtype=torch.float64).scatter_add_(1, picks, torch.ones(RESAMPLES, n).double())
    flat = prompts.reshape(n, -1).double()  # [prompt, cells]
    means = (draws @ flat.nan_to_num(0.0)) / (draws @ flat.isfinite().double())  # NaN where no finite prompt drawn
    return means.reshape(RESAMPLES, *prompts.shape[1:]).to(prompts.dtype)


def paired_p_values(scores: Tensor, baselines: Tensor) -> Tensor:
    """One-sided paired t-test per head, H0: mean(score - baseline) <= 0, over the first dimension: [n, ...] -> [...].

    The first dimension is seeds, or prompts where the material is fixed.
    Entries where either is NaN are left out; fewer than two gives NaN. A
    difference with no spread at all gives p = 0 when it is positive and 1
    otherwise: there is no variation to weigh it against (with prompts as the
    unit this takes the same gap on every prompt).
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
