"""Head types over HTTP: filtered and sorted lists, and one head type with what our runs found."""

import pytest
from fastapi.testclient import TestClient


def slugs(client: TestClient, **params: object) -> list[str]:
    response = client.get("/api/v1/head-types", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return [h["slug"] for h in response.json()["data"]]


def test_head_types_come_in_the_survey_order_by_default(client: TestClient) -> None:
    body = client.get("/api/v1/head-types", params={"limit": 200}).json()
    assert body["count"] == len(body["data"]) >= 60
    assert [h["stage"] for h in body["data"][:1]] == ["KR"]


def test_stage_filter_in_any_case(client: TestClient) -> None:
    found = client.get("/api/v1/head-types", params={"stage": "lr", "limit": 200}).json()["data"]
    assert found and {h["stage"] for h in found} == {"LR"}


def test_mechanism_filter(client: TestClient) -> None:
    assert "name-mover-head" in slugs(client, mechanism="ici-syntactic-information")
    assert "induction-head" not in slugs(client, mechanism="ici-syntactic-information")


def test_family_filter_uses_the_survey_figure_marks(client: TestClient) -> None:
    assert "correct-letter-head" in slugs(client, family="gemma")


def test_verified_on_keeps_head_types_a_run_found_on_that_model(client: TestClient) -> None:
    assert slugs(client, verified_on="gpt2-small") == ["previous-token-head", "induction-head"]
    assert slugs(client, verified_on="smollm2-135m-instruct") == ["induction-head"]
    assert slugs(client, verified_on="pythia-1.4b") == []


def test_text_filter_matches_names_and_descriptions(client: TestClient) -> None:
    found = slugs(client, q="name mover")
    assert "name-mover-head" in found and "induction-head" not in found


def test_sort_by_relevance_puts_the_exact_name_first(client: TestClient) -> None:
    assert slugs(client, q="induction", sort="relevance")[0] == "induction-head"


def test_sort_by_name_both_ways(client: TestClient) -> None:
    names = [
        h["name"].lower()
        for h in client.get("/api/v1/head-types", params={"sort": "name", "limit": 200}).json()["data"]
    ]
    assert names == sorted(names)
    assert slugs(client, sort="-name") == list(reversed(slugs(client, sort="name")))


def test_filters_combine(client: TestClient) -> None:
    assert slugs(client, stage="LR", verified_on="gpt2-small") == ["induction-head"]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("stage", "XX"), ("mechanism", "ici-nothing"), ("family", "gpt5"), ("verified_on", "gpt3")],
)
def test_an_unknown_filter_value_is_a_400_naming_the_parameter_and_the_choices(
    client: TestClient, parameter: str, value: str
) -> None:
    response = client.get("/api/v1/head-types", params={parameter: value})
    assert response.status_code == 400
    problem = response.json()
    assert [e["name"] for e in problem["errors"]] == [parameter]
    assert "choose one of" in problem["detail"]


def test_an_unknown_sort_is_a_422_listing_the_choices(client: TestClient) -> None:
    problem = client.get("/api/v1/head-types", params={"sort": "age"}).json()
    assert problem["status"] == 422 and problem["errors"][0]["name"] == "sort"
    assert "taxonomy" in problem["errors"][0]["detail"]


def test_one_head_type_in_full(client: TestClient) -> None:
    induction = client.get("/api/v1/head-types/induction-head").json()
    assert induction["stage"] == "LR" and induction["qk"] and induction["ov"]
    assert induction["papers"][0]["key"] == "InductionHeads_22_TCT_Anthropic"
    assert {"L5H5", "L6H9"} <= {h["label"] for h in induction["reported_heads"] if h["model"] == "gpt2-small"}


def test_one_head_type_summarises_verification_per_model(client: TestClient) -> None:
    verification = client.get("/api/v1/head-types/induction-head").json()["verification"]
    assert [v["model"] for v in verification] == ["gpt2-small", "smollm2-135m-instruct"]
    gpt2 = verification[0]
    assert gpt2["found"] and gpt2["detectors"] == ["induction"]
    assert (gpt2["heads_scored"], gpt2["heads_found"]) == (143, 3)
    assert gpt2["found_layers"] == [1, 5] and gpt2["found_relative_depths"] == [0.091, 0.455]
    assert gpt2["best"] == {
        "layer": 5,
        "head": 5,
        "score": 0.9,
        "score_low": 0.85,
        "score_high": 0.95,
        "pass_rate": 1.0,
        "label": "L5H5",
    }
    assert (gpt2["reported_confirmed"], gpt2["reported_contradicted"]) == (2, 2)


def test_a_head_type_no_run_tested_has_no_verification(client: TestClient) -> None:
    assert client.get("/api/v1/head-types/name-mover-head").json()["verification"] == []


def test_unknown_head_type_is_not_found_and_names_the_slug(client: TestClient) -> None:
    response = client.get("/api/v1/head-types/ghost-head")
    assert response.status_code == 404
    assert response.json()["errors"] == [{"in": "path", "name": "slug", "detail": "No head type 'ghost-head'"}]
