"""The API against its own OpenAPI document: generated requests never cause a server error,
and every answer matches the schema documented for its status.

schemathesis generates requests for each operation of /api/v1/openapi.json and sends
them in-process to the ASGI app, on SQLite and on PostgreSQL. Examples are bounded so
that the whole run takes about a minute. (schemathesis' own pytest loader for lazy
schemas does not run under pytest 9, so the operations are parametrized here.)
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import AUTH, TOKEN

# Generated requests per operation; enough to reach every parameter, few enough to stay fast.
MAX_EXAMPLES = 40
# The properties checked on every answer.
CHECKS = [not_a_server_error, response_schema_conformance]
# Every operation of the document (built without touching a database).
OPERATIONS = [
    (method.upper(), path)
    for path, operations in create_app(ApiSettings(database_url="sqlite://")).openapi()["paths"].items()
    for method in operations
]


@pytest.fixture
def api_schema(writable_url: str, tmp_path: Path) -> Iterator[schemathesis.BaseSchema]:
    """The app's own document, loaded from the app; its writes go to this module's catalog."""
    settings = ApiSettings(database_url=writable_url, api_token=TOKEN, site_dir=tmp_path / "no-site")  # type: ignore[arg-type]
    app = create_app(settings)
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    app.state.engine.dispose()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_every_answer_matches_the_schema(
    api_schema: schemathesis.BaseSchema, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    headers = AUTH if method == "POST" else None
    # Generated requests, and the document's own examples (real slugs, so that some answers hold data).
    strategy = st.one_of(operation.as_strategy(), *api_schema.get_strategies_from_examples(operation))

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
