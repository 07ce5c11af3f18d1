"""Papers (with BibTeX), methods and benchmarks over HTTP."""

from fastapi.testclient import TestClient


def keys(client: TestClient, **params: object) -> list[str]:
    return [p["key"] for p in client.get("/api/v1/papers", params={"limit": 200, **params}).json()["data"]]


def test_papers_come_newest_first(client: TestClient) -> None:
    years = [p["year"] for p in client.get("/api/v1/papers", params={"limit": 200}).json()["data"]]
    assert len(years) > 100 and years == sorted(years, reverse=True)


def test_papers_filter_by_text_in_title_key_or_authors(client: TestClient) -> None:
    assert "IOI_23_ICLR_Redwood" in keys(client, q="indirect object")
    assert "IOI_23_ICLR_Redwood" in keys(client, q="steinhardt")
    assert keys(client, q="ioi_23_iclr") == ["IOI_23_ICLR_Redwood"]


def test_papers_filter_by_year(client: TestClient) -> None:
    papers = client.get("/api/v1/papers", params={"year": 2023, "limit": 200}).json()["data"]
    assert papers and {p["year"] for p in papers} == {2023}


def test_a_year_out_of_bounds_is_a_422(client: TestClient) -> None:
    problem = client.get("/api/v1/papers", params={"year": 20230}).json()
    assert problem["status"] == 422 and problem["errors"][0]["name"] == "year"


def test_one_paper_has_its_bibtex_and_head_types(client: TestClient) -> None:
    paper = client.get("/api/v1/papers/IOI_23_ICLR_Redwood").json()
    assert paper["bibtex"].startswith("@inproceedings{IOI_23_ICLR_Redwood")
    assert "name-mover-head" in paper["head_types"]


def test_one_paper_as_bibtex(client: TestClient) -> None:
    response = client.get("/api/v1/papers/IOI_23_ICLR_Redwood/bibtex")
    assert response.headers["content-type"].startswith("application/x-bibtex")
    assert response.text.startswith("@inproceedings{IOI_23_ICLR_Redwood")


def test_unknown_paper_is_not_found_also_as_bibtex(client: TestClient) -> None:
    assert client.get("/api/v1/papers/Nobody_99").status_code == 404
    assert client.get("/api/v1/papers/Nobody_99/bibtex").status_code == 404


def test_methods_are_grouped_by_family_with_their_papers(client: TestClient) -> None:
    methods = client.get("/api/v1/methods").json()["data"]
    families = [m["family"] for m in methods]
    assert families == sorted(families, key=families.index) and len(set(families)) == 2
    assert any(m["papers"] for m in methods)


def test_one_method(client: TestClient) -> None:
    method = client.get("/api/v1/methods/zero-ablation").json()
    assert method["name"] and method["family"]
    assert method["source"] == "survey-table" and method["extension_note"] is None


def test_a_method_headatlas_adds_says_so_and_why(client: TestClient) -> None:
    method = client.get("/api/v1/methods/attribution-patching").json()
    assert method["source"] == "extension"
    assert "2310.10348" in method["extension_note"]


def test_benchmarks_with_their_papers(client: TestClient) -> None:
    body = client.get("/api/v1/benchmarks", params={"limit": 200}).json()
    assert "ioi" in [b["slug"] for b in body["data"]] and body["count"] == len(body["data"])


def test_one_benchmark_and_an_unknown_one(client: TestClient) -> None:
    assert client.get("/api/v1/benchmarks/ioi").json()["slug"] == "ioi"
    assert client.get("/api/v1/benchmarks/nothing").status_code == 404


def test_datasets_say_where_their_heads_come_from(client: TestClient) -> None:
    body = client.get("/api/v1/datasets").json()
    duo = next(d for d in body["data"] if d["slug"] == "duo-attention-gates")
    assert duo["repository"] == "mit-han-lab/duo-attention" and len(duo["commit"]) == 40
    assert duo["index_unit"] == "kv-head" and duo["licence_spdx"] == "MIT" and duo["n_heads"] == 2304


def test_one_dataset_lists_its_files_and_an_unknown_one_is_not_found(client: TestClient) -> None:
    wu = client.get("/api/v1/datasets/retrieval-head-scores").json()
    assert wu["licence_spdx"] is None and "no licence file" in wu["licence_note"]
    assert {entry["model"] for entry in wu["lists"]} >= {"llama-2-7b-80k", "qwen1.5-14b-chat"}
    assert client.get("/api/v1/datasets/nothing").status_code == 404


def test_a_datasets_heads_page_by_model(client: TestClient) -> None:
    body = client.get(
        "/api/v1/datasets/retrieval-head-scores/heads", params={"model": "llama-2-7b-80k", "limit": 3}
    ).json()
    assert body["count"] == 32 * 32 and len(body["data"]) == 3
    assert client.get("/api/v1/datasets/retrieval-head-scores/heads", params={"model": "gpt-9"}).status_code == 400


def test_a_list_on_a_model_we_ran_is_compared_head_by_head(client: TestClient) -> None:
    acdc = client.get("/api/v1/datasets/acdc-ioi-circuit").json()
    induction = next(r for r in acdc["reproduction"] if r["head_type"] == "induction-head")
    # the test runs: gpt2-small induction finds L5H5 and L5H8; L5H9 and L6H9 are scored and not found
    assert induction["status"] == "checked" and induction["top_k"] == 4
    assert sorted(induction["confirmed"]) == ["L5H5", "L5H8"] and sorted(induction["contradicted"]) == ["L5H9", "L6H9"]
    assert induction["overlap"] == 3  # our top 4 by score: L5H5 0.9, L1H4 0.7, L5H8 0.5, L6H9 0.3


def test_a_list_on_a_model_we_cannot_load_says_so_and_how_to_check_it(client: TestClient) -> None:
    wu = client.get("/api/v1/datasets/retrieval-head-scores").json()
    llama = next(r for r in wu["reproduction"] if r["model"] == "llama-2-7b-80k")
    assert llama["status"] == "not checked: model not available here"
    assert llama["command"].startswith("headatlas verify --model yaofu/llama-2-7b-80k")
    assert llama["top_k"] == 20 and len(llama["profile"]["depth_quartiles"]) == 5


def test_a_types_profile_in_the_models_we_verified_stands_beside_the_lists(client: TestClient) -> None:
    acdc = client.get("/api/v1/datasets/acdc-ioi-circuit").json()
    profiled = {(p["model"], p["head_type"]) for p in acdc["verified_profiles"]}
    assert {("gpt2-small", "induction-head"), ("smollm2-135m-instruct", "induction-head")} <= profiled
