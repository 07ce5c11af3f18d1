"""Reading the published head lists: datasets, their lists per model, and their heads."""

from sqlalchemy import func
from sqlmodel import Session, select

from catalog import models as m
from catalog.crud import paper_ref, require_known
from catalog.errors import NotFoundError
from catalog.reproduction import reproduce
from catalog.schemas import DatasetHeadPublic, DatasetHeadsPage, DatasetListPublic, DatasetPublic, DatasetSummary
from catalog.windows import Window, sql_page


def list_datasets(*, session: Session) -> list[DatasetSummary]:
    """Every dataset, by slug, with what it lists."""
    datasets = session.exec(select(m.Dataset).order_by(m.Dataset.slug)).all()
    return [_summary(session, dataset) for dataset in datasets]


def get_dataset(*, session: Session, slug: str) -> DatasetPublic:
    dataset = session.exec(select(m.Dataset).where(m.Dataset.slug == slug)).first()
    if dataset is None:
        raise NotFoundError("slug", f"No dataset {slug!r}")
    reproduction, verified_profiles = reproduce(session, dataset.format, list_dataset_heads(session=session, slug=slug))
    return DatasetPublic(
        **_summary(session, dataset).model_dump(exclude={"source_url"}),
        index_evidence=dataset.index_evidence,
        score_meaning=dataset.score_meaning,
        reduced=dataset.reduced,
        lists=_lists(session, dataset.id),  # type: ignore[arg-type]
        reproduction=reproduction,
        verified_profiles=verified_profiles,
    )


def list_dataset_heads(*, session: Session, slug: str, model: str | None = None) -> list[DatasetHeadPublic]:
    """A dataset's heads, list by list in file order; only one model's when `model` is given."""
    return [_dataset_head(*row) for row in session.exec(_dataset_heads_query(session, slug, model))]


def dataset_heads_page(*, session: Session, window: Window, slug: str, model: str | None = None) -> DatasetHeadsPage:
    """The page of list_dataset_heads' list the window shows, cut in SQL."""
    return sql_page(session, _dataset_heads_query(session, slug, model), window, DatasetHeadsPage, _dataset_head)


def _dataset_heads_query(session: Session, slug: str, model: str | None):  # type: ignore[no-untyped-def]
    slug = require_known(session, m.Dataset.slug, slug, "slug", what="dataset")
    query = (
        select(m.DatasetHead, m.DatasetList.file, m.Model.slug, m.HeadType.slug, m.Dataset.index_unit)
        .join(m.DatasetList, m.DatasetHead.list_id == m.DatasetList.id)
        .join(m.Dataset, m.DatasetList.dataset_id == m.Dataset.id)
        .join(m.Model, m.DatasetList.model_id == m.Model.id)
        .join(m.HeadType, m.DatasetHead.head_type_id == m.HeadType.id)
        .where(m.Dataset.slug == slug)
        .order_by(m.DatasetList.file, m.DatasetHead.rank)
    )
    if model is not None:
        query = query.where(m.Model.slug == require_known(session, m.Model.slug, model, "model"))
    return query


def _dataset_head(head: m.DatasetHead, file: str, model_slug: str, head_type: str, unit: str) -> DatasetHeadPublic:
    return DatasetHeadPublic(
        model=model_slug,
        file=file,
        unit=unit,
        layer=head.layer,
        head=head.head,
        head_type=head_type,
        rank=head.rank,
        score=head.score,
        label=head.label,
    )


def _summary(session: Session, dataset: m.Dataset) -> DatasetSummary:
    paper = session.get(m.Paper, dataset.paper_id)
    lists = select(m.DatasetList.id).where(m.DatasetList.dataset_id == dataset.id)
    head_types = session.exec(
        select(m.HeadType.slug)
        .join(m.DatasetHead, m.DatasetHead.head_type_id == m.HeadType.id)
        .where(m.DatasetHead.list_id.in_(lists))  # type: ignore[attr-defined]
        .distinct()
        .order_by(m.HeadType.slug)
    ).all()
    models = session.exec(
        select(m.Model.slug)
        .join(m.DatasetList, m.DatasetList.model_id == m.Model.id)
        .where(m.DatasetList.dataset_id == dataset.id)
        .distinct()
        .order_by(m.Model.slug)
    ).all()
    n_heads = session.exec(
        select(func.count()).select_from(m.DatasetHead).where(m.DatasetHead.list_id.in_(lists))  # type: ignore[attr-defined]
    ).one()
    n_lists = session.exec(
        select(func.count()).select_from(m.DatasetList).where(m.DatasetList.dataset_id == dataset.id)
    ).one()
    return DatasetSummary(
        **dataset.model_dump(include=_SUMMARY_COLUMNS),
        commit=dataset.source_commit,
        paper=paper_ref(paper),  # type: ignore[arg-type]
        head_types=list(head_types),
        models=list(models),
        n_lists=n_lists,
        n_heads=n_heads,
    )


_SUMMARY_COLUMNS = {
    "slug",
    "name",
    "repository",
    "licence_spdx",
    "licence_note",
    "format",
    "index_unit",
    "index_base",
}


def _lists(session: Session, dataset_id: int) -> list[DatasetListPublic]:
    query = (
        select(m.DatasetList, m.Model.slug, func.count(m.DatasetHead.id), func.count(m.DatasetHead.score))
        .join(m.Model, m.DatasetList.model_id == m.Model.id)
        .join(m.DatasetHead, m.DatasetHead.list_id == m.DatasetList.id)
        .where(m.DatasetList.dataset_id == dataset_id)
        .group_by(m.DatasetList.id, m.Model.slug)
        .order_by(m.DatasetList.file)
    )
    return [
        DatasetListPublic(
            model=model, file=entry.file, source_path=entry.source_path, note=entry.note, heads=heads, scored=scored
        )
        for entry, model, heads, scored in session.exec(query)
    ]
