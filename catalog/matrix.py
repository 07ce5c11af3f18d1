"""Which head types our runs found on which models: per head type and model, from the verdicts.

The API's matrix and head type pages, the CLI and the docs site read these. A
cell exists only where a run tested the head type on the model; "found" means
at least one head shows the behaviour. Beside each row stand the model families
the survey's figure marks the head type with, so that what the survey reports
and what we measured can be read side by side.
"""

from sqlalchemy import Text, case, cast, func, or_
from sqlmodel import Session, col, delete, select

from catalog import models as m
from catalog.crud import require_known
from catalog.models import RunStatus
from catalog.runs import task_accuracy
from catalog.schemas import BestHead, MatrixModel, MatrixRow, ModelVerification, TransferabilityMatrix


def verification_summaries(
    session: Session, *, head_type_id: int | None = None
) -> dict[tuple[int, int], ModelVerification]:
    """What the verdicts say per (head type id, model id), for one head type or all, as the writers stored it.

    Args:
        session: an open catalog session.
        head_type_id: only this head type's summaries.

    Returns:
        One summary per head type and model that a run tested, keyed by their ids.
    """
    # The JSON as text, parsed and checked in one pass by pydantic, rather than by json.loads and then checked.
    summary = cast(m.VerificationSummary.summary, Text)
    query = select(m.VerificationSummary.head_type_id, m.VerificationSummary.model_id, summary)
    if head_type_id is not None:
        query = query.where(m.VerificationSummary.head_type_id == head_type_id)
    return {
        (type_id, model_id): ModelVerification.model_validate_json(text)
        for type_id, model_id, text in session.execute(query)
    }


def refresh_verification_summaries(session: Session, *, model_id: int | None = None) -> None:
    """Rewrite the stored summaries of one model (or of all) from its runs and verdicts as they are now.

    Every writer calls it in its own transaction after changing runs, verdicts or the reports verdicts cite.
    """
    stale = delete(m.VerificationSummary)
    if model_id is not None:
        stale = stale.where(m.VerificationSummary.model_id == model_id)  # type: ignore[arg-type]
    session.exec(stale)  # type: ignore[call-overload]
    session.add_all(
        m.VerificationSummary(head_type_id=type_id, model_id=model, summary=summary.model_dump(mode="json"))
        for (type_id, model), summary in _computed_summaries(session, model_id=model_id).items()
    )
    session.flush()


def _computed_summaries(session: Session, *, model_id: int | None) -> dict[tuple[int, int], ModelVerification]:
    """The summaries of one model's verdicts (or of every model's), aggregated from the verdicts."""
    where = [] if model_id is None else [col(m.Verdict.run_id).in_(select(m.Run.id).where(m.Run.model_id == model_id))]
    shows = m.Verdict.shows_behaviour
    counts = session.exec(
        select(
            m.Verdict.head_type_id,
            m.Run.model_id,
            func.count(func.distinct(m.Verdict.head_id)),
            func.count(func.distinct(case((shows, m.Verdict.head_id)))),
            func.count(func.distinct(m.Verdict.reported_head_id)),
            func.count(func.distinct(case((shows, m.Verdict.reported_head_id)))),
        )
        .join(m.Run, m.Run.id == m.Verdict.run_id)
        .where(*where)
        .group_by(m.Verdict.head_type_id, m.Run.model_id)
    ).all()
    runs: dict[tuple[int, int], dict[int, str]] = {}
    for type_id, run_model, run_id, detector in session.exec(
        select(m.Verdict.head_type_id, m.Run.model_id, m.Run.id, m.Run.detector)
        .join(m.Run, m.Run.id == m.Verdict.run_id)
        .where(*where)
        .distinct()
    ):
        runs.setdefault((type_id, run_model), {})[run_id] = detector
    layers: dict[tuple[int, int], list[int]] = {}
    for type_id, head_model, layer in session.exec(
        select(m.Verdict.head_type_id, m.Head.model_id, m.Head.layer)
        .join(m.Head, m.Head.id == m.Verdict.head_id)
        .where(shows, *where)
        .distinct()
        .order_by(m.Head.layer)
    ):
        layers.setdefault((type_id, head_model), []).append(layer)
    # The best head is the strongest among those found (margin rules can find a head below another's raw score).
    best = _best_heads(session, where) | _best_heads(session, [*where, m.Verdict.shows_behaviour])
    models = {model.id: model for model in session.exec(select(m.Model))}
    summaries = {}
    for type_id, run_model, scored, found, reported, confirmed in counts:
        model = models[run_model]
        key = (type_id, run_model)
        summaries[key] = ModelVerification(
            model=model.slug,
            family=model.family,
            n_layers=model.n_layers,
            detectors=sorted(set(runs[key].values())),
            runs=sorted(runs[key]),
            heads_scored=scored,
            heads_found=found,
            found_layers=layers.get(key, []),
            best=best.get(key),
            reported_confirmed=confirmed,
            reported_contradicted=reported - confirmed,
        )
    _add_task_runs(session, summaries, models, model_id)
    _add_confirmations(session, summaries, model_id)
    return summaries


def _add_confirmations(
    session: Session, summaries: dict[tuple[int, int], ModelVerification], model_id: int | None
) -> None:
    """Whether ablating the heads found together confirmed them; a set that failed shows as candidates only."""
    query = select(m.Run.head_type_id, m.Run.model_id, m.Run.confirmation).where(
        col(m.Run.confirmation).is_not(None), col(m.Run.head_type_id).is_not(None)
    )
    if model_id is not None:
        query = query.where(m.Run.model_id == model_id)
    for type_id, run_model_id, confirmation in session.exec(query.order_by(m.Run.id)):
        summary = summaries.get((type_id, run_model_id))
        if summary is not None and confirmation is not None:
            summary.confirmation = confirmation["status"]
            summary.candidates = len(confirmation["heads"])


def _add_task_runs(
    session: Session,
    summaries: dict[tuple[int, int], ModelVerification],
    models: dict[int, m.Model],
    model_id: int | None,
) -> None:
    """Task detectors' accuracies beside their verdicts, and a cell for each head type a model could not verify
    (its task at chance, or a test that does not apply to it, such as a language probe on a toy model)."""
    query = select(m.Run).where(
        or_(col(m.Run.task_total).is_not(None), m.Run.status != RunStatus.COMPLETE),
        col(m.Run.head_type_id).is_not(None),
    )
    if model_id is not None:
        query = query.where(m.Run.model_id == model_id)
    for run in session.exec(query.order_by(m.Run.id)):
        key = (int(run.head_type_id), run.model_id)  # type: ignore[arg-type]
        task = task_accuracy(run)
        if key in summaries:
            summaries[key].task = task
        elif run.status != RunStatus.COMPLETE:
            model = models[run.model_id]
            summaries[key] = ModelVerification(
                model=model.slug,
                family=model.family,
                n_layers=model.n_layers,
                detectors=[run.detector],
                runs=[int(run.id)],  # type: ignore[arg-type]
                heads_scored=0,
                heads_found=0,
                found_layers=[],
                best=None,
                reported_confirmed=0,
                reported_contradicted=0,
                status=run.status,
                task=task,
                reason=run.error,
            )


def _best_heads(session: Session, where: list) -> dict[tuple[int, int], BestHead]:  # type: ignore[type-arg]
    """The highest-scoring head per (head type id, model id); on a tie, the first by layer and head.

    Each run's maximum, joined back to that run's verdicts through the run index,
    then the best over a model's runs here: on a million verdicts this is several
    times faster than ranking them all with a window function, and it stays linear
    when no head type is given.
    """
    per_run = (
        select(m.Verdict.run_id, m.Verdict.head_type_id, func.max(m.Verdict.score).label("score"))
        .where(*where)
        .group_by(m.Verdict.run_id, m.Verdict.head_type_id)
        .subquery()
    )
    rows = session.exec(
        select(
            m.Verdict.head_type_id,
            m.Run.model_id,
            m.Head.layer,
            m.Head.head,
            m.Verdict.score,
            m.Verdict.score_low,
            m.Verdict.score_high,
            m.Verdict.pass_rate,
        )
        .select_from(per_run)
        .join(
            m.Verdict,
            (m.Verdict.run_id == per_run.c.run_id)
            & (m.Verdict.head_type_id == per_run.c.head_type_id)
            & (m.Verdict.score == per_run.c.score),
        )
        .join(m.Run, m.Run.id == m.Verdict.run_id)
        .join(m.Head, m.Head.id == m.Verdict.head_id)
    )
    best: dict[tuple[int, int], BestHead] = {}
    for type_id, model_id, layer, head, score, low, high, pass_rate in rows:
        current = best.get((type_id, model_id))
        if current is None or (-score, layer, head) < (-current.score, current.layer, current.head):
            best[(type_id, model_id)] = BestHead(
                layer=layer, head=head, score=score, score_low=low, score_high=high, pass_rate=pass_rate
            )
    return best


def transferability_matrix(
    session: Session, *, stage: str | None = None, models: list[str] | None = None, tested_only: bool = True
) -> TransferabilityMatrix:
    """Head types × models from the verdicts, in the survey's order of head types.

    Args:
        session: an open catalog session.
        stage: only head types of this stage (code, any case).
        models: only these models (any name require_known accepts); by default every model a run tested.
        tested_only: leave out head types no run has tested.

    Returns:
        The models that any run tested, and one row per head type with a cell per model tested.
    """
    summaries = verification_summaries(session)
    query = (
        select(m.HeadType.id, m.HeadType.slug, m.HeadType.name, m.Stage.code)
        .join(m.Stage, m.Stage.id == m.HeadType.stage_id)
        .join(m.Mechanism, m.Mechanism.id == m.HeadType.mechanism_id)
        .order_by(m.Stage.position, m.Mechanism.position, m.HeadType.position)
    )
    if stage is not None:
        query = query.where(m.Stage.code == require_known(session, m.Stage.code, stage.upper(), "stage"))
    families: dict[int, list[str]] = {}
    for type_id, family in session.exec(
        select(m.HeadTypeFamily.head_type_id, m.HeadTypeFamily.family).order_by(m.HeadTypeFamily.family)
    ):
        families.setdefault(type_id, []).append(family)
    shown = select(m.Model).where(col(m.Model.id).in_({model_id for _, model_id in summaries}))
    if models:
        shown = shown.where(col(m.Model.slug).in_([require_known(session, m.Model.slug, x, "model") for x in models]))
    columns = session.exec(shown.order_by(m.Model.slug)).all()
    rows = []
    for type_id, slug, name, code in session.exec(query):
        cells = [summaries[(type_id, model.id)] for model in columns if (type_id, model.id) in summaries]  # type: ignore[index]
        if cells or not tested_only:
            rows.append(
                MatrixRow(head_type=slug, name=name, stage=code, survey_families=families.get(type_id, []), cells=cells)
            )
    return TransferabilityMatrix(
        models=[MatrixModel(slug=x.slug, family=x.family, n_layers=x.n_layers) for x in columns], rows=rows
    )
