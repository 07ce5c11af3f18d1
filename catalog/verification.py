"""Reading verification results: runs and per-head verdicts, for the CLI, the API and the site."""

from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog import models as m
from catalog.attention import head_attention_by_run
from catalog.crud import get_head_type, list_reported_heads, require_known
from catalog.errors import NotFoundError
from catalog.matrix import verification_summaries
from catalog.runs import task_accuracy
from catalog.schemas import (
    HeadAttentionPublic,
    HeadPublic,
    HeadScorePublic,
    HeadsPage,
    HeadTypeDetail,
    ReportedHeadPublic,
    RunDetail,
    RunPublic,
    RunsPage,
    VerdictPublic,
)
from catalog.windows import Window, sql_page

# A head's verdicts asked for: found (shows the behaviour) or not_found (scored, and does not).
VerdictFilter = Literal["found", "not_found"]
# How a model's heads can be ordered: by position, or best matching score first.
HeadSort = Literal["position", "-score"]


def list_runs(*, session: Session, model: str | None = None, detector: str | None = None) -> list[RunPublic]:
    return [_run_public(*row) for row in session.exec(_runs_query(session, model, detector))]


def runs_page(*, session: Session, window: Window, model: str | None = None, detector: str | None = None) -> RunsPage:
    """The page of list_runs' list the window shows, cut in SQL."""
    return sql_page(session, _runs_query(session, model, detector), window, RunsPage, _run_public)


def _runs_query(session: Session, model: str | None, detector: str | None, run_id: int | None = None):  # type: ignore[no-untyped-def]
    """Runs with their model, method, head type and number of heads found, by model and detector.

    The number found is counted for the runs shown only, through the verdicts' run index.
    """
    found = (
        select(func.count())
        .select_from(m.Verdict)
        .where(m.Verdict.run_id == m.Run.id, m.Verdict.shows_behaviour)
        .correlate(m.Run)
        .scalar_subquery()
    )
    query = (
        select(m.Run, m.Model.slug, m.Method.slug, m.HeadType.slug, found)
        .join(m.Model, m.Model.id == m.Run.model_id)
        .outerjoin(m.Method, m.Method.id == m.Run.method_id)
        .outerjoin(m.HeadType, m.HeadType.id == m.Run.head_type_id)
        .order_by(m.Model.slug, m.Run.detector)
    )
    if model is not None:
        query = query.where(m.Model.slug == require_known(session, m.Model.slug, model, "model"))
    if detector is not None:
        query = query.where(m.Run.detector == require_known(session, m.Run.detector, detector, "detector"))
    return query if run_id is None else query.where(m.Run.id == run_id)


def _run_public(
    run: m.Run, model_slug: str, method_slug: str | None, head_type: str | None, found: int | None
) -> RunPublic:
    return RunPublic(
        **run.model_dump(exclude={"model_id", "method_id", "head_type_id", "error"}),
        model=model_slug,
        method=method_slug,
        head_type=head_type,
        heads_found=found or 0,
        task=task_accuracy(run),
    )


def list_verdicts(
    *,
    session: Session,
    model: str | None = None,
    detector: str | None = None,
    head_type: str | None = None,
    found_only: bool = True,
    min_score: float | None = None,
    run_id: int | None = None,
) -> list[VerdictPublic]:
    """Per-head verdicts, best score first; by default only heads that show the behaviour."""
    query = (
        select(m.Verdict, m.Head, m.Model.slug, m.Run.detector, m.HeadType.slug, m.HeadScore.baseline)
        .join(m.Head, m.Head.id == m.Verdict.head_id)
        .join(m.Model, m.Model.id == m.Head.model_id)
        .join(m.Run, m.Run.id == m.Verdict.run_id)
        .join(m.HeadType, m.HeadType.id == m.Verdict.head_type_id)
        .outerjoin(
            m.HeadScore,
            (m.HeadScore.run_id == m.Verdict.run_id) & (m.HeadScore.head_id == m.Verdict.head_id),
        )
        .order_by(m.Model.slug, m.Run.detector, m.Verdict.score.desc())  # type: ignore[attr-defined]
    )
    filters = [
        (m.Model.slug, model, "model"),
        (m.Run.detector, detector, "detector"),
        (m.HeadType.slug, head_type, "head type"),
    ]
    for column, value, what in filters:
        if value is not None:
            query = query.where(column == require_known(session, column, value, what.replace(" ", "_")))
    if run_id is not None:
        query = query.where(m.Verdict.run_id == run_id)
    if found_only:
        query = query.where(m.Verdict.shows_behaviour)
    if min_score is not None:
        query = query.where(m.Verdict.score >= min_score)
    return [
        VerdictPublic(
            run_id=verdict.run_id,
            model=model_slug,
            detector=run_detector,
            head_type=type_slug,
            layer=head.layer,
            head=head.head,
            score=verdict.score,
            score_low=verdict.score_low,
            score_high=verdict.score_high,
            pass_rate=verdict.pass_rate,
            p_value=verdict.p_value,
            q_value=verdict.q_value,
            baseline=baseline,
            threshold=verdict.threshold,
            shows_behaviour=verdict.shows_behaviour,
            reported=verdict.reported_head_id is not None,
        )
        for verdict, head, model_slug, run_detector, type_slug, baseline in session.exec(query)
    ]


def get_run(*, session: Session, run_id: int) -> RunDetail:
    """One run with its error, if it failed, and the heads it found, best first."""
    row = session.exec(_runs_query(session, None, None, run_id)).first()
    if row is None:
        raise NotFoundError("run_id", f"No run {run_id}")
    run = _run_public(*row)
    found = list_verdicts(session=session, run_id=run_id)
    return RunDetail(**run.model_dump(), error=row[0].error, found=found)


def get_head_type_detail(*, session: Session, slug: str) -> HeadTypeDetail:
    """A head type in full (as crud.get_head_type) and what our runs found of it, model by model."""
    head_type = get_head_type(session=session, slug=slug)
    type_id = session.exec(select(m.HeadType.id).where(m.HeadType.slug == slug)).one()
    summaries = sorted(verification_summaries(session, head_type_id=type_id).values(), key=lambda s: s.model)
    return HeadTypeDetail(**head_type.model_dump(), verification=summaries)


def list_model_heads(
    *,
    session: Session,
    model: str,
    detector: str | None = None,
    head_type: str | None = None,
    min_score: float | None = None,
    verdict: VerdictFilter | None = None,
    layer_min: int | None = None,
    layer_max: int | None = None,
    sort: HeadSort = "position",
    limit: int = 50,
    offset: int = 0,
) -> HeadsPage:
    """One page of a model's heads, each with its scores and the reports about it.

    The score filters (detector, head_type, min_score, verdict) keep the heads
    with at least one score passing all of them, and each head lists only those
    scores; without them every head is listed with every score.

    Args:
        session: an open catalog session.
        model: model slug; an unknown one is a NotFoundError.
        detector, head_type: names as `headatlas detectors` and the catalog give them.
        min_score: keep scores at least this.
        verdict: found or not_found.
        layer_min, layer_max: an inclusive range of layers.
        sort: position (layer, then head) or -score (best matching score first).
        limit, offset: the page.

    Returns:
        The page, with the number of heads matching in all.
    """
    model_row = _model(session, model)
    conditions = _score_conditions(session, detector, head_type, min_score, verdict)
    heads = select(m.Head.id, m.Head.layer, m.Head.head).where(m.Head.model_id == model_row.id)
    if layer_min is not None:
        heads = heads.where(m.Head.layer >= layer_min)
    if layer_max is not None:
        heads = heads.where(m.Head.layer <= layer_max)
    order = [m.Head.layer, m.Head.head]
    if conditions or sort == "-score":
        best = (
            _scores_query(model_row.id, conditions)
            .with_only_columns(m.HeadScore.head_id, func.max(m.HeadScore.score).label("best"))
            .group_by(m.HeadScore.head_id)
            .subquery()
        )
        on = best.c.head_id == m.Head.id
        heads = heads.join(best, on) if conditions else heads.outerjoin(best, on)
        if sort == "-score":
            order = [best.c.best.desc().nulls_last(), *order]
    # The total rides along with the page (one pass over the scores); a page past the end counts apart.
    page = heads.add_columns(func.count().over().label("total")).order_by(*order).limit(limit).offset(offset)
    rows = session.exec(page).all()
    count = rows[0][3] if rows else session.exec(select(func.count()).select_from(heads.subquery())).one()
    scores = _head_scores(session, model_row.id, [row[0] for row in rows], conditions)
    reported = _reported_by_head(session, [row[0] for row in rows], head_type)
    data = [
        HeadPublic(
            model=model,
            layer=layer,
            head=head,
            n_layers=model_row.n_layers,
            scores=scores.get(head_id, []),
            reported=reported.get((layer, head), []),
        )
        for head_id, layer, head, _ in rows
    ]
    return HeadsPage(data=data, count=count, limit=limit, offset=offset)


def get_head(*, session: Session, model: str, layer: int, head: int) -> HeadPublic:
    """One head of a model with every score and every report; a NotFoundError outside the model."""
    model_row = _head_of(session, model, layer, head)
    head_id = session.exec(
        select(m.Head.id).where(m.Head.model_id == model_row.id, m.Head.layer == layer, m.Head.head == head)
    ).first()
    scores = _head_scores(session, model_row.id, [head_id], []) if head_id is not None else {}
    return HeadPublic(
        model=model,
        layer=layer,
        head=head,
        n_layers=model_row.n_layers,
        scores=scores.get(head_id, []),  # type: ignore[arg-type]
        reported=_reported_by_head(session, [head_id], None).get((layer, head), []) if head_id is not None else [],
    )


def get_head_attention(*, session: Session, model: str, layer: int, head: int) -> list[HeadAttentionPublic]:
    """One head's attention on the prompt each run of the model kept (catalog.attention), run by run."""
    _head_of(session, model, layer, head)
    by_run = head_attention_by_run(session, model, layer, head)
    detectors = dict(session.exec(select(m.Run.id, m.Run.detector).where(col(m.Run.id).in_(list(by_run)))).all())
    return [
        HeadAttentionPublic(
            run_id=run_id,
            detector=detectors[run_id],
            tokens=stored.tokens,
            start=stored.start,
            prompt_length=stored.prompt_length,
            weights=stored.weights.round(4).tolist(),
        )
        for run_id, stored in sorted(by_run.items())
    ]


def _head_of(session: Session, model: str, layer: int, head: int) -> m.Model:
    """The model of a head, refusing a layer or head outside it."""
    model_row = _model(session, model)
    if not 0 <= layer < model_row.n_layers:
        raise NotFoundError("layer", f"{model} has layers 0 to {model_row.n_layers - 1}; there is no layer {layer}")
    if not 0 <= head < model_row.n_heads:
        raise NotFoundError("head", f"{model} has heads 0 to {model_row.n_heads - 1}; there is no head {head}")
    return model_row


def _model(session: Session, slug: str) -> m.Model:
    model = session.exec(select(m.Model).where(m.Model.slug == slug)).first()
    if model is None:
        raise NotFoundError("slug", f"No model {slug!r}")
    return model


def _score_conditions(
    session: Session,
    detector: str | None,
    head_type: str | None,
    min_score: float | None,
    verdict: VerdictFilter | None,
) -> list:  # type: ignore[type-arg]
    """SQL conditions on a head's scores, each filter checked against what the catalog holds."""
    conditions = []
    if detector is not None:
        conditions.append(m.Run.detector == require_known(session, m.Run.detector, detector, "detector"))
    if head_type is not None:
        conditions.append(m.HeadType.slug == require_known(session, m.HeadType.slug, head_type, "head_type"))
    if min_score is not None:
        conditions.append(col(m.HeadScore.score) >= min_score)
    if verdict is not None:
        conditions.append(m.Verdict.shows_behaviour == (verdict == "found"))
    return conditions


def _scores_query(model_id: int | None, conditions: list):  # type: ignore[no-untyped-def,type-arg]
    """A model's head scores, each with its run, and its verdict and head type where it has one."""
    return (
        select(
            m.HeadScore.head_id,
            m.HeadScore.run_id,
            m.Run.detector,
            m.Run.detector_version,
            m.HeadType.slug,
            m.HeadScore.score,
            m.Verdict.score_low,
            m.Verdict.score_high,
            m.Verdict.pass_rate,
            m.Verdict.q_value,
            m.HeadScore.baseline,
            m.Verdict.threshold,
            m.Verdict.shows_behaviour,
        )
        .join(m.Run, m.Run.id == m.HeadScore.run_id)
        .outerjoin(
            m.Verdict,
            (m.Verdict.run_id == m.HeadScore.run_id) & (m.Verdict.head_id == m.HeadScore.head_id),
        )
        .outerjoin(m.HeadType, m.HeadType.id == m.Verdict.head_type_id)
        .where(m.Run.model_id == model_id, *conditions)
    )


# HeadScorePublic's fields, in the order _scores_query selects them after the head id.
SCORE_FIELDS = (
    "run_id",
    "detector",
    "detector_version",
    "head_type",
    "score",
    "score_low",
    "score_high",
    "pass_rate",
    "q_value",
    "baseline",
    "threshold",
    "shows_behaviour",
)


def _head_scores(
    session: Session, model_id: int | None, head_ids: list[int | None], conditions: list
) -> dict[int, list[HeadScorePublic]]:  # type: ignore[type-arg]
    """The scores of these heads that pass `conditions`, by head id, best first."""
    if not head_ids:
        return {}
    query = (
        _scores_query(model_id, conditions)
        .where(col(m.HeadScore.head_id).in_(head_ids))
        .order_by(col(m.HeadScore.score).desc().nulls_last(), m.Run.detector)
    )
    scores: dict[int, list[HeadScorePublic]] = {}
    for head_id, *values in session.execute(query):
        # Built unvalidated: the values are the catalog's own columns, typed as the model declares them.
        fields = dict(zip(SCORE_FIELDS, values, strict=True))
        scores.setdefault(head_id, []).append(HeadScorePublic.model_construct(**fields))
    return scores


def _reported_by_head(
    session: Session, head_ids: list[int], head_type: str | None
) -> dict[tuple[int, int], list[ReportedHeadPublic]]:
    """The reports on these heads (of one head type, if given) by (layer, head)."""
    reported: dict[tuple[int, int], list[ReportedHeadPublic]] = {}
    for item in list_reported_heads(session=session, head_type=head_type, head_ids=head_ids):
        reported.setdefault((item.layer, item.head), []).append(item)
    return reported
