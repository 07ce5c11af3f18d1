"""Each published head-list format reads its source's files, rejects malformed ones by entry, and writes them back."""

from pathlib import Path

import pytest

from catalog.head_list_formats import FormatError, Grid, ListedHead, registered
from ingest.knowledge_files import DatasetFile, read_file

KNOWLEDGE = Path(__file__).resolve().parents[2] / "catalog" / "knowledge"
FORMATS = registered()


def shipped_lists() -> list[tuple[str, Path]]:
    """(format, file) for every list the knowledge ships."""
    found = []
    for record in sorted(KNOWLEDGE.glob("datasets/*/dataset.yaml")):
        content = read_file(record, DatasetFile, KNOWLEDGE)
        found += [(content.format, record.parent / entry.file) for entry in content.lists]
    return found


@pytest.mark.parametrize(("name", "path"), shipped_lists(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_shipped_list_reads_back_the_same_heads_after_writing(name: str, path: Path) -> None:
    head_format = FORMATS[name]
    heads = head_format.read(path.read_text())
    grid = Grid(1 + max(h.layer for h in heads), 1 + max(h.head for h in heads), "org/model")
    again = head_format.read(head_format.write(heads, grid))
    key = (lambda h: (h.layer, h.head, h.label)) if name != "qrhead-yaml" else None  # QRHead's order is its rank
    assert (again if key is None else sorted(again, key=key)) == (heads if key is None else sorted(heads, key=key))


@pytest.mark.parametrize(
    "path", [p for name, p in shipped_lists() if name == "duo-attention-tsv"], ids=lambda p: p.name
)
def test_duo_attention_files_are_written_byte_for_byte_as_published(path: Path) -> None:
    heads = FORMATS["duo-attention-tsv"].read(path.read_text())
    grid = Grid(1 + max(h.layer for h in heads), 1 + max(h.head for h in heads))
    assert FORMATS["duo-attention-tsv"].write(heads, grid) == path.read_text()


def test_a_retrieval_head_score_is_the_mean_of_its_tests() -> None:
    heads = FORMATS["retrieval-head-json"].read('{"16-19": [1.0, 0.5], "0-0": [0.0]}')
    assert heads == [ListedHead(16, 19, 0.75), ListedHead(0, 0, 0.0)]


def test_a_duo_attention_head_not_given_is_written_as_streaming() -> None:
    written = FORMATS["duo-attention-tsv"].write([ListedHead(1, 0, 1.0)], Grid(2, 2))
    assert [h.score for h in FORMATS["duo-attention-tsv"].read(written)] == [0.0, 0.0, 1.0, 0.0]


def test_qrhead_keeps_the_rank_order_and_names_the_model() -> None:
    text = FORMATS["qrhead-yaml"].write(
        [ListedHead(8, 21), ListedHead(2, 3)], Grid(16, 32, "meta-llama/Llama-3.2-1B-Instruct")
    )
    assert "attn_head_set: 8-21,2-3" in text and "model_name_or_path: meta-llama/Llama-3.2-1B-Instruct" in text
    assert FORMATS["qrhead-yaml"].read(text) == [ListedHead(8, 21), ListedHead(2, 3)]


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("retrieval-head-json", "{not json", "not valid JSON"),
        ("retrieval-head-json", "[1, 2]", "expected an object"),
        ("retrieval-head-json", '{"16.19": [0.5]}', "key '16.19'"),
        ("retrieval-head-json", '{"1-2": []}', "key '1-2': expected a non-empty list"),
        ("retrieval-head-json", '{"1-2": ["high"]}', "key '1-2'"),
        ("duo-attention-tsv", "", "no rows"),
        ("duo-attention-tsv", "1.0\t0.5\n1.0\n", "row 1: 1 values, but row 0 has 2"),
        ("duo-attention-tsv", "1.0\tabc\n", "row 0, column 1: 'abc' is not a number"),
        ("duo-attention-tsv", "1.0\tnan\n", "row 0, column 1: 'nan' is not finite"),
        ("qrhead-yaml", "model_name_or_path: x\n", "expected a mapping with 'attn_head_set'"),
        ("qrhead-yaml", 'attn_head_set: "8-21,8:14"\n', "attn_head_set, entry 1: '8:14'"),
        ("function-vector-triples", "{}", "expected an array"),
        ("function-vector-triples", "[[1, 2]]", "entry 0: expected [layer, head, effect]"),
        ("function-vector-triples", '[[1, 2, "x"]]', "entry 0: the effect 'x'"),
        ("circuit-classes-json", '{"name mover": []}', "class 'name mover': expected a non-empty list"),
        ("circuit-classes-json", '{"name mover": [[9, -9]]}', "class 'name mover', entry 0"),
    ],
)
def test_a_malformed_file_is_rejected_naming_the_entry(name: str, text: str, fragment: str) -> None:
    with pytest.raises(FormatError) as error:
        FORMATS[name].read(text)
    assert fragment in str(error.value)


@pytest.mark.parametrize("name", ["retrieval-head-json", "function-vector-triples"])
def test_a_scored_format_refuses_a_head_without_a_score(name: str) -> None:
    with pytest.raises(FormatError, match="score"):
        FORMATS[name].write([ListedHead(0, 0)], Grid(1, 1))


def test_a_circuit_refuses_a_head_without_a_class() -> None:
    with pytest.raises(FormatError, match="no class"):
        FORMATS["circuit-classes-json"].write([ListedHead(0, 0)], Grid(1, 1))


def test_a_duo_attention_head_outside_the_grid_is_refused() -> None:
    with pytest.raises(FormatError, match="outside 2 x 2"):
        FORMATS["duo-attention-tsv"].write([ListedHead(2, 0, 1.0)], Grid(2, 2))
