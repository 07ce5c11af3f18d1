"""Write verification results: the model's facts, then each run whole or not at all."""

from dataclasses import dataclass
from datetime import datetime

import torch
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from catalog.citations import cited_reports
from catalog.db import write_transaction
from catalog.matrix import refresh_verification_summaries
from catalog.models import (
    MODEL_SHAPE,
    AttentionExample,
    Head,
    HeadScore,
    HeadType,
    Method,
    Model,
    Run,
    RunAttention,
    RunStatus,
    Verdict,
)
from ingest.confirmation import Confirmation
from ingest.detectors.base import TaskAccuracy
from ingest.evidence import Evidence
from ingest.model_loading import ModelFacts
from ingest.prompt_attention import PromptAttention


@dataclass(frozen=True)
class RunResult:
    """One detector's measurements on one model, before they are stored."""

    detector: str
    detector_version: str
    head_type: str
    method: str
    threshold: float
    params: dict[str, object]
    seed: int
    code_version: str
    started_at: datetime
    finished_at: datetime
    timings: dict[str, float]
    evidence: Evidence  # per head over the seeds: mean, interval, pass rate, corrected p-value
    shows_behaviour: torch.Tensor  # [layer, head] bool: found (ingest.evidence)
    status: RunStatus
    reason: str | None = None  # why a run that is not complete gives no verdicts, or how it failed
    task: TaskAccuracy | None = None  # task detectors: the model's accuracy on the task over every seed, against chance
    confirmation: Confirmation | None = None  # the found set's ablation against random sets, for causal head types
    attention: PromptAttention | None = None  # every head's attention on one prompt of the probe, for the head pages

    @property
    def scores(self) -> torch.Tensor:
        """[layer, head]: the mean score over the seeds, NaN where unscored."""
        return self.evidence.mean

    @property
    def baselines(self) -> torch.Tensor:
        """[layer, head]: the mean control score over the seeds."""
        return self.evidence.baseline

    @property
    def found(self) -> list[tuple[int, int, float]]:
        """(layer, head, mean score) of the heads found, best first."""
        heads = [
            (layer, head, float(self.scores[layer, head])) for layer, head in self.shows_behaviour.nonzero().tolist()
        ]
        return sorted(heads, key=lambda item: -item[2])


class ModelIdentityError(ValueError):
    """A checkpoint would take the catalog row of another: the message names both."""


def find_model(engine: Engine, facts: ModelFacts) -> int | None:
    """The id of this checkpoint's catalog row, or None if it has none yet; a row of another checkpoint is refused."""
    with Session(engine) as session:
        model = session.exec(select(Model).where(Model.slug == facts.slug)).first()
        if model is not None:
            check_identity(model, facts)
        return None if model is None else model.id


def stored_model(engine: Engine, slug: str, identity: str) -> int | None:
    """The id of the catalog row of exactly this checkpoint, if it has one."""
    with Session(engine) as session:
        return session.exec(select(Model.id).where(Model.slug == slug, Model.identity == identity)).first()


def check_identity(model: Model, facts: ModelFacts) -> None:
    """A slug names one checkpoint: refuse another source, or a shape that contradicts the row's."""
    if model.identity is not None and model.identity != facts.identity:
        raise ModelIdentityError(
            f"The catalog's model {model.slug!r} is {model.identity}, but the model loaded is {facts.identity}; "
            "a different checkpoint needs a name of its own"
        )
    clashes = [
        f"{column} {getattr(model, column)} in the catalog, {getattr(facts, column)} in the checkpoint"
        for column in MODEL_SHAPE
        if getattr(model, column) != getattr(facts, column)
    ]
    if clashes:
        raise ModelIdentityError(
            f"The model loaded as {model.slug!r} ({facts.identity}) contradicts the catalog's row: {'; '.join(clashes)}"
        )


def _register_model(session: Session, facts: ModelFacts) -> int:
    """Insert or complete the model's row and all its heads, in the caller's transaction; returns the model id."""
    model = session.exec(select(Model).where(Model.slug == facts.slug)).first()
    if model is None:
        model = Model(slug=facts.slug, name=facts.name, kind=facts.kind, **{c: getattr(facts, c) for c in MODEL_SHAPE})
        session.add(model)
    check_identity(model, facts)
    for column in ("family", "d_model", "positional", "file_sha256", "identity"):
        setattr(model, column, getattr(facts, column))
    model.hub_id = model.hub_id or facts.hub_id
    model.quantization = facts.quantization or model.quantization
    session.flush()
    existing = set(session.exec(select(Head.layer, Head.head).where(Head.model_id == model.id)).all())
    session.add_all(
        Head(model_id=model.id, layer=layer, head=head)
        for layer in range(facts.n_layers)
        for head in range(facts.n_heads)
        if (layer, head) not in existing
    )
    session.flush()
    return int(model.id)  # type: ignore[arg-type]  # set by the flush above


def require_head_types(engine: Engine, slugs: set[str]) -> None:
    """Runs link their verdicts to head types, which come from the knowledge files."""
    with Session(engine) as session:
        known = set(session.exec(select(HeadType.slug).where(col(HeadType.slug).in_(slugs))).all())
    if missing := sorted(slugs - known):
        raise ValueError(
            f"Head types {missing} are not in the catalog; run `headatlas ingest knowledge` before verifying"
        )


def completed_run(
    engine: Engine, model_id: int | None, detector: str, version: str, seeds: list[int], *, done: set[RunStatus]
) -> int | None:
    """The id of a run of this detector version on this model over these seeds, in a status of `done`, if any."""
    if model_id is None:  # not in the catalog yet
        return None
    with Session(engine) as session:
        runs = session.exec(
            select(Run.id, Run.seeds).where(
                Run.model_id == model_id,
                Run.detector == detector,
                Run.detector_version == version,
                col(Run.status).in_([str(status) for status in done]),
            )
        ).all()
    return next((run_id for run_id, run_seeds in runs if list(run_seeds) == seeds), None)


def write_run(engine: Engine, facts: ModelFacts, result: RunResult) -> int:
    """Store a run with every head's score and verdict, replacing an earlier run of this detector version and seed.

    The model's row and heads are registered in the same transaction, so that a model enters the catalog with
    its first run or not at all.
    """
    with write_transaction(engine, f"the {result.detector} run on {facts.slug}") as session:
        model_id = _register_model(session, facts)
        _delete_runs(session, model_id, result.detector, result.detector_version, result.seed)
        head_type_id = session.exec(select(HeadType.id).where(HeadType.slug == result.head_type)).one()
        task = result.task
        run = Run(
            model_id=model_id,
            detector=result.detector,
            detector_version=result.detector_version,
            method_id=session.exec(select(Method.id).where(Method.slug == result.method)).first(),
            params=result.params,
            seed=result.seed,
            seeds=list(result.evidence.seeds),
            evidence=result.evidence.described(),
            confirmation=result.confirmation.described() if result.confirmation else None,
            code_version=result.code_version,
            head_type_id=head_type_id,
            status=str(result.status),
            error=result.reason,
            started_at=result.started_at,
            finished_at=result.finished_at,
            timings=result.timings,
            task_correct=task.correct if task else None,
            task_total=task.total if task else None,
            task_chance=task.chance if task else None,
        )
        session.add(run)
        session.flush()
        if result.attention is not None:
            example_id = _stored_attention(session, model_id, result.attention)
            session.add(RunAttention(run_id=run.id, attention_example_id=example_id))
        heads = {(h.layer, h.head): h.id for h in session.exec(select(Head).where(Head.model_id == model_id))}
        reported = cited_reports(session, model_id, head_type_id)
        evidence = result.evidence
        scores, verdicts = [], []
        for (layer, head), head_id in heads.items():
            score = _number(evidence.mean[layer, head])
            baseline = _number(evidence.baseline[layer, head])
            scores.append(HeadScore(run_id=run.id, head_id=head_id, score=score, baseline=baseline))
            if score is not None and result.status == RunStatus.COMPLETE:
                verdicts.append(
                    Verdict(
                        run_id=run.id,
                        head_id=head_id,
                        head_type_id=head_type_id,
                        score=score,
                        score_low=_number(evidence.low[layer, head]),
                        score_high=_number(evidence.high[layer, head]),
                        pass_rate=float(evidence.pass_rate[layer, head]),
                        p_value=_number(evidence.p_value[layer, head]),
                        q_value=_number(evidence.q_value[layer, head]),
                        threshold=result.threshold,
                        shows_behaviour=bool(result.shows_behaviour[layer, head]),
                        reported_head_id=reported.get(head_id),
                    )
                )
        session.add_all(scores)
        session.add_all(verdicts)
        session.flush()
        refresh_verification_summaries(session, model_id=model_id)
        return int(run.id)  # type: ignore[arg-type]


def _stored_attention(session: Session, model_id: int, attention: PromptAttention) -> int:
    """The catalog row of this prompt's attention on the model, added if no run stored it before."""
    found = session.exec(
        select(AttentionExample.id).where(
            AttentionExample.model_id == model_id, AttentionExample.digest == attention.digest
        )
    ).first()
    if found is not None:
        return found
    row = AttentionExample(
        model_id=model_id,
        digest=attention.digest,
        tokens=attention.tokens,
        start=attention.start,
        prompt_length=attention.prompt_length,
        weights=attention.packed(),
    )
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[arg-type]  # set by the flush


def _delete_runs(session: Session, model_id: int, detector: str, version: str, seed: int) -> None:
    old = select(Run.id).where(
        Run.model_id == model_id, Run.detector == detector, Run.detector_version == version, Run.seed == seed
    )
    session.exec(delete(Verdict).where(col(Verdict.run_id).in_(old)))  # type: ignore[call-overload]
    session.exec(delete(HeadScore).where(col(HeadScore.run_id).in_(old)))  # type: ignore[call-overload]
    session.exec(delete(RunAttention).where(col(RunAttention.run_id).in_(old)))  # type: ignore[call-overload]
    session.exec(delete(Run).where(col(Run.id).in_(old)))  # type: ignore[call-overload]
    in_use = select(RunAttention.attention_example_id)
    unused = delete(AttentionExample).where(
        AttentionExample.model_id == model_id, col(AttentionExample.id).not_in(in_use)
    )
    session.exec(unused)  # type: ignore[call-overload]  # examples only replaced runs drew


def _number(value: torch.Tensor) -> float | None:
    number = float(value)
    return None if number != number else number  # NaN: not scored
