"""What every command shares: settings, the catalog, error translation and output."""

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, InterfaceError, NoSuchModuleError
from sqlmodel import Session, func, select

from catalog.db import make_engine, stored_revision, upgrade
from catalog.models import Stage
from catalog.settings import Settings
from ingest.knowledge_files import KnowledgeError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
FIRST_STEP = "run `headatlas ingest knowledge` first"


def engine_of(settings: Settings) -> Engine:
    """The catalog's engine; a URL SQLAlchemy cannot use is one line naming it."""
    try:
        return make_engine(settings.database_url)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        url = settings.database_url
        raise click.ClickException(f"--database-url {url!r} is not a usable database URL: {error}") from None


@contextmanager
def catalog_session(settings: Settings) -> Iterator[Session]:
    """A session on an existing catalog, brought to the newest schema; a read never creates a database."""
    engine = existing_catalog(settings)
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Stage)).one() == 0:
            raise click.ClickException(f"The catalog at {shown_url(engine)} holds no knowledge yet: {FIRST_STEP}.")
        yield session


def existing_catalog(settings: Settings) -> Engine:
    engine = engine_of(settings)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") and not Path(database).is_file():
        raise click.ClickException(f"No catalog at {database}: {FIRST_STEP}, or give --database-url.")
    with reaching(engine):
        if stored_revision(engine) is None:
            raise click.ClickException(f"{shown_url(engine)} holds no catalog: {FIRST_STEP}.")
        upgrade(engine)
    return engine


@contextmanager
def reaching(engine: Engine) -> Iterator[None]:
    """A database that does not answer, refuses us or is not a database is one line naming it."""
    try:
        yield
    except (DatabaseError, InterfaceError) as error:
        reason = (str(error.orig).strip().splitlines() or ["no reason given"])[0]
        raise click.ClickException(f"Cannot open the catalog at {shown_url(engine)}: {reason}") from None


def shown_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def errors_as_usage() -> Iterator[None]:
    """Bad input becomes a one-line CLI error; nothing else is caught."""
    try:
        yield
    except KnowledgeError as error:
        raise click.ClickException(f"The knowledge files were not loaded; nothing changed.\n{error}") from error
    except ValueError as error:
        raise click.UsageError(str(error)) from error


def print_result(data: Any, as_json: bool, as_text: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(json.dumps(json_shape(data), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(as_text(data))


def json_shape(data: Any) -> Any:
    """A list as the API answers one, `{"data": [...], "count": n}`; anything else as its JSON value."""
    if isinstance(data, list):
        return {"data": jsonable(data), "count": len(data)}
    return jsonable(data)


def jsonable(data: Any) -> Any:
    if isinstance(data, list | tuple):
        return [jsonable(item) for item in data]
    if isinstance(data, dict):
        return {key: jsonable(value) for key, value in data.items()}
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return jsonable({f.name: getattr(data, f.name) for f in dataclasses.fields(data)})
    return data
