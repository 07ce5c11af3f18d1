"""A writer killed at any point (kill -9) leaves nothing half-written, and running it again finishes the job.

`headatlas verify` on a tiny random model and `headatlas ingest knowledge`
run as their own processes and are killed at seeded random moments: for the
ingest one in each third of an uninterrupted run's time, for verify one in
each half and one while an uninterrupted run was storing its runs, so that
loading, measuring and writing are all hit. After each kill every stored run is whole and the
catalog is the state before, or a part of the uninterrupted result made of
whole runs; the knowledge tables are the folder before or the folder after,
never a mix. Running the same command again then gives exactly what one
uninterrupted run gives.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from catalog.db import make_engine
from ingest.write_knowledge import ingest_knowledge
from tests.conftest import _empty_database
from tests.utils.catalog_state import (
    RUN_CLOCK,
    catalog_dump,
    dump_differences,
    half_written_runs,
    rows_outside,
    stored_runs,
)
from tests.utils.knowledge_folders import two_knowledge_folders
from tests.utils.tiny_models import tiny_checkpoint
from tests.utils.writers import (
    fault_times,
    headatlas,
    run_interrupted,
    run_watched,
    run_whole,
    url_of,
    writing_window,
)

# Kills per command and backend, and the seed their moments are drawn from.
ROUNDS = 3
FAULT_SEED = 16
# Quick detectors on a random model: pattern detectors (complete runs) and task detectors (not verifiable).
DETECTORS = ("positional", "previous_token", "induction", "name_mover", "successor")


@pytest.fixture(scope="module")
def tiny_folder(smollm2, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    return tiny_checkpoint("llama", smollm2.tokenizer, tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return two_knowledge_folders(tmp_path_factory.mktemp("knowledge"))


@contextmanager
def catalog_with(backend: str, where: Path, knowledge: Path) -> Iterator[Engine]:
    """A fresh catalog holding `knowledge`, in a database of its own."""
    where.mkdir()
    with _empty_database(backend, where) as url:
        engine = make_engine(url)
        ingest_knowledge(engine, knowledge)
        try:
            yield engine
        finally:
            engine.dispose()


def verify_command(engine: Engine, model: Path) -> list[str]:
    flags = [flag for name in DETECTORS for flag in ("--detector", name)]
    return headatlas(url_of(engine), "verify", "--model", str(model), *flags, "--seeds", "2")


@pytest.mark.model  # the tiny model borrows the bundled SmolLM2's tokenizer
def test_a_verification_killed_at_any_point_keeps_whole_runs_and_resumes_to_the_uninterrupted_catalog(
    backend: str, tmp_path: Path, tiny_folder: Path, folders: dict[str, Path]
) -> None:
    with catalog_with(backend, tmp_path / "whole", folders["A"]) as engine:
        whole, stored = run_watched(verify_command(engine, tiny_folder), lambda: stored_runs(engine))
        assert whole.returncode == 0, whole.describe()
        expected = catalog_dump(engine, leave_out=RUN_CLOCK)
    writing = writing_window(stored)
    for round_, after in enumerate(fault_times(random.Random(FAULT_SEED), ROUNDS, whole.seconds, writing=writing)):
        with catalog_with(backend, tmp_path / f"round-{round_}", folders["A"]) as engine:
            before = catalog_dump(engine, leave_out=RUN_CLOCK)
            killed = run_interrupted(verify_command(engine, tiny_folder), after=after)
            where = f"killed at {after:.1f} s ({killed.describe()})"
            assert half_written_runs(engine) == [], where
            left = catalog_dump(engine, leave_out=RUN_CLOCK)
            assert rows_outside(left, expected) == [], where
            assert rows_outside(before, left) == [], where
            resumed = run_whole(verify_command(engine, tiny_folder))
            assert resumed.returncode == 0, resumed.describe()
            assert dump_differences(catalog_dump(engine, leave_out=RUN_CLOCK), expected) == [], where


def test_a_knowledge_ingest_killed_at_any_point_leaves_the_folder_before_or_after_and_resumes(
    backend: str, tmp_path: Path, folders: dict[str, Path]
) -> None:
    clean = {}
    for name in ("A", "B"):
        with catalog_with(backend, tmp_path / f"clean-{name}", folders[name]) as engine:
            clean[name] = catalog_dump(engine)
    with catalog_with(backend, tmp_path / "killed", folders["A"]) as engine:
        whole = run_whole(headatlas(url_of(engine), "ingest", "knowledge", "--path", str(folders["B"])))
        assert whole.returncode == 0, whole.describe()
        state = "B"
        for after in fault_times(random.Random(FAULT_SEED), ROUNDS, whole.seconds):
            target = "B" if state == "A" else "A"
            command = headatlas(url_of(engine), "ingest", "knowledge", "--path", str(folders[target]))
            killed = run_interrupted(command, after=after)
            where = f"loading {target} over {state}, killed at {after:.1f} s ({killed.describe()})"
            left = catalog_dump(engine)
            against = {name: dump_differences(left, clean[name]) for name in (state, target)}
            assert [] in against.values(), f"{where}: neither folder's catalog: {against}"
            resumed = run_whole(command)
            assert resumed.returncode == 0, resumed.describe()
            assert dump_differences(catalog_dump(engine), clean[target]) == [], where
            state = target
