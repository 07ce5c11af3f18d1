"""tasks.yaml is checked on load: a broken copy fails with an error naming the file, the task and the entry."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.detectors.task_texts import TASKS_FILE, TaskTextsError, load_task_texts


@pytest.fixture
def shipped() -> dict[str, Any]:
    """The shipped task material as plain data, to break one thing in."""
    return yaml.safe_load(TASKS_FILE.read_text())


def written(data: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_shipped_task_file_loads() -> None:
    texts = load_task_texts(TASKS_FILE)
    assert len(texts.icl_tasks) >= 2


def test_the_shipped_pairs_hold_no_identity_pair() -> None:
    texts = load_task_texts(TASKS_FILE)
    pairs = [pair for task in texts.icl_tasks.values() for pair in task] + texts.yes_no.questions
    assert all(left != right for left, right in pairs)


def test_an_identity_pair_is_refused_naming_the_file_the_task_and_the_entry(shipped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped["icl_tasks"]["country_capital"].append(["Mexico", "Mexico"])
    entry = len(shipped["icl_tasks"]["country_capital"]) - 1
    with pytest.raises(TaskTextsError, match="identity pair") as raised:
        load_task_texts(written(shipped, tmp_path))
    message = str(raised.value)
    assert str(tmp_path / "tasks.yaml") in message
    assert "'country_capital'" in message and f"entry {entry} ['Mexico', 'Mexico']" in message


def test_a_duplicated_pair_is_refused_naming_both_entries(shipped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    antonyms = shipped["icl_tasks"]["antonym"]
    antonyms.append(list(antonyms[0]))
    with pytest.raises(TaskTextsError, match=rf"'antonym'.*entry {len(antonyms) - 1} .* repeats entry 0"):
        load_task_texts(written(shipped, tmp_path))


def test_a_duplicated_yes_no_question_is_refused(shipped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = shipped["yes_no"]["questions"]
    questions.append(list(questions[3]))
    with pytest.raises(TaskTextsError, match=r"'yes_no', field 'questions'.* repeats entry 3"):
        load_task_texts(written(shipped, tmp_path))


def test_an_empty_string_is_refused_naming_its_place(shipped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped["icl_tasks"]["uppercase"][2] = ["sun", ""]
    with pytest.raises(TaskTextsError, match=r"'uppercase', entry 2, entry 1: String should have at least 1"):
        load_task_texts(written(shipped, tmp_path))


def test_an_empty_word_in_a_list_is_refused(shipped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped["ioi"]["names"].append("")
    with pytest.raises(TaskTextsError, match=r"'ioi', field 'names', entry \d+"):
        load_task_texts(written(shipped, tmp_path))


def test_the_error_is_a_value_error() -> None:
    assert issubclass(TaskTextsError, ValueError)
