"""Verify head types on a model: run each detector, score every head, store each run whole.

`verify_model` is the library call; `headatlas verify` only parses flags into
VerifyOptions. A run is written in one transaction after it has finished, so
an interrupted verification leaves the runs it completed and nothing else;
running it again skips those (unless forced) and does the rest.
"""

import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import torch
from sqlalchemy import Engine

from catalog.db import upgrade
from ingest.detectors.base import Detector, Measurement, TaskAccuracy
from ingest.detectors.probes import bos_policy
from ingest.evidence import DEFAULT_SEEDS, PromptScores, resampled
from ingest.lens import ModelLens
from ingest.model_loading import LoadedModel, load_model
from ingest.plugins import detectors, get_detector
from ingest.write_runs import RunResult, completed_run, register_model, require_head_types, write_run


@dataclass(frozen=True)
class VerifyOptions:
    model: str  # bundled name, GGUF file, folder or hub id
    detectors: tuple[str, ...] = ("all",)
    seed: int = 0  # the first seed; the run uses seeds `seed` .. `seed + seeds - 1`
    seeds: int = DEFAULT_SEEDS
    force: bool = False  # re-run detectors that already have a complete run


@dataclass(frozen=True)
class DetectorOutcome:
    detector: str
    status: str  # complete | not-verifiable | skipped
    run_id: int | None
    heads_found: list[tuple[int, int, float]] = field(default_factory=list)  # (layer, head, score), best first
    seconds: float = 0.0


@dataclass(frozen=True)
class VerifyReport:
    model: str
    outcomes: list[DetectorOutcome]


def selected_detectors(names: Iterable[str]) -> list[Detector]:
    """Detectors by name; "all" means every registered one. Unknown names are a ValueError."""
    names = list(names)
    if "all" in names:
        return list(detectors().values())
    return [get_detector(name) for name in names]


def verify_model(
    engine: Engine,
    opts: VerifyOptions,
    *,
    cache_dir: Path,
    progress: Callable[[Iterable[Detector], str], Iterable[Detector]] = lambda items, _: items,
) -> VerifyReport:
    """Run the chosen detectors on one model and store every run.

    Args:
        engine: the catalog.
        opts: which model, which detectors, the seed.
        cache_dir: where converted model weights are kept.
        progress: wraps the detector loop, e.g. with a progress bar.
    """
    chosen = selected_detectors(opts.detectors)  # validate names before loading anything
    upgrade(engine)
    require_head_types(engine, {detector.head_type for detector in chosen})
    loaded = load_model(opts.model, cache_dir=cache_dir)
    model_id = register_model(engine, loaded.facts)
    outcomes = []
    lens = ModelLens(loaded.model, loaded.tokenizer)
    for detector in progress(chosen, loaded.facts.slug):
        seeds = list(seeds_for(detector, opts.seed, opts.seeds))
        existing = None if opts.force else completed_run(engine, model_id, detector.name, detector.version, seeds)
        if existing is not None:
            outcomes.append(DetectorOutcome(detector.name, "skipped", existing))
            continue
        result = run_detector(loaded, detector, seed=opts.seed, n_seeds=opts.seeds, lens=lens)
        run_id = write_run(engine, model_id, result)
        outcomes.append(DetectorOutcome(detector.name, result.status, run_id, result.found, result.timings["total"]))
    return VerifyReport(model=loaded.facts.slug, outcomes=outcomes)


def run_detector(
    loaded: LoadedModel, detector: Detector, *, seed: int = 0, n_seeds: int = 1, lens: ModelLens | None = None
) -> RunResult:
    """Measure one detector on one loaded model over `n_seeds` seeds from `seed` on; nothing is written.

    Each seed draws fresh probe material; ingest.evidence turns the seeds'
    scores into a mean, an interval, a corrected p-value and a pass rate per
    head. A detector whose material does not change with the seed runs `seed`
    alone. Pass the same `lens` to consecutive calls to share forward passes
    between detectors that probe the same inputs.
    """
    started = datetime.now(UTC)
    lens = lens or ModelLens(loaded.model, loaded.tokenizer)
    hits_before = lens.captures.hits
    seeds = seeds_for(detector, seed, n_seeds)
    measured = [measurement(detector, lens, seed=each) for each in seeds]
    task = pooled_task(measured)
    not_applicable = next((each.not_applicable for each in measured if each.not_applicable is not None), None)
    verifiable = not_applicable is None and (task is None or task.verifiable)
    passed = torch.stack(
        [detector.decide(each.scores, each.baselines, each.eligible)[1] & each.verifiable for each in measured]
    )
    evidence = resampled(
        seeds,
        torch.stack([each.scores for each in measured]),  # [seed, layer, head]
        torch.stack([each.baselines for each in measured]),  # [seed, layer, head]
        passed,  # [seed, layer, head]
        prompts=prompt_scores(measured),
        bootstrap_seed=seed,
    )
    threshold, rule_on_mean = detector.decide(evidence.mean, evidence.baseline, eligible_at_every_seed(measured))
    shows = evidence.found(rule_on_mean) & verifiable
    timings = summed_timings(measured)
    confirmation = None
    if shows.any():
        clock = time.perf_counter()
        confirmation = detector.confirm(lens, [(layer, head) for layer, head in shows.nonzero().tolist()], seed=seed)
        timings["confirm"] = time.perf_counter() - clock
        if confirmation is not None and not confirmation.confirmed:
            shows = torch.zeros_like(shows)  # a set that fails its causal test is reported, never found
    return RunResult(
        detector=detector.name,
        detector_version=detector.version,
        head_type=detector.head_type,
        method=detector.method,
        threshold=threshold,
        params={
            **detector.parameters(),
            **measured_params(seeds, measured),
            "rule": detector.rule,
            "rule_value": detector.threshold,
            "threshold_source": detector.threshold_source,
            "baseline": detector.baseline_description,
            "bos": bos_policy(lens.tokenizer),
        },
        seed=seed,
        code_version=code_version(),
        started_at=started,
        finished_at=datetime.now(UTC),
        timings={
            **timings,
            "total": sum(timings.values()),
            "captures_reused": float(lens.captures.hits - hits_before),
        },
        evidence=evidence,
        shows_behaviour=shows,
        task=task,
        not_applicable=not_applicable,
        confirmation=confirmation,
    )


def seeds_for(detector: Detector, seed: int, n_seeds: int) -> tuple[int, ...]:
    """The seeds a run of `detector` uses: `n_seeds` from `seed` on, or `seed` alone where they would all agree."""
    return tuple(range(seed, seed + n_seeds)) if detector.seeded_material else (seed,)


def prompt_scores(measured: list[Measurement]) -> list[PromptScores] | None:
    """Every seed's scores and controls per prompt, if every seed has them."""
    if any(each.prompt_scores is None or each.prompt_baselines is None for each in measured):
        return None
    return [(each.prompt_scores, each.prompt_baselines) for each in measured]  # type: ignore[misc]


def eligible_at_every_seed(measured: list[Measurement]) -> torch.Tensor | None:
    """[layer, head] bool: the heads every seed's second criterion lets the rule pick; None where no seed has one."""
    masks = [each.eligible for each in measured if each.eligible is not None]
    return torch.stack(masks).all(dim=0) if masks else None


def pooled_task(measured: list[Measurement]) -> TaskAccuracy | None:
    """The task accuracy over every seed's prompts: one binomial test on all of them."""
    tasks = [each.task for each in measured if each.task is not None]
    if not tasks:
        return None
    return TaskAccuracy(
        correct=sum(t.correct for t in tasks), total=sum(t.total for t in tasks), chance=tasks[0].chance
    )


def summed_timings(measured: list[Measurement]) -> dict[str, float]:
    timings: dict[str, float] = {}
    for each in measured:
        for step, seconds in each.timings.items():
            timings[step] = timings.get(step, 0.0) + seconds
    return timings


def measured_params(seeds: tuple[int, ...], measured: list[Measurement]) -> dict[str, object]:
    """What the detector measured beyond its parameters: once when every seed agrees, else seed by seed."""
    first = measured[0].params
    if all(each.params == first for each in measured):
        return dict(first)
    return {"by_seed": {str(seed): each.params for seed, each in zip(seeds, measured, strict=True)}}


def measurement(detector: Detector, lens: ModelLens, *, seed: int) -> Measurement:
    """The detector's measurement, or why it does not apply: a toy model knows only its task's few symbols."""
    if lens.toy_task is not None and not detector.runs_on_toys:
        reason = f"a toy model trained only on {lens.toy_task}: this probe's tokens are outside its vocabulary"
        return Measurement.unscored(lens.n_layers, lens.n_heads, {}, not_applicable=reason)
    return detector.measure(lens, seed=seed)


def code_version() -> str:
    """The package version, with the git commit when running from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return version("headatlas") + (f"+{commit}" if commit else "")
