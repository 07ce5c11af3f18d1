"""The catalog's read functions behind one object, each call in a session of its own."""

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from catalog import crud, datasets, verification
from catalog import models as m
from catalog.db import make_engine
from catalog.matrix import transferability_matrix
from catalog.schemas import (
    DatasetHeadPublic,
    DatasetSummary,
    HeadAttentionPublic,
    HeadTypePublic,
    HeadTypeSummary,
    ModelPublic,
    PaperPublic,
    PaperSummary,
    ReportedHeadPublic,
    RunPublic,
    SearchHit,
    StagePublic,
    TransferabilityMatrix,
    VerdictPublic,
)
from catalog.search import search

Item = TypeVar("Item")
EVERY_HEAD = 10**9  # a page size no model reaches: scores() lists every head


class Rows(list[Item]):
    """A list of results that also converts to a pandas DataFrame, one row per item."""

    def to_pandas(self):  # type: ignore[no-untyped-def]
        try:
            import pandas
        except ImportError as error:
            raise ImportError("Rows.to_pandas needs pandas: pip install pandas") from error
        return pandas.DataFrame([_plain(item) for item in self])


def _plain(item: Any) -> dict[str, Any]:
    if isinstance(item, BaseModel):
        return item.model_dump()
    return dataclasses.asdict(item)


@dataclasses.dataclass(frozen=True)
class ScoreRow:
    """One head's score in one run, flat: what a DataFrame of a model's scores holds per row."""

    model: str
    layer: int
    head: int
    label: str
    relative_depth: float
    run_id: int
    detector: str
    head_type: str | None
    score: float | None
    score_low: float | None
    score_high: float | None
    pass_rate: float | None
    q_value: float | None
    baseline: float | None
    threshold: float | None
    shows_behaviour: bool | None


def connect(url: str = "sqlite:///headatlas.db") -> "Atlas":
    """The catalog at `url` (an SQLAlchemy URL, e.g. postgresql+psycopg://…); it must already exist."""
    return Atlas(make_engine(url))


class Atlas:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self, read: Callable[[Session], Any]) -> Any:
        with Session(self.engine) as session:
            return read(session)

    def _rows(self, read: Callable[[Session], Iterable[Item]]) -> Rows[Item]:
        return Rows(self._read(read))

    def _name(self, session: Session, column, value: str, what: str) -> str:  # type: ignore[no-untyped-def]
        return crud.require_known(session, column, value, what)

    # The taxonomy and the literature.

    def stages(self) -> Rows[StagePublic]:
        return self._rows(lambda s: crud.list_stages(session=s))

    def head_types(
        self, *, stage: str | None = None, mechanism: str | None = None, text: str | None = None
    ) -> Rows[HeadTypeSummary]:
        return self._rows(lambda s: crud.find_head_types(session=s, stage=stage, mechanism=mechanism, text=text))

    def head_type(self, name: str) -> HeadTypePublic:
        return self._read(
            lambda s: crud.get_head_type(session=s, slug=self._name(s, m.HeadType.slug, name, "head type"))
        )

    def papers(self, *, text: str | None = None, year: int | None = None) -> Rows[PaperSummary]:
        return self._rows(lambda s: crud.find_papers(session=s, text=text, year=year))

    def paper(self, key: str) -> PaperPublic:
        return self._read(lambda s: crud.get_paper(session=s, key=self._name(s, m.Paper.key, key, "paper")))

    def search(self, query: str, *, limit: int = 20) -> Rows[SearchHit]:
        return self._rows(lambda s: search(s, query, limit=limit))

    # Models and what papers report about their heads.

    def models(self, *, family: str | None = None, kind: str | None = None) -> Rows[ModelPublic]:
        return self._rows(lambda s: crud.list_models(session=s, family=family, kind=kind))

    def model(self, name: str) -> ModelPublic:
        return self._read(lambda s: crud.get_model(session=s, slug=self._name(s, m.Model.slug, name, "model")))

    def reported_heads(
        self, *, model: str | None = None, head_type: str | None = None, paper: str | None = None
    ) -> Rows[ReportedHeadPublic]:
        return self._rows(lambda s: crud.list_reported_heads(session=s, model=model, head_type=head_type, paper=paper))

    def datasets(self) -> Rows[DatasetSummary]:
        return self._rows(lambda s: datasets.list_datasets(session=s))

    def dataset_heads(self, slug: str, *, model: str | None = None) -> Rows[DatasetHeadPublic]:
        return self._rows(lambda s: datasets.list_dataset_heads(session=s, slug=slug, model=model))

    # Our verification.

    def runs(self, *, model: str | None = None, detector: str | None = None) -> Rows[RunPublic]:
        return self._rows(lambda s: verification.list_runs(session=s, model=model, detector=detector))

    def verdicts(
        self,
        *,
        model: str | None = None,
        detector: str | None = None,
        head_type: str | None = None,
        found_only: bool = True,
    ) -> Rows[VerdictPublic]:
        """Per-head verdicts, best first; by default only the heads found."""
        return self._rows(
            lambda s: verification.list_verdicts(
                session=s, model=model, detector=detector, head_type=head_type, found_only=found_only
            )
        )

    def scores(self, model: str, *, detector: str | None = None, head_type: str | None = None) -> Rows[ScoreRow]:
        """Every score of every head of `model` (or of one detector or head type), one row per head and run."""

        def read(session: Session) -> list[ScoreRow]:
            slug = self._name(session, m.Model.slug, model, "model")
            page = verification.list_model_heads(
                session=session, model=slug, detector=detector, head_type=head_type, limit=EVERY_HEAD
            )
            return [
                ScoreRow(
                    model=h.model,
                    layer=h.layer,
                    head=h.head,
                    label=h.label,
                    relative_depth=h.relative_depth,
                    **s.model_dump(exclude={"detector_version"}),
                )
                for h in page.data
                for s in h.scores
            ]

        return self._rows(read)

    def attention(self, model: str, layer: int, head: int) -> Rows[HeadAttentionPublic]:
        """One head's attention on the prompt each run kept of its probe: tokens and weights [query][key]."""
        return self._rows(
            lambda s: verification.get_head_attention(
                session=s, model=self._name(s, m.Model.slug, model, "model"), layer=layer, head=head
            )
        )

    def matrix(self, *, stage: str | None = None, models: list[str] | None = None) -> TransferabilityMatrix:
        """Head types × models: where each type is found, how strongly, or why there is no verdict."""
        return self._read(lambda s: transferability_matrix(s, stage=stage, models=models))
