"""Head lists exported in their consumers' formats: published lists re-import as themselves; verdicts as gates."""

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalog.db import make_engine
from catalog.head_list_formats import registered
from catalog.parquet_export import export_catalog
from catalog.settings import KNOWLEDGE_DIR
from ingest.knowledge_datasets import load_datasets

SHIPPED = [
    (d.content.slug, d.content.format, listed.entry.model) for d in load_datasets(KNOWLEDGE_DIR) for listed in d.lists
]


def listed(client: TestClient, slug: str, model: str) -> list[tuple[int, int, float | None, str | None]]:
    """Every head of the list, page by page."""
    heads, offset, count = [], 0, 1
    while offset < count:
        page = client.get(f"/api/v1/datasets/{slug}/heads", params={"model": model, "limit": 200, "offset": offset})
        heads += page.json()["data"]
        offset, count = offset + 200, page.json()["count"]
    return [(h["layer"], h["head"], h["score"], h["label"]) for h in heads]


@pytest.mark.parametrize(("slug", "format_name", "model"), sorted(set(SHIPPED)))
def test_a_published_list_exported_in_its_own_format_reimports_as_the_same_heads(
    client: TestClient, slug: str, format_name: str, model: str
) -> None:
    response = client.get(f"/api/v1/datasets/{slug}/export", params={"model": model, "format": format_name})
    assert response.status_code == 200
    again = [(h.layer, h.head, h.score, h.label) for h in registered()[format_name].read(response.text)]
    stored = listed(client, slug, model)
    if format_name == "qrhead-yaml":  # a head set: its order is its rank
        assert again == stored
    else:
        assert sorted(again, key=lambda h: h[:2]) == sorted(stored, key=lambda h: h[:2])


def test_verified_heads_export_as_duo_attention_gates_per_kv_head(client: TestClient) -> None:
    response = client.get(
        "/api/v1/models/smollm2-135m-instruct/export",
        params={"head_type": "induction-head", "format": "duo-attention-tsv"},
    )
    rows = [[float(value) for value in line.split("\t")] for line in response.text.splitlines()]
    assert len(rows) == 30 and {len(row) for row in rows} == {3}  # SmolLM2: 9 query heads share 3 KV heads
    ones = {(layer, kv) for layer, row in enumerate(rows) for kv, gate in enumerate(row) if gate == 1.0}
    assert ones == {(3, 0), (20, 1)}  # L3H0 and L20H4 were found; every other gate is 0
    assert 'filename="smollm2-135m-instruct-induction-head.tsv"' in response.headers["content-disposition"]


def test_verified_heads_export_as_a_qrhead_head_set_of_the_found_heads_best_first(client: TestClient) -> None:
    response = client.get(
        "/api/v1/models/smollm2-135m-instruct/export", params={"head_type": "induction-head", "format": "qrhead-yaml"}
    )
    assert "attn_head_set: 3-0,20-4" in response.text
    assert "model_name_or_path: HuggingFaceTB/SmolLM2-135M-Instruct" in response.text


def test_an_export_in_an_unknown_format_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/datasets/duo-attention-gates/export", params={"model": "x", "format": "xml"})
    assert response.status_code == 422 and "format" in response.text


def test_an_export_of_a_model_the_dataset_does_not_list_is_not_found(client: TestClient) -> None:
    response = client.get(
        "/api/v1/datasets/duo-attention-gates/export", params={"model": "gpt2-small", "format": "csv"}
    )
    assert response.status_code == 404


def test_our_verdicts_are_not_exported_as_circuit_classes(client: TestClient) -> None:
    response = client.get(
        "/api/v1/models/gpt2-small/export", params={"head_type": "induction-head", "format": "circuit-classes-json"}
    )
    assert response.status_code == 400 and "classes" in response.text


def test_kvpress_reading_our_gates_keeps_full_caches_for_exactly_the_found_heads(client: TestClient) -> None:
    """kvpress 0.5 (NVIDIA/kvpress 8bb29b9, kvpress/presses/duo_attention_press.py) cannot be installed beside our
    transformers (it needs <5.3) and fetches patterns over the network, so this reads our file as that code does:
    np.loadtxt with a tab delimiter, clipped to [0, 1], the lowest round(size * ratio) gates streaming."""
    response = client.get(
        "/api/v1/models/smollm2-135m-instruct/export",
        params={"head_type": "induction-head", "format": "duo-attention-tsv"},
    )
    gates = np.clip(np.loadtxt(io.StringIO(response.text), dtype=float, delimiter="\t"), 0, 1)  # [layer, kv_head]
    ratio = 1 - 2 / gates.size  # compress all but the two KV heads our verdicts need
    streaming = np.zeros(gates.size, dtype=bool)
    streaming[np.argsort(gates, axis=None)[: round(gates.size * ratio)]] = True
    full = {divmod(int(index), gates.shape[1]) for index in np.flatnonzero(~streaming)}
    assert gates.shape == (30, 3) and full == {(3, 0), (20, 1)}


def test_the_whole_catalog_exports_as_parquet_a_file_per_table_with_a_card(catalog_url: str, tmp_path: Path) -> None:
    engine = make_engine(catalog_url)
    with Session(engine) as session:
        written = export_catalog(session, tmp_path / "atlas")
    engine.dispose()
    heads = pq.read_table(tmp_path / "atlas" / "dataset_head.parquet")
    assert heads.num_rows == written.rows["dataset_head"] == len(_shipped_heads())
    runs = pq.read_table(tmp_path / "atlas" / "run.parquet").to_pylist()
    assert len(runs) == 3 and all(run["started_at"] is not None for run in runs)
    card = (tmp_path / "atlas" / "README.md").read_text()
    assert "| dataset_head | " in card and "retrieval-head-scores: nightdessert/Retrieval_Head" in card


def test_a_catalog_export_refuses_a_folder_holding_other_files(loaded: Session, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        export_catalog(loaded, tmp_path)


def _shipped_heads() -> list[object]:
    return [head for d in load_datasets(KNOWLEDGE_DIR) for listed in d.lists for head in listed.heads]
