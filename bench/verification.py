"""A full verification, timed: every registered detector on each bundled model and the toy, per detector and model.

Each model is verified with `ingest.verify.verify_model`, exactly as `headatlas
verify --model NAME` runs it, into a catalog (a temporary SQLite file unless
`--database` names one, so that the same run can fill the catalog a note quotes).
The model's total is the wall clock of that call: loading, every detector,
confirmations and writes. The baseline, measured in the same process just
before, is one plain forward pass of the model on the IOI probe (48 prompts of
about 17 tokens; for the parity toy, which knows no words, its parity probe of
96 prompts): a detector's ratio says how many such forwards its whole run
(every seed, the causal confirmation of the heads found, the write) costs,
which compares across machines better than seconds. Per detector it also
counts the forward passes run, and of those the ones with gradients (each
followed by one backward pass).

`--against REV` times the same verification with the code of git revision REV
(a temporary worktree, the same models and seeds) in the same run, alternating
models between the two, so that a busy machine slows both alike.

From the repository root, after `make models` (and `make models-qwen` for Qwen):

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.verification                    # every bundled model installed, the toy
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.verification --models smollm2 --against 29faaaa
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.verification --models smollm2 --database sqlite:///headatlas.db
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch

from catalog.db import make_engine
from catalog.settings import KNOWLEDGE_DIR, Settings
from ingest.detectors.ioi import ioi_probes
from ingest.detectors.iteration import parity_prompts
from ingest.evidence import DEFAULT_SEEDS
from ingest.model_files import load_sources, missing_requirements
from ingest.model_loading import load_model
from ingest.toy_checkpoint import TOY_NAME
from ingest.verify import VerifyOptions, verify_model
from ingest.write_knowledge import ingest_knowledge

# Plain forwards timed for the baseline; the median counts.
BASELINE_REPEATS = 5
ROOT = Path(__file__).resolve().parent.parent


def plain_forward_seconds(name: str, cache_dir: Path) -> tuple[float, float]:
    """Seconds to load the model, and the median seconds of one plain forward on the IOI probe."""
    started = time.perf_counter()
    loaded = load_model(name, cache_dir=cache_dir)
    load = time.perf_counter() - started
    toy = loaded.facts.kind == "toy"
    probe = parity_prompts(loaded.tokenizer, seed=0) if toy else ioi_probes(loaded.tokenizer, seed=0).clean
    times = []
    with torch.no_grad():
        for _ in range(BASELINE_REPEATS):
            clock = time.perf_counter()
            loaded.model(input_ids=probe.input_ids, attention_mask=probe.attention_mask, use_cache=False)
            times.append(time.perf_counter() - clock)
    return load, statistics.median(times)


# Times one verification with whatever code is on the path (this checkout's or REV's): it uses only
# verify_model's oldest signature, so that any revision since the engine existed can run it.
WALL_CLOCK = """
import json, sys, tempfile, time
from pathlib import Path
from catalog.db import make_engine
from catalog.settings import KNOWLEDGE_DIR, Settings
from ingest.verify import VerifyOptions, verify_model
from ingest.write_knowledge import ingest_knowledge
name, seeds = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory() as scratch:
    engine = make_engine(f"sqlite:///{scratch}/bench.db")
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    clock = time.perf_counter()
    verify_model(engine, VerifyOptions(model=name, seeds=seeds, force=True), cache_dir=Settings().cache_dir)
    print(json.dumps({"seconds": time.perf_counter() - clock}))
"""


def seconds_at(revision_tree: Path, name: str, seeds: int) -> float:
    """The wall clock of one verification of `name` with the code in `revision_tree`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(revision_tree), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", WALL_CLOCK, name, str(seeds)], cwd=revision_tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"verification at {revision_tree} failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A temporary checkout of `revision`, removed afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), revision], cwd=ROOT, check=True, capture_output=True
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True, capture_output=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    installed = [name for name, source in sorted(load_sources().items()) if not missing_requirements(source)]
    models = [*installed, TOY_NAME]
    parser.add_argument("--models", nargs="+", default=models, help=f"bundled names or the toy (default: {models})")
    parser.add_argument("--database", help="catalog URL to fill; a temporary SQLite file by default")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per run (default {DEFAULT_SEEDS})")
    parser.add_argument("--against", metavar="REV", help="also time the verification with git revision REV's code")
    args = parser.parse_args()
    cache_dir = Settings().cache_dir
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        before = stack.enter_context(worktree(args.against)) if args.against else None
        engine = make_engine(args.database or f"sqlite:///{scratch}/bench.db")
        ingest_knowledge(engine, KNOWLEDGE_DIR)
        rows, totals = [], []
        for name in args.models:
            load, forward = plain_forward_seconds(name, cache_dir)
            clock = time.perf_counter()
            report = verify_model(engine, VerifyOptions(model=name, seeds=args.seeds, force=True), cache_dir=cache_dir)
            wall = time.perf_counter() - clock
            for outcome in report.outcomes:
                passes = (
                    int(outcome.timings.get("passes_forward", 0)),
                    int(outcome.timings.get("passes_with_grad", 0)),
                )
                rows.append(
                    (
                        report.model,
                        outcome.detector,
                        outcome.status,
                        outcome.seconds,
                        outcome.seconds / forward,
                        *passes,
                    )
                )
            then = seconds_at(before, name, args.seeds) if before is not None else None
            totals.append((report.model, load, forward, wall, sum(r[3] for r in rows if r[0] == report.model), then))
    print(f"{'model':<30} {'detector':<22} {'status':<15} {'seconds':>8} {'× forward':>10} {'passes':>7} {'grad':>5}")
    for model, detector, status, seconds, ratio, passes, grad in rows:
        print(f"{model:<30} {detector:<22} {status:<15} {seconds:>8.2f} {ratio:>10.1f} {passes:>7} {grad:>5}")
    print("\npasses: forward passes the run made (seeds, controls, confirmation); grad: of those, with a backward pass")
    print()
    header = f"{'model':<30} {'load s':>7} {'forward s':>10} {'detectors s':>12} {'verify s':>9} {'× forward':>10}"
    print(header + (f" {args.against + ' s':>12} {'after/before':>13}" if args.against else ""))
    for model, load, forward, wall, detectors, then in totals:
        line = f"{model:<30} {load:>7.1f} {forward:>10.3f} {detectors:>12.1f} {wall:>9.1f} {wall / forward:>10.0f}"
        print(line + (f" {then:>12.1f} {wall / then:>13.2f}" if then is not None else ""))
    print("verify s: the wall clock of verify_model (load, detectors, writes); detectors s: the detectors' own sum")


if __name__ == "__main__":
    main()
