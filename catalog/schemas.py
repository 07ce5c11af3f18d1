"""What the catalog gives to readers: the CLI's --json, the API and the docs site render these."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field, field_validator, model_validator

from catalog.models import RequestStatus, RunStatus


# Anything naming one head of one model, 0-based; printed L{layer}H{head}.
class HeadLabelled(BaseModel):
    layer: int
    head: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"L{self.layer}H{self.head}"


# A search result; `score` orders one result list and means nothing across queries.
class SearchHit(BaseModel):
    kind: str
    slug: str
    title: str
    score: float


# A paper as cited from elsewhere.
class PaperRef(BaseModel):
    key: str
    title: str
    year: int
    venue: str
    url: str | None


# A paper in full, with its BibTeX and the head types it is cited for.
class PaperPublic(PaperRef):
    authors: list[str]
    authors_complete: bool
    arxiv_id: str | None
    survey_bib: str | None
    bibtex: str
    head_types: list[str]


# A stage or mechanism as named from a head type.
class TaxonRef(BaseModel):
    slug: str
    name: str


# A mechanism with the head types it holds.
class MechanismPublic(TaxonRef):
    stage: str
    summary: str
    head_types: list[str]


# A stage with its mechanisms.
class StagePublic(BaseModel):
    code: str
    name: str
    position: int
    summary: str
    survey_section: str
    mechanisms: list[MechanismPublic]


# A link from one head type to another.
class RelatedPublic(BaseModel):
    slug: str
    name: str
    relation: str


# A head a paper reports, 0-based, with the paper's own printed index beside it.
class ReportedHeadPublic(HeadLabelled):
    head_type: str
    model: str
    paper: str
    location: str
    paper_index: str
    index_base: int
    index_convention: str
    evidence: str
    score: float | None
    score_name: str | None
    origin: str


# A head type in a list.
class HeadTypeSummary(BaseModel):
    slug: str
    name: str
    stage: str
    mechanism: str
    source: str
    summary: str


# A head type in full.
class HeadTypePublic(HeadTypeSummary):
    aliases: list[str]
    stage_name: str
    mechanism_name: str
    survey_families: list[str]
    description: str
    qk: str
    ov: str
    input_feature: str
    output_feature: str
    layer_distribution: list[str]
    extension_note: str | None
    papers: list[PaperRef]
    related: list[RelatedPublic]
    reported_heads: list[ReportedHeadPublic]


# A model: an exact checkpoint.
class ModelPublic(BaseModel):
    slug: str
    name: str
    hub_id: str | None
    revision: str | None
    family: str
    kind: str
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_model: int | None
    positional: str
    quantization: str | None
    license: str | None
    file_sha256: str | None
    identity: str | None  # the checkpoint verification loaded: file hash, folder digest, hub id and revision, or toy
    reported_heads: int


# A method of the survey's taxonomy.
class MethodPublic(BaseModel):
    slug: str
    name: str
    family: str
    kind: str
    kind_name: str
    core_operation: str
    source: str  # survey-table | extension
    extension_note: str | None = None  # for an extension: why headatlas adds it, and its sources
    papers: list[PaperRef]


# A benchmark of the survey's tables.
class BenchmarkPublic(BaseModel):
    slug: str
    name: str
    purpose: str
    task_type: str
    main_task: str
    source: str
    released: str
    url: str | None
    papers: list[PaperRef]


# Where a head type's heads sit and how they score, in one list or in one of our runs.
class HeadProfile(BaseModel):
    heads: int  # the heads profiled: a list's top k, or the heads a run found
    share: float  # of the model's query heads
    depth_quartiles: list[float]  # of layer / (layers - 1): 0 is the first layer, 1 the last
    score_quartiles: list[float] | None  # over every head the list or run scores; None without scores


# One head type of one published list against our runs of it on the same model, or why it was not checked.
class ListReproduction(BaseModel):
    file: str
    model: str
    head_type: str
    status: str  # checked | not checked: model not available here | not checked: no run of this head type on this model
    command: str | None  # what would check it, where it was not checked
    top_k: int  # the list's heads compared: those its source counts, else its first 20 (by score, else its order)
    profile: HeadProfile
    overlap: int | None = None  # of the list's top k, how many are in our run's top k
    rank_correlation: float | None = None  # Spearman, over the heads both score
    confirmed: list[str] = []  # the list's top k heads our run finds (L{layer}H{head}, query heads)
    contradicted: list[str] = []  # the list's top k heads our run scored and does not find


# A head type's profile in a model we verified, beside the lists' profiles.
class VerifiedProfile(BaseModel):
    model: str
    head_type: str
    profile: HeadProfile


# One model's list in a published dataset.
class DatasetListPublic(BaseModel):
    model: str
    file: str
    source_path: str
    note: str | None
    heads: int
    scored: int  # how many of its heads carry a score


# A published head list: where it comes from and how its indices are meant.
class DatasetSummary(BaseModel):
    slug: str
    name: str
    paper: PaperRef
    repository: str
    commit: str
    licence_spdx: str | None
    licence_note: str
    format: str
    index_unit: str  # query-head | kv-head
    index_base: int
    head_types: list[str]
    models: list[str]
    n_lists: int
    n_heads: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def source_url(self) -> str:
        return f"https://github.com/{self.repository}/tree/{self.commit}"


class DatasetPublic(DatasetSummary):
    index_evidence: str
    score_meaning: str
    reduced: str | None
    lists: list[DatasetListPublic]
    reproduction: list[ListReproduction] = []  # per list and head type
    verified_profiles: list[VerifiedProfile] = []  # the dataset's head types in the models our runs found them in


# One head of a published list, 0-based in the list's unit.
class DatasetHeadPublic(BaseModel):
    model: str
    file: str
    unit: str  # query-head | kv-head: a KV head stands for every query head of its group
    layer: int
    head: int
    head_type: str
    rank: int
    score: float | None
    label: str | None


# How much the catalog holds, table by table.
class CatalogSummary(BaseModel):
    counts: dict[str, int]
    runs_by_status: dict[RunStatus, int] = {}  # every status, failed runs included


# How well a model does the task a causal test needs, against chance (task detectors only).
class TaskAccuracyPublic(BaseModel):
    correct: int
    total: int
    chance: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


# One detector run on one model, as listed.
class RunPublic(BaseModel):
    id: int
    model: str
    detector: str
    detector_version: str
    head_type: str | None
    method: str | None
    status: RunStatus
    seed: int
    seeds: list[int]  # every seed the run drew fresh probe material with
    evidence: dict[str, object]  # the test, its null and correction, the interval, the pass rate asked for
    confirmation: dict[str, object] | None = (
        None  # the found set's ablation against random sets, where the type has one
    )
    code_version: str
    params: dict[str, object]
    timings: dict[str, float]
    started_at: datetime
    finished_at: datetime | None
    heads_found: int
    task: TaskAccuracyPublic | None = None


# A head's verdict in a run: its score against the threshold and its baseline.
class VerdictPublic(HeadLabelled):
    run_id: int
    model: str
    detector: str
    head_type: str
    score: float  # mean over the run's seeds
    score_low: float | None = None  # its 95% interval
    score_high: float | None = None
    pass_rate: float | None = None  # share of seeds at which the rule passed
    p_value: float | None = None  # test against the control, uncorrected
    q_value: float | None = None  # corrected for every head the run scored
    baseline: float | None
    threshold: float
    shows_behaviour: bool  # found: rule on the means, corrected test and pass rate agree (and the set is confirmed)
    reported: bool  # a paper reports this head with this head type on this model


# --- Pages, and the API's richer views --------------------------------------

T = TypeVar("T")


# One page of a list: `count` is how many match in all, `data` the ones from `offset` on.
class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], *, limit: int, offset: int) -> Self:
        """The page of an in-memory list starting at `offset`."""
        return cls(data=list(items[offset : offset + limit]), count=len(items), limit=limit, offset=offset)


# A paper in a list.
class PaperSummary(PaperRef):
    authors: list[str]
    arxiv_id: str | None


# One score of a head in one run, with the verdict where the detector gave one.
class HeadScorePublic(BaseModel):
    run_id: int
    detector: str
    detector_version: str
    head_type: str | None
    score: float | None  # None: the detector could not score this head
    score_low: float | None = None
    score_high: float | None = None
    pass_rate: float | None = None
    q_value: float | None = None
    baseline: float | None
    threshold: float | None
    shows_behaviour: bool | None


# One head's attention on the prompt a run kept of its probe: weights [query][key] over the tokens kept.
class HeadAttentionPublic(BaseModel):
    run_id: int
    detector: str
    tokens: list[str]  # the prompt's last tokens (all of a short one), as the tokenizer decodes each
    start: int  # the prompt position of the first token kept
    prompt_length: int
    weights: list[list[float]]  # in steps of 1/255: a picture's precision; scores come from the runs' own passes


# One head of one model: what papers report about it and what our runs measured.
class HeadPublic(HeadLabelled):
    model: str
    n_layers: int
    scores: list[HeadScorePublic]
    reported: list[ReportedHeadPublic]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def relative_depth(self) -> float:
        return relative_depth(self.layer, self.n_layers)


def relative_depth(layer: int, n_layers: int) -> float:
    """layer / (n_layers - 1): 0 is the first layer, 1 the last."""
    return round(layer / (n_layers - 1), 3) if n_layers > 1 else 0.0


# The best-scoring head of a head type on a model.
class BestHead(HeadLabelled):
    score: float
    score_low: float | None = None
    score_high: float | None = None
    pass_rate: float | None = None


# What our runs say about one head type on one model; the head type page and the matrix show it.
class ModelVerification(BaseModel):
    model: str
    family: str
    n_layers: int
    detectors: list[str]
    runs: list[int]
    heads_scored: int
    heads_found: int
    found_layers: list[int]
    best: BestHead | None
    reported_confirmed: int  # reported heads of this type on this model that show the behaviour
    reported_contradicted: int  # reported heads that were scored and do not
    status: Literal["tested"] | RunStatus = "tested"  # tested: a complete run; else the status of the run there is
    task: TaskAccuracyPublic | None = None  # the task accuracy the verdicts rest on, or that ruled them out
    reason: str | None = None  # why the head type could not be verified on this model
    # "confirmed" / "not confirmed" by ablating the heads found together, None where no run made that test
    confirmation: str | None = None
    candidates: int = 0  # heads that passed the per-head evidence before a causal test that did not confirm them

    @computed_field  # type: ignore[prop-decorator]
    @property
    def found(self) -> bool:
        return self.heads_found > 0

    # found_layers as relative depths: computed once, when the summary is made, and stored with it, so that
    # reading a head type in full does not compute thousands of them on each request
    found_relative_depths: list[float] = []

    @model_validator(mode="after")
    def _depths_of_found_layers(self) -> "ModelVerification":
        if len(self.found_relative_depths) != len(self.found_layers):
            self.found_relative_depths = [relative_depth(layer, self.n_layers) for layer in self.found_layers]
        return self


# A head type in full, with a verification summary per model it was tested on.
class HeadTypeDetail(HeadTypePublic):
    verification: list[ModelVerification]


# One row of the transferability matrix: a head type across the models it was tested on.
class MatrixRow(BaseModel):
    head_type: str
    name: str
    stage: str
    survey_families: list[str]  # the model families the survey's figure marks it with
    cells: list[ModelVerification]


# A model as a column of the matrix.
class MatrixModel(BaseModel):
    slug: str
    family: str
    n_layers: int


# Head types × models: found or not, where, and how strongly, from our verdicts.
class TransferabilityMatrix(BaseModel):
    models: list[MatrixModel]
    rows: list[MatrixRow]


# One run in full: what ListRuns shows, its error if it failed, and the heads it found.
class RunDetail(RunPublic):
    error: str | None
    found: list[VerdictPublic]


# A head a user submits from a paper; layer and head as the paper prints them, in its `index_base`.
class ReportedHeadCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "paper": "IOI_23_ICLR_Redwood",
                    "model": "gpt2-small",
                    "head_type": "name-mover-head",
                    "layer": 9,
                    "head": 9,
                    "index_base": 0,
                    "location": "Section 3.1, Figure 3b-c",
                    "evidence": "Path patching of the head's direct path to the logits drops the logit difference.",
                }
            ]
        },
    )

    paper: str = Field(min_length=1, max_length=200, description="Paper key, e.g. IOI_23_ICLR_Redwood.")
    model: str = Field(min_length=1, max_length=200, description="Model slug, e.g. gpt2-small.")
    head_type: str = Field(min_length=1, max_length=200, description="Head type slug, e.g. name-mover-head.")
    layer: int = Field(ge=0, le=10_000, description="Layer as the paper prints it.")
    head: int = Field(ge=0, le=10_000, description="Head as the paper prints it.")
    index_base: Literal[0, 1] = Field(0, description="Whether the paper counts layers and heads from 0 or from 1.")
    paper_index: str | None = Field(
        None, max_length=50, description='The index as printed, e.g. "9.9"; default "layer.head".'
    )
    index_convention: str | None = Field(None, max_length=200, description="How the paper prints indices.")
    location: str = Field(min_length=1, max_length=200, description="Where in the paper, e.g. a section or figure.")
    evidence: str = Field(min_length=1, max_length=4000, description="What the paper shows, in a few sentences.")
    score: float | None = Field(None, allow_inf_nan=False, description="A score the paper gives, if any.")
    score_name: str | None = Field(None, max_length=200, description="What that score measures.")

    @field_validator("*")
    @classmethod
    def _normalise_text(cls, value: object) -> object:
        return _without_nul(value)


# A detector's registered name, as `headatlas detectors` lists them.
DetectorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]


# A queued verification of a bundled model.
class VerificationRequestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model": "smollm2", "detectors": ["induction"], "seed": 0}]},
    )

    model: str = Field(min_length=1, max_length=100, description="A bundled model name on the allow-list.")
    detectors: list[DetectorName] = Field(
        default=["all"],
        min_length=1,
        max_length=50,
        description="Detector names, or all; `headatlas verify` checks them when it runs the request.",
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)
    note: str | None = Field(None, max_length=500)

    @field_validator("*")
    @classmethod
    def _normalise_text(cls, value: object) -> object:
        return _without_nul(value)


def _without_nul(value: object) -> object:
    """Text is stored as given, except that a NUL character, which PostgreSQL cannot store, is refused."""
    if isinstance(value, str) and "\0" in value:
        raise ValueError("Text may not contain NUL characters")
    return value


# A queued verification as stored.
class VerificationRequestPublic(BaseModel):
    id: int
    model: str
    detectors: list[str]
    seed: int
    status: RequestStatus
    requested_at: datetime
    note: str | None


# The pages each list of the API returns.
class StagesPage(Page[StagePublic]):
    pass


class MechanismsPage(Page[MechanismPublic]):
    pass


class HeadTypesPage(Page[HeadTypeSummary]):
    pass


class ModelsPage(Page[ModelPublic]):
    pass


class HeadsPage(Page[HeadPublic]):
    pass


class HeadAttentionPage(Page[HeadAttentionPublic]):
    pass


class PapersPage(Page[PaperSummary]):
    pass


class MethodsPage(Page[MethodPublic]):
    pass


class BenchmarksPage(Page[BenchmarkPublic]):
    pass


class DatasetsPage(Page[DatasetSummary]):
    pass


class DatasetHeadsPage(Page[DatasetHeadPublic]):
    pass


class RunsPage(Page[RunPublic]):
    pass


class ReportedHeadsPage(Page[ReportedHeadPublic]):
    pass


class VerificationRequestsPage(Page[VerificationRequestPublic]):
    pass
