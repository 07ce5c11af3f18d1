"""Reading the catalog: each query lives here once, for the CLI, the API and the docs site."""

import difflib
from typing import Literal

from sqlalchemy import exists, func
from sqlalchemy import text as sql_text
from sqlmodel import Session, SQLModel, col, select

from catalog import models as m
from catalog.errors import InvalidParameterError, NotFoundError
from catalog.schemas import (
    BenchmarkPublic,
    CatalogSummary,
    HeadTypePublic,
    HeadTypeSummary,
    MechanismPublic,
    MethodPublic,
    ModelPublic,
    PaperPublic,
    PaperRef,
    PapersPage,
    PaperSummary,
    RelatedPublic,
    ReportedHeadPublic,
    ReportedHeadsPage,
    StagePublic,
)
from catalog.search import CANDIDATES, search
from catalog.windows import Window, sql_page

# The tables counted in a summary, in reading order.
SUMMARY_TABLES: list[type[SQLModel]] = [
    m.Stage,
    m.Mechanism,
    m.HeadType,
    m.Paper,
    m.MethodFamily,
    m.Method,
    m.Benchmark,
    m.Model,
    m.Head,
    m.ReportedHead,
    m.Dataset,
    m.DatasetHead,
    m.Run,
    m.HeadScore,
    m.Verdict,
]


# How a list of head types can be ordered; relevance needs a text query.
HeadTypeSort = Literal["taxonomy", "name", "-name", "relevance"]


def catalog_summary(*, session: Session) -> CatalogSummary:
    counts = {
        table.__tablename__: session.exec(select(func.count()).select_from(table)).one()  # type: ignore[arg-type]
        for table in SUMMARY_TABLES
    }
    by_status = dict(session.exec(select(m.Run.status, func.count()).group_by(m.Run.status)).all())
    return CatalogSummary(counts=counts, runs_by_status={status: by_status.get(status, 0) for status in m.RunStatus})


def list_stages(*, session: Session) -> list[StagePublic]:
    mechanisms = list_mechanisms(session=session)
    return [
        StagePublic(**s.model_dump(), mechanisms=[x for x in mechanisms if x.stage == s.code])
        for s in session.exec(select(m.Stage).order_by(m.Stage.position))
    ]


def list_mechanisms(*, session: Session) -> list[MechanismPublic]:
    head_types: dict[int, list[str]] = {}
    for mechanism_id, slug in session.exec(
        select(m.HeadType.mechanism_id, m.HeadType.slug).order_by(m.HeadType.position)
    ):
        head_types.setdefault(mechanism_id, []).append(slug)
    query = select(m.Mechanism, m.Stage.code).join(m.Stage).order_by(m.Stage.position, m.Mechanism.position)
    return [
        MechanismPublic(
            slug=x.slug,
            name=x.name,
            stage=code,
            summary=x.summary,
            head_types=head_types.get(x.id, []),
        )
        for x, code in session.exec(query)
    ]


def list_head_types(
    *,
    session: Session,
    stage: str | None = None,
    mechanism: str | None = None,
    family: str | None = None,
) -> list[HeadTypeSummary]:
    # Only the summary's columns: a list never needs the long texts.
    query = _head_type_query().with_only_columns(
        m.HeadType.slug, m.HeadType.name, m.Stage.code, m.Mechanism.slug, m.HeadType.source, m.HeadType.summary
    )
    if stage is not None:
        query = query.where(m.Stage.code == require_known(session, m.Stage.code, stage.upper(), "stage"))
    if mechanism is not None:
        query = query.where(m.Mechanism.slug == require_known(session, m.Mechanism.slug, mechanism, "mechanism"))
    if family is not None:
        known = require_known(session, m.HeadTypeFamily.family, family, "family", what="survey family")
        marked = select(m.HeadTypeFamily.head_type_id).where(m.HeadTypeFamily.family == known)
        query = query.where(m.HeadType.id.in_(marked))  # type: ignore[union-attr]
    fields = ("slug", "name", "stage", "mechanism", "source", "summary")
    return [HeadTypeSummary(**dict(zip(fields, row, strict=True))) for row in session.exec(query)]


def get_head_type(*, session: Session, slug: str) -> HeadTypePublic:
    row = session.exec(_head_type_query().where(m.HeadType.slug == slug)).first()
    if row is None:
        raise NotFoundError("slug", f"No head type {slug!r}")
    head_type, stage, mechanism = row
    families = session.exec(
        select(m.HeadTypeFamily.family)
        .where(m.HeadTypeFamily.head_type_id == head_type.id)
        .order_by(m.HeadTypeFamily.family)
    ).all()
    related = session.exec(
        select(m.HeadType.slug, m.HeadType.name, m.HeadTypeRelation.relation)
        .join(m.HeadTypeRelation, m.HeadTypeRelation.related_id == m.HeadType.id)
        .where(m.HeadTypeRelation.head_type_id == head_type.id)
        .order_by(m.HeadType.slug)
    ).all()
    return HeadTypePublic(
        **_head_type_summary(head_type, stage, mechanism).model_dump(),
        aliases=head_type.aliases,
        stage_name=stage.name,
        mechanism_name=mechanism.name,
        survey_families=list(families),
        description=head_type.description,
        qk=head_type.qk,
        ov=head_type.ov,
        input_feature=head_type.input_feature,
        output_feature=head_type.output_feature,
        layer_distribution=head_type.layer_distribution,
        extension_note=head_type.extension_note,
        papers=_cited_papers(session, m.HeadTypePaper, m.HeadTypePaper.head_type_id, head_type.id),
        related=[RelatedPublic(slug=s, name=n, relation=r) for s, n, r in related],
        reported_heads=list_reported_heads(session=session, head_type=slug),
    )


def list_reported_heads(
    *,
    session: Session,
    stage: str | None = None,
    mechanism: str | None = None,
    model: str | None = None,
    paper: str | None = None,
    head_type: str | None = None,
    head_ids: list[int] | None = None,
) -> list[ReportedHeadPublic]:
    """Reported heads matching every filter given (`head_ids`: only these heads' reports); an unknown filter
    value is an InvalidParameterError."""
    query = _reported_heads_query(session, stage, mechanism, model, paper, head_type)
    if head_ids is not None:
        query = query.where(col(m.ReportedHead.head_id).in_(head_ids))
    return [_reported_head(*row) for row in session.exec(query)]


def reported_heads_page(
    *,
    session: Session,
    window: Window,
    stage: str | None = None,
    mechanism: str | None = None,
    model: str | None = None,
    paper: str | None = None,
    head_type: str | None = None,
) -> ReportedHeadsPage:
    """The page of list_reported_heads' list the window shows, cut in SQL."""
    query = _reported_heads_query(session, stage, mechanism, model, paper, head_type)
    return sql_page(session, query, window, ReportedHeadsPage, _reported_head)


def _reported_heads_query(  # type: ignore[no-untyped-def]
    session: Session,
    stage: str | None,
    mechanism: str | None,
    model: str | None,
    paper: str | None,
    head_type: str | None,
):
    query = (
        select(m.ReportedHead, m.Head, m.Model.slug, m.HeadType.slug, m.Paper.key)
        .join(m.Head, m.Head.id == m.ReportedHead.head_id)
        .join(m.Model, m.Model.id == m.Head.model_id)
        .join(m.HeadType, m.HeadType.id == m.ReportedHead.head_type_id)
        .join(m.Paper, m.Paper.id == m.ReportedHead.paper_id)
        .order_by(m.Model.slug, m.HeadType.position, m.Head.layer, m.Head.head, m.Paper.key)
    )
    # Every head type has a stage and a mechanism: their joins only serve their filters.
    if stage is not None:
        query = query.join(m.Stage, m.Stage.id == m.HeadType.stage_id)
    if mechanism is not None:
        query = query.join(m.Mechanism, m.Mechanism.id == m.HeadType.mechanism_id)
    filters = [
        (m.Stage.code, stage.upper() if stage else None, "stage"),
        (m.Mechanism.slug, mechanism, "mechanism"),
        (m.Model.slug, model, "model"),
        (m.Paper.key, paper, "paper"),
        (m.HeadType.slug, head_type, "head_type"),
    ]
    for column, value, parameter in filters:
        if value is not None:
            query = query.where(column == require_known(session, column, value, parameter))
    return query


def _reported_head(
    reported: m.ReportedHead, head: m.Head, model_slug: str, type_slug: str, paper_key: str
) -> ReportedHeadPublic:
    return ReportedHeadPublic(
        **reported.model_dump(exclude={"id", "head_id", "head_type_id", "paper_id"}),
        head_type=type_slug,
        model=model_slug,
        layer=head.layer,
        head=head.head,
        paper=paper_key,
    )


def get_paper(*, session: Session, key: str) -> PaperPublic:
    paper = session.exec(select(m.Paper).where(m.Paper.key == key)).first()
    if paper is None:
        raise NotFoundError("key", f"No paper {key!r}")
    head_types = session.exec(
        select(m.HeadType.slug)
        .join(m.HeadTypePaper)
        .where(m.HeadTypePaper.paper_id == paper.id)
        .order_by(m.HeadType.position)
    ).all()
    return PaperPublic(**paper.model_dump(), head_types=list(head_types))


def get_model(*, session: Session, slug: str) -> ModelPublic:
    model = session.exec(select(m.Model).where(m.Model.slug == slug)).first()
    if model is None:
        raise NotFoundError("slug", f"No model {slug!r}")
    reported = session.exec(
        select(func.count()).select_from(m.ReportedHead).join(m.Head).where(m.Head.model_id == model.id)
    ).one()
    return ModelPublic(**model.model_dump(), reported_heads=reported)


def get_stage(*, session: Session, code: str) -> StagePublic:
    for stage in list_stages(session=session):
        if stage.code == code.upper():
            return stage
    raise NotFoundError("code", f"No stage {code!r}")


def get_mechanism(*, session: Session, slug: str) -> MechanismPublic:
    for mechanism in list_mechanisms(session=session):
        if mechanism.slug == slug:
            return mechanism
    raise NotFoundError("slug", f"No mechanism {slug!r}")


def get_method(*, session: Session, slug: str) -> MethodPublic:
    row = session.exec(select(m.Method, m.MethodFamily.slug).join(m.MethodFamily).where(m.Method.slug == slug)).first()
    if row is None:
        raise NotFoundError("slug", f"No method {slug!r}")
    method, family = row
    papers = _cited_papers(session, m.MethodPaper, m.MethodPaper.method_id, method.id)
    return MethodPublic(**method.model_dump(), family=family, papers=papers)


def get_benchmark(*, session: Session, slug: str) -> BenchmarkPublic:
    benchmark = session.exec(select(m.Benchmark).where(m.Benchmark.slug == slug)).first()
    if benchmark is None:
        raise NotFoundError("slug", f"No benchmark {slug!r}")
    papers = _cited_papers(session, m.BenchmarkPaper, m.BenchmarkPaper.benchmark_id, benchmark.id)
    return BenchmarkPublic(**benchmark.model_dump(), papers=papers)


def _cited_papers(session: Session, link, owner_column, owner_id: int | None) -> list[PaperRef]:  # type: ignore[no-untyped-def]
    """The papers a link table cites for one owner, in the order the knowledge lists them."""
    query = (
        select(m.Paper).join(link, link.paper_id == m.Paper.id).where(owner_column == owner_id).order_by(link.position)
    )
    return [paper_ref(paper) for paper in session.exec(query)]


def _head_type_query():  # type: ignore[no-untyped-def]
    return (
        select(m.HeadType, m.Stage, m.Mechanism)
        .join(m.Stage, m.Stage.id == m.HeadType.stage_id)
        .join(m.Mechanism, m.Mechanism.id == m.HeadType.mechanism_id)
        .order_by(m.Stage.position, m.Mechanism.position, m.HeadType.position)
    )


def _head_type_summary(head_type: m.HeadType, stage: m.Stage, mechanism: m.Mechanism) -> HeadTypeSummary:
    return HeadTypeSummary(
        slug=head_type.slug,
        name=head_type.name,
        stage=stage.code,
        mechanism=mechanism.slug,
        source=head_type.source,
        summary=head_type.summary,
    )


def paper_ref(paper: m.Paper) -> PaperRef:
    return PaperRef(key=paper.key, title=paper.title, year=paper.year, venue=paper.venue, url=paper.url)


def require_known(  # type: ignore[no-untyped-def]
    session: Session, column, value: str, parameter: str, *, what: str | None = None, exact: bool = False
) -> str:
    """The catalog's own spelling of `value` in `column`; otherwise an InvalidParameterError naming `parameter`
    (what the value is, unless `what` says it in other words), the nearest values and the rest.

    A value is known as stored, in any case, or by the start of exactly one stored value (ignoring case and
    hyphens, at least MIN_PREFIX characters): `smollm2` is `smollm2-135m-instruct`, `Induction-Head` is
    `induction-head`. With `exact` (for writes), only as stored.
    """
    what = what or parameter.replace("_", " ")
    if session.exec(select(column).where(column == value).limit(1)).first() is not None:
        return value
    options = sorted(set(session.exec(select(column)).all()))
    matches = [] if exact else [option for option in options if _folded(option) == _folded(value)]
    if not exact and len(matches) != 1 and len(_folded(value)) >= MIN_PREFIX:
        matches = [option for option in options if _folded(option).startswith(_folded(value))]
    if len(matches) == 1:
        return matches[0]  # type: ignore[no-any-return]
    nearest = matches or difflib.get_close_matches(value, options, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, nearest))}? " if nearest else ""
    shown = ", ".join(map(str, options[:30])) + (f", … ({len(options)} in all)" if len(options) > 30 else "")
    raise InvalidParameterError(parameter, f"Unknown {what} {value!r}; {hint}choose one of: {shown}")


MIN_PREFIX = 4  # shortest start of a name that may stand for it


def _folded(name: object) -> str:
    return str(name).casefold().replace("-", "").replace("_", "")


def find_head_types(
    *,
    session: Session,
    stage: str | None = None,
    mechanism: str | None = None,
    family: str | None = None,
    verified_on: str | None = None,
    text: str | None = None,
    sort: HeadTypeSort = "taxonomy",
) -> list[HeadTypeSummary]:
    """Head types matching every filter given, in the order asked for.

    Args:
        session: an open catalog session.
        stage, mechanism, family: as in list_head_types (family is a mark of the survey's figure).
        verified_on: a model slug: only head types with at least one head that shows the behaviour on it.
        text: words matched by the full-text index, as `headatlas search` matches them.
        sort: taxonomy (the survey's order), name, -name, or relevance to `text`.

    Returns:
        Summaries; an unknown filter value is a ValueError naming the choices.
    """
    head_types = list_head_types(session=session, stage=stage, mechanism=mechanism, family=family)
    if verified_on is not None:
        verified = set(
            session.exec(
                select(m.HeadType.slug)
                .join(m.Verdict, m.Verdict.head_type_id == m.HeadType.id)
                .join(m.Run, m.Run.id == m.Verdict.run_id)
                .where(m.Run.model_id == _model_id(session, verified_on, "verified_on"), m.Verdict.shows_behaviour)
                .distinct()
            )
        )
        head_types = [h for h in head_types if h.slug in verified]
    if text is not None:
        ranks = {hit.slug: i for i, hit in enumerate(search(session, text, kinds=["head_type"], limit=CANDIDATES))}
        head_types = [h for h in head_types if h.slug in ranks]
        if sort == "relevance":
            head_types.sort(key=lambda h: ranks[h.slug])
    if sort in ("name", "-name"):
        head_types.sort(key=lambda h: h.name.lower(), reverse=sort == "-name")
    return head_types


def list_models(
    *,
    session: Session,
    family: str | None = None,
    kind: str | None = None,
    verified: bool | None = None,
) -> list[ModelPublic]:
    """Models by slug; `verified` keeps those with (or without) a complete run."""
    reported = (
        select(m.Head.model_id, func.count().label("n"))
        .join(m.ReportedHead, m.ReportedHead.head_id == m.Head.id)
        .group_by(m.Head.model_id)
        .subquery()
    )
    query = select(m.Model, reported.c.n).outerjoin(reported, reported.c.model_id == m.Model.id).order_by(m.Model.slug)
    if family is not None:
        known = require_known(session, m.Model.family, family, "family", what="model family")
        query = query.where(m.Model.family == known)
    if kind is not None:
        query = query.where(m.Model.kind == require_known(session, m.Model.kind, kind, "kind", what="model kind"))
    if verified is not None:
        has_run = exists().where(m.Run.model_id == m.Model.id, m.Run.status == m.RunStatus.COMPLETE)
        query = query.where(has_run if verified else ~has_run)
    return [ModelPublic(**model.model_dump(), reported_heads=n or 0) for model, n in session.exec(query)]


def find_papers(*, session: Session, text: str | None = None, year: int | None = None) -> list[PaperSummary]:
    """Papers, newest first; `text` matches key, title or an author, ignoring case."""
    return [_paper_summary(*row) for row in session.exec(_papers_query(text, year))]


def papers_page(*, session: Session, window: Window, text: str | None = None, year: int | None = None) -> PapersPage:
    """The page of find_papers' list the window shows, cut in SQL."""
    return sql_page(session, _papers_query(text, year), window, PapersPage, _paper_summary)


# A paper summary's fields, as _papers_query selects them.
PAPER_SUMMARY_FIELDS = ("key", "title", "year", "venue", "url", "authors", "arxiv_id")


def _papers_query(text: str | None, year: int | None):  # type: ignore[no-untyped-def]
    query = select(*(getattr(m.Paper, f) for f in PAPER_SUMMARY_FIELDS)).order_by(m.Paper.year.desc(), m.Paper.key)  # type: ignore[attr-defined]
    if year is not None:
        query = query.where(m.Paper.year == year)
    if text is not None:
        query = query.where(col(m.Paper.match_text).contains(text.casefold(), autoescape=True))
    return query


def _paper_summary(*values: object) -> PaperSummary:
    return PaperSummary(**dict(zip(PAPER_SUMMARY_FIELDS, values, strict=True)))


def list_methods(*, session: Session) -> list[MethodPublic]:
    """The survey's methods, family by family, in the order of its tables."""
    papers = _cited_papers_by_owner(session, m.MethodPaper, m.MethodPaper.method_id)
    query = (
        select(m.Method, m.MethodFamily.slug).join(m.MethodFamily).order_by(m.MethodFamily.position, m.Method.position)
    )
    return [
        MethodPublic(**method.model_dump(), family=family, papers=papers.get(method.id, []))  # type: ignore[arg-type]
        for method, family in session.exec(query)
    ]


def list_benchmarks(*, session: Session) -> list[BenchmarkPublic]:
    """The benchmarks of the survey's two tables, in their order."""
    papers = _cited_papers_by_owner(session, m.BenchmarkPaper, m.BenchmarkPaper.benchmark_id)
    return [
        BenchmarkPublic(**b.model_dump(), papers=papers.get(b.id, []))  # type: ignore[arg-type]
        for b in session.exec(select(m.Benchmark).order_by(m.Benchmark.position))
    ]


def _cited_papers_by_owner(session: Session, link, owner_column) -> dict[int, list[PaperRef]]:  # type: ignore[no-untyped-def]
    """Every owner's cited papers at once, in the order the knowledge lists them."""
    cited: dict[int, list[PaperRef]] = {}
    query = select(owner_column, m.Paper).join(link, link.paper_id == m.Paper.id).order_by(link.position)
    for owner_id, paper in session.exec(query):
        cited.setdefault(owner_id, []).append(paper_ref(paper))
    return cited


def _model_id(session: Session, slug: str, parameter: str) -> int:
    """The id of the model with this slug; an InvalidParameterError naming `parameter` and the choices if none."""
    known = require_known(session, m.Model.slug, slug, parameter, what="model")
    return session.exec(select(m.Model.id).where(m.Model.slug == known)).one()  # type: ignore[return-value]


def schema_revision(*, session: Session) -> str | None:
    """The Alembic revision the database is at; None before the first migration."""
    return session.execute(sql_text("SELECT version_num FROM alembic_version")).scalar()  # type: ignore[no-any-return]
