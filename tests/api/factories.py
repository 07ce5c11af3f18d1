"""Verification runs made by hand, stored the way ingest.write_runs stores a real one, without a model."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from catalog import models as m
from catalog.matrix import refresh_verification_summaries

# When the hand-made runs ran.
STARTED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def add_run(
    engine: Engine,
    *,
    model: str,
    detector: str,
    head_type: str,
    threshold: float,
    scores: dict[tuple[int, int], float | None],
    default: float,
    method: str = "scoring",
) -> int:
    """A complete run on `model`: a score for every head (`default` unless in `scores`, None meaning unscored),
    and a verdict for every scored head, linked to the reported head of that type where a paper reports one."""
    with Session(engine) as session:
        model_row = session.exec(select(m.Model).where(m.Model.slug == model)).one()
        type_id = session.exec(select(m.HeadType.id).where(m.HeadType.slug == head_type)).one()
        run = m.Run(
            model_id=model_row.id,  # type: ignore[arg-type]
            detector=detector,
            detector_version="1",
            method_id=session.exec(select(m.Method.id).where(m.Method.slug == method)).one(),
            head_type_id=type_id,
            params={"batch": 4},
            seed=0,
            seeds=[0, 1, 2, 3, 4],
            code_version="test",
            status="complete",
            started_at=STARTED,
            finished_at=STARTED,
            timings={"forward": 0.5},
        )
        session.add(run)
        session.flush()
        reported = dict(
            session.exec(
                select(m.ReportedHead.head_id, m.ReportedHead.id)
                .join(m.Head, m.Head.id == m.ReportedHead.head_id)
                .where(m.Head.model_id == model_row.id, m.ReportedHead.head_type_id == type_id)
            ).all()
        )
        for head in session.exec(select(m.Head).where(m.Head.model_id == model_row.id)):
            score = scores.get((head.layer, head.head), default)
            session.add(m.HeadScore(run_id=run.id, head_id=head.id, score=score, baseline=0.01))  # type: ignore[arg-type]
            if score is not None:
                verdict = m.Verdict(
                    run_id=run.id,  # type: ignore[arg-type]
                    head_id=head.id,  # type: ignore[arg-type]
                    head_type_id=type_id,  # type: ignore[arg-type]
                    score=score,
                    score_low=round(score - 0.05, 3),
                    score_high=round(score + 0.05, 3),
                    pass_rate=1.0 if score >= threshold else 0.0,
                    threshold=threshold,
                    shows_behaviour=score >= threshold,
                    reported_head_id=reported.get(head.id),
                )
                session.add(verdict)
        session.flush()
        refresh_verification_summaries(session, model_id=model_row.id)
        session.commit()
        return run.id  # type: ignore[return-value]


def add_test_runs(engine: Engine) -> None:
    """The runs the API tests read.

    gpt2-small, induction (threshold 0.4): L5H5 0.9 and L5H8 0.5 are reported and found, L6H9 and L5H9
    are reported and not found, L1H4 is found, L0H0 is unscored. gpt2-small, previous_token (0.5): L2H2
    and L4H11 found. smollm2-135m-instruct, induction (0.4): L3H0 and L20H4 found.
    """
    add_run(
        engine,
        model="gpt2-small",
        detector="induction",
        head_type="induction-head",
        threshold=0.4,
        scores={(5, 5): 0.9, (5, 8): 0.5, (6, 9): 0.3, (1, 4): 0.7, (0, 0): None},
        default=0.05,
    )
    add_run(
        engine,
        model="gpt2-small",
        detector="previous_token",
        head_type="previous-token-head",
        threshold=0.5,
        scores={(2, 2): 0.8, (4, 11): 0.6},
        default=0.1,
    )
    add_run(
        engine,
        model="smollm2-135m-instruct",
        detector="induction",
        head_type="induction-head",
        threshold=0.4,
        scores={(3, 0): 0.95, (20, 4): 0.45},
        default=0.1,
    )
