"""A published head list loads only when its record, its file and its model agree; errors name the file and entry."""

from pathlib import Path

import pytest

from ingest.knowledge import load_knowledge
from ingest.knowledge_files import KnowledgeError
from tests.utils.knowledge import edit_yaml

DUO = "datasets/duo-attention-gates"
WU = "datasets/retrieval-head-scores"
ACDC = "datasets/acdc-ioi-circuit"


def rejected(knowledge_dir: Path, *fragments: str) -> None:
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(knowledge_dir)
    for fragment in fragments:
        assert fragment in str(error.value)


def record(knowledge_dir: Path, folder: str) -> Path:
    return knowledge_dir / folder / "dataset.yaml"


def test_the_shipped_datasets_hold_2000_heads_from_at_least_six_sources(knowledge_dir: Path) -> None:
    datasets = load_knowledge(knowledge_dir).datasets
    assert sum(len(listed.heads) for d in datasets for listed in d.lists) >= 2000
    assert len({d.content.source.repository for d in datasets}) >= 6


def test_a_head_outside_its_model_is_rejected(knowledge_dir: Path) -> None:
    path = knowledge_dir / WU / "llama-2-7b-80k.json"
    path.write_text(path.read_text().replace('"16-19"', '"32-19"'))
    rejected(knowledge_dir, "list 'llama-2-7b-80k.json'", "layer 32, head 19", "outside llama-2-7b-80k's 32 layers")


def test_a_kv_head_beyond_the_models_kv_heads_is_rejected(knowledge_dir: Path) -> None:
    path = knowledge_dir / DUO / "Mistral-7B-Instruct-v0.2.tsv"
    rows = path.read_text().splitlines()
    path.write_text("\n".join(row + "\t0.5" for row in rows) + "\n")  # a ninth column: Mistral has 8 KV heads
    rejected(knowledge_dir, "Mistral-7B-Instruct-v0.2.tsv", "head 8", "32 layers x 8 kv-heads")


def test_a_kv_head_list_declared_per_query_head_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, DUO), lambda data: data["index"].update(unit="query-head"))
    rejected(knowledge_dir, f"{DUO}/dataset.yaml", "field 'index.unit'", "duo-attention-tsv lists kv-heads")


def test_a_dataset_without_a_licence_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, WU), lambda data: data.pop("licence"))
    rejected(knowledge_dir, f"{WU}/dataset.yaml", "field 'licence'", "Field required")


def test_a_source_without_a_commit_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, WU), lambda data: data["source"].update(commit="main"))
    rejected(knowledge_dir, f"{WU}/dataset.yaml", "field 'commit'")


def test_a_list_for_an_unknown_model_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, WU), lambda data: data["lists"][0].update(model="llama-9-7b"))
    rejected(knowledge_dir, "list 'llama-2-7b-80k.json'", "'llama-9-7b'", "models.yaml")


def test_a_missing_list_file_is_rejected(knowledge_dir: Path) -> None:
    (knowledge_dir / WU / "Yi-6B-200K.json").unlink()
    rejected(knowledge_dir, "list 'Yi-6B-200K.json': the file is missing")


def test_a_file_no_list_names_is_rejected(knowledge_dir: Path) -> None:
    (knowledge_dir / WU / "extra.json").write_text("{}")
    rejected(knowledge_dir, f"{WU}/dataset.yaml", "extra.json in the folder but not listed")


def test_a_malformed_list_is_rejected_naming_its_entry(knowledge_dir: Path) -> None:
    (knowledge_dir / WU / "Yi-6B-200K.json").write_text('{"0-0": ["high"]}')
    rejected(knowledge_dir, "list 'Yi-6B-200K.json'", "key '0-0'")


def test_an_unknown_format_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, WU), lambda data: data.update(format="csv"))
    rejected(knowledge_dir, "field 'format': 'csv' is not one of")


def test_a_class_without_a_head_type_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, ACDC), lambda data: data["classes"].pop("negative"))
    rejected(knowledge_dir, "list 'gpt2.json'", "class 'negative' is not in the record's 'classes'")


def test_a_class_naming_an_unknown_head_type_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(record(knowledge_dir, ACDC), lambda data: data["classes"].update(negative="negative-mover"))
    rejected(knowledge_dir, f"{ACDC}/dataset.yaml", "field 'classes'", "'negative-mover'")


def test_a_head_listed_twice_is_rejected(knowledge_dir: Path) -> None:
    path = knowledge_dir / "datasets/function-vector-heads/gptj.json"
    path.write_text("[[15, 5, 0.05], [15, 5, 0.04]]")
    rejected(knowledge_dir, "list 'gptj.json'", "layer 15, head 5 is listed more than once")


def test_a_one_based_list_is_stored_zero_based(knowledge_dir: Path) -> None:
    folder = knowledge_dir / "datasets/function-vector-heads"
    for other in folder.glob("*.json"):
        other.unlink()
    (folder / "gptj.json").write_text("[[16, 6, 0.05]]")

    def only_gptj_one_based(data: dict) -> None:  # type: ignore[type-arg]
        data["index"]["base"] = 1
        data["lists"] = [entry for entry in data["lists"] if entry["file"] == "gptj.json"]

    edit_yaml(record(knowledge_dir, "datasets/function-vector-heads"), only_gptj_one_based)
    dataset = next(d for d in load_knowledge(knowledge_dir).datasets if d.content.slug == "function-vector-heads")
    gptj = next(listed for listed in dataset.lists if listed.entry.file == "gptj.json")
    assert [(h.layer, h.head) for h in gptj.heads] == [(15, 5)]
