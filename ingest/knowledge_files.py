"""Read and validate the reviewed knowledge files (catalog/knowledge/README.md).

Everything is checked before anything is written: each file against its
schema, then the references between files. Errors name the file, the entry and
the field, so that a reviewer can fix the data without reading this code.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from catalog.strict_parsing import ParseError, load_yaml, read_text
from ingest.bibtex import BibtexError, parse_bibtex

StageCode = Literal["KR", "ICI", "LR", "EP"]
HeadTypeSource = Literal["survey-figure", "survey-text", "extension"]
MethodSource = Literal["survey-table", "extension"]
SurveyFamily = Literal["internlm", "yi", "gemma", "mistral", "llama", "qwen", "pythia", "gpt", "toy"]
Depth = Literal["shallow", "middle", "deep"]
Relation = Literal["depends-on", "feeds", "specialises", "variant-of", "counteracts", "similar-to"]
BenchmarkPurpose = Literal["mechanism-exploration", "common-evaluation"]
ModelKind = Literal["pretrained", "instruct", "toy"]
Positional = Literal["learned-absolute", "rotary", "alibi", "sinusoidal", "none"]

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
# Model slugs keep the dots of version numbers: qwen2.5-coder-0.5b-instruct.
ModelSlug = Annotated[str, Field(pattern=r"^[a-z0-9]+([.-][a-z0-9]+)*$")]
PaperKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:.\-]+$")]
Text = Annotated[str, Field(min_length=1)]

# A head index as papers print it: "9.9", "L9H9", "L9.H9" or "(9, 9)".
HEAD_INDEX = re.compile(r"^\s*(?:L(\d+)\.?H(\d+)|(\d+)\.(\d+)|\(\s*(\d+)\s*,\s*(\d+)\s*\))\s*$")


class KnowledgeError(ValueError):
    """A knowledge file is wrong; the message says where and why."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- stages.yaml ---------------------------------------------------------------


class MechanismEntry(Strict):
    slug: Slug
    name: Text
    summary: Text


class StageEntry(Strict):
    code: StageCode
    name: Text
    position: int
    summary: Text
    survey_section: Text
    mechanisms: list[MechanismEntry] = Field(min_length=1)


class StagesFile(Strict):
    stages: list[StageEntry] = Field(min_length=1)


# --- head_types/*.yaml ---------------------------------------------------------


class RelatedEntry(Strict):
    slug: Slug
    relation: Relation


class HeadTypeEntry(Strict):
    slug: Slug
    name: Text
    aliases: list[Text] = []
    stage: StageCode
    mechanism: Slug
    source: HeadTypeSource
    survey_families: list[SurveyFamily] = []
    summary: Text
    description: Text
    qk: Text
    ov: Text
    input_feature: Text
    output_feature: Text
    layer_distribution: list[Depth] = []
    extension_note: Text | None = None
    papers: list[PaperKey] = Field(min_length=1)
    related: list[RelatedEntry] = []


class HeadTypesFile(Strict):
    head_types: list[HeadTypeEntry] = Field(min_length=1)


# --- papers.yaml -----------------------------------------------------------------


class PaperEntry(Strict):
    key: PaperKey
    title: Text
    authors: list[Text] = Field(min_length=1)
    authors_complete: bool = True
    year: int = Field(ge=1950, le=2100)
    venue: Text
    arxiv_id: str | None = Field(default=None, pattern=r"^\d{4}\.\d{4,5}$")
    url: str | None = None
    survey_bib: str | None = None
    bibtex: Text

    @field_validator("bibtex")
    @classmethod
    def _check_bibtex(cls, value: str, info: ValidationInfo) -> str:
        try:
            entry = parse_bibtex(value)
        except BibtexError as error:
            raise ValueError(f"not one well-formed BibTeX entry: {error}") from error
        if "key" in info.data and entry.key != info.data["key"]:
            raise ValueError(f"its key is {entry.key!r}, not the paper's key {info.data['key']!r}")
        return value


class PapersFile(Strict):
    papers: list[PaperEntry] = Field(min_length=1)


# --- methods.yaml ------------------------------------------------------------------


class MethodEntry(Strict):
    slug: Slug
    name: Text
    source: MethodSource = "survey-table"  # extension: added by headatlas, not in the survey's tables
    extension_note: Text | None = None  # for an extension: why it is added, and its sources
    core_operation: Text
    papers: list[PaperKey] = []

    @model_validator(mode="after")
    def _check_extension_note(self) -> "MethodEntry":
        if self.source == "extension" and not self.extension_note:
            raise ValueError("field 'extension_note': an extension must say why it is added and cite its sources")
        if self.source != "extension" and self.extension_note:
            raise ValueError("field 'extension_note': only an extension has one")
        return self


class MethodKindEntry(Strict):
    slug: Slug
    name: Text
    methods: list[MethodEntry] = Field(min_length=1)


class MethodFamilyEntry(Strict):
    slug: Slug
    name: Text
    summary: Text
    kinds: list[MethodKindEntry] = Field(min_length=1)


class MethodsFile(Strict):
    families: list[MethodFamilyEntry] = Field(min_length=1)


# --- benchmarks.yaml ---------------------------------------------------------------


class BenchmarkEntry(Strict):
    slug: Slug
    name: Text
    purpose: BenchmarkPurpose
    task_type: Text
    main_task: Text
    source: Text
    released: str = Field(pattern=r"^\d{4}-\d{2}$")
    url: str | None = None
    papers: list[PaperKey] = []


class BenchmarksFile(Strict):
    benchmarks: list[BenchmarkEntry] = Field(min_length=1)


# --- models.yaml -------------------------------------------------------------------


class ModelEntry(Strict):
    slug: ModelSlug
    name: Text
    hub_id: str | None = None
    revision: str | None = None
    family: Slug
    kind: ModelKind
    n_layers: int = Field(gt=0)
    n_heads: int = Field(gt=0)
    n_kv_heads: int = Field(gt=0)
    d_model: int | None = Field(default=None, gt=0)
    positional: Positional
    quantization: str | None = None
    license: str | None = None

    @model_validator(mode="after")
    def _check_kv_heads(self) -> "ModelEntry":
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"field 'n_kv_heads': {self.n_kv_heads} KV heads cannot be shared evenly by {self.n_heads} query heads"
            )
        return self


class ModelsFile(Strict):
    models: list[ModelEntry] = Field(min_length=1)


# --- reported_heads/*.yaml ---------------------------------------------------------


class ScoredIndex(Strict):
    index: Text
    score: float | None = None


class ReportedGroup(Strict):
    head_type: Slug
    location: Text
    evidence: Text
    score_name: str | None = None
    heads: list[Text | ScoredIndex] = Field(min_length=1)


class ReportedHeadsFile(Strict):
    paper: PaperKey
    model: ModelSlug
    index_base: Literal[0, 1]
    index_convention: Text
    groups: list[ReportedGroup] = Field(min_length=1)

    def entries(self) -> Iterator[tuple[ReportedGroup, str, float | None]]:
        """Each head as (its group, its index as the paper prints it, its score)."""
        for group in self.groups:
            for item in group.heads:
                yield (group, item, None) if isinstance(item, str) else (group, item.index, item.score)

    def zero_based(self, text: str) -> tuple[int, int]:
        """A printed index as 0-based (layer, head); a ValueError if it is not a head index."""
        layer, head = parse_head_index(text)
        return layer - self.index_base, head - self.index_base


# --- datasets/<slug>/dataset.yaml --------------------------------------------------

IndexUnit = Literal["query-head", "kv-head"]
# A GitHub repository as owner/name.
Repository = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")]
CommitHash = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]


class DatasetSource(Strict):
    repository: Repository
    commit: CommitHash


class Licence(Strict):
    spdx: str | None  # None: the source states no licence, which `note` must say
    note: Text


class DatasetIndex(Strict):
    unit: IndexUnit
    base: Literal[0, 1]
    evidence: Text  # how the convention was established from the source's code


class DatasetList(Strict):
    model: ModelSlug
    file: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$")]  # beside dataset.yaml
    source_path: Text
    note: str | None = None


class DatasetFile(Strict):
    slug: Slug
    name: Text
    paper: PaperKey
    source: DatasetSource
    licence: Licence
    format: Text
    index: DatasetIndex
    head_type: Slug | None = None  # every head's type, or
    classes: dict[Text, Slug] | None = None  # the type of each class a labelled list gives
    score: Text
    reduced: str | None  # what was kept of the source's files, or None when they are copied verbatim
    lists: list[DatasetList] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_way_to_type(self) -> "DatasetFile":
        if (self.head_type is None) == (self.classes is None):
            raise ValueError("give either head_type (one type for every head) or classes (a type per class)")
        return self


# --- Reading -------------------------------------------------------------------------

FileModel = TypeVar("FileModel", bound=BaseModel)


def read_file(path: Path, schema: type[FileModel], root: Path) -> FileModel:
    """Parse one YAML file against its schema, or raise KnowledgeError naming the entry."""
    name = path.relative_to(root).as_posix()
    raw = read_yaml(path, name)
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{name}: expected a mapping at the top, found {type(raw).__name__}")
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise KnowledgeError(describe_validation_error(name, raw, error)) from error


def read_yaml(path: Path, name: str) -> Any:
    """A reviewed YAML file's content: UTF-8, no control characters, no key given twice."""
    try:
        return load_yaml(read_text(path))
    except ParseError as error:
        raise KnowledgeError(describe_parse_error(name, error)) from error


def describe_parse_error(name: str, error: ParseError) -> str:
    where = f"{describe_location(error.document, error.location)}: " if error.location else ""
    return f"{name}: {where}{error}"


def describe_validation_error(name: str, raw: dict[str, Any], error: ValidationError) -> str:
    """Turn pydantic's errors into lines a reviewer can act on."""
    lines = [f"{name}: {error.error_count()} problem(s)"]
    for problem in error.errors():
        lines.append(f"  {describe_location(raw, problem['loc'])}: {problem['msg']}")
    return "\n".join(lines)


def describe_location(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Name an error's place by entry slugs or keys: `head type 'induction-head', field 'stage'`."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            label = entry_label(node)
            parts.append(f"entry {step}" + (f" ({label})" if label else ""))
        elif isinstance(step, str):
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(f"field '{step}'")
    return ", ".join(parts) or "top level"


def entry_label(node: Any) -> str | None:
    if isinstance(node, dict):
        for key in ("slug", "key", "code", "head_type", "index"):
            if isinstance(node.get(key), str):
                return f"{key} {node[key]!r}"
    return None


def parse_head_index(text: str) -> tuple[int, int]:
    """Read "9.9", "L9H9" or "(9, 9)" as (layer, head) in the paper's own base."""
    match = HEAD_INDEX.match(text)
    if not match:
        raise ValueError(f"head index {text!r} is not of the form 9.9, L9H9 or (9, 9)")
    layer, head = (int(group) for group in match.groups() if group is not None)
    return layer, head


def check_known(where: str, field: str, values: list[str], known: set[str], home: str) -> None:
    """Every value must be defined in `home`; the error names them all."""
    unknown = [value for value in values if value not in known]
    if unknown:
        raise KnowledgeError(f"{where}, field '{field}': unknown {', '.join(map(repr, unknown))}; not in {home}")
