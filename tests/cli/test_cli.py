"""Every command, as a user types it, against a SQLite catalog."""

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from tests.utils.cli import run


def test_ingest_twice_reports_no_change(database: str) -> None:
    result = run(database, "ingest", "knowledge")
    assert result.exit_code == 0
    assert "already held exactly this" in result.output


def test_ingest_json_counts_per_table(database: str) -> None:
    counts = json.loads(run(database, "ingest", "knowledge", "--json").output)
    assert counts["head_type"]["unchanged"] >= 60


def test_ingest_of_a_bad_file_fails_and_says_why(database: str, knowledge_dir: Path) -> None:
    (knowledge_dir / "stages.yaml").write_text("stages: []\n")
    result = run(database, "ingest", "knowledge", "--path", str(knowledge_dir))
    assert result.exit_code == 1
    assert "nothing changed" in result.output and "stages.yaml" in result.output


def test_summary_counts_tables(database: str) -> None:
    counts = json.loads(run(database, "summary", "--json").output)["counts"]
    assert counts["stage"] == 4


def test_search_prints_induction_head_first(database: str) -> None:
    hits = json.loads(run(database, "search", "induction", "--json").output)["data"]
    assert hits[0]["slug"] == "induction-head"


def test_search_text_output_is_a_table(database: str) -> None:
    output = run(database, "search", "name mover", "--kind", "head_type").output
    assert output.splitlines()[0].split() == ["kind", "name", "title"]


def test_search_without_words_is_a_usage_error(database: str) -> None:
    result = run(database, "search", "!!")
    assert result.exit_code == 2 and "has no words" in result.output


def test_show_head_type(database: str) -> None:
    output = run(database, "show", "name-mover-head").output
    assert "Name Mover Head" in output and "IOI_23_ICLR_Redwood" in output


def test_show_head_type_json(database: str) -> None:
    data = json.loads(run(database, "show", "induction-head", "--json").output)
    assert data["slug"] == "induction-head" and data["reported_heads"]


def test_datasets_lists_each_source_with_its_commit_and_licence(database: str) -> None:
    lines = run(database, "datasets").output.splitlines()
    assert lines[0].split() == ["dataset", "source", "commit", "licence", "unit", "models", "heads"]
    duo = next(line for line in lines if line.startswith("duo-attention-gates"))
    assert "mit-han-lab/duo-attention" in duo and "kv-head" in duo


def test_show_dataset_names_its_lists(database: str) -> None:
    output = run(database, "show", "qrhead-head-sets").output
    assert "princeton-pli/QRHead" in output and "Llama-3.2-1B-Instruct_qr_head_NQ.yaml" in output


def test_show_paper_prints_bibtex(database: str) -> None:
    assert "@inproceedings{IOI_23_ICLR_Redwood" in run(database, "show", "IOI_23_ICLR_Redwood").output


def test_show_model_stage_mechanism_method_and_benchmark(database: str) -> None:
    for name in ["gpt2-small", "ICI", "lr-in-context-learning", "zero-ablation", "ioi"]:
        result = run(database, "show", name, "--json")
        assert result.exit_code == 0, name


def test_show_unknown_name_suggests(database: str) -> None:
    result = run(database, "show", "induction")
    assert result.exit_code == 2
    assert "Nothing in the catalog is called 'induction'" in result.output and "induction-head" in result.output


def test_heads_filters_by_model_and_paper(database: str) -> None:
    heads = json.loads(
        run(database, "heads", "--model", "gpt2-small", "--paper", "IOI_23_ICLR_Redwood", "--json").output
    )["data"]
    assert heads and {h["model"] for h in heads} == {"gpt2-small"}
    assert {"label", "paper_index", "location"} <= set(heads[0])


def test_heads_filters_by_stage_and_mechanism(database: str) -> None:
    heads = json.loads(
        run(
            database,
            "heads",
            "--stage",
            "ICI",
            "--mechanism",
            "ici-syntactic-information",
            "--json",
        ).output
    )["data"]
    assert heads and "name-mover-head" in {h["head_type"] for h in heads}


def test_heads_with_unknown_model_names_the_choices(database: str) -> None:
    result = run(database, "heads", "--model", "gpt3")
    assert result.exit_code == 2 and "Unknown model 'gpt3'" in result.output and "gpt2-small" in result.output


def test_every_command_has_help_with_an_example() -> None:
    for command in [["ingest", "knowledge"], ["summary"], ["search"], ["show"], ["heads"]]:
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


def test_export_writes_a_published_list_in_its_format(database: str, tmp_path: Path) -> None:
    target = tmp_path / "gates.tsv"
    result = run(
        database, "export", "--model", "mistral-7b-instruct-v0.2", "--dataset", "duo-attention-gates",
        "--format", "duo-attention-tsv", "--output", str(target),
    )  # fmt: skip
    assert result.exit_code == 0 and len(target.read_text().splitlines()) == 32


def test_export_needs_a_dataset_or_a_head_type(database: str) -> None:
    result = run(database, "export", "--model", "gpt2-small", "--format", "csv")
    assert result.exit_code == 2 and "--dataset" in result.output


def test_export_of_an_untested_head_type_says_so(database: str) -> None:
    result = run(database, "export", "--model", "gpt2-small", "--head-type", "retrieval-head", "--format", "csv")
    assert result.exit_code == 1 and "No run has tested 'retrieval-head' on 'gpt2-small'" in result.output


def test_export_all_writes_the_catalog_as_parquet(database: str, tmp_path: Path) -> None:
    result = run(database, "export", "--all", "--format", "parquet", "--output", str(tmp_path / "atlas"))
    assert result.exit_code == 0 and (tmp_path / "atlas" / "dataset_head.parquet").is_file()
    assert (tmp_path / "atlas" / "README.md").is_file()


def test_export_all_takes_nothing_but_parquet_and_a_folder(database: str) -> None:
    result = run(database, "export", "--all", "--format", "csv", "--model", "gpt2-small")
    assert result.exit_code == 2 and "--format parquet and --output FOLDER" in result.output


def test_show_takes_a_name_in_any_case(database: str) -> None:
    assert run(database, "show", "Induction-Head").output.startswith("Induction Head  [induction-head]")
    assert run(database, "show", "lr").output.startswith("Code: LR")


def test_show_prints_a_model_and_a_stage_as_readable_sections(database: str) -> None:
    stage = run(database, "show", "KR").output
    assert "Mechanisms:\nslug" in stage and "{'" not in stage
    assert "N layers: 12" in run(database, "show", "gpt2-small").output


def test_a_misspelt_model_is_answered_with_the_nearest_name(database: str) -> None:
    result = run(database, "heads", "--model", "gtp2-small")
    assert result.exit_code == 2 and "did you mean 'gpt2-small'?" in result.output
