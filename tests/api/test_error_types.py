"""A caller's mistake is a 4xx naming the parameter the catalog says is at fault; anything else is a bug, a 500."""

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog import crud
from tests.api.conftest import make_client


def test_a_value_error_that_is_no_callers_fault_is_a_500_and_a_log_line(
    catalog_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: object) -> None:
        raise ValueError("a bug of ours")

    monkeypatch.setattr(crud, "papers_page", broken)
    client = make_client(catalog_url, tmp_path)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        answer = TestClient(client.app, raise_server_exceptions=False).get("/api/v1/papers?year=2024")
    assert (answer.status_code, answer.json()["type"]) == (500, "/api/v1/problems#server-error")
    assert "a bug of ours" not in answer.text
    assert "Unhandled error on GET /api/v1/papers" in caplog.text


def test_an_unknown_value_names_its_parameter_only_though_another_holds_the_same_text(client: TestClient) -> None:
    answer = client.get("/api/v1/reported-heads", params={"model": "induction-head", "head_type": "induction-head"})
    assert answer.status_code == 400
    assert [(e["in"], e["name"]) for e in answer.json()["errors"]] == [("query", "model")]


def test_a_parameter_known_under_another_name_in_the_catalog_is_named_as_the_api_takes_it(client: TestClient) -> None:
    answer = client.get("/api/v1/head-types", params={"verified_on": "no-such-model"})
    assert answer.status_code == 400
    assert [(e["in"], e["name"]) for e in answer.json()["errors"]] == [("query", "verified_on")]
