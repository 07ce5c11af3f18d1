"""Engines, sessions, the catalog's write lock, and migrations.

The schema belongs to Alembic: `upgrade` brings any database to the newest
revision, and every command calls it before touching the catalog.

Writers take turns. Every write transaction takes the catalog's one write lock
before its first statement, reads included, so that two ingests or runs
written at once never interleave: on SQLite `BEGIN IMMEDIATE`, on PostgreSQL a
transaction-level advisory lock keyed by the schema. A writer that has to wait
says so in the log, and waits.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, QueuePool, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from catalog.derived import needs_rebuild, rebuild_derived

logger = logging.getLogger(__name__)

# Where the Alembic environment and revisions live.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# How long a writer waits for another to finish before giving up, in seconds.
WRITER_WAIT_SECONDS = 600
# How long a caller of a bounded pool waits for a connection before giving up, in seconds.
POOL_TIMEOUT_SECONDS = 5
# The advisory lock's first key on PostgreSQL (the second is the schema's hash): "hatl".
ADVISORY_LOCK_CLASS = 0x6861746C
# Objects the migrations create by hand, outside SQLModel's metadata: the
# SQLite FTS5 index and PostgreSQL's stored tsvector column and its index.
HAND_MADE = {
    "search_fts",
    "search_fts_data",
    "search_fts_idx",
    "search_fts_docsize",
    "search_fts_config",
    "search_fts_content",
    "document",
    "ix_search_document_fts",
}


def make_engine(database_url: str, *, pool_size: int | None = None) -> Engine:
    """Create an engine; SQLite gets foreign keys enforced like PostgreSQL.

    With `pool_size`, the pool holds exactly that many connections and no
    overflow, for a caller that bounds its own concurrency to them (the API);
    one that waits anyway gets sqlalchemy's TimeoutError after POOL_TIMEOUT_SECONDS.
    """
    options = {}
    if pool_size is not None:
        options = {
            "poolclass": QueuePool,
            "pool_size": pool_size,
            "max_overflow": 0,
            "pool_timeout": POOL_TIMEOUT_SECONDS,
        }
    engine = create_engine(database_url, json_deserializer=read_json, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def read_json(text: str) -> object:
    """A JSON column's value: orjson (3.1 times as fast as json on the built catalog's authors, params and
    evidence), or json for the NaN and Infinity that json.dumps writes and orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Alembic's filter: leave the hand-made search objects out of schema comparisons."""
    return name not in HAND_MADE


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def stored_revision(engine: Engine) -> str | None:
    """The schema revision the database holds; None for a database no catalog was ever written to."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema revision, one migrating process at a time, in one transaction
    with the derived data a catalog from an earlier revision lacks (catalog.derived)."""
    config = alembic_config(engine)
    before = stored_revision(engine)
    if before == ScriptDirectory.from_config(config).get_current_head():
        return
    with engine.connect() as connection:
        lock_for_writing(connection, "a schema upgrade")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if needs_rebuild(before):
            with Session(bind=connection) as session:
                rebuild_derived(session)
        connection.commit()


@contextmanager
def write_transaction(engine: Engine, purpose: str) -> Iterator[Session]:
    """A session holding the catalog's write lock, committed whole on success and rolled back on any error.

    `purpose` names the writer in the message another writer logs while it waits.
    """
    with Session(engine) as session:
        try:
            lock_for_writing(session.connection(), purpose)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_for_writing(connection: Connection, purpose: str) -> None:
    """Take the write lock for the transaction `connection` is in; it is released when that transaction ends."""
    if connection.dialect.name == "sqlite":
        _begin_immediate(connection, purpose)
    elif connection.dialect.name == "postgresql":
        _advisory_lock(connection, purpose)
    else:
        raise NotImplementedError(f"no write lock for {connection.dialect.name}")


def _begin_immediate(connection: Connection, purpose: str) -> None:
    """SQLite's own writer lock, taken before the first read: Python's sqlite3 would only take it at the first write."""
    connection.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:
        if "locked" not in str(error.orig):
            raise
        logger.warning("Another writer holds the catalog; %s waits for it (at most %d s)", purpose, WRITER_WAIT_SECONDS)
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {WRITER_WAIT_SECONDS * 1000}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql("PRAGMA busy_timeout = 5000")  # sqlite3's default, for the commit


def _advisory_lock(connection: Connection, purpose: str) -> None:
    """A lock per schema, so that catalogs sharing one database do not wait for each other."""
    key = {"lock_class": ADVISORY_LOCK_CLASS}
    taken = connection.execute(text("SELECT pg_try_advisory_xact_lock(:lock_class, hashtext(current_schema()))"), key)
    if taken.scalar_one():
        return
    logger.warning("Another writer holds the catalog; %s waits for it", purpose)
    connection.execute(text(f"SET LOCAL lock_timeout = '{WRITER_WAIT_SECONDS}s'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(current_schema()))"), key)
