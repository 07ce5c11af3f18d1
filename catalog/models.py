"""The catalog's tables.

Two halves: what papers report (stages … reported heads), written only by the
knowledge ingest, and what we measured ourselves (runs, scores, verdicts),
written only by verification. A reported head stays reported until a verdict on
the same head and head type confirms or contradicts it.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

# --- The survey's taxonomy -------------------------------------------------


# One of the survey's four stages (KR, ICI, LR, EP); read by every view.
class Stage(SQLModel, table=True):
    __tablename__ = "stage"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=8)
    name: str
    position: int
    summary: str
    survey_section: str


# A sub-category of a stage in the survey's taxonomy figure.
class Mechanism(SQLModel, table=True):
    __tablename__ = "mechanism"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    summary: str
    position: int
    stage_id: int = Field(foreign_key="stage.id", index=True)


# A named head function (Induction Head, Name Mover Head, …).
class HeadType(SQLModel, table=True):
    __tablename__ = "head_type"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stage_id: int = Field(foreign_key="stage.id", index=True)
    mechanism_id: int = Field(foreign_key="mechanism.id", index=True)
    source: str  # survey-figure | survey-text | extension
    summary: str
    description: str
    qk: str
    ov: str
    input_feature: str
    output_feature: str
    layer_distribution: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extension_note: str | None = None
    position: int


# A model family the survey's figure marks a head type with (its icons).
class HeadTypeFamily(SQLModel, table=True):
    __tablename__ = "head_type_family"
    head_type_id: int = Field(foreign_key="head_type.id", primary_key=True)
    family: str = Field(primary_key=True)


# A paper about a head type; position 0 is the primary paper.
class HeadTypePaper(SQLModel, table=True):
    __tablename__ = "head_type_paper"
    head_type_id: int = Field(foreign_key="head_type.id", primary_key=True)
    paper_id: int = Field(foreign_key="paper.id", primary_key=True, index=True)
    position: int


# A directed link between head types (induction-head depends-on previous-token-head).
class HeadTypeRelation(SQLModel, table=True):
    __tablename__ = "head_type_relation"
    head_type_id: int = Field(foreign_key="head_type.id", primary_key=True)
    related_id: int = Field(foreign_key="head_type.id", primary_key=True)
    relation: str = Field(primary_key=True)


# --- Literature --------------------------------------------------------------


# A paper, keyed by the survey's BibTeX key.
class Paper(SQLModel, table=True):
    __tablename__ = "paper"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    title: str
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    authors_complete: bool = True
    year: int = Field(index=True)
    venue: str
    arxiv_id: str | None = None
    url: str | None = None
    survey_bib: str | None = None
    bibtex: str
    # The key, title and authors casefolded (paper_match_text), which a text filter looks in.
    match_text: str = ""


def paper_match_text(key: str, title: str, authors: list[str]) -> str:
    """What a paper's text filter matches against: the filter's words, casefolded, must appear in it."""
    return " ".join([key, title, *authors]).casefold()


# Modeling-Free or Modeling-Required, the survey's top split of methods.
class MethodFamily(SQLModel, table=True):
    __tablename__ = "method_family"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True)
    name: str
    summary: str
    position: int


# A method of the survey's methods tables (zero ablation, probing, …).
class Method(SQLModel, table=True):
    __tablename__ = "method"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    family_id: int = Field(foreign_key="method_family.id", index=True)
    kind: str  # modification-based | replacement-based | training-required | training-free
    kind_name: str
    core_operation: str
    position: int
    source: str = "survey-table"  # survey-table | extension (added by headatlas, not in the survey's tables)
    extension_note: str | None = None  # for an extension: why it is added, and its sources


# A representative work the survey's methods tables cite for a method.
class MethodPaper(SQLModel, table=True):
    __tablename__ = "method_paper"
    method_id: int = Field(foreign_key="method.id", primary_key=True)
    paper_id: int = Field(foreign_key="paper.id", primary_key=True)
    position: int


# A benchmark of the survey's two evaluation tables.
class Benchmark(SQLModel, table=True):
    __tablename__ = "benchmark"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    purpose: str  # mechanism-exploration | common-evaluation
    task_type: str
    main_task: str
    source: str
    released: str
    url: str | None = None
    position: int


# A paper a benchmark table cites for a benchmark.
class BenchmarkPaper(SQLModel, table=True):
    __tablename__ = "benchmark_paper"
    benchmark_id: int = Field(foreign_key="benchmark.id", primary_key=True)
    paper_id: int = Field(foreign_key="paper.id", primary_key=True)
    position: int


# --- Models and heads --------------------------------------------------------


MODEL_SHAPE = ("n_layers", "n_heads", "n_kv_heads")  # what a checkpoint fixes: a model row must agree with it


# An exact checkpoint, reported on by a paper or verified by us.
class Model(SQLModel, table=True):
    __tablename__ = "model"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    hub_id: str | None = None
    revision: str | None = None
    family: str
    kind: str  # pretrained | instruct | toy
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_model: int | None = None
    positional: str
    quantization: str | None = None
    license: str | None = None
    file_sha256: str | None = None
    # The checkpoint a verification loaded (ingest.model_loading.ModelFacts.identity); one slug, one checkpoint.
    identity: str | None = None


# One query head of one model, 0-based.
class Head(SQLModel, table=True):
    __tablename__ = "head"
    __table_args__ = (UniqueConstraint("model_id", "layer", "head"),)
    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    layer: int
    head: int


# A head a paper says has a head type, with where and how it says so.
class ReportedHead(SQLModel, table=True):
    __tablename__ = "reported_head"
    __table_args__ = (UniqueConstraint("head_id", "head_type_id", "paper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    head_id: int = Field(foreign_key="head.id", index=True)
    head_type_id: int = Field(foreign_key="head_type.id", index=True)
    paper_id: int = Field(foreign_key="paper.id", index=True)
    location: str
    paper_index: str  # as the paper prints it
    index_base: int
    index_convention: str
    evidence: str
    score: float | None = None
    score_name: str | None = None
    origin: str = "knowledge"  # knowledge (the reviewed files) | submission (the API)


# --- Published head lists ----------------------------------------------------


# A published head list's source: where it comes from, under what licence, in which index convention.
class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    paper_id: int = Field(foreign_key="paper.id", index=True)
    repository: str  # owner/name on GitHub
    source_commit: str  # the commit the lists were read at
    licence_spdx: str | None = None  # None when the source states no licence (licence_note says so)
    licence_note: str
    format: str  # a catalog.head_list_formats name
    index_unit: str  # query-head | kv-head
    index_base: int  # the files' own base; heads are stored 0-based
    index_evidence: str
    score_meaning: str
    reduced: str | None = None  # what the reviewed files keep of the source's, or None when verbatim


# One dataset's list for one model, from one file.
class DatasetList(SQLModel, table=True):
    __tablename__ = "dataset_list"
    __table_args__ = (UniqueConstraint("dataset_id", "file"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    file: str
    source_path: str
    note: str | None = None


# One head of a published list, 0-based in the list's unit: a query head, or a KV head for per-KV-head lists.
class DatasetHead(SQLModel, table=True):
    __tablename__ = "dataset_head"
    __table_args__ = (UniqueConstraint("list_id", "layer", "head", "head_type_id"),)
    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="dataset_list.id", index=True)
    head_type_id: int = Field(foreign_key="head_type.id", index=True)
    layer: int
    head: int
    rank: int  # the head's place in its file, from 0: some lists are in rank order and carry no score
    score: float | None = None
    label: str | None = None  # the head's class in the list, for lists with classes


# --- Our verification --------------------------------------------------------


# One detector on one model; its scores and verdicts land with it or not at all.
class RequestStatus(StrEnum):
    """Where a queued verification request is: the API's and the worker's one vocabulary."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RunStatus(StrEnum):
    """Every state a stored run can be in: the one vocabulary of catalog, API, CLI and site."""

    COMPLETE = "complete"  # scored, with verdicts
    NOT_VERIFIABLE = "not-verifiable"  # the model does the task at chance: no verdicts, not a verdict of absence
    NOT_APPLICABLE = "not-applicable"  # the test cannot run on this model at all (Run.error says why)
    EXPLORATORY = "exploratory"  # scored although the model does the task at chance (--ignore-task-gate): no verdicts
    FAILED = "failed"  # the detector raised; Run.error holds the error


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (
        UniqueConstraint(
            "model_id", "detector", "detector_version", "seed", name="uq_run_model_id_detector_detector_version_seed"
        ),
        CheckConstraint(f"status IN ({', '.join(repr(str(status)) for status in RunStatus)})", name="run_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    detector: str = Field(index=True)
    detector_version: str
    method_id: int | None = Field(default=None, foreign_key="method.id")
    head_type_id: int | None = Field(default=None, foreign_key="head_type.id")
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seed: int  # the first seed
    seeds: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # every seed the run drew
    # How the verdicts were decided: the test, its null and correction, the interval, the pass rate asked for.
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The found set's ablation against random sets (ingest.confirmation), for head types defined by an effect.
    confirmation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    code_version: str
    status: str  # a RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    timings: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None  # why a run failed, or why it could not verify
    task_correct: int | None = None  # task detectors: prompts the model got right ...
    task_total: int | None = None  # ... out of these ...
    task_chance: float | None = None  # ... against this accuracy by guessing


# One prompt a model read, with every head's attention on it: what a head's page draws (ingest.attention_example).
class AttentionExample(SQLModel, table=True):
    __tablename__ = "attention_example"
    __table_args__ = (UniqueConstraint("model_id", "digest"),)
    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    digest: str  # sha256 of the prompt's token ids and the window kept: one row per prompt and model
    tokens: list[str] = Field(sa_column=Column(JSON, nullable=False))  # the tokens kept, as the tokenizer decodes them
    start: int  # the prompt position of the first token kept
    prompt_length: int
    # uint8 [layer, head, query, key] over the tokens kept, weight × 255 rounded, zlib-compressed
    weights: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# Which run kept which attention example: runs probing the same prompt share one. A table of its own, so that
# adding it rewrote no table (SQLite rebuilds a table to add a foreign key, which its rows' references forbid).
class RunAttention(SQLModel, table=True):
    __tablename__ = "run_attention"
    run_id: int = Field(foreign_key="run.id", primary_key=True)
    attention_example_id: int = Field(foreign_key="attention_example.id", index=True)


# A head's score in a run (None where the detector could not score it).
class HeadScore(SQLModel, table=True):
    __tablename__ = "head_score"
    __table_args__ = (UniqueConstraint("run_id", "head_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    head_id: int = Field(foreign_key="head.id", index=True)
    score: float | None = None
    baseline: float | None = None


# Whether a head shows a head type's behaviour in a run, against a stated threshold.
class Verdict(SQLModel, table=True):
    __tablename__ = "verdict"
    __table_args__ = (UniqueConstraint("run_id", "head_id", "head_type_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    head_id: int = Field(foreign_key="head.id", index=True)
    head_type_id: int = Field(foreign_key="head_type.id", index=True)
    score: float  # the mean over the run's seeds
    score_low: float | None = None  # 95% interval of that mean (Run.evidence says how)
    score_high: float | None = None
    pass_rate: float | None = None  # share of the seeds at which the detector's rule passed
    p_value: float | None = None  # the run's test against its control, before correction
    q_value: float | None = None  # after correction for every head the run scored
    threshold: float
    shows_behaviour: bool  # found: the rule on the means, the corrected test and the pass rate all agree
    reported_head_id: int | None = Field(default=None, foreign_key="reported_head.id")


# --- Search ------------------------------------------------------------------


# One searchable thing (a head type, a paper, …); the full-text index covers it.
class SearchDocument(SQLModel, table=True):
    __tablename__ = "search_document"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # head_type | paper | stage | mechanism | method | benchmark | model
    slug: str
    title: str
    aliases: str
    body: str


# --- Requests ------------------------------------------------------------------


# A verification of an allow-listed bundled model queued through the API; `headatlas verify` runs it, never the API.
class VerificationRequest(SQLModel, table=True):
    __tablename__ = "verification_request"
    id: int | None = Field(default=None, primary_key=True)
    model: str = Field(index=True)  # a bundled model name, as `headatlas models` lists them
    detectors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seed: int = 0
    status: str = Field(default=RequestStatus.QUEUED, index=True)  # a RequestStatus
    requested_at: datetime
    note: str | None = None


# What the verdicts say of one head type on one model (catalog.matrix.ModelVerification, as JSON), rewritten by
# every writer of runs, verdicts or reports, so that a head type in full or the matrix reads a row per model
# instead of aggregating every verdict on each request.
class VerificationSummary(SQLModel, table=True):
    __tablename__ = "verification_summary"
    head_type_id: int = Field(foreign_key="head_type.id", primary_key=True)
    model_id: int = Field(foreign_key="model.id", primary_key=True, index=True)
    summary: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
