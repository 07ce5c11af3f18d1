"""Alembic environment: runs on the connection or engine catalog.db hands over, or on HEADATLAS_DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

from catalog import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from catalog.db import include_in_migrations, make_engine
from catalog.settings import get_settings


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # catalog.db.upgrade: in its transaction, which holds the write lock
        _migrate(connection)
        return
    engine = context.config.attributes.get("engine") or make_engine(get_settings().database_url)
    with engine.begin() as connection:
        _migrate(connection)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        render_as_batch=True,
        include_object=include_in_migrations,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
