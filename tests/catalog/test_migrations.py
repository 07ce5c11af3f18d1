"""Alembic owns the schema: migrations build exactly the tables the models declare."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel

from catalog import crud
from catalog.db import alembic_config, include_in_migrations, stored_revision, upgrade
from catalog.matrix import verification_summaries
from catalog.settings import KNOWLEDGE_DIR
from ingest.write_knowledge import ingest_knowledge
from tests.api.factories import add_run


def test_upgrade_creates_every_table(engine: Engine) -> None:
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_in_migrations}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    assert "head_type" in inspect(engine).get_table_names()


def test_a_catalog_holding_runs_migrates_down_to_0008_and_up_again_keeping_them(engine: Engine) -> None:
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    run = add_run(engine, model="gpt2-small", detector="induction", head_type="induction-head", threshold=0.4,
                  scores={(5, 5): 0.9}, default=0.1)  # fmt: skip
    command.downgrade(alembic_config(engine), "0008")  # SQLite must not rebuild a table its rows' references hold
    assert "attention_example" not in inspect(engine).get_table_names()
    upgrade(engine)
    with engine.connect() as connection:
        scores = connection.execute(text("SELECT count(*) FROM head_score WHERE run_id = :run"), {"run": run}).scalar()
    assert stored_revision(engine) == "0010" and scores == 144


def test_a_catalog_migrated_from_0009_gets_its_summaries_and_paper_texts_computed(engine: Engine) -> None:
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    add_run(engine, model="gpt2-small", detector="induction", head_type="induction-head", threshold=0.4,
            scores={(5, 5): 0.9}, default=0.1)  # fmt: skip
    with Session(engine) as session:
        before = verification_summaries(session)
    command.downgrade(alembic_config(engine), "0009")
    upgrade(engine)
    with Session(engine) as session:
        assert verification_summaries(session) == before != {}
        assert crud.find_papers(session=session, text="Interpretability in the Wild")[0].key == "IOI_23_ICLR_Redwood"
