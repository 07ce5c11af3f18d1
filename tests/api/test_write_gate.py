"""A write is refused on its headers, before its body is read: without the token, and beyond the size limit."""

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import AUTH, TOKEN

# A submission the catalog accepts.
SUBMISSION = {
    "model": "gpt2-small",
    "layer": 9,
    "head": 9,
    "head_type": "name-mover-head",
    "paper": "IOI_23_ICLR_Redwood",
    "location": "Figure 3",
    "evidence": "path patching",
}


def _app(url: str, folder: Path, **settings: Any) -> FastAPI:
    return create_app(ApiSettings(database_url=url, site_dir=folder / "no-site", **settings))


def _post(app: FastAPI, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, dict[str, str], int]:
    """POST `chunks` as a body straight through ASGI: the status, the headers, and how many chunks were read."""
    read = 0
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/reported-heads",
        "raw_path": b"/api/v1/reported-heads",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    anyio.run(app, scope, receive, send)
    return answer["status"], answer["headers"], read


def test_a_write_without_the_token_is_refused_before_its_body_is_read(writable_url: str, tmp_path: Path) -> None:
    status, headers, read = _post(_app(writable_url, tmp_path, api_token=TOKEN), {}, [b"x" * 1000] * 50)
    assert (status, read) == (401, 0)
    assert headers["www-authenticate"] == "Bearer"


def test_a_write_declaring_a_body_over_the_limit_is_a_413_before_it_is_read(writable_url: str, tmp_path: Path) -> None:
    app = _app(writable_url, tmp_path, api_token=TOKEN, api_max_body_bytes=1000)
    status, headers, read = _post(app, AUTH | {"Content-Length": "50000000"}, [b"x" * 1000] * 50)
    assert (status, read) == (413, 0)
    assert headers["content-type"] == "application/problem+json"


def test_a_body_sent_without_a_length_is_read_only_up_to_the_limit(writable_url: str, tmp_path: Path) -> None:
    app = _app(writable_url, tmp_path, api_token=TOKEN, api_max_body_bytes=1000)
    status, _, read = _post(app, AUTH, [b"x" * 400] * 50)
    assert (status, read) == (413, 3)


def test_a_write_within_the_limit_reaches_its_route(writable_url: str, tmp_path: Path) -> None:
    body = json.dumps(SUBMISSION).encode()
    app = _app(writable_url, tmp_path, api_token=TOKEN)
    status, _, _ = _post(app, AUTH | {"Content-Type": "application/json"}, [body[:50], body[50:]])
    assert status in (200, 201)


def test_a_post_to_a_path_that_takes_no_writes_is_still_a_405(client: TestClient) -> None:
    assert client.post("/api/v1/papers", content=b"{}").status_code == 405


@pytest.mark.parametrize("token", ["", None])
def test_an_empty_or_missing_token_disables_writes_and_health_says_so(
    writable_url: str, tmp_path: Path, token: str | None
) -> None:
    with TestClient(_app(writable_url, tmp_path, api_token=token)) as client:
        assert client.get("/api/v1/health").json()["writes"] is False
        refused = client.post("/api/v1/reported-heads", json=SUBMISSION, headers={"Authorization": "Bearer "})
    assert (refused.status_code, refused.json()["type"]) == (403, "/api/v1/problems#writes-disabled")
