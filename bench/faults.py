"""Faults and bad input: is the catalog ever left half-written or mixed, and is malformed input refused?

(a) Fault injection. For each backend (SQLite; PostgreSQL when its server
answers) and each writing command, `--rounds` times: start the command as its
own process, as a user would, and send it SIGKILL or SIGTERM (alternately) at
a seeded random moment: one in each of `--rounds` equal slices of an
uninterrupted run's time, so that start-up, loading, measuring and writing
are all hit; for verify, half of them so and half in the window in which the
uninterrupted run stored its runs (watched by polling the catalog). The commands:

- verify: `headatlas verify` on a tiny random Llama (2 layers x 4 heads,
  SmolLM2's tokenizer) with five quick detectors and 2 seeds, each round on a
  fresh catalog holding the knowledge;
- knowledge: `headatlas ingest knowledge`, alternating two knowledge folders
  that differ in a head type's texts, a paper's title and the reported heads
  (tests/utils/knowledge_folders.py), each round over what the last left.

After each fault the catalog is checked (tests/utils/catalog_state.py):
every run whole (its status one of RunStatus, finished, a score per head of
its model, verdicts exactly where a complete run scored), nothing that an
uninterrupted run would not have written, and for the knowledge the whole
catalog equal to a clean load of the folder before or of the folder after.
Then the same command is run again to its end, and the catalog must equal an
uninterrupted run's (run times left out).

(b) Bad input. Each malformed variant is tried against a loaded catalog (the
small knowledge and two runs on the tiny model): the exit code, whether a
traceback was printed, whether the error names the file (or the entry) at
fault, and whether the catalog dump is identical before and after.

Nothing is asserted: the report says what happened. From the repository root, after `make models`:

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python -m bench.faults      # ~10 min on 2 cores
    .venv/bin/python -m bench.faults --rounds 4 --backends sqlite --commands knowledge --no-bad-input
"""

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/faults.py`: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, select, text

from bench.measure import say, table
from catalog.db import make_engine
from catalog.models import Model
from ingest.write_knowledge import ingest_knowledge
from tests.utils.catalog_state import RUN_CLOCK, catalog_dump, half_written_runs, rows_outside, stored_runs
from tests.utils.knowledge import edit_yaml, head_type
from tests.utils.knowledge_folders import two_knowledge_folders
from tests.utils.writers import (
    Exited,
    fault_times,
    headatlas,
    run_interrupted,
    run_watched,
    run_whole,
    writing_window,
)

# The PostgreSQL server, as the test suite finds it; each catalog is a schema of its own, dropped at the end.
POSTGRES_URL = os.environ.get("HEADATLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Where SmolLM2 (whose tokenizer the tiny model borrows) is kept, as the CLI finds it.
CACHE_DIR = Path(os.environ.get("HEADATLAS_CACHE_DIR", Path.home() / ".cache" / "headatlas"))
# The same quick detectors as tests/ingest/test_interrupted_writes.py: complete and not-verifiable runs.
DETECTORS = ("positional", "previous_token", "induction", "name_mover", "successor")
# The signals sent, in turn: kill -9, and the polite kill that Python does not catch by default.
FAULTS = (signal.SIGKILL, signal.SIGTERM)
# What --backends and --commands accept, and their defaults.
BACKENDS = ("sqlite", "postgresql")
COMMANDS = ("verify", "knowledge")


class Catalogs:
    """Fresh, empty databases of one backend: SQLite files in a folder, or schemas on the PostgreSQL server."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend, self.folder, self.schemas = backend, folder, []  # type: ignore[var-annotated]

    def reachable(self) -> str | None:
        """Why this backend cannot be used, or None."""
        if self.backend == "sqlite":
            return None
        try:
            self._admin("SELECT 1")
        except Exception as error:  # noqa: BLE001 - any failure to reach the server
            return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(error).__name__}); skipped"
        return None

    def new(self, knowledge: Path) -> Engine:
        """A fresh catalog holding `knowledge`."""
        name = f"bench_faults_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            url = f"sqlite:///{self.folder / (name + '.db')}"
        else:
            self._admin(f"CREATE SCHEMA {name}")
            self.schemas.append(name)
            url = f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
        engine = make_engine(url)
        ingest_knowledge(engine, knowledge)
        return engine

    def close(self) -> None:
        for name in self.schemas:
            self._admin(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    def _admin(self, statement: str) -> None:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()


def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def verify_args(model: Path, detectors: tuple[str, ...] = DETECTORS) -> list[str]:
    return ["verify", "--model", str(model), *[f for d in detectors for f in ("--detector", d)], "--seeds", "2"]


@dataclass
class Tally:
    """What the rounds of one backend and command came to."""

    rounds: int = 0
    signals: Counter[str] = field(default_factory=Counter)
    ended_first: int = 0  # the writer exited before the fault was due
    consistent: int = 0  # faults after which the catalog was whole
    resumed: int = 0  # faults after which a second run gave the uninterrupted catalog
    lost: int = 0  # faults after which runs were half-written, rows foreign, or the knowledge mixed
    left: Counter[str] = field(default_factory=Counter)  # what the faults left: how many runs, or which folder

    def row(self, backend: str, command: str) -> list[str]:
        injected = sum(self.signals.values())
        by_signal = ", ".join(f"{n} {name}" for name, n in sorted(self.signals.items()))
        left = ", ".join(f"{n} {what}" for what, n in sorted(self.left.items()))
        return (
            [backend, command, str(self.rounds), str(injected), by_signal or "-", str(self.ended_first)]
            + [str(n) for n in (self.consistent, self.resumed, self.lost)]
            + [left or "-"]
        )


def inject(exited: Exited, fault: signal.Signals, tally: Tally) -> bool:
    tally.rounds += 1
    if not exited.signalled:
        tally.ended_first += 1
        return False
    tally.signals[fault.name] += 1
    return True


Outcome = tuple[list[str] | None, list[str]]  # a row of the faults table (None: no rounds run), and what went wrong


def verify_faults(catalogs: Catalogs, folders: dict[str, Path], model: Path, rounds: int, seed: int) -> Outcome:
    """Kill verify at `rounds` moments, each on a fresh catalog holding folder A."""
    tally, problems = Tally(), []
    engine = catalogs.new(folders["A"])
    whole, stored = run_watched(headatlas(url(engine), *verify_args(model)), lambda: stored_runs(engine))
    expected = catalog_dump(engine, leave_out=RUN_CLOCK)
    engine.dispose()
    if whole.returncode != 0:
        return None, [f"the uninterrupted verify failed: {whole.describe()}"]
    writing = writing_window(stored)
    for i, after in enumerate(fault_times(random.Random(seed), rounds, whole.seconds, writing=writing)):
        fault = FAULTS[i % len(FAULTS)]
        engine = catalogs.new(folders["A"])
        before = catalog_dump(engine, leave_out=RUN_CLOCK)
        command = headatlas(url(engine), *verify_args(model))
        exited = run_interrupted(command, after=after, fault=fault)
        if inject(exited, fault, tally):
            left = catalog_dump(engine, leave_out=RUN_CLOCK)
            stored, every = len(left["run"]), len(expected["run"])
            tally.left["no runs" if not stored else "every run" if stored == every else "some runs"] += 1
            wrong = half_written_runs(engine) + rows_outside(left, expected) + rows_outside(before, left)
            tally.consistent += not wrong
            tally.lost += bool(wrong)
            problems += [f"{fault.name} at {after:.1f} s: {problem}" for problem in wrong[:5]]
            again = run_whole(command)
            resumed = again.returncode == 0 and catalog_dump(engine, leave_out=RUN_CLOCK) == expected
            tally.resumed += resumed
            if not resumed:
                problems.append(f"{fault.name} at {after:.1f} s: the second run did not resume ({again.describe()})")
        engine.dispose()
    return tally.row(catalogs.backend, "verify"), problems


def knowledge_faults(catalogs: Catalogs, folders: dict[str, Path], rounds: int, seed: int) -> Outcome:
    """Kill `ingest knowledge` at `rounds` moments, alternating the folders, each round over what the last left."""
    tally, problems = Tally(), []
    clean = {}
    for name in folders:
        engine = catalogs.new(folders[name])
        clean[name] = catalog_dump(engine)
        engine.dispose()
    engine = catalogs.new(folders["A"])
    whole = run_whole(headatlas(url(engine), "ingest", "knowledge", "--path", str(folders["B"])))  # the time scale
    if whole.returncode != 0:
        return None, [f"the uninterrupted ingest failed: {whole.describe()}"]
    state = "B"
    for i, after in enumerate(fault_times(random.Random(seed), rounds, whole.seconds)):
        fault, target = FAULTS[i % len(FAULTS)], "B" if state == "A" else "A"
        command = headatlas(url(engine), "ingest", "knowledge", "--path", str(folders[target]))
        exited = run_interrupted(command, after=after, fault=fault)
        if inject(exited, fault, tally):
            left = catalog_dump(engine)
            whole_state = left in (clean[state], clean[target])
            tally.left[
                "the folder before" if left == clean[state] else "the folder after" if whole_state else "a mix"
            ] += 1
            tally.consistent += whole_state
            tally.lost += not whole_state
            if not whole_state:
                problems.append(f"{fault.name} at {after:.1f} s loading {target} over {state}: a mix of both")
            again = run_whole(command)
            resumed = again.returncode == 0 and catalog_dump(engine) == clean[target]
            tally.resumed += resumed
            if not resumed:
                problems.append(f"{fault.name} at {after:.1f} s: the second run did not resume ({again.describe()})")
                ingest_knowledge(engine, folders[target])  # carry on from a known state
        state = target
    engine.dispose()
    return tally.row(catalogs.backend, "knowledge"), problems


# --- Bad input ------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What a variant builds on: the loaded catalog's knowledge folder and the tiny model verified in it."""

    knowledge: Path
    model: Path


@dataclass(frozen=True)
class Variant:
    name: str
    names: str  # what a clear error must name: the file, or the entry, at fault
    build: Callable[[Setting, Path], list[str]]  # (setting, its own folder) -> the command's arguments


def _knowledge(setting: Setting, folder: Path, change: Callable[[Path], None]) -> list[str]:
    copy = Path(shutil.copytree(setting.knowledge, folder / "knowledge"))
    change(copy)
    return ["ingest", "knowledge", "--path", str(copy)]


def _replace(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    if old not in content:
        raise ValueError(f"{path.name} no longer holds {old!r}; update the bench's variant")
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


FIRST_TITLE = 'title: "In-context Learning and Induction Heads"'
FIRST_BIB_TITLE = "title={In-context learning and induction heads},"


def _rename_yml(k: Path) -> None:
    (k / "reported_heads/ioi-gpt2-small.yaml").rename(k / "reported_heads/ioi-gpt2-small.yml")


def _unknown_file(k: Path) -> None:
    def one_new(data: dict) -> None:  # type: ignore[type-arg]
        entry = dict(head_type(data, "positional-head"), slug="extra-head", name="Extra Head", aliases=[], related=[])
        data["head_types"] = [entry]

    shutil.copy(k / "head_types/ici.yaml", k / "head_types/extra.yaml")
    edit_yaml(k / "head_types/extra.yaml", one_new)


def _backup_file(k: Path) -> None:
    shutil.copy(k / "papers.yaml", k / "papers.yaml~")


def _head_twice(k: Path) -> None:
    shutil.copy(k / "reported_heads/ioi-gpt2-small.yaml", k / "reported_heads/ioi-gpt2-small-again.yaml")


def _kv_heads(k: Path) -> None:
    def more_kv_than_query_heads(data: dict) -> None:  # type: ignore[type-arg]
        next(m for m in data["models"] if m["slug"] == "gpt2-small")["n_kv_heads"] = 24

    edit_yaml(k / "models.yaml", more_kv_than_query_heads)


def _contradict_verified(slug: str) -> Callable[[Path], None]:
    def change(k: Path) -> None:
        def add(data: dict) -> None:  # type: ignore[type-arg]
            shape = {"n_layers": 3, "n_heads": 4, "n_kv_heads": 2, "d_model": 32}  # verified: 2 layers
            entry = {"slug": slug, "name": "Tiny", "hub_id": None, "revision": None, "family": "llama"}
            data["models"].append(
                {**entry, "kind": "pretrained", **shape, "positional": "rotary", "quantization": None, "license": None}
            )

        edit_yaml(k / "models.yaml", add)

    return change


def _drop_positional_head(k: Path) -> None:
    def drop(data: dict) -> None:  # type: ignore[type-arg]
        data["head_types"] = [h for h in data["head_types"] if h["slug"] != "positional-head"]
        for entry in data["head_types"]:
            entry["related"] = [r for r in entry.get("related", []) if r["slug"] != "positional-head"]

    for path in (k / "head_types").glob("*.yaml"):
        edit_yaml(path, drop)


def _invalid_utf8(k: Path) -> None:
    path = k / "head_types/ici.yaml"
    path.write_bytes(path.read_bytes().replace(b"Previous Token Head", b"Previous Token \xff\xfe Head", 1))


def _truncated_gguf(setting: Setting, folder: Path) -> list[str]:
    from ingest.model_files import bundled_model_file

    source = bundled_model_file("smollm2", CACHE_DIR).path
    target = folder / "truncated.gguf"
    with source.open("rb") as whole:
        target.write_bytes(whole.read(2 << 20))  # the header and part of the metadata of a 100 MB file
    return verify_args(target, ("positional",))


def _truncated_safetensors(setting: Setting, folder: Path) -> list[str]:
    copy = Path(shutil.copytree(setting.model, folder / "tiny-truncated"))
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    return verify_args(copy, ("positional",))


class Payload:
    """Unpickling this runs a command: what a weights file must never be allowed to do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def _pickle_payload(setting: Setting, folder: Path) -> list[str]:
    import pickle

    copy = Path(shutil.copytree(setting.model, folder / "tiny-pickled", ignore=shutil.ignore_patterns("*.safetensors")))
    (copy / "pytorch_model.bin").write_bytes(pickle.dumps({"model.embed_tokens.weight": Payload(folder / "RAN")}))
    return verify_args(copy, ("positional",))


def variants(model_slug: str) -> list[Variant]:
    def knowledge(change: Callable[[Path], None]) -> Callable[[Setting, Path], list[str]]:
        return lambda setting, folder: _knowledge(setting, folder, change)

    def papers(old: str, new: str) -> Callable[[Setting, Path], list[str]]:
        return knowledge(lambda k: _replace(k / "papers.yaml", old, new))

    early = "title = {In-context learning and induction} heads},"
    unbalanced = "title={In-context {learning and induction heads},"
    twice = FIRST_TITLE + '\n    title: "Another title"'
    nul, esc = (FIRST_TITLE.replace(" and", escape + " and", 1) for escape in ("\\0", "\\e"))
    return [
        Variant("a reported-heads file renamed .yml", "ioi-gpt2-small.yml", knowledge(_rename_yml)),
        Variant("an unknown file in head_types/", "extra.yaml", knowledge(_unknown_file)),
        Variant("an editor's backup papers.yaml~", "papers.yaml~", knowledge(_backup_file)),
        Variant("a duplicate YAML key (title)", "papers.yaml", papers(FIRST_TITLE, twice)),
        Variant("BibTeX that closes early", "papers.yaml", papers(FIRST_BIB_TITLE, early)),
        Variant("BibTeX with unbalanced braces", "papers.yaml", papers(FIRST_BIB_TITLE, unbalanced)),
        Variant("a NUL in a title (YAML \\0)", "papers.yaml", papers(FIRST_TITLE, nul)),
        Variant("an ESC in a title (YAML \\e)", "papers.yaml", papers(FIRST_TITLE, esc)),
        Variant("invalid UTF-8 in a head-type file", "ici.yaml", knowledge(_invalid_utf8)),
        Variant("a head given twice in two files", "ioi-gpt2-small-again.yaml", knowledge(_head_twice)),
        Variant("n_kv_heads > n_heads in models.yaml", "models.yaml", knowledge(_kv_heads)),
        Variant("models.yaml contradicts a verified model", model_slug, knowledge(_contradict_verified(model_slug))),
        Variant("a head type removed that runs refer to", "positional-head", knowledge(_drop_positional_head)),
        Variant("a truncated GGUF file (verify)", "truncated.gguf", _truncated_gguf),
        Variant("a truncated safetensors file (verify)", "model.safetensors", _truncated_safetensors),
        Variant("a pickle payload as weights (verify)", "pytorch_model.bin", _pickle_payload),
    ]


def error_text(exited: Exited) -> str:
    """What the command said went wrong: from click's `Error:` on, else its last words."""
    lines = exited.stderr.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), None)
    return "\n".join(lines[start:]) if start is not None else exited.last_words()


def loaded_catalog(catalogs: Catalogs, knowledge: Path, model: Path) -> Engine:
    from ingest.verify import VerifyOptions, verify_model

    engine = catalogs.new(knowledge)
    options = VerifyOptions(model=str(model), detectors=("positional", "previous_token"), seeds=2)
    verify_model(engine, options, cache_dir=CACHE_DIR)
    return engine


def bad_input(
    catalogs: Catalogs, folders: dict[str, Path], model: Path, work: Path
) -> tuple[list[list[str]], list[str], list[str]]:
    """Try every variant on a loaded catalog; returns the table's rows, what each command said, a summary row."""
    engine = loaded_catalog(catalogs, folders["A"], model)
    with engine.connect() as connection:
        slug = connection.execute(select(Model.slug).where(Model.identity.is_not(None))).scalar_one()  # type: ignore[union-attr]
    rows: list[list[str]] = []
    messages: list[str] = []
    clear = unchanged = 0
    tried = variants(slug)
    for n, variant in enumerate(tried):
        folder = work / f"{catalogs.backend}-{n}"
        folder.mkdir(parents=True)
        before = catalog_dump(engine)
        command = headatlas(url(engine), *variant.build(Setting(folders["A"], model), folder))
        exited = run_whole(command, env={"HEADATLAS_CACHE_DIR": str(work / "cache")})
        said = error_text(exited)
        traceback = "Traceback (most recent call last)" in exited.stderr
        names = variant.names in said
        same = catalog_dump(engine) == before
        is_clear = exited.returncode != 0 and not traceback and names
        clear += is_clear
        unchanged += same
        ran = _yes((folder / "RAN").exists()) if variant.build is _pickle_payload else "-"
        flags = [_yes(traceback), _yes(names), str(len(said.splitlines())), _yes(same), ran]
        rows.append([variant.name, catalogs.backend, str(exited.returncode), *flags])
        messages.append(
            f"{variant.name} ({catalogs.backend}): " + " | ".join(said.replace(str(work), "…").splitlines())
        )
        if not same:  # start the next variant from a clean loaded catalog again
            engine.dispose()
            engine = loaded_catalog(catalogs, folders["A"], model)
    engine.dispose()
    return rows, messages, [catalogs.backend, str(len(tried)), str(clear), str(unchanged)]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def tiny_model(folder: Path) -> Path | None:
    """A tiny random Llama with SmolLM2's tokenizer, or None (and why) when SmolLM2 is not installed."""
    from ingest.model_files import ModelFileError
    from ingest.model_loading import load_model
    from tests.utils.tiny_models import tiny_checkpoint

    try:
        smollm2 = load_model("smollm2", cache_dir=CACHE_DIR)
    except ModelFileError as error:
        say(f"No tiny model, so no verify rounds and no model variants: {error}")
        return None
    return tiny_checkpoint("llama", smollm2.tokenizer, folder / "tiny-llama")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="faults per backend and command (default 20)")
    parser.add_argument("--seed", type=int, default=16, help="seed of the fault moments")
    parser.add_argument("--backends", nargs="*", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--commands", nargs="*", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--no-bad-input", action="store_true", help="skip part (b)")
    args = parser.parse_args()
    os.environ.update({"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "HF_HUB_OFFLINE": "1"})
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as scratch:
        work = Path(scratch)
        folders = two_knowledge_folders(work / "knowledge")
        model = tiny_model(work)
        fault_rows: list[list[str]] = []
        bad_rows: list[list[str]] = []
        summaries: list[list[str]] = []
        problems: list[str] = []
        messages: list[str] = []
        for backend in args.backends:
            catalogs = Catalogs(backend, work)
            if (why := catalogs.reachable()) is not None:
                say(why)
                continue
            try:
                for command in args.commands:
                    if command == "verify" and model is None:
                        continue
                    say(f"faults: {backend} / {command}, {args.rounds} rounds ...", file=sys.stderr)
                    row, found = (
                        verify_faults(catalogs, folders, model, args.rounds, args.seed)  # type: ignore[arg-type]
                        if command == "verify"
                        else knowledge_faults(catalogs, folders, args.rounds, args.seed)
                    )
                    fault_rows += [row] if row else []
                    problems += [f"{backend} / {command}: {problem}" for problem in found]
                if not args.no_bad_input and model is not None:
                    say(f"bad input: {backend} ...", file=sys.stderr)
                    rows, said, summary = bad_input(catalogs, folders, model, work / "bad")
                    bad_rows += rows
                    messages += said
                    summaries.append(summary)
            finally:
                catalogs.close()
        report(fault_rows, problems, bad_rows, messages, summaries)


def report(
    fault_rows: list[list[str]],
    problems: list[str],
    bad_rows: list[list[str]],
    messages: list[str],
    summaries: list[list[str]],
) -> None:
    if fault_rows:
        say("\n(a) Faults: a writer killed at a random moment; the catalog checked, then the command run again")
        header = ["backend", "command", "rounds", "faults injected", "signals", "ended first"]
        table([*header, "survived (consistent)", "resumed", "data lost", "left"], fault_rows)
        say("ended first: the writer had exited before its fault was due (not a fault). survived: every run whole,")
        say("nothing an uninterrupted run would not write, the knowledge one folder's. data lost: half-written runs,")
        say("foreign rows or mixed knowledge. resumed: the second run's catalog equals an uninterrupted run's.")
        say("left: what the faults left, runs of the uninterrupted verification or the folder of the catalog.")
        for problem in problems:
            say(f"  {problem}")
    if bad_rows:
        say("\n(b) Bad input, each tried on a loaded catalog (knowledge and two runs on the tiny model)")
        table(
            ["variant", "backend", "exit", "traceback", "names it", "lines", "changed nothing", "payload ran"], bad_rows
        )
        say("\nWhat each said (from click's `Error:` on; lines joined by |, the scratch folder shown as …):")
        for message in messages:
            say(f"  {message}")
        say("")
        table(["backend", "variants tried", "refused with a clear error", "changed nothing"], summaries)
        say("clear error: nonzero exit, no traceback, and the message names the file (or entry) at fault.")


if __name__ == "__main__":
    main()
