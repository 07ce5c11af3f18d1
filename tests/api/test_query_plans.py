"""Every filter the API offers reaches the large tables through an index, on both backends.

Each request's statements are caught as the app runs them and explained with
the same parameters: on SQLite no `SCAN` of a large table may appear in the plan,
and on PostgreSQL (sequential scans priced out, since on a test catalog a scan is
always cheapest) no `Seq Scan` of one.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event

# Tables that grow with runs, models and requests; the knowledge's own tables hold tens to hundreds of rows.
LARGE_TABLES = (
    "head_score",
    "verdict",
    "head",
    "run",
    "reported_head",
    "dataset_head",
    "verification_request",
    "verification_summary",
    "attention_example",
    "run_attention",
)

# A request per filter, as the API takes them.
FILTERED = [
    "/models/gpt2-small/heads?detector=induction&min_score=0.5&verdict=found&layer_min=1&layer_max=6",
    "/models/gpt2-small/heads?head_type=induction-head&sort=-score",
    "/models/gpt2-small/heads/5/5",
    "/models/smollm2-135m-instruct/heads/3/0/attention",
    "/runs?model=gpt2-small&detector=induction",
    "/runs/1",
    "/reported-heads?model=gpt2-small&head_type=name-mover-head",
    "/reported-heads?paper=IOI_23_ICLR_Redwood",
    "/verification-requests?status=queued",
    "/head-types/induction-head",
    "/head-types?verified_on=gpt2-small",
    "/datasets/duo-attention-gates/heads?model=llama-2-7b-32k-instruct",
    "/models/gpt2-small",
]


@pytest.mark.parametrize("path", FILTERED)
def test_a_filtered_read_reaches_large_tables_by_index(client: TestClient, path: str) -> None:
    with _statements(client) as statements:
        assert client.get("/api/v1" + path).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        scans = [
            plan for statement, parameters in statements if (plan := _full_scans(connection, statement, parameters))
        ]
    assert statements and not scans, scans


class _statements:
    """The statements the app's engine runs while the block runs."""

    def __init__(self, client: TestClient) -> None:
        self.engine = client.app.state.engine  # type: ignore[attr-defined]
        self.caught: list[tuple[str, Any]] = []

    def _catch(self, connection, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            self.caught.append((statement, parameters))

    def __enter__(self) -> list[tuple[str, Any]]:
        event.listen(self.engine, "before_cursor_execute", self._catch)
        return self.caught

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._catch)


def _full_scans(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """The lines of the statement's plan that read a large table whole."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        lines = [str(row[-1]) for row in rows]
        return [line for line in lines if line.split()[:2] in (["SCAN", table] for table in LARGE_TABLES)]
    connection.exec_driver_sql("SET enable_seqscan = off")
    lines = [str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()]
    connection.exec_driver_sql("RESET enable_seqscan")
    return [line for line in lines if any(f"Seq Scan on {table} " in line + " " for table in LARGE_TABLES)]
