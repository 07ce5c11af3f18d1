"""Load the whole knowledge directory and check the references between its files."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.knowledge_datasets import LoadedDataset, check_dataset, load_datasets
from ingest.knowledge_files import (
    BenchmarksFile,
    HeadTypeEntry,
    HeadTypesFile,
    KnowledgeError,
    MethodsFile,
    ModelsFile,
    PapersFile,
    ReportedHeadsFile,
    StagesFile,
    check_known,
    read_file,
)

# The one file per stage that holds its head types.
HEAD_TYPE_FILES = {"KR": "kr.yaml", "ICI": "ici.yaml", "LR": "lr.yaml", "EP": "ep.yaml"}
TOP_LEVEL_FILES = ("stages.yaml", "papers.yaml", "methods.yaml", "benchmarks.yaml", "models.yaml", "README.md")
FOLDERS = ("head_types", "reported_heads", "datasets")


@dataclass(frozen=True)
class ReportedHeadsSource:
    name: str  # the file, relative to the knowledge directory
    content: ReportedHeadsFile


@dataclass(frozen=True)
class Knowledge:
    """Every knowledge file, validated and cross-checked."""

    stages: StagesFile
    head_types: list[HeadTypeEntry]
    papers: PapersFile
    methods: MethodsFile
    benchmarks: BenchmarksFile
    models: ModelsFile
    reported_heads: list[ReportedHeadsSource]
    datasets: list[LoadedDataset]


def load_knowledge(directory: Path) -> Knowledge:
    """Read and check every file; raise KnowledgeError on the first file with problems."""
    if not directory.is_dir():
        raise KnowledgeError(f"knowledge directory {directory} does not exist")
    check_layout(directory)
    head_types: list[HeadTypeEntry] = []
    for stage, file_name in HEAD_TYPE_FILES.items():
        content = _read(directory, f"head_types/{file_name}", HeadTypesFile)
        for entry in content.head_types:
            if entry.stage != stage:
                raise KnowledgeError(
                    f"head_types/{file_name}: head type {entry.slug!r}, field 'stage': "
                    f"{entry.stage} head types belong in head_types/{HEAD_TYPE_FILES[entry.stage]}"
                )
        head_types.extend(content.head_types)
    reported = [
        ReportedHeadsSource(path.relative_to(directory).as_posix(), read_file(path, ReportedHeadsFile, directory))
        for path in sorted((directory / "reported_heads").glob("*.yaml"))
    ]
    knowledge = Knowledge(
        stages=_read(directory, "stages.yaml", StagesFile),
        head_types=head_types,
        papers=_read(directory, "papers.yaml", PapersFile),
        methods=_read(directory, "methods.yaml", MethodsFile),
        benchmarks=_read(directory, "benchmarks.yaml", BenchmarksFile),
        models=_read(directory, "models.yaml", ModelsFile),
        reported_heads=reported,
        datasets=load_datasets(directory),
    )
    check_references(knowledge)
    return knowledge


def check_layout(directory: Path) -> None:
    """Refuse any file the loader would not read: a `.yml` or a stray file would otherwise be skipped in silence."""
    expected = {
        "": {*TOP_LEVEL_FILES, *FOLDERS},
        "head_types": set(HEAD_TYPE_FILES.values()),
        "reported_heads": None,  # any *.yaml file
        "datasets": None,  # any folder; each is checked by its record
    }
    for folder, names in expected.items():
        where = directory / folder
        if not where.is_dir():
            continue  # a missing file or folder is reported by the reader that needs it
        for path in sorted(where.iterdir()):
            if not _expected(folder, path, names):
                shown = path.relative_to(directory).as_posix()
                raise KnowledgeError(f"{shown}: not a knowledge file; {_layout_hint(folder)}")


def _expected(folder: str, path: Path, names: set[str] | None) -> bool:
    if names is not None:
        return path.name in names and path.is_dir() == (path.name in FOLDERS)
    if folder == "datasets":
        return path.is_dir()
    return path.is_file() and path.suffix == ".yaml"


def _layout_hint(folder: str) -> str:
    hints = {
        "": f"the folder holds {', '.join(TOP_LEVEL_FILES)} and the folders {', '.join(FOLDERS)}",
        "head_types": f"head_types/ holds exactly {', '.join(HEAD_TYPE_FILES.values())}",
        "reported_heads": "reported_heads/ holds only .yaml files",
        "datasets": "datasets/ holds only folders, one per dataset",
    }
    return f"{hints[folder]} (catalog/knowledge/README.md); rename or remove it"


def _read(directory: Path, name: str, schema):  # type: ignore[no-untyped-def]
    path = directory / name
    if not path.is_file():
        raise KnowledgeError(f"{name}: missing from {directory}")
    return read_file(path, schema, directory)


def check_references(knowledge: Knowledge) -> None:
    """Every slug and key a file names must exist, once, and indices must fit their model."""
    _check_unique("stages.yaml", "stage code", (s.code for s in knowledge.stages.stages))
    mechanisms = {m.slug: s.code for s in knowledge.stages.stages for m in s.mechanisms}
    _check_unique(
        "stages.yaml",
        "mechanism slug",
        (m.slug for s in knowledge.stages.stages for m in s.mechanisms),
    )
    _check_unique("papers.yaml", "paper key", (p.key for p in knowledge.papers.papers))
    _check_unique("head_types/", "head type slug", (h.slug for h in knowledge.head_types))
    _check_unique("head_types/", "head type name or alias", _names_and_aliases(knowledge.head_types))
    _check_unique("models.yaml", "model slug", (m.slug for m in knowledge.models.models))
    _check_unique("benchmarks.yaml", "benchmark slug", (b.slug for b in knowledge.benchmarks.benchmarks))
    _check_unique("methods.yaml", "method slug", _method_slugs(knowledge))

    papers = {p.key for p in knowledge.papers.papers}

    head_types = {h.slug for h in knowledge.head_types}
    for entry in knowledge.head_types:
        where = f"head_types/{HEAD_TYPE_FILES[entry.stage]}: head type {entry.slug!r}"
        if mechanisms.get(entry.mechanism) != entry.stage:
            options = sorted(slug for slug, stage in mechanisms.items() if stage == entry.stage)
            raise KnowledgeError(
                f"{where}, field 'mechanism': {entry.mechanism!r} is not a mechanism of stage "
                f"{entry.stage}; choose one of {options}"
            )
        if entry.source == "extension" and not entry.extension_note:
            raise KnowledgeError(f"{where}, field 'extension_note': an extension must say why it sits here")
        if entry.source != "survey-figure" and entry.survey_families:
            raise KnowledgeError(f"{where}, field 'survey_families': only the survey figure's head types have them")
        check_known(where, "papers", entry.papers, papers, "papers.yaml")
        check_known(where, "related", [r.slug for r in entry.related], head_types, "head_types/")

    for family in knowledge.methods.families:
        for kind in family.kinds:
            for method in kind.methods:
                check_known(
                    f"methods.yaml: method {method.slug!r}",
                    "papers",
                    method.papers,
                    papers,
                    "papers.yaml",
                )
    for benchmark in knowledge.benchmarks.benchmarks:
        check_known(
            f"benchmarks.yaml: benchmark {benchmark.slug!r}",
            "papers",
            benchmark.papers,
            papers,
            "papers.yaml",
        )

    models = {m.slug: m for m in knowledge.models.models}
    for source in knowledge.reported_heads:
        _check_reported(source, papers, head_types, models)
    _check_reported_once(knowledge.reported_heads)
    _check_unique("datasets/", "dataset slug", (d.content.slug for d in knowledge.datasets))
    for dataset in knowledge.datasets:
        check_dataset(dataset, papers, head_types, models)


def _check_reported(source: ReportedHeadsSource, papers: set[str], head_types: set[str], models: dict) -> None:  # type: ignore[type-arg]
    content = source.content
    check_known(source.name, "paper", [content.paper], papers, "papers.yaml")
    check_known(source.name, "model", [content.model], set(models), "models.yaml")
    model = models[content.model]
    seen: set[tuple[str, int, int]] = set()
    for group, text, _ in content.entries():
        where = f"{source.name}: group {group.head_type!r}"
        check_known(where, "head_type", [group.head_type], head_types, "head_types/")
        try:
            layer, index = content.zero_based(text)
        except ValueError as error:
            raise KnowledgeError(f"{where}, field 'heads': {error}") from error
        if not (0 <= layer < model.n_layers and 0 <= index < model.n_heads):
            raise KnowledgeError(
                f"{where}, field 'heads': {text!r} (base {content.index_base}) is outside "
                f"{model.slug}'s {model.n_layers} layers × {model.n_heads} heads"
            )
        if (group.head_type, layer, index) in seen:
            raise KnowledgeError(f"{where}, field 'heads': {text!r} is reported more than once for this type")
        seen.add((group.head_type, layer, index))


def _check_reported_once(sources: list[ReportedHeadsSource]) -> None:
    """A paper reports a head as a type in one file: the same report in two files would be stored once, silently."""
    first_file: dict[tuple[str, str, str, int, int], str] = {}
    for source in sources:
        content = source.content
        for group, text, _ in content.entries():
            report = (content.paper, content.model, group.head_type, *content.zero_based(text))
            if first_file.setdefault(report, source.name) != source.name:
                raise KnowledgeError(
                    f"{source.name}: group {group.head_type!r}, field 'heads': {text!r} of {content.model} is "
                    f"already reported for {content.paper} in {first_file[report]}; keep it in one file"
                )


def _check_unique(file: str, what: str, values: Iterable[str]) -> None:
    repeated = sorted(value for value, n in Counter(values).items() if n > 1)
    if repeated:
        raise KnowledgeError(f"{file}: {what} given more than once: {', '.join(repeated)}")


def _names_and_aliases(head_types: list[HeadTypeEntry]) -> Iterable[str]:
    for entry in head_types:
        yield entry.name.casefold()
        yield from {alias.casefold() for alias in entry.aliases} - {entry.name.casefold()}


def _method_slugs(knowledge: Knowledge) -> Iterable[str]:
    for family in knowledge.methods.families:
        for kind in family.kinds:
            yield from (method.slug for method in kind.methods)
