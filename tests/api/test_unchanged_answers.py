"""The API's answers on the test catalog are the ones recorded before lists moved from Python into SQL.

tests/data/api_answers.json holds, for every list endpoint (whole, filtered,
sorted and windowed) and for the reads that were rewritten (a head type in
full, a run), the answer as the code of 4b3c897 gave it, on SQLite, and on
PostgreSQL where its answer differs (search ranks with each database's own
full-text engine). An answer that changes on purpose is recorded again with
HEADATLAS_RECORD_ANSWERS=1, and the diff is reviewed.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

# Where the recorded answers are kept.
ANSWERS = Path(__file__).parents[1] / "data" / "api_answers.json"

# Every list endpoint, with the filters, orders and windows each offers.
ASKED = [
    "/stages",
    "/stages?limit=2&offset=1",
    "/mechanisms",
    "/mechanisms?limit=3&offset=4",
    "/head-types?limit=200",
    "/head-types?stage=ICI&limit=200",
    "/head-types?mechanism=lr-in-context-learning",
    "/head-types?family=llama&limit=200",
    "/head-types?verified_on=gpt2-small",
    "/head-types?q=induction&sort=relevance",
    "/head-types?q=head&sort=-name&limit=7&offset=3",
    "/head-types?sort=name&limit=10&offset=20",
    "/head-types?offset=500",
    "/models?limit=200",
    "/models?verified=true",
    "/models?verified=false&limit=5&offset=2",
    "/models?family=gpt2",
    "/models/gpt2-small/heads?limit=200",
    "/models/gpt2-small/heads?limit=200&offset=100",
    "/models/gpt2-small/heads?min_score=0.5&sort=-score",
    "/models/gpt2-small/heads?detector=induction&verdict=found",
    "/models/gpt2-small/heads?head_type=previous-token-head&verdict=not_found&limit=5&offset=10",
    "/models/gpt2-small/heads?layer_min=5&layer_max=6&sort=-score&limit=30",
    "/models/smollm2-135m-instruct/heads?sort=-score&limit=5",
    "/models/smollm2-135m-instruct/heads/3/0/attention",
    "/papers?limit=200",
    "/papers?limit=200&offset=200",
    "/papers?year=2024&q=head&limit=50",
    "/papers?q=induction",
    "/papers?year=2023&limit=3&offset=2",
    "/methods?limit=200",
    "/methods?limit=4&offset=4",
    "/benchmarks?limit=200",
    "/datasets?limit=200",
    "/runs",
    "/runs?model=gpt2-small",
    "/runs?detector=induction&limit=1&offset=1",
    "/search?q=induction+head",
    "/search?q=name+mover&kind=head_type&kind=paper&limit=5&offset=1",
    "/reported-heads?limit=200",
    "/reported-heads?limit=200&offset=200",
    "/reported-heads?model=gpt2-small&head_type=name-mover-head",
    "/reported-heads?stage=ICI&limit=10&offset=5",
    "/reported-heads?paper=IOI_23_ICLR_Redwood&limit=200",
    "/verification-requests",
    "/head-types/induction-head",
    "/head-types/previous-token-head",
    "/runs/1",
    "/runs/2",
    "/runs/3",
]


def _answer(client: TestClient, path: str) -> Any:
    response = client.get("/api/v1" + path)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def test_every_list_and_rewritten_read_answers_as_recorded(client: TestClient, backend_of_client: str) -> None:
    answers = {path: _answer(client, path) for path in ASKED}
    if os.environ.get("HEADATLAS_RECORD_ANSWERS") == "1":
        _record(backend_of_client, answers)
    recorded = json.loads(ANSWERS.read_text())
    expected = recorded["sqlite"] | recorded.get(backend_of_client, {})
    changed = [path for path in ASKED if answers[path] != expected.get(path)]
    assert not changed, f"answers differ from tests/data/api_answers.json for {changed}"


def _record(backend: str, answers: dict[str, Any]) -> None:
    """SQLite's answers in full; another backend's only where they differ from SQLite's (run SQLite first)."""
    recorded = json.loads(ANSWERS.read_text()) if ANSWERS.exists() and backend != "sqlite" else {}
    if backend != "sqlite":
        answers = {path: answer for path, answer in answers.items() if recorded["sqlite"].get(path) != answer}
    ANSWERS.write_text(json.dumps(recorded | {backend: answers}, indent=1, sort_keys=True) + "\n")


@pytest.fixture
def backend_of_client(catalog_url: str) -> str:
    return "postgresql" if catalog_url.startswith("postgresql") else "sqlite"
