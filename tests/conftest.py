"""Fixtures: every catalog test runs against real SQLite and against the PostgreSQL server.

PostgreSQL is the one at HEADATLAS_TEST_POSTGRES_URL (default: the local
server's `test` database); each test gets a schema of its own. Outside CI a
missing server skips those tests; in CI it fails them.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from catalog.db import make_engine, upgrade
from catalog.settings import KNOWLEDGE_DIR
from ingest.write_knowledge import ingest_knowledge

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The documentation site's test catalog and build, shared by tests/sitegen and tests/browser.
pytest_plugins = ["tests.utils.site"]

# The server the PostgreSQL half of the suite runs against.
POSTGRES_URL = os.environ.get("HEADATLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Converted model weights persist here between test runs (the first run builds them).
MODEL_CACHE = Path(os.environ.get("HEADATLAS_CACHE_DIR", Path.home() / ".cache" / "headatlas"))
BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty catalog at the newest schema."""
    with _empty_database(backend, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge files, for tests that break them."""
    return Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A catalog holding the shipped knowledge; shared, so tests must only read it."""
    with _empty_database(request.param, tmp_path_factory.mktemp("loaded")) as url:
        engine = make_engine(url)
        ingest_knowledge(engine, KNOWLEDGE_DIR)
        yield engine
        engine.dispose()


@pytest.fixture
def loaded(loaded_engine: Engine) -> Iterator[Session]:
    with Session(loaded_engine) as session:
        yield session


@pytest.fixture(scope="module", params=BACKENDS)
def writable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A catalog of this test module's own holding the shipped knowledge; its tests write to it, each on its `model`."""
    from tests.utils.attention_runs import knowledge_engine  # imported where used: it loads torch

    with knowledge_engine(request.param, tmp_path_factory.mktemp("writable")) as engine:
        yield engine


@pytest.fixture
def model(request: pytest.FixtureRequest) -> str:
    """A model slug of this test's own (its name with its parameters), which no other test writes to."""
    from tests.utils.attention_runs import own_model

    return own_model(request.node.name)


class _empty_database:
    """A context manager yielding the URL of a fresh, empty database of `backend`."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend, self.folder = backend, folder
        self.schema = f"test_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / 'catalog.db'}"
        self._admin(f"CREATE SCHEMA {self.schema}")
        return f"{POSTGRES_URL}?options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_: object) -> None:
        if self.backend == "postgresql":
            self._admin(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def _admin(self, statement: str) -> None:
        try:
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(statement))
            admin.dispose()
        except Exception as error:  # noqa: BLE001 - any failure to reach the server
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}")


@pytest.fixture(scope="session")
def smollm2():  # type: ignore[no-untyped-def]
    """The bundled SmolLM2-135M-Instruct, dequantized once into the user cache and shared."""
    from ingest.model_loading import load_model

    return load_model("smollm2", cache_dir=MODEL_CACHE)


@pytest.fixture(scope="session")
def iteration_toy():  # type: ignore[no-untyped-def]
    """The parity toy model, trained once (seeded) into the user cache and shared."""
    from ingest.model_loading import load_model

    return load_model("toy-iteration", cache_dir=MODEL_CACHE)
