"""The verification commands, as a user types them, on SmolLM2 and a SQLite catalog."""

import json

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.utils.cli import run

pytestmark = pytest.mark.model


def test_verify_prints_the_heads_found_and_stores_them(database: str) -> None:
    result = run(database, "verify", "--model", "smollm2", "--detector", "positional")
    assert result.exit_code == 0, result.output
    assert "L16H0" in result.output
    verdicts = json.loads(run(database, "verdicts", "--detector", "positional", "--json").output)["data"]
    assert verdicts[0]["label"] == "L16H0" and verdicts[0]["shows_behaviour"]


def test_runs_lists_the_stored_run(database: str) -> None:
    run(database, "verify", "--model", "smollm2", "--detector", "positional")
    runs = json.loads(run(database, "runs", "--json").output)["data"]
    assert [(r["model"], r["detector"], r["status"]) for r in runs] == [
        ("smollm2-135m-instruct", "positional", "complete")
    ]


def test_verify_with_an_unknown_detector_names_the_choices(database: str) -> None:
    result = run(database, "verify", "--model", "smollm2", "--detector", "inductoin")
    assert result.exit_code == 2
    assert "Unknown detector 'inductoin'" in result.output and "induction" in result.output


def test_verify_with_an_unknown_model_names_the_fix(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = run(database, "verify", "--model", "nobody/gpt-5", "--detector", "positional")
    assert result.exit_code == 2
    assert "Unknown model 'nobody/gpt-5'" in result.output and "headatlas models" in result.output


def test_detectors_lists_each_with_its_threshold_source() -> None:
    rows = json.loads(CliRunner().invoke(main, ["detectors", "--json"]).output)["data"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["retrieval"]["threshold"] == 0.1
    assert "RetrievalHead_24_arXiv_PKU" in by_name["retrieval"]["threshold_source"]
    assert all(row["threshold_source"] for row in rows)


def test_models_lists_the_bundled_models_and_the_toy() -> None:
    rows = json.loads(CliRunner().invoke(main, ["models", "--json"]).output)["data"]
    assert {row["name"] for row in rows} == {"smollm2", "gemma3", "qwen2.5-coder", "toy-iteration"}


def test_every_verification_command_has_help_with_an_example() -> None:
    for command in ["verify", "verdicts", "runs", "detectors", "models"]:
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


def test_matrix_shows_where_a_head_type_was_found_and_where_it_could_not_be_verified(database: str) -> None:
    run(database, "verify", "--model", "smollm2", "--detector", "positional", "--detector", "correct_letter")
    result = run(database, "matrix")
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith(("ICI", "LR"))}
    assert "best L16H0 0.97 [0.948, 0.981]" in rows["positional-head"]  # one seed: the interval is over sentences
    assert "n/v (task 21%, chance 25%)" in rows["correct-letter-head"]  # 51 of 240 over five seeds


def test_matrix_as_json_carries_the_task_accuracy_of_an_unverifiable_cell(database: str) -> None:
    run(database, "verify", "--model", "smollm2", "--detector", "correct_letter")
    matrix = json.loads(run(database, "matrix", "--stage", "LR", "--json").output)
    cell = next(row for row in matrix["rows"] if row["head_type"] == "correct-letter-head")["cells"][0]
    assert cell["status"] == "not-verifiable" and cell["task"]["correct"] == 51 and cell["task"]["total"] == 240
    assert "at chance" in cell["reason"]


def test_matrix_says_a_language_test_does_not_apply_to_the_toy(database: str, iteration_toy) -> None:  # type: ignore[no-untyped-def]
    result = run(database, "verify", "--model", "toy-iteration", "--detector", "positional", "--detector", "iteration")
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[1]: line for line in run(database, "matrix").output.splitlines() if line.startswith(("ICI", "LR"))
    }
    assert rows["positional-head"].endswith("n/a (does not apply)")
    assert "best L1H0" in rows["iteration-head"]


def test_verify_as_json_prints_json_and_skips_a_stored_run_without_loading(database: str) -> None:
    run(database, "verify", "--model", "smollm2", "--detector", "positional")
    printed = json.loads(run(database, "verify", "--model", "smollm2", "--detector", "positional", "--json").output)
    assert printed["model"] == "smollm2-135m-instruct"
    assert [(o["detector"], o["status"]) for o in printed["outcomes"]] == [("positional", "skipped")]


def test_verdicts_and_the_matrix_take_the_short_name_verify_takes(database: str) -> None:
    run(database, "verify", "--model", "smollm2", "--detector", "positional")
    verdicts = json.loads(run(database, "verdicts", "--model", "smollm2", "--json").output)
    assert verdicts["count"] > 0 and {v["model"] for v in verdicts["data"]} == {"smollm2-135m-instruct"}
    matrix = json.loads(run(database, "matrix", "--model", "SmolLM2", "--json").output)
    assert [model["slug"] for model in matrix["models"]] == ["smollm2-135m-instruct"]
