"""Verify head types on a model: run each detector, score every head, store each run whole.

`verify_model` is the library call; `headatlas verify` only parses flags into
VerifyOptions. A run is written in one transaction after it has finished, so
an interrupted verification leaves the runs it completed and nothing else;
running it again skips those (unless forced) and does the rest.
"""

import logging
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import torch
from sqlalchemy import Engine

from catalog.db import upgrade
from catalog.models import RunStatus
from ingest.capture import Reading
from ingest.detectors.base import Detector, Measurement, PatternDetector, TaskAccuracy
from ingest.detectors.probes import bos_policy
from ingest.evidence import DEFAULT_SEEDS, PromptScores, resampled
from ingest.lens import ModelLens
from ingest.model_loading import LoadedModel, known_checkpoint, load_model
from ingest.plugins import detectors, get_detector
from ingest.prompt_attention import PromptAttention, prompt_attention
from ingest.write_runs import RunResult, completed_run, find_model, require_head_types, stored_model, write_run

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyOptions:
    model: str  # bundled name, GGUF file, folder or hub id
    detectors: tuple[str, ...] = ("all",)
    seed: int = 0  # the first seed; the run uses seeds `seed` .. `seed + seeds - 1`
    seeds: int = DEFAULT_SEEDS
    force: bool = False  # re-run detectors that already have a complete run
    ignore_task_gate: bool = False  # score heads even where the model does the task at chance: exploratory runs
    device: str = "cpu"  # cpu | cuda | mps | auto (ingest.model_loading)
    dtype: str = "float32"  # float32 | bfloat16 | float16


@dataclass(frozen=True)
class DetectorOutcome:
    detector: str
    status: str  # a RunStatus, or "skipped"
    run_id: int | None
    heads_found: list[tuple[int, int, float]] = field(default_factory=list)  # (layer, head, score), best first
    seconds: float = 0.0
    reason: str | None = None  # why the run gives no verdicts, or how it failed
    timings: dict[str, float] = field(default_factory=dict)  # the run's steps, seconds, and passes run


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

    A detector that raises is stored as a failed run with its error, and the
    others go on: one broken test never stops a model's verification.

    Args:
        engine: the catalog.
        opts: which model, which detectors, the seeds, the device and dtype.
        cache_dir: where converted model weights are kept.
        progress: wraps the detector loop, e.g. with a progress bar.
    """
    chosen = selected_detectors(opts.detectors)  # validate names before loading anything
    upgrade(engine)
    require_head_types(engine, {detector.head_type for detector in chosen})
    done = DONE_WITH_GATE_IGNORED if opts.ignore_task_gate else DONE
    seeds = {detector.name: list(seeds_for(detector, opts.seed, opts.seeds)) for detector in chosen}
    if not opts.force and (stored := already_stored(engine, opts.model, chosen, seeds, done, cache_dir)):
        return stored
    loaded = load_model(opts.model, cache_dir=cache_dir, device=opts.device, dtype=opts.dtype)
    model_id = find_model(engine, loaded.facts)
    lens = ModelLens(loaded.model, loaded.tokenizer)
    existing = {
        detector.name: None
        if opts.force
        else completed_run(engine, model_id, detector.name, detector.version, seeds[detector.name], done=done)
        for detector in chosen
    }
    lens.plan(planned_readings([d for d in chosen if existing[d.name] is None], lens, opts.seed, opts.seeds))
    outcomes = []
    for detector in progress(chosen, loaded.facts.slug):
        if (run_id := existing[detector.name]) is not None:
            outcomes.append(DetectorOutcome(detector.name, "skipped", run_id))
            continue
        try:
            result = run_detector(
                loaded, detector, seed=opts.seed, n_seeds=opts.seeds, lens=lens, ignore_task_gate=opts.ignore_task_gate
            )
        except Exception as error:  # noqa: BLE001  # stored as a failed run; the other detectors go on
            logger.exception("Detector %s failed on %s", detector.name, loaded.facts.slug)
            result = failed_run(loaded, detector, lens, seeds[detector.name], error)
        clock = time.perf_counter()
        run_id = write_run(engine, loaded.facts, result)
        timings = {**result.timings, "write": time.perf_counter() - clock}
        seconds = timings["total"] + timings["write"]
        outcomes.append(
            DetectorOutcome(detector.name, str(result.status), run_id, result.found, seconds, result.reason, timings)
        )
    return VerifyReport(model=loaded.facts.slug, outcomes=outcomes)


def already_stored(
    engine: Engine,
    model: str,
    chosen: list[Detector],
    seeds: dict[str, list[int]],
    done: set[RunStatus],
    cache_dir: Path,
) -> VerifyReport | None:
    """The report of a verification whose every run is stored, found without loading the model; else None."""
    checkpoint = known_checkpoint(model, cache_dir=cache_dir)
    model_id = None if checkpoint is None else stored_model(engine, checkpoint.slug, checkpoint.identity)
    if checkpoint is None or model_id is None:
        return None
    runs = {d.name: completed_run(engine, model_id, d.name, d.version, seeds[d.name], done=done) for d in chosen}
    if None in runs.values():
        return None
    return VerifyReport(checkpoint.slug, [DetectorOutcome(name, "skipped", run_id) for name, run_id in runs.items()])


# Runs that a verification does not repeat unless forced: with the task gate, and with it ignored.
DONE = {RunStatus.COMPLETE, RunStatus.NOT_VERIFIABLE, RunStatus.NOT_APPLICABLE}
DONE_WITH_GATE_IGNORED = {RunStatus.COMPLETE, RunStatus.NOT_APPLICABLE, RunStatus.EXPLORATORY}


def planned_readings(chosen: list[Detector], lens: ModelLens, seed: int, n_seeds: int) -> list[Reading]:
    """Every pattern detector's readings at every seed, so that detectors probing the same tokens share a pass.

    A detector whose probes cannot be built is left out here; its own run then fails with the error.
    """
    readings: list[Reading] = []
    for detector in chosen:
        if not isinstance(detector, PatternDetector) or detector.applies_to(lens) is not None:
            continue
        try:
            for each in seeds_for(detector, seed, n_seeds):
                readings += detector.readings(detector.probes(lens.tokenizer, seed=each), seed=each)
        except Exception:  # noqa: BLE001  # reported by the detector's own run
            logger.debug("Readings of %s not planned", detector.name, exc_info=True)
    return readings


def run_detector(
    loaded: LoadedModel,
    detector: Detector,
    *,
    seed: int = 0,
    n_seeds: int = 1,
    lens: ModelLens | None = None,
    ignore_task_gate: bool = False,
) -> RunResult:
    """Measure one detector on one loaded model over `n_seeds` seeds from `seed` on; nothing is written.

    Each seed draws fresh probe material; ingest.evidence turns the seeds'
    scores into a mean, an interval, a corrected p-value and a pass rate per
    head. A detector whose material does not change with the seed runs `seed`
    alone. The task gate is decided on every seed's prompts pooled: seeds at
    chance are scored too once the pooled accuracy passes. With
    `ignore_task_gate`, a model at chance is scored anyway and the run is
    exploratory, without verdicts. Pass the same `lens` to consecutive calls to
    share forward passes between detectors that probe the same inputs.
    """
    started = datetime.now(UTC)
    lens = lens or ModelLens(loaded.model, loaded.tokenizer)
    seeds = seeds_for(detector, seed, n_seeds)
    if (reason := detector.applies_to(lens)) is not None:
        unscored = [Measurement.unscored(lens.n_layers, lens.n_heads, {})]
        return _result(loaded, detector, lens, seeds[:1], unscored, RunStatus.NOT_APPLICABLE, reason, started)
    reused_before, passes_before = lens.passes_reused, lens.passes.copy()
    measured = [detector.measure(lens, seed=each) for each in seeds]
    task = pooled_task(measured)
    passes_gate = task is None or task.verifiable
    if passes_gate or ignore_task_gate:
        measured = [
            detector.measure(lens, seed=each, score_at_chance=True) if one.gated else one
            for each, one in zip(seeds, measured, strict=True)
        ]
    if passes_gate:
        status, reason = RunStatus.COMPLETE, None
    else:
        status = RunStatus.EXPLORATORY if ignore_task_gate else RunStatus.NOT_VERIFIABLE
        reason = at_chance(task)  # type: ignore[arg-type]  # a failed gate has a task
    result = _result(loaded, detector, lens, seeds, measured, status, reason, started)
    result.timings["captures_reused"] = float(lens.passes_reused - reused_before)
    for kind in ("forward", "with_grad"):  # passes run, confirmation included; a with_grad pass has one backward
        result.timings[f"passes_{kind}"] = float(lens.passes[kind] - passes_before[kind])
    clock = time.perf_counter()
    result = replace(result, attention=probe_attention(detector, lens, seeds[0]))  # one pass more, for the pages
    result.timings["attention_example"] = time.perf_counter() - clock
    return result


def _result(
    loaded: LoadedModel,
    detector: Detector,
    lens: ModelLens,
    seeds: tuple[int, ...],
    measured: list[Measurement],
    status: RunStatus,
    reason: str | None,
    started: datetime,
) -> RunResult:
    """The run from its seeds' measurements: the evidence, the heads found (complete runs only), their confirmation."""
    passed = torch.stack([detector.decide(each.scores, each.baselines, each.eligible)[1] for each in measured])
    evidence = resampled(
        seeds,
        torch.stack([each.scores for each in measured]),  # [seed, layer, head]
        torch.stack([each.baselines for each in measured]),  # [seed, layer, head]
        passed,  # [seed, layer, head]
        prompts=prompt_scores(measured),
        bootstrap_seed=seeds[0],
    )
    threshold, rule_on_mean = detector.decide(evidence.mean, evidence.baseline, eligible_at_every_seed(measured))
    shows = evidence.found(rule_on_mean) & (status == RunStatus.COMPLETE)
    timings = summed_timings(measured)
    confirmation = None
    if shows.any():
        clock = time.perf_counter()
        found = [(layer, head) for layer, head in shows.nonzero().tolist()]
        confirmation = detector.confirm(lens, found, seed=seeds[0])
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
            **loaded.placement,
        },
        seed=seeds[0],
        code_version=code_version(),
        started_at=started,
        finished_at=datetime.now(UTC),
        timings={**timings, "total": sum(timings.values())},
        evidence=evidence,
        shows_behaviour=shows,
        status=status,
        reason=reason,
        task=pooled_task(measured),
        confirmation=confirmation,
    )


def probe_attention(detector: Detector, lens: ModelLens, seed: int) -> PromptAttention | None:
    """Every head's attention on one prompt of the probe, for the head pages; None for a test on weights only."""
    prompt = detector.example_prompt(lens.tokenizer, seed=seed)
    return None if prompt is None else prompt_attention(lens, prompt)


def failed_run(
    loaded: LoadedModel, detector: Detector, lens: ModelLens, seeds: list[int], error: Exception
) -> RunResult:
    """A run that raised: no scores, and the error in words, so that the catalog shows what broke."""
    unscored = [Measurement.unscored(lens.n_layers, lens.n_heads, {})]
    message = f"{type(error).__name__}: {error}"
    return _result(loaded, detector, lens, (seeds[0],), unscored, RunStatus.FAILED, message, datetime.now(UTC))


def at_chance(task: TaskAccuracy) -> str:
    """Why a run gives no verdicts when the model does its task at chance, in a reader's words."""
    return (
        f"not verifiable on this model: it does the task at chance "
        f"({task.correct}/{task.total} = {task.accuracy:.0%} against {task.chance:.0%} by guessing, "
        f"one-sided binomial p = {task.p_value:.2g} >= 0.01)"
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
