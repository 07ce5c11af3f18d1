"""Models and their heads over HTTP: every head's scores, filtered, and one head in full."""

import pytest
from fastapi.testclient import TestClient

HEADS = "/api/v1/models/gpt2-small/heads"


def labels(client: TestClient, url: str = HEADS, **params: object) -> list[str]:
    response = client.get(url, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return [h["label"] for h in response.json()["data"]]


def test_models_are_listed_by_slug_with_their_reported_head_counts(client: TestClient) -> None:
    models = client.get("/api/v1/models").json()["data"]
    assert [m["slug"] for m in models] == sorted(m["slug"] for m in models)
    assert next(m for m in models if m["slug"] == "gpt2-small")["reported_heads"] > 20


def test_models_filter_by_family_kind_and_verification(client: TestClient) -> None:
    def found(**params: object) -> list[str]:
        return [m["slug"] for m in client.get("/api/v1/models", params=params).json()["data"]]

    assert found(family="qwen2") == [
        "qwen1.5-14b",
        "qwen1.5-14b-chat",
        "qwen2.5-7b-instruct",
        "qwen2.5-coder-0.5b-instruct",
    ]
    assert "smollm2-135m-instruct" in found(kind="instruct") and "gpt2-small" not in found(kind="instruct")
    assert found(verified=True) == ["gpt2-small", "smollm2-135m-instruct"]
    assert "gpt2-small" not in found(verified=False)


def test_unknown_model_family_is_a_400_naming_family(client: TestClient) -> None:
    problem = client.get("/api/v1/models", params={"family": "gpt5"}).json()
    assert problem["status"] == 400 and problem["errors"][0]["name"] == "family"


def test_one_model_by_a_slug_with_dots(client: TestClient) -> None:
    model = client.get("/api/v1/models/qwen2.5-coder-0.5b-instruct").json()
    assert (model["n_layers"], model["n_heads"]) == (24, 14)


def test_unknown_model_is_not_found(client: TestClient) -> None:
    assert client.get("/api/v1/models/gpt3").status_code == 404


def test_a_models_heads_are_all_listed_in_order_with_every_score(client: TestClient) -> None:
    body = client.get(HEADS, params={"limit": 3}).json()
    assert body["count"] == 144
    assert [h["label"] for h in body["data"]] == ["L0H0", "L0H1", "L0H2"]
    assert {s["detector"] for s in body["data"][1]["scores"]} == {"induction", "previous_token"}


def test_an_unscored_head_has_no_score_and_no_verdict(client: TestClient) -> None:
    scores = client.get(f"{HEADS}/0/0").json()["scores"]
    induction = next(s for s in scores if s["detector"] == "induction")
    assert induction["score"] is None and induction["shows_behaviour"] is None


def test_heads_filter_by_minimum_score_keeping_only_the_passing_scores(client: TestClient) -> None:
    body = client.get(HEADS, params={"min_score": 0.6}).json()
    assert [h["label"] for h in body["data"]] == ["L1H4", "L2H2", "L4H11", "L5H5"]
    assert all(s["score"] >= 0.6 for h in body["data"] for s in h["scores"])


def test_heads_sorted_best_score_first(client: TestClient) -> None:
    assert labels(client, min_score=0.5, sort="-score") == ["L5H5", "L2H2", "L1H4", "L4H11", "L5H8"]


def test_heads_filter_by_detector_and_verdict(client: TestClient) -> None:
    assert labels(client, detector="induction", verdict="found") == ["L1H4", "L5H5", "L5H8"]
    assert len(labels(client, detector="previous_token", verdict="not_found", limit=200)) == 142


def test_heads_filter_by_head_type(client: TestClient) -> None:
    assert labels(client, head_type="previous-token-head", verdict="found") == ["L2H2", "L4H11"]


def test_heads_filter_by_layer_range(client: TestClient) -> None:
    body = client.get(HEADS, params={"layer_min": 5, "layer_max": 6}).json()
    assert body["count"] == 24 and {h["layer"] for h in body["data"]} == {5, 6}


def test_a_head_lists_the_papers_reporting_it(client: TestClient) -> None:
    head = client.get(HEADS, params={"layer_min": 9, "layer_max": 9}).json()["data"][9]
    assert head["label"] == "L9H9" and "name-mover-head" in [r["head_type"] for r in head["reported"]]


def test_heads_of_a_model_without_runs_have_reports_and_no_scores(client: TestClient) -> None:
    body = client.get("/api/v1/models/pythia-1.4b/heads", params={"limit": 1}).json()
    assert body["count"] == 24 * 16 and body["data"][0]["scores"] == []


@pytest.mark.parametrize(("parameter", "value"), [("detector", "inductoin"), ("head_type", "ghost-head")])
def test_an_unknown_score_filter_is_a_400_naming_it(client: TestClient, parameter: str, value: str) -> None:
    problem = client.get(HEADS, params={parameter: value}).json()
    assert problem["status"] == 400 and [e["name"] for e in problem["errors"]] == [parameter]


def test_a_bad_verdict_value_is_a_422(client: TestClient) -> None:
    problem = client.get(HEADS, params={"verdict": "maybe"}).json()
    assert problem["status"] == 422 and problem["errors"][0]["name"] == "verdict"


def test_heads_of_an_unknown_model_are_not_found(client: TestClient) -> None:
    problem = client.get("/api/v1/models/gpt3/heads").json()
    assert problem["status"] == 404 and problem["errors"][0]["name"] == "slug"


def test_one_head_with_its_scores_best_first_and_its_reports(client: TestClient) -> None:
    head = client.get(f"{HEADS}/5/5").json()
    assert head["label"] == "L5H5" and head["relative_depth"] == 0.455
    assert [s["detector"] for s in head["scores"]] == ["induction", "previous_token"]
    assert head["scores"][0] | {"run_id": 0} == {
        "run_id": 0,
        "detector": "induction",
        "detector_version": "1",
        "head_type": "induction-head",
        "score": 0.9,
        "score_low": 0.85,
        "score_high": 0.95,
        "pass_rate": 1.0,
        "q_value": None,
        "baseline": 0.01,
        "threshold": 0.4,
        "shows_behaviour": True,
    }
    assert [r["paper"] for r in head["reported"]] == ["IOI_23_ICLR_Redwood"]


@pytest.mark.parametrize(("path", "parameter"), [("12/0", "layer"), ("0/12", "head")])
def test_a_head_outside_the_model_is_not_found_naming_the_index(client: TestClient, path: str, parameter: str) -> None:
    problem = client.get(f"{HEADS}/{path}").json()
    assert problem["status"] == 404 and [e["name"] for e in problem["errors"]] == [parameter]
    assert "gpt2-small has" in problem["detail"]
