"""Read the published head lists under knowledge/datasets/ and check them against the models they name.

Each dataset is a folder: `dataset.yaml` (where the lists come from, their
licence, their index convention) beside the lists themselves, each in its
source's own format (catalog.head_list_formats). A list is read with its
format, converted to 0-based indices, and checked against its model's shape in
its own unit (query heads, or KV heads for per-KV-head lists) before anything
is written.
"""

from dataclasses import dataclass
from pathlib import Path

from catalog.head_list_formats import FormatError, ListedHead, registered
from catalog.strict_parsing import ParseError, read_text
from ingest.knowledge_files import DatasetFile, DatasetList, KnowledgeError, ModelEntry, check_known, read_file

DATASET_RECORD = "dataset.yaml"


@dataclass(frozen=True)
class LoadedList:
    entry: DatasetList
    heads: list[ListedHead]  # 0-based, in the dataset's unit


@dataclass(frozen=True)
class LoadedDataset:
    name: str  # the record's path, relative to the knowledge directory
    content: DatasetFile
    lists: list[LoadedList]


def load_datasets(directory: Path) -> list[LoadedDataset]:
    """Every dataset folder, each record validated and each of its lists read; nothing is checked across files."""
    return [_load(folder, directory) for folder in sorted((directory / "datasets").glob("*/")) if folder.is_dir()]


def _load(folder: Path, directory: Path) -> LoadedDataset:
    record = folder / DATASET_RECORD
    name = record.relative_to(directory).as_posix()
    if not record.is_file():
        raise KnowledgeError(f"{folder.relative_to(directory).as_posix()}: no {DATASET_RECORD} describes this folder")
    content = read_file(record, DatasetFile, directory)
    if content.slug != folder.name:
        raise KnowledgeError(f"{name}: field 'slug': {content.slug!r} must be the folder's name, {folder.name!r}")
    formats = registered()
    if content.format not in formats:
        raise KnowledgeError(f"{name}: field 'format': {content.format!r} is not one of {', '.join(sorted(formats))}")
    head_format = formats[content.format]
    if head_format.unit != content.index.unit:
        raise KnowledgeError(
            f"{name}: field 'index.unit': {content.format} lists {head_format.unit}s, "
            f"but the record says {content.index.unit}"
        )
    listed = {entry.file for entry in content.lists}
    strays = sorted(p.name for p in folder.iterdir() if p.name != DATASET_RECORD and p.name not in listed)
    if strays:
        raise KnowledgeError(f"{name}: field 'lists': {', '.join(strays)} in the folder but not listed")
    return LoadedDataset(name, content, [_read_list(folder, name, content, entry) for entry in content.lists])


def _read_list(folder: Path, name: str, content: DatasetFile, entry: DatasetList) -> LoadedList:
    path = folder / entry.file
    where = f"{name}: list {entry.file!r}"
    if not path.is_file():
        raise KnowledgeError(f"{where}: the file is missing")
    try:
        heads = registered()[content.format].read(read_text(path))
    except (FormatError, ParseError) as error:
        raise KnowledgeError(f"{where}: {error}") from error
    base = content.index.base
    return LoadedList(entry, [ListedHead(h.layer - base, h.head - base, h.score, h.label) for h in heads])


def check_dataset(
    dataset: LoadedDataset, papers: set[str], head_types: set[str], models: dict[str, ModelEntry]
) -> None:
    """The paper, head types and models exist, and every head fits its model in the dataset's unit, once."""
    content = dataset.content
    check_known(dataset.name, "paper", [content.paper], papers, "papers.yaml")
    types = [content.head_type] if content.head_type else list((content.classes or {}).values())
    check_known(dataset.name, "head_type" if content.head_type else "classes", types, head_types, "head_types/")
    labelled = registered()[content.format].labelled
    if labelled != (content.classes is not None):
        needs = "needs 'classes', a head type per class" if labelled else "has no classes; give 'head_type'"
        raise KnowledgeError(f"{dataset.name}: format {content.format} {needs}")
    for loaded in dataset.lists:
        where = f"{dataset.name}: list {loaded.entry.file!r}"
        check_known(where, "model", [loaded.entry.model], set(models), "models.yaml")
        _check_heads(where, content, loaded.heads, models[loaded.entry.model])


def _check_heads(where: str, content: DatasetFile, heads: list[ListedHead], model: ModelEntry) -> None:
    per_layer = model.n_kv_heads if content.index.unit == "kv-head" else model.n_heads
    seen: set[tuple[int, int, str | None]] = set()
    for listed in heads:
        shown = f"layer {listed.layer + content.index.base}, head {listed.head + content.index.base}"
        if not (0 <= listed.layer < model.n_layers and 0 <= listed.head < per_layer):
            raise KnowledgeError(
                f"{where}: {shown} (base {content.index.base}) is outside {model.slug}'s "
                f"{model.n_layers} layers x {per_layer} {content.index.unit}s"
            )
        if content.classes is not None and listed.label not in content.classes:
            raise KnowledgeError(f"{where}: {shown}: class {listed.label!r} is not in the record's 'classes'")
        if (listed.layer, listed.head, listed.label) in seen:
            raise KnowledgeError(f"{where}: {shown} is listed more than once")
        seen.add((listed.layer, listed.head, listed.label))
