"""Fixtures: the API over a real catalog, on SQLite and on PostgreSQL.

`client` reads a catalog holding the shipped knowledge and three hand-made runs
(tests/api/factories.py), shared by every read test of one backend. `writer`
writes to a catalog of its own per test module, with the bearer token TOKEN.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from catalog.db import make_engine
from catalog.settings import KNOWLEDGE_DIR
from ingest.write_knowledge import ingest_knowledge
from tests.api.factories import add_test_runs
from tests.conftest import BACKENDS, _empty_database

# The bearer token the test apps are configured with.
TOKEN = "test-token"
# The header that authorises a write.
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(url: str, folder: Path, **settings: object) -> TestClient:
    """A client of an app on the catalog at `url`, with no docs site unless `site_dir` is given."""
    values: dict[str, object] = {"api_token": TOKEN, "site_dir": folder / "no-site"} | settings
    return TestClient(create_app(ApiSettings(database_url=url, **values)))  # type: ignore[arg-type]


def filled_catalog(url: str) -> None:
    engine = make_engine(url)
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    add_test_runs(engine)
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A catalog with the shipped knowledge and the test runs; shared, so tests must only read it."""
    with _empty_database(request.param, tmp_path_factory.mktemp("api")) as url:
        filled_catalog(url)
        yield url


@pytest.fixture(scope="session")
def client(catalog_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(catalog_url, tmp_path_factory.mktemp("app")) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def writable_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A catalog of this test module's own, which its tests write to (each with values of its own)."""
    with _empty_database(request.param, tmp_path_factory.mktemp("writable")) as url:
        filled_catalog(url)
        yield url


@pytest.fixture(scope="module")
def writer(writable_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(writable_url, tmp_path_factory.mktemp("app")) as client:
        yield client
