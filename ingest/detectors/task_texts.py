"""The task detectors' material (data/tasks.yaml), validated on load.

Beyond its shape, the file must hold no empty string and, in every list of
pairs (in-context tasks, yes/no questions), no pair twice and no pair whose
input is its output: an identity pair such as [Mexico, Mexico] lets a model
answer by copying the query, which is not the task the pairs stand for.
"""

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from catalog.strict_parsing import ParseError, load_yaml, read_text
from ingest.detectors.texts import DATA_DIR
from ingest.knowledge_files import describe_validation_error

# The reviewed task material.
TASKS_FILE = DATA_DIR / "tasks.yaml"

Word = Annotated[str, Field(min_length=1)]
Pair = Annotated[list[Word], Field(min_length=2, max_length=2)]


class TaskTextsError(ValueError):
    """tasks.yaml breaks a rule; the message names the file, the section and the entry."""


def _distinct_pairs(pairs: list[list[str]]) -> list[list[str]]:
    """No identity pair and no pair twice; the error names the entry."""
    seen: dict[tuple[str, ...], int] = {}
    for index, pair in enumerate(pairs):
        if pair[0] == pair[1]:
            raise ValueError(f"entry {index} {pair} maps {pair[0]!r} to itself (an identity pair)")
        if (key := tuple(pair)) in seen:
            raise ValueError(f"entry {index} {pair} repeats entry {seen[key]}")
        seen[key] = index
    return pairs


Pairs = Annotated[list[Pair], AfterValidator(_distinct_pairs)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IOITexts(Strict):
    names: list[Word] = Field(min_length=8)
    places: list[Word] = Field(min_length=2)
    objects: list[Word] = Field(min_length=2)
    templates: list[Word] = Field(min_length=2)


class SentimentTexts(Strict):
    positive: list[Word] = Field(min_length=4)
    negative: list[Word] = Field(min_length=4)
    neutral: list[Word] = Field(min_length=4)
    templates: list[Word] = Field(min_length=1)
    answers: dict[str, Word]


class MCQTexts(Strict):
    categories: dict[str, list[Word]] = Field(min_length=4)
    question: Word


class ConflictTexts(Strict):
    template: Word


class YesNoTexts(Strict):
    template: Word
    questions: Pairs = Field(min_length=8)


class TaskTexts(Strict):
    ioi: IOITexts
    sequences: dict[str, list[Word]] = Field(min_length=2)
    icl_tasks: dict[str, Pairs] = Field(min_length=2)
    sentiment: SentimentTexts
    acronyms: dict[str, list[Word]]
    mcq: MCQTexts
    conflict: ConflictTexts
    yes_no: YesNoTexts


def load_task_texts(path: Path) -> TaskTexts:
    """Read and check a task file.

    Raises:
        TaskTextsError: naming the file, the section (e.g. icl_tasks, country_capital) and the entry at fault.
    """
    try:
        raw: Any = load_yaml(read_text(path))
    except ParseError as error:
        raise TaskTextsError(f"{path}: {error}") from error
    try:
        return TaskTexts.model_validate(raw)
    except ValidationError as error:
        described = describe_validation_error(str(path), raw if isinstance(raw, dict) else {}, error)
        raise TaskTextsError(described) from error


@cache
def task_texts() -> TaskTexts:
    return load_task_texts(TASKS_FILE)
