"""Write validated knowledge into the catalog, table by table, idempotently."""

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from catalog.citations import relink_verdicts
from catalog.db import upgrade, write_transaction
from catalog.matrix import refresh_verification_summaries
from catalog.models import (
    Benchmark,
    BenchmarkPaper,
    Dataset,
    DatasetHead,
    DatasetList,
    Head,
    HeadType,
    HeadTypeFamily,
    HeadTypePaper,
    HeadTypeRelation,
    Mechanism,
    Method,
    MethodFamily,
    MethodPaper,
    Model,
    Paper,
    ReportedHead,
    Stage,
    paper_match_text,
)
from catalog.search import rebuild_search_index
from catalog.sync import Syncer, TableCount
from ingest.knowledge import Knowledge, load_knowledge
from ingest.knowledge_files import DatasetFile
from ingest.knowledge_guards import check_stale_rows, check_verified_shapes


def write_knowledge(session: Session, knowledge: Knowledge) -> dict[str, TableCount]:
    """Make the catalog hold exactly this knowledge; verification results are left alone.

    Nothing is committed: the caller's transaction decides.
    """
    syncer = Syncer(session)
    stages = _id_map(syncer.sync(Stage, ("code",), _stage_rows(knowledge)))
    mechanisms = _id_map(syncer.sync(Mechanism, ("slug",), _mechanism_rows(knowledge, stages)))
    papers = _id_map(syncer.sync(Paper, ("key",), [_paper_row(p) for p in knowledge.papers.papers]))
    head_types = _id_map(syncer.sync(HeadType, ("slug",), _head_type_rows(knowledge, stages, mechanisms)))
    _sync_head_type_links(syncer, knowledge, head_types, papers)
    _sync_methods(syncer, knowledge, papers)
    _sync_benchmarks(syncer, knowledge, papers)
    # Verification adds models and heads of its own: the knowledge never deletes them.
    check_verified_shapes(session, knowledge.models.models)
    models = syncer.sync(Model, ("slug",), [m.model_dump() for m in knowledge.models.models], keep_others=True)
    headed = [model for model in models.values() if model.slug not in _named_only_by_datasets(knowledge)]
    heads = _id_map(syncer.sync(Head, ("model_id", "layer", "head"), _head_rows(headed), keep_others=True))
    syncer.sync(
        ReportedHead,
        ("head_id", "head_type_id", "paper_id"),
        _reported_head_rows(knowledge, _id_map(models), heads, head_types, papers),
        scope={"origin": "knowledge"},
    )
    _sync_datasets(syncer, knowledge, _id_map(models), head_types, papers)
    check_stale_rows(session, syncer.stale)
    relink_verdicts(session, leaving=[row.id for row in syncer.stale if isinstance(row, ReportedHead)])
    syncer.delete_stale()
    refresh_verification_summaries(session)  # the reports verdicts cite may have changed
    syncer.counts["search_document"] = rebuild_search_index(session)
    return syncer.counts


def _paper_row(paper) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return paper.model_dump() | {"match_text": paper_match_text(paper.key, paper.title, paper.authors)}


def _id_map(rows: dict) -> dict:  # type: ignore[type-arg]
    """Single-column keys by their value, others by their tuple; values are ids."""
    return {(key[0] if len(key) == 1 else key): row.id for key, row in rows.items()}


def _stage_rows(knowledge: Knowledge) -> list[dict]:  # type: ignore[type-arg]
    return [s.model_dump(exclude={"mechanisms"}) for s in knowledge.stages.stages]


def _mechanism_rows(knowledge: Knowledge, stages: dict[str, int]) -> list[dict]:  # type: ignore[type-arg]
    return [
        {**m.model_dump(), "stage_id": stages[s.code], "position": position}
        for s in knowledge.stages.stages
        for position, m in enumerate(s.mechanisms)
    ]


def _head_type_rows(knowledge: Knowledge, stages: dict, mechanisms: dict) -> list[dict]:  # type: ignore[type-arg]
    return [
        {
            **h.model_dump(exclude={"stage", "mechanism", "survey_families", "papers", "related"}),
            "stage_id": stages[h.stage],
            "mechanism_id": mechanisms[h.mechanism],
            "position": position,
        }
        for position, h in enumerate(knowledge.head_types)
    ]


def _sync_head_type_links(syncer: Syncer, knowledge: Knowledge, head_types: dict, papers: dict) -> None:  # type: ignore[type-arg]
    syncer.sync(
        HeadTypeFamily,
        ("head_type_id", "family"),
        [{"head_type_id": head_types[h.slug], "family": f} for h in knowledge.head_types for f in h.survey_families],
    )
    _sync_paper_links(
        syncer,
        HeadTypePaper,
        "head_type_id",
        head_types,
        papers,
        [(h.slug, h.papers) for h in knowledge.head_types],
    )
    syncer.sync(
        HeadTypeRelation,
        ("head_type_id", "related_id", "relation"),
        [
            {
                "head_type_id": head_types[h.slug],
                "related_id": head_types[r.slug],
                "relation": r.relation,
            }
            for h in knowledge.head_types
            for r in h.related
        ],
    )


def _sync_methods(syncer: Syncer, knowledge: Knowledge, papers: dict) -> None:  # type: ignore[type-arg]
    families = knowledge.methods.families
    family_ids = _id_map(
        syncer.sync(
            MethodFamily,
            ("slug",),
            [{**f.model_dump(exclude={"kinds"}), "position": i} for i, f in enumerate(families)],
        )
    )
    methods = [(f, k, m) for f in families for k in f.kinds for m in k.methods]
    method_ids = _id_map(
        syncer.sync(
            Method,
            ("slug",),
            [
                {
                    **m.model_dump(exclude={"papers"}),
                    "family_id": family_ids[f.slug],
                    "kind": k.slug,
                    "kind_name": k.name,
                    "position": position,
                }
                for position, (f, k, m) in enumerate(methods)
            ],
        )
    )
    _sync_paper_links(
        syncer,
        MethodPaper,
        "method_id",
        method_ids,
        papers,
        [(m.slug, m.papers) for _, _, m in methods],
    )


def _sync_benchmarks(syncer: Syncer, knowledge: Knowledge, papers: dict) -> None:  # type: ignore[type-arg]
    benchmarks = knowledge.benchmarks.benchmarks
    ids = _id_map(
        syncer.sync(
            Benchmark,
            ("slug",),
            [{**b.model_dump(exclude={"papers"}), "position": i} for i, b in enumerate(benchmarks)],
        )
    )
    _sync_paper_links(
        syncer,
        BenchmarkPaper,
        "benchmark_id",
        ids,
        papers,
        [(b.slug, b.papers) for b in benchmarks],
    )


def _sync_paper_links(syncer: Syncer, link, owner_column: str, owners: dict, papers: dict, cited) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Sync a link table from (owner slug, [paper keys]) pairs, keeping the papers' order."""
    syncer.sync(
        link,
        (owner_column, "paper_id"),
        [
            {owner_column: owners[slug], "paper_id": papers[key], "position": position}
            for slug, keys in cited
            for position, key in enumerate(keys)
        ],
    )


def _named_only_by_datasets(knowledge: Knowledge) -> set[str]:
    """Models that only published lists name: their heads live in the lists, in each list's own unit."""
    listed = {loaded.entry.model for dataset in knowledge.datasets for loaded in dataset.lists}
    return listed - {source.content.model for source in knowledge.reported_heads}


def _head_rows(models) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Every query head of every model, so that reports and scores share one row per head."""
    return [
        {"model_id": model.id, "layer": layer, "head": head}
        for model in models
        for layer in range(model.n_layers)
        for head in range(model.n_heads)
    ]


def _reported_head_rows(knowledge: Knowledge, models: dict, heads: dict, head_types: dict, papers: dict) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    for source in knowledge.reported_heads:
        content = source.content
        for group, text, score in content.entries():
            layer, head = content.zero_based(text)
            rows.append(
                {
                    "head_id": heads[(models[content.model], layer, head)],
                    "head_type_id": head_types[group.head_type],
                    "paper_id": papers[content.paper],
                    "location": group.location,
                    "paper_index": text,
                    "index_base": content.index_base,
                    "index_convention": content.index_convention,
                    "evidence": group.evidence,
                    "score": score,
                    "score_name": group.score_name,
                }
            )
    return rows


def _sync_datasets(syncer: Syncer, knowledge: Knowledge, models: dict, head_types: dict, papers: dict) -> None:  # type: ignore[type-arg]
    """Each published list and its heads, in the list's own unit; the heads' classes give their types."""
    rows = [_dataset_row(loaded.content, papers) for loaded in knowledge.datasets]
    datasets = _id_map(syncer.sync(Dataset, ("slug",), rows))
    list_rows = [
        {
            "dataset_id": datasets[loaded.content.slug],
            "model_id": models[listed.entry.model],
            "file": listed.entry.file,
            "source_path": listed.entry.source_path,
            "note": listed.entry.note,
        }
        for loaded in knowledge.datasets
        for listed in loaded.lists
    ]
    lists = _id_map(syncer.sync(DatasetList, ("dataset_id", "file"), list_rows))
    head_rows = []
    for loaded in knowledge.datasets:
        content = loaded.content
        for listed in loaded.lists:
            list_id = lists[(datasets[content.slug], listed.entry.file)]
            for rank, head in enumerate(listed.heads):
                head_type = content.head_type or (content.classes or {})[head.label]  # type: ignore[index]
                head_rows.append(
                    {
                        "list_id": list_id,
                        "head_type_id": head_types[head_type],
                        "layer": head.layer,
                        "head": head.head,
                        "rank": rank,
                        "score": head.score,
                        "label": head.label,
                    }
                )
    syncer.sync(DatasetHead, ("list_id", "layer", "head", "head_type_id"), head_rows)


def _dataset_row(content: DatasetFile, papers: dict) -> dict:  # type: ignore[type-arg]
    return {
        "slug": content.slug,
        "name": content.name,
        "paper_id": papers[content.paper],
        "repository": content.source.repository,
        "source_commit": content.source.commit,
        "licence_spdx": content.licence.spdx,
        "licence_note": content.licence.note,
        "format": content.format,
        "index_unit": content.index.unit,
        "index_base": content.index.base,
        "index_evidence": content.index.evidence,
        "score_meaning": content.score,
        "reduced": content.reduced,
    }


def ingest_knowledge(engine: Engine, directory: Path) -> dict[str, TableCount]:
    """Validate the knowledge directory, then load it in one transaction.

    A bad file raises KnowledgeError before the database is touched; any later
    error rolls the whole load back.
    """
    knowledge = load_knowledge(directory)
    upgrade(engine)
    with write_transaction(engine, f"the knowledge ingest of {directory}") as session:
        return write_knowledge(session, knowledge)
