"""Loading knowledge is atomic and idempotent, on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from api.submissions import submit_reported_head
from catalog.crud import list_reported_heads
from catalog.datasets import list_dataset_heads
from catalog.models import Head, HeadType, Method, Model, Paper, ReportedHead, Run, Verdict
from catalog.schemas import ReportedHeadCreate, ReportedHeadPublic
from ingest.knowledge import load_knowledge
from ingest.knowledge_files import KnowledgeError
from ingest.write_knowledge import ingest_knowledge
from tests.utils.knowledge import edit_yaml, head_type


def snapshot(engine: Engine) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table, in primary-key order."""
    tables = {}
    with engine.connect() as connection:
        for name in inspect(engine).get_table_names():
            if name.startswith(("search_fts", "alembic")):
                continue
            columns = [c["name"] for c in inspect(engine).get_columns(name) if c["name"] != "document"]
            rows = connection.execute(text(f"SELECT {', '.join(columns)} FROM {name} ORDER BY 1, 2"))
            tables[name] = [tuple(row) for row in rows]
    return tables


def test_first_load_inserts_everything(engine: Engine, knowledge_dir: Path) -> None:
    counts = ingest_knowledge(engine, knowledge_dir)
    assert counts["head_type"].inserted >= 60
    assert all(count.updated == count.deleted == 0 for count in counts.values())


def test_second_load_changes_nothing(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    before = snapshot(engine)
    counts = ingest_knowledge(engine, knowledge_dir)
    assert sum(count.changed for count in counts.values()) == 0
    assert snapshot(engine) == before


def test_bad_file_changes_nothing(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    before = snapshot(engine)
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(summary="changed"),
    )
    edit_yaml(knowledge_dir / "models.yaml", lambda d: d["models"][0].update(n_layers=0))
    with pytest.raises(KnowledgeError, match="models.yaml"):
        ingest_knowledge(engine, knowledge_dir)
    assert snapshot(engine) == before


def test_failure_while_writing_rolls_everything_back(
    engine: Engine, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_knowledge(engine, knowledge_dir)
    before = snapshot(engine)
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(summary="changed"),
    )

    def interrupted(session: Session) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ingest.write_knowledge.rebuild_search_index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_knowledge(engine, knowledge_dir)
    assert snapshot(engine) == before


def test_edited_entry_is_updated_in_place(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(summary="Edited."),
    )
    counts = ingest_knowledge(engine, knowledge_dir)
    assert counts["head_type"].updated == 1
    with Session(engine) as session:
        assert session.exec(select(HeadType.summary).where(HeadType.slug == "induction-head")).one() == "Edited."


def test_removed_reported_heads_are_deleted(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    (knowledge_dir / "reported_heads/ioi-gpt2-small.yaml").unlink()
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        assert list_reported_heads(session=session, paper="IOI_23_ICLR_Redwood") == []


def test_submitted_reported_heads_survive_a_reload(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        head = session.exec(
            select(Head).join(Model).where(Model.slug == "gpt2-small", Head.layer == 1, Head.head == 1)
        ).one()
        submitted = ReportedHead(
            head_id=head.id,
            head_type_id=session.exec(select(HeadType.id).where(HeadType.slug == "induction-head")).one(),
            paper_id=session.exec(select(Paper.id).where(Paper.key == "IOI_23_ICLR_Redwood")).one(),
            location="Figure 99",
            paper_index="1.1",
            index_base=0,
            index_convention="layer.head",
            evidence="A test submission.",
            origin="submission",
        )
        session.add(submitted)
        session.commit()
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        assert (
            session.exec(select(ReportedHead).where(ReportedHead.origin == "submission")).one().location == "Figure 99"
        )


def test_one_based_indices_are_stored_zero_based(engine: Engine, knowledge_dir: Path) -> None:
    def one_based(data: dict) -> None:  # type: ignore[type-arg]
        data["index_base"] = 1
        data["groups"] = [{**data["groups"][0], "heads": ["10.10"]}]

    edit_yaml(knowledge_dir / "reported_heads/ioi-gpt2-small.yaml", one_based)
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        (reported,) = list_reported_heads(session=session, paper="IOI_23_ICLR_Redwood")
    assert (reported.layer, reported.head, reported.paper_index, reported.index_base) == (
        9,
        9,
        "10.10",
        1,
    )
    assert isinstance(reported, ReportedHeadPublic) and reported.label == "L9H9"


def test_every_model_but_those_only_datasets_name_gets_all_its_heads(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    knowledge = load_knowledge(knowledge_dir)
    listed = {loaded.entry.model for dataset in knowledge.datasets for loaded in dataset.lists}
    only_listed = listed - {source.content.model for source in knowledge.reported_heads}  # their heads: the lists'
    assert "mixtral-8x7b-v0.1" in only_listed and "smollm2-135m-instruct" not in only_listed
    with Session(engine) as session:
        for model in session.exec(select(Model)):
            heads = session.exec(select(Head).where(Head.model_id == model.id)).all()
            assert len(heads) == (0 if model.slug in only_listed else model.n_layers * model.n_heads)


def test_a_dataset_list_keeps_its_heads_in_its_own_unit(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        heads = list_dataset_heads(session=session, slug="duo-attention-gates", model="mistral-7b-instruct-v0.2")
    assert len(heads) == 32 * 8 and {h.unit for h in heads} == {"kv-head"} and max(h.head for h in heads) == 7


def add_run(engine: Engine, *, head_type: str | None = None, method: str | None = None) -> int:
    """A stored run of gpt2-small that points at `head_type` and `method`, as verification would write it."""
    with Session(engine) as session:
        run = Run(
            model_id=session.exec(select(Model.id).where(Model.slug == "gpt2-small")).one(),
            detector="probe",
            detector_version="1",
            head_type_id=session.exec(select(HeadType.id).where(HeadType.slug == head_type)).first(),
            method_id=session.exec(select(Method.id).where(Method.slug == method)).first(),
            seed=0,
            code_version="test",
            status="complete",
            started_at=datetime.now(UTC),
        )
        session.add(run)
        session.commit()
        return run.id  # type: ignore[return-value]


def add_head_type(knowledge_dir: Path, slug: str) -> None:
    def extend(data: dict) -> None:  # type: ignore[type-arg]
        entry = dict(head_type(data, "induction-head"), slug=slug, name=slug.title(), aliases=[], related=[])
        data["head_types"].append(entry)

    edit_yaml(knowledge_dir / "head_types/lr.yaml", extend)


def test_a_head_type_that_runs_refer_to_cannot_be_removed(engine: Engine, knowledge_dir: Path) -> None:
    add_head_type(knowledge_dir, "probe-head")
    ingest_knowledge(engine, knowledge_dir)
    run_id = add_run(engine, head_type="probe-head")
    before = snapshot(engine)
    edit_yaml(knowledge_dir / "head_types/lr.yaml", lambda d: d["head_types"].pop())
    with pytest.raises(KnowledgeError, match=rf"head type 'probe-head' .* run {run_id} \(gpt2-small, probe, seed 0\)"):
        ingest_knowledge(engine, knowledge_dir)
    assert snapshot(engine) == before


def test_a_head_type_that_verdicts_name_cannot_be_removed(engine: Engine, knowledge_dir: Path) -> None:
    add_head_type(knowledge_dir, "probe-head")
    ingest_knowledge(engine, knowledge_dir)
    run_id = add_run(engine)
    with Session(engine) as session:
        head = session.exec(select(Head).join(Model).where(Model.slug == "gpt2-small")).first()
        probe = session.exec(select(HeadType.id).where(HeadType.slug == "probe-head")).one()
        session.add(
            Verdict(run_id=run_id, head_id=head.id, head_type_id=probe, score=1.0, threshold=0.5, shows_behaviour=True)
        )  # type: ignore[union-attr]
        session.commit()
    edit_yaml(knowledge_dir / "head_types/lr.yaml", lambda d: d["head_types"].pop())
    with pytest.raises(KnowledgeError, match=rf"1 run\(s\) refer to it: run {run_id} "):
        ingest_knowledge(engine, knowledge_dir)


def test_a_method_that_runs_refer_to_cannot_be_removed(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    run_id = add_run(engine, method="directional-addition")
    before = snapshot(engine)
    edit_yaml(knowledge_dir / "methods.yaml", lambda d: d["families"][0]["kinds"][0]["methods"].pop(0))
    with pytest.raises(KnowledgeError, match=rf"method 'directional-addition' .* run {run_id} "):
        ingest_knowledge(engine, knowledge_dir)
    assert snapshot(engine) == before


def test_a_removed_report_leaves_the_verdicts_that_cited_it_uncited(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    run_id = add_run(engine)
    with Session(engine) as session:
        report = session.exec(select(ReportedHead).join(Paper).where(Paper.key == "IOI_23_ICLR_Redwood")).first()
        session.add(
            Verdict(
                run_id=run_id,
                head_id=report.head_id,  # type: ignore[union-attr]
                head_type_id=report.head_type_id,  # type: ignore[union-attr]
                score=1.0,
                threshold=0.5,
                shows_behaviour=True,
                reported_head_id=report.id,  # type: ignore[union-attr]
            )
        )
        session.commit()
    (knowledge_dir / "reported_heads/ioi-gpt2-small.yaml").unlink()
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        assert session.exec(select(Verdict.reported_head_id)).one() is None


def test_models_yaml_cannot_reshape_a_verified_model(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        model = session.exec(select(Model).where(Model.slug == "gpt2-small")).one()
        model.identity = "hub:openai-community/gpt2@unpinned"
        session.add(model)
        session.commit()
    before = snapshot(engine)
    edit_yaml(knowledge_dir / "models.yaml", lambda d: d["models"][0].update(n_layers=24))
    with pytest.raises(
        KnowledgeError, match=r"model 'gpt2-small'.*\(24, 12, 12\) contradicts \(12, 12, 12\).*hub:openai"
    ):
        ingest_knowledge(engine, knowledge_dir)
    assert snapshot(engine) == before


def add_verdict(engine: Engine, run_id: int, report: ReportedHead) -> None:
    """An uncited verdict on the reported head's head and type, as a run written before the report would store it."""
    with Session(engine) as session:
        session.add(
            Verdict(
                run_id=run_id,
                head_id=report.head_id,
                head_type_id=report.head_type_id,
                score=1.0,
                threshold=0.5,
                shows_behaviour=True,
            )
        )
        session.commit()


def first_ioi_report(engine: Engine) -> ReportedHead:
    with Session(engine) as session:
        query = select(ReportedHead).join(Paper).where(Paper.key == "IOI_23_ICLR_Redwood").order_by(ReportedHead.id)
        return session.exec(query).first()  # type: ignore[return-value]


def test_a_verdict_stored_before_its_report_cites_it_after_the_next_load(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    report = first_ioi_report(engine)
    add_verdict(engine, add_run(engine), report)
    ingest_knowledge(engine, knowledge_dir)
    with Session(engine) as session:
        assert session.exec(select(Verdict.reported_head_id)).one() == report.id


def test_a_submitted_report_is_cited_by_the_verdicts_already_on_its_head(engine: Engine, knowledge_dir: Path) -> None:
    ingest_knowledge(engine, knowledge_dir)
    report = first_ioi_report(engine)
    with Session(engine) as session:
        head = session.get(Head, report.head_id)
        layer, index = head.layer, head.head  # type: ignore[union-attr]
        head_type = session.get(HeadType, report.head_type_id).slug  # type: ignore[union-attr]
        session.delete(session.get(ReportedHead, report.id))
        session.commit()
    add_verdict(engine, add_run(engine), report)
    submission = ReportedHeadCreate(
        paper="IOI_23_ICLR_Redwood",
        model="gpt2-small",
        head_type=head_type,
        layer=layer,
        head=index,
        location="Figure 3",
        evidence="Submitted after the run.",
    )
    with Session(engine) as session:
        _, created = submit_reported_head(session=session, submission=submission)
        submitted = session.exec(select(ReportedHead.id).where(ReportedHead.origin == "submission")).one()
        assert created and session.exec(select(Verdict.reported_head_id)).one() == submitted
