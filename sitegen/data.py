"""Everything the site shows, read once through the catalog's readers.

The pages and figures are pure functions of this snapshot: a page can be tested
without a database, and every number on the site comes from one read of the
catalog through the same readers the API and the CLI call (never SQL here).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from sqlmodel import Session

from catalog import crud, datasets, verification
from catalog.attention import StoredAttention, attention_by_run
from catalog.matrix import transferability_matrix
from catalog.pages import MethodFamilyPublic, list_method_families
from catalog.schemas import (
    BenchmarkPublic,
    CatalogSummary,
    DatasetHeadPublic,
    DatasetPublic,
    HeadPublic,
    HeadTypeDetail,
    MethodPublic,
    ModelPublic,
    PaperPublic,
    ReportedHeadPublic,
    RunDetail,
    StagePublic,
    TransferabilityMatrix,
    VerdictPublic,
)

# A head's place in a model: (layer, head), 0-based.
Position = tuple[int, int]


@dataclass(frozen=True)
class RunGrid:
    """One run's scores as a layer × head grid, with the heads it found and those papers report for its head type."""

    run: RunDetail
    head_type: str | None  # the run's, or (for runs stored before runs named one) its verdicts'
    n_layers: int
    n_heads: int
    scores: list[list[float | None]]  # [layer][head]; None where the detector could not score the head
    threshold: float | None  # the verdicts' threshold, in score units; None when the run gave no verdict
    found: frozenset[Position]
    reported: frozenset[Position]

    def strongest(self, k: int) -> list[tuple[int, int, float]]:
        """The k best-scoring heads as (layer, head, score), best first: what the alt text and captions name."""
        scored = [
            (layer, head, score)
            for layer, row in enumerate(self.scores)
            for head, score in enumerate(row)
            if score is not None
        ]
        return sorted(scored, key=lambda item: (-item[2], item[0], item[1]))[:k]

    @property
    def capped_at(self) -> float | None:
        """The share of heads a top-fraction rule keeps at most, which caps how many this run can find; else None."""
        value = self.run.params.get("rule_value")
        return (
            float(value) if self.run.params.get("rule") == "top-fraction" and isinstance(value, int | float) else None
        )

    @property
    def scored(self) -> int:
        return sum(score is not None for row in self.scores for score in row)

    @cached_property
    def ranks(self) -> dict[Position, int]:
        """Each scored head's place by score, 1 for the best: what a head's page gives beside its score."""
        return {(layer, head): rank for rank, (layer, head, _) in enumerate(self.strongest(self.scored), start=1)}

    def rank(self, layer: int, head: int) -> int | None:
        return self.ranks.get((layer, head))


@dataclass(frozen=True)
class ModelData:
    """A model with its runs as grids, its heads with their scores, and the heads papers report in it."""

    model: ModelPublic
    runs: list[RunGrid]
    heads: list[HeadPublic]  # every head a run scored or a paper reports, by position
    reported: list[ReportedHeadPublic]
    attention: dict[int, StoredAttention] = field(default_factory=dict)  # by run id: one prompt of its probe

    @cached_property
    def _by_position(self) -> dict[Position, HeadPublic]:
        return {(h.layer, h.head): h for h in self.heads}

    def head(self, layer: int, head: int) -> HeadPublic | None:
        """A head with its scores and reports, or None where no run scored it and no paper reports it."""
        return self._by_position.get((layer, head))

    @property
    def verified_heads(self) -> list[HeadPublic]:
        """The heads that show at least one behaviour, each keeping only the scores that do."""
        verified = []
        for head in self.heads:
            shown = [score for score in head.scores if score.shows_behaviour]
            if shown:
                verified.append(head.model_copy(update={"scores": shown}))
        return verified

    @property
    def head_positions(self) -> list[Position]:
        """The heads that get a page: every head of a model a run scored, else the heads papers report."""
        if self.runs:
            return [(layer, head) for layer in range(self.model.n_layers) for head in range(self.model.n_heads)]
        return sorted({(r.layer, r.head) for r in self.reported})


@dataclass(frozen=True)
class DatasetData:
    """A published head list, with the heads the site shows of each of its lists."""

    dataset: DatasetPublic
    top: dict[str, list[DatasetHeadPublic]]  # file -> its first heads, by score where it has scores, else file order


# How many heads a dataset page shows per list.
TOP_HEADS = 10


@dataclass(frozen=True)
class SiteData:
    """The whole catalog as the site needs it, in the survey's reading order."""

    summary: CatalogSummary
    stages: list[StagePublic]
    head_types: list[HeadTypeDetail]
    models: list[ModelData]
    papers: list[PaperPublic]
    method_families: list[MethodFamilyPublic]
    methods: list[MethodPublic]
    benchmarks: list[BenchmarkPublic]
    datasets: list[DatasetData]
    matrix: TransferabilityMatrix
    _head_types: dict[str, HeadTypeDetail] = field(init=False, repr=False)
    _models: dict[str, ModelData] = field(init=False, repr=False)
    _papers: dict[str, PaperPublic] = field(init=False, repr=False)
    _grids: dict[int, tuple[ModelData, RunGrid]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_head_types", {h.slug: h for h in self.head_types})
        object.__setattr__(self, "_models", {m.model.slug: m for m in self.models})
        object.__setattr__(self, "_papers", {p.key: p for p in self.papers})
        object.__setattr__(self, "_grids", {grid.run.id: (model, grid) for model, grid in self.runs()})

    def head_type(self, slug: str) -> HeadTypeDetail:
        return self._head_types[slug]

    def model(self, slug: str) -> ModelData:
        return self._models[slug]

    def has_paper(self, key: str) -> bool:
        return key in self._papers

    def paper(self, key: str) -> PaperPublic:
        return self._papers[key]

    def run(self, run_id: int) -> tuple[ModelData, RunGrid]:
        """A run's grid, with its model."""
        return self._grids[run_id]

    def runs(self) -> Iterable[tuple[ModelData, RunGrid]]:
        """Every run of every model, model by model."""
        return ((model, grid) for model in self.models for grid in model.runs)

    def found_verdicts(self, head_type: str) -> list[tuple[ModelData, VerdictPublic]]:
        """Every head any run found showing this head type, with its model."""
        return [
            (model, verdict)
            for model, grid in self.runs()
            for verdict in grid.run.found
            if verdict.head_type == head_type
        ]


def read_site_data(session: Session) -> SiteData:
    """Read everything the site shows from the catalog.

    Args:
        session: an open session on a catalog at the newest schema.

    Returns:
        The snapshot the pages and figures are drawn from.
    """
    return SiteData(
        summary=crud.catalog_summary(session=session),
        stages=crud.list_stages(session=session),
        head_types=[
            verification.get_head_type_detail(session=session, slug=summary.slug)
            for summary in crud.list_head_types(session=session)
        ],
        models=[_model_data(session, model) for model in crud.list_models(session=session)],
        papers=[crud.get_paper(session=session, key=paper.key) for paper in crud.find_papers(session=session)],
        method_families=list_method_families(session=session),
        methods=crud.list_methods(session=session),
        benchmarks=crud.list_benchmarks(session=session),
        datasets=[_dataset_data(session, d.slug) for d in datasets.list_datasets(session=session)],
        matrix=transferability_matrix(session, tested_only=False),
    )


def _dataset_data(session: Session, slug: str) -> DatasetData:
    by_file: dict[str, list[DatasetHeadPublic]] = {}
    for head in datasets.list_dataset_heads(session=session, slug=slug):
        by_file.setdefault(head.file, []).append(head)
    top = {
        file: sorted(heads, key=lambda h: (-h.score if h.score is not None else 0.0, h.rank))[:TOP_HEADS]
        for file, heads in by_file.items()
    }
    return DatasetData(dataset=datasets.get_dataset(session=session, slug=slug), top=top)


def _model_data(session: Session, model: ModelPublic) -> ModelData:
    """A model's runs, pivoted into grids from one read of all its heads' scores."""
    runs = [
        verification.get_run(session=session, run_id=run.id)
        for run in verification.list_runs(session=session, model=model.slug)
    ]
    reported = crud.list_reported_heads(session=session, model=model.slug)
    heads = verification.list_model_heads(session=session, model=model.slug, limit=model.n_layers * model.n_heads)
    return ModelData(
        model=model,
        runs=[_grid(run, model, heads.data, reported) for run in runs],
        heads=heads.data,
        reported=reported,
        attention=attention_by_run(session, model.slug),
    )


def _grid(run: RunDetail, model: ModelPublic, heads: list[HeadPublic], reported: list[ReportedHeadPublic]) -> RunGrid:
    """One run's scores laid out by layer and head, as the heatmap draws them, from the heads' score lists."""
    scores: list[list[float | None]] = [[None] * model.n_heads for _ in range(model.n_layers)]
    thresholds, head_types = set(), set()
    for head in heads:
        for score in head.scores:
            if score.run_id == run.id:
                scores[head.layer][head.head] = score.score
                if score.threshold is not None:
                    thresholds.add(score.threshold)
                if score.head_type is not None:
                    head_types.add(score.head_type)
    head_type = run.head_type or min(head_types, default=None)
    return RunGrid(
        run=run,
        head_type=head_type,
        n_layers=model.n_layers,
        n_heads=model.n_heads,
        scores=scores,
        threshold=min(thresholds) if thresholds else None,  # one per run: every verdict of a run shares it
        found=frozenset((v.layer, v.head) for v in run.found),
        reported=frozenset((r.layer, r.head) for r in reported if r.head_type == head_type),
    )
