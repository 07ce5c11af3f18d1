"""HTTP behaviour around the data: validators and caching, gzip, CORS, OpenAPI, docs, the site at /, health."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import make_client


def test_a_read_has_a_strong_etag_and_is_public_for_a_minute(client: TestClient) -> None:
    response = client.get("/api/v1/head-types/induction-head")
    assert response.headers["etag"].startswith('"') and response.headers["cache-control"] == "public, max-age=60"


def test_the_same_read_has_the_same_etag_and_another_read_another(client: TestClient) -> None:
    first, again = (client.get("/api/v1/stages").headers["etag"] for _ in range(2))
    assert first == again != client.get("/api/v1/mechanisms").headers["etag"]


def test_if_none_match_with_the_etag_gives_304_without_a_body(client: TestClient) -> None:
    etag = client.get("/api/v1/stages").headers["etag"]
    response = client.get("/api/v1/stages", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""
    assert response.headers["etag"] == etag and response.headers["cache-control"] == "public, max-age=60"


def test_if_none_match_with_a_weak_form_or_a_list_also_matches(client: TestClient) -> None:
    etag = client.get("/api/v1/stages").headers["etag"]
    assert client.get("/api/v1/stages", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304


def test_a_stale_etag_gets_the_full_answer(client: TestClient) -> None:
    assert client.get("/api/v1/stages", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_errors_are_not_stored(client: TestClient) -> None:
    assert client.get("/api/v1/head-types/ghost-head").headers["cache-control"] == "no-store"


def test_large_answers_are_gzipped_when_asked_and_the_etag_follows_the_bytes(client: TestClient) -> None:
    zipped = client.get("/api/v1/head-types", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/api/v1/head-types", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.json() == plain.json() and zipped.headers["etag"] != plain.headers["etag"]
    assert "Accept-Encoding" in zipped.headers["vary"]


def test_cors_allows_the_configured_origins_only(catalog_url: str, tmp_path: Path) -> None:
    with make_client(catalog_url, tmp_path, cors_origins=["https://lab.example"]) as client:
        allowed = client.get("/api/v1/stages", headers={"Origin": "https://lab.example"})
        other = client.get("/api/v1/stages", headers={"Origin": "https://elsewhere.example"})
        preflight = client.options(
            "/api/v1/reported-heads",
            headers={"Origin": "https://lab.example", "Access-Control-Request-Method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://lab.example"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


def test_no_cors_headers_without_configured_origins(client: TestClient) -> None:
    response = client.get("/api/v1/stages", headers={"Origin": "https://lab.example"})
    assert "access-control-allow-origin" not in response.headers


def test_openapi_document_lists_every_resource_with_examples(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/api/v1/head-types",
        "/api/v1/models/{slug}/heads/{layer}/{head}",
        "/api/v1/matrix",
        "/api/v1/search",
    ]:
        assert "get" in paths[path], path
    assert "post" in paths["/api/v1/reported-heads"] and "post" in paths["/api/v1/verification-requests"]
    assert spec["components"]["schemas"]["ReportedHeadCreate"]["examples"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_openapi_documents_errors_as_problem_json(client: TestClient) -> None:
    responses = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/head-types"]["get"]["responses"]
    assert list(responses["422"]["content"]) == ["application/problem+json"]
    assert responses["422"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_interactive_docs_are_served_with_their_own_assets(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/openapi.json" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/api/v1/docs/assets/") for asset in assets)
    assert all(client.get(asset).status_code == 200 for asset in assets)


def test_the_front_page_links_every_resource(client: TestClient) -> None:
    resources = client.get("/api/v1/").json()["resources"]
    for name, path in resources.items():
        assert client.get(path, params={"q": "head"} if name == "search" else {}).status_code == 200, path


def test_each_problem_type_is_described_where_its_uri_points(client: TestClient) -> None:
    types = {t["type"] for t in client.get("/api/v1/problems").json()}
    assert "/api/v1/problems#not-found" in types and "/api/v1/problems#invalid-request" in types


def test_health_reports_the_database_and_schema_and_is_not_cached(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    health = response.json()
    assert health["status"] == "ok" and health["database"] in ("sqlite", "postgresql")
    assert health["schema_revision"] == "0010" and health["writes"] is True
    assert response.headers["cache-control"] == "no-store"


def test_health_of_an_unreachable_database_is_a_503(tmp_path: Path) -> None:
    with make_client(f"sqlite:///{tmp_path / 'missing' / 'catalog.db'}", tmp_path) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 503 and response.json()["type"].endswith("#unavailable")


def test_the_built_site_is_served_at_the_root(catalog_url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "head-types").mkdir(parents=True)
    (site / "index.html").write_text("<h1>headatlas</h1>")
    (site / "head-types" / "index.html").write_text("<h1>Head types</h1>")
    with make_client(catalog_url, tmp_path, site_dir=site) as client:
        assert "headatlas" in client.get("/").text
        assert "Head types" in client.get("/head-types/").text
        assert client.get("/api/v1/stages").status_code == 200
        assert client.post("/api/v1/stages").status_code == 405


def test_without_a_built_site_the_root_points_to_the_api(client: TestClient) -> None:
    root = client.get("/").json()
    assert root["api"] == "/api/v1/" and "not built" in root["site"]


def test_an_unknown_query_parameter_is_refused_naming_it_and_the_ones_taken(client: TestClient) -> None:
    response = client.get("/api/v1/models/gpt2-small/heads", params={"headtype": "induction-head", "verdict": "found"})
    problem = response.json()
    assert response.status_code == 400 and problem["type"].endswith("#invalid-parameter")
    assert [(e["in"], e["name"]) for e in problem["errors"]] == [("query", "headtype")]
    assert "head_type" in problem["detail"] and "verdict" in problem["detail"]


def test_every_documented_query_parameter_is_taken(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and "{" not in path:
                answer = client.get(path, params={parameter["name"]: "1"})
                assert "Unknown query parameter" not in answer.text, (path, parameter["name"])


def test_head_answers_a_read_with_its_headers_and_no_body(client: TestClient) -> None:
    got, head = client.get("/api/v1/head-types"), client.head("/api/v1/head-types")
    assert head.status_code == 200 and head.content == b""
    assert (
        head.headers["etag"] == got.headers["etag"] and head.headers["content-length"] == got.headers["content-length"]
    )


def test_options_lists_every_method_the_path_takes(client: TestClient) -> None:
    response = client.options("/api/v1/reported-heads")
    assert response.status_code == 204 and response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.options("/api/v1/no-such-thing").status_code == 404
