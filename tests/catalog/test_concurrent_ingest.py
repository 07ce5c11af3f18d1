"""Knowledge ingests started at once take turns: each reads one whole catalog and leaves exactly its own folder's.

Four `headatlas ingest knowledge` processes start together, alternating two
folders that differ in a head type's texts, a paper's title and the reported
heads. Every round the catalog must dump exactly as a clean load of one folder,
never a mix, and each writer's report must show it read a whole state (the
catalog before the round, or what another writer left), so that some serial
order of the writers explains the round and says whose folder is left.
"""

import json
from dataclasses import dataclass, field
from itertools import permutations
from pathlib import Path

import pytest
from sqlalchemy import Engine

from catalog.db import make_engine
from ingest.write_knowledge import ingest_knowledge
from tests.conftest import _empty_database
from tests.utils.catalog_state import Dump, catalog_dump, dump_differences
from tests.utils.knowledge_folders import two_knowledge_folders
from tests.utils.writers import headatlas, run_together, url_of

# Rounds of simultaneous writers, and the writers of each round (folders A, B, A, B).
ROUNDS = 3
FOLDERS = ("A", "B", "A", "B")
# The catalog before the first round: migrated, nothing loaded.
EMPTY = "empty"

Counts = dict[str, dict[str, int]]


@dataclass
class References:
    """Each folder's dump after a clean load, and the counts a load of each folder reports from each whole state."""

    dumps: dict[str, Dump] = field(default_factory=dict)
    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (state read, folder written) -> counts

    def state_read(self, folder: str, counts: Counts) -> str | None:
        """The whole state a load of `folder` reporting `counts` started from; None if it matches none."""
        return next((read for (read, wrote), known in self.counts.items() if wrote == folder and known == counts), None)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return two_knowledge_folders(tmp_path_factory.mktemp("knowledge"))


@pytest.fixture
def references(backend: str, folders: dict[str, Path], tmp_path: Path) -> References:
    found = References()
    for folder, then in (("A", ("A", "B", "B", "A")), ("B", ())):
        where = tmp_path / f"reference-{folder}"
        where.mkdir()
        with _empty_database(backend, where) as url:
            engine = make_engine(url)
            found.counts[(EMPTY, folder)] = _load(engine, folders[folder])
            found.dumps[folder] = catalog_dump(engine)
            state = folder
            for next_folder in then:
                found.counts[(state, next_folder)] = _load(engine, folders[next_folder])
                state = next_folder
            engine.dispose()
    return found


def _load(engine: Engine, folder: Path) -> Counts:
    return {table: vars(count) for table, count in ingest_knowledge(engine, folder).items()}


def serial_ends(start: str, writes: list[tuple[str, str]]) -> set[str]:
    """Where the serial orders of `writes` (each the state it read and the folder it wrote) can end, from `start`."""
    ends = set()
    for order in permutations(writes):
        state = start
        for read, wrote in order:
            if read != state:
                break
            state = wrote
        else:
            ends.add(state)
    return ends


def test_simultaneous_ingests_leave_exactly_the_folder_of_the_last_to_commit(
    engine: Engine, folders: dict[str, Path], references: References
) -> None:
    assert dump_differences(references.dumps["A"], references.dumps["B"]), "the two folders must differ"
    url, state = url_of(engine), EMPTY
    for round_ in range(1, ROUNDS + 1):
        commands = [headatlas(url, "ingest", "knowledge", "--path", str(folders[f]), "--json") for f in FOLDERS]
        exits = run_together(commands)
        assert [e.returncode for e in exits] == [0] * len(FOLDERS), [e.describe() for e in exits]
        reads = [references.state_read(f, json.loads(e.stdout)) for f, e in zip(FOLDERS, exits, strict=True)]
        assert None not in reads, f"round {round_}: a writer read a catalog that was no whole state: {reads}"
        ends = serial_ends(state, list(zip(reads, FOLDERS, strict=True)))  # type: ignore[arg-type]
        assert len(ends) == 1, f"round {round_}: no one serial order explains what the writers read: {reads}"
        (state,) = ends
        assert dump_differences(catalog_dump(engine), references.dumps[state]) == [], f"round {round_}"
