"""What every command promises: JSON that parses, reads that create nothing, one-line errors, tables that fit."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.db import make_engine, upgrade
from cli.main import main
from cli.text import table
from tests.utils.cli import run


@pytest.mark.parametrize(
    "command",
    [["search", "induction"], ["heads", "--model", "gpt2-small"], ["runs"], ["datasets"], ["verdicts"]],
)
def test_every_list_prints_data_and_count_as_the_api_does(database: str, command: list[str]) -> None:
    printed = json.loads(run(database, *command, "--json").output)
    assert set(printed) == {"data", "count"} and printed["count"] == len(printed["data"])


def test_a_read_in_an_empty_folder_creates_no_database_and_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEADATLAS_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["summary"])
    assert result.exit_code == 1 and "run `headatlas ingest knowledge` first" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_catalog_without_knowledge_says_to_run_the_ingest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(make_engine(url))
    result = run(url, "show", "induction-head")
    assert result.exit_code == 1 and "holds no knowledge yet: run `headatlas ingest knowledge` first" in result.output


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://host/db"])
def test_a_bad_database_url_is_one_line_naming_it(url: str) -> None:
    result = run(url, "summary")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and repr(url) in result.output


def test_a_database_that_does_not_answer_is_one_line_naming_it() -> None:
    result = run("postgresql+psycopg://postgres@127.0.0.1:1/none", "ingest", "knowledge")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot open the catalog at postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert result.output.count("\n") == 1


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not sqlite")
    result = run(f"sqlite:///{tmp_path / 'notes.db'}", "runs")
    assert result.exit_code == 1 and "file is not a database" in result.output


def test_tables_fold_to_the_width_columns_gives(database: str) -> None:
    command = ["--database-url", database, "heads", "--model", "gpt2-small"]
    result = CliRunner().invoke(main, command, env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_a_table_narrows_its_widest_column_and_wraps_it() -> None:
    printed = table(["name", "note"], [("a", "one two three four five six")], width=20).splitlines()
    assert printed == ["name  note", "----  --------------", "a     one two three", "      four five six"]


def test_a_table_too_narrow_to_fold_keeps_its_headers_whole() -> None:
    printed = table(["detector", "threshold"], [("induction", 0.4)], width=5).splitlines()
    assert printed[0] == "detector  threshold"


@pytest.mark.parametrize("command", ["detectors", "models"])
def test_listing_detectors_and_models_imports_no_torch(command: str, tmp_path: Path) -> None:
    probe = (
        "import sys; from click.testing import CliRunner; from cli.main import main; "
        f"assert CliRunner().invoke(main, [{command!r}, '--json']).exit_code == 0; print('torch' in sys.modules)"
    )
    env = {"HEADATLAS_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    answers = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)]
    answers.append(subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True))
    assert answers[-1].stdout.strip() == "False", answers[-1].stderr
