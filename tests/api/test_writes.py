"""Writes over HTTP: submitting reported heads and queueing verifications, behind a bearer token.

Each test writes values of its own to the module's catalog (the `writer` fixture).
"""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, make_client

REPORTED = "/api/v1/reported-heads"
REQUESTS = "/api/v1/verification-requests"


def submission(**changes: object) -> dict[str, object]:
    return {
        "paper": "IOI_23_ICLR_Redwood",
        "model": "gpt2-small",
        "head_type": "induction-head",
        "layer": 3,
        "head": 3,
        "location": "Appendix H",
        "evidence": "A made-up report for the tests.",
    } | changes


def test_a_write_without_a_token_is_a_401_asking_for_one(writer: TestClient) -> None:
    response = writer.post(REPORTED, json=submission())
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["name"] == "Authorization"


def test_a_write_with_a_wrong_token_is_a_403(writer: TestClient) -> None:
    response = writer.post(REPORTED, json=submission(), headers={"Authorization": "Bearer guess"})
    assert response.status_code == 403 and response.json()["type"].endswith("#forbidden")


def test_a_server_without_a_token_accepts_no_writes(writable_url: str, tmp_path: Path) -> None:
    with make_client(writable_url, tmp_path, api_token=None) as client:
        response = client.post(REQUESTS, json={"model": "smollm2"}, headers=AUTH)
    assert response.status_code == 403 and "HEADATLAS_API_TOKEN" in response.json()["detail"]


def test_a_submitted_head_is_created_and_located(writer: TestClient) -> None:
    response = writer.post(REPORTED, json=submission(layer=1, head=1), headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/models/gpt2-small/heads/1/1"
    assert response.headers["cache-control"] == "no-store"
    reported = response.json()
    assert (reported["label"], reported["origin"], reported["paper_index"]) == ("L1H1", "submission", "1.1")


def test_submitting_the_same_head_again_changes_nothing(writer: TestClient) -> None:
    first = writer.post(REPORTED, json=submission(layer=1, head=2), headers=AUTH)
    again = writer.post(REPORTED, json=submission(layer=1, head=2, evidence="Other words."), headers=AUTH)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_a_head_the_knowledge_already_reports_is_not_duplicated(writer: TestClient) -> None:
    response = writer.post(REPORTED, json=submission(head_type="name-mover-head", layer=9, head=9), headers=AUTH)
    assert response.status_code == 200 and response.json()["origin"] == "knowledge"


def test_a_one_based_index_is_stored_zero_based_beside_the_papers_own(writer: TestClient) -> None:
    body = submission(layer=12, head=12, index_base=1, paper_index="L12H12")
    reported = writer.post(REPORTED, json=body, headers=AUTH).json()
    assert (reported["layer"], reported["head"], reported["paper_index"], reported["index_base"]) == (
        11,
        11,
        "L12H12",
        1,
    )


def test_a_submitted_head_shows_on_the_head_and_in_the_reported_list(writer: TestClient) -> None:
    writer.post(REPORTED, json=submission(layer=2, head=7), headers=AUTH)
    head = writer.get("/api/v1/models/gpt2-small/heads/2/7").json()
    assert [(r["head_type"], r["origin"]) for r in head["reported"]] == [("induction-head", "submission")]
    listed = writer.get(REPORTED, params={"model": "gpt2-small", "head_type": "induction-head", "limit": 200})
    assert "L2H7" in [r["label"] for r in listed.json()["data"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"paper": "Nobody_99"}, "paper"),
        ({"model": "gpt3"}, "model"),
        ({"model": "GPT2-small"}, "model"),  # reads take any case; a write names the model as the catalog does
        ({"head_type": "ghost-head"}, "head_type"),
        ({"layer": 12}, "layer"),
        ({"head": 12, "index_base": 0}, "head"),
        ({"layer": 0, "index_base": 1}, "layer"),
        ({"layer": -1}, "layer"),
        ({"evidence": ""}, "evidence"),
        ({"index_base": 2}, "index_base"),
        ({"colour": "red"}, "colour"),
        ({"location": "Figure\u00003"}, "location"),
    ],
)
def test_a_bad_submission_is_a_422_naming_the_field(writer: TestClient, changes: dict[str, object], field: str) -> None:
    response = writer.post(REPORTED, json=submission(**changes), headers=AUTH)
    assert response.status_code == 422, response.text
    assert [(e["in"], e["name"]) for e in response.json()["errors"]] == [("body", field)]


def test_a_submission_missing_fields_names_each(writer: TestClient) -> None:
    problem = writer.post(REPORTED, json={"paper": "IOI_23_ICLR_Redwood"}, headers=AUTH).json()
    assert {e["name"] for e in problem["errors"]} == {"model", "head_type", "layer", "head", "location", "evidence"}


def test_a_body_that_is_not_json_is_a_422(writer: TestClient) -> None:
    response = writer.post(REPORTED, content=b"{not json", headers=AUTH | {"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"][0]["in"] == "body"


def test_a_verification_request_is_queued_not_run(writer: TestClient) -> None:
    response = writer.post(REQUESTS, json={"model": "smollm2", "detectors": ["induction", "positional"]}, headers=AUTH)
    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["detectors"]) == ("queued", ["induction", "positional"])
    assert writer.get(response.headers["location"]).json() == queued


def test_the_same_queued_request_is_not_repeated(writer: TestClient) -> None:
    body = {"model": "gemma3", "detectors": ["retrieval"], "seed": 7}
    first = writer.post(REQUESTS, json=body, headers=AUTH)
    again = writer.post(REQUESTS, json=body, headers=AUTH)
    assert (first.status_code, again.status_code) == (202, 200) and again.json()["id"] == first.json()["id"]


def test_a_model_off_the_allow_list_is_refused_naming_the_allowed_ones(writer: TestClient) -> None:
    problem = writer.post(REQUESTS, json={"model": "meta-llama/Llama-3-70B"}, headers=AUTH).json()
    assert problem["status"] == 422 and problem["errors"][0]["name"] == "model"
    assert "smollm2, gemma3" in problem["detail"]


def test_a_detector_name_must_look_like_one(writer: TestClient) -> None:
    problem = writer.post(REQUESTS, json={"model": "smollm2", "detectors": ["../etc"]}, headers=AUTH).json()
    assert problem["status"] == 422 and problem["errors"][0]["name"] == "detectors.0"


def test_verification_requests_are_listed_by_status(writer: TestClient) -> None:
    writer.post(REQUESTS, json={"model": "smollm2", "detectors": ["all"], "seed": 3}, headers=AUTH)
    queued = writer.get(REQUESTS, params={"status": "queued"}).json()
    assert queued["count"] >= 1 and {r["status"] for r in queued["data"]} == {"queued"}
    assert writer.get(REQUESTS, params={"status": "done"}).json()["data"] == []


def test_unknown_verification_request_is_not_found(writer: TestClient) -> None:
    assert writer.get(f"{REQUESTS}/99999").status_code == 404
