"""GET /api/v1/models/{slug}/heads/{layer}/{head}/attention: one head's attention on each run's prompt, as a page.

The catalog holds the shipped knowledge and, on a hand-made model of 2 layers of
3 heads, two runs sharing one prompt and one run on another (written by
ingest.write_runs), and a run that kept no attention.
"""

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from catalog.attention import LEVELS
from catalog.db import make_engine
from tests.api.conftest import make_client
from tests.conftest import BACKENDS
from tests.utils.attention_runs import N_HEADS, N_LAYERS, attention, knowledge_catalog, write

MODEL = "tiny-attention"
SHARED, OTHER = attention(seed=1), attention(7, start=3, prompt_length=10, seed=2)


def attention_of(layer: int, head: int) -> str:
    return f"/api/v1/models/{MODEL}/heads/{layer}/{head}/attention"


@pytest.fixture(scope="module", params=BACKENDS)
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """The catalog's URL and the ids of its runs that kept attention, in the order written."""
    with knowledge_catalog(request.param, tmp_path_factory.mktemp("head-attention")) as url:
        engine = make_engine(url)
        kept = [
            write(engine, MODEL, "induction", seed=0, attention=SHARED),
            write(engine, MODEL, "duplicate_token", seed=0, attention=SHARED),
            write(engine, MODEL, "induction", seed=1, attention=OTHER),
        ]
        write(engine, MODEL, "duplicate_token", seed=1, attention=None)
        engine.dispose()
        yield url, kept


@pytest.fixture(scope="module")
def api(runs: tuple[str, list[int]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(runs[0], tmp_path_factory.mktemp("app")) as client:
        yield client


def test_the_answer_is_a_page_of_every_run_that_kept_attention(api: TestClient, runs: tuple[str, list[int]]) -> None:
    response = api.get(attention_of(0, 0))
    page = response.json()
    assert response.status_code == 200
    assert set(page) == {"data", "count", "limit", "offset"}
    assert page["count"] == 3 and page["offset"] == 0
    assert [entry["run_id"] for entry in page["data"]] == runs[1]
    assert [entry["detector"] for entry in page["data"]] == ["induction", "duplicate_token", "induction"]


def test_each_entry_names_its_prompts_tokens_and_window(api: TestClient) -> None:
    entries = api.get(attention_of(0, 0)).json()["data"]
    windows = [(entry["tokens"], entry["start"], entry["prompt_length"]) for entry in entries]
    assert windows == [(SHARED.tokens, 0, 5), (SHARED.tokens, 0, 5), (OTHER.tokens, 3, 10)]


@pytest.mark.parametrize(("layer", "head"), [(0, 0), (1, 2)])
def test_each_entry_holds_that_heads_weights_over_255(api: TestClient, layer: int, head: int) -> None:
    entries = api.get(attention_of(layer, head)).json()["data"]
    for entry, kept in zip(entries, [SHARED, SHARED, OTHER], strict=True):
        assert np.allclose(entry["weights"], kept.weights[layer, head] / LEVELS, atol=5e-5, rtol=0)


def test_the_page_is_windowed_by_limit_and_offset(api: TestClient, runs: tuple[str, list[int]]) -> None:
    page = api.get(attention_of(0, 0), params={"limit": 1, "offset": 2}).json()
    assert (page["count"], page["limit"], page["offset"]) == (3, 1, 2)
    assert [entry["run_id"] for entry in page["data"]] == runs[1][2:]


def test_an_unknown_model_is_a_not_found_problem_naming_the_slug(api: TestClient) -> None:
    response = api.get("/api/v1/models/no-such-model/heads/0/0/attention")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert [(error["in"], error["name"]) for error in response.json()["errors"]] == [("path", "slug")]


@pytest.mark.parametrize(("layer", "head"), [(N_LAYERS, 0), (0, N_HEADS)])
def test_a_head_outside_the_model_is_the_problem_reading_the_head_gives(api: TestClient, layer: int, head: int) -> None:
    path = f"/api/v1/models/{MODEL}/heads/{layer}/{head}"
    answer, head_answer = api.get(f"{path}/attention"), api.get(path)
    problem, head_problem = answer.json(), head_answer.json()
    assert answer.status_code == head_answer.status_code == 404
    assert answer.headers["content-type"] == head_answer.headers["content-type"] == "application/problem+json"
    assert problem["instance"] == f"{path}/attention"
    assert {**problem, "instance": path} == head_problem
