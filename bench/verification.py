"""A full verification, timed: every registered detector on each bundled model and the toy, per detector and model.

Each model is verified with `ingest.verify.verify_model`, exactly as `headatlas
verify --model NAME` runs it, into a catalog (a temporary SQLite file unless
`--database` names one, so that the same run can fill the catalog a note quotes).
The baseline, measured in the same process just before, is one plain forward
pass of the model on the IOI probe (48 prompts of about 17 tokens; for the
parity toy, which knows no words, its parity probe of 96 prompts): a
detector's ratio says how many such forwards its whole run (every seed, and the
causal confirmation of the heads found) costs, which
compares across machines better than seconds. The load column is the model
load (converted weights from the cache; the first load ever also dequantizes).

From the repository root, after `make models` (and `make models-qwen` for Qwen):

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.verification                    # every bundled model installed, the toy
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.verification --models smollm2 --database sqlite:///headatlas.db
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from catalog.db import make_engine
from catalog.settings import KNOWLEDGE_DIR, Settings
from ingest.detectors.ioi import ioi_probes
from ingest.detectors.iteration import parity_prompts
from ingest.evidence import DEFAULT_SEEDS
from ingest.model_files import load_sources, missing_requirements
from ingest.model_loading import load_model
from ingest.toy_models import TOY_NAME
from ingest.verify import VerifyOptions, verify_model
from ingest.write_knowledge import ingest_knowledge

# Plain forwards timed for the baseline; the median counts.
BASELINE_REPEATS = 5


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    installed = [name for name, source in sorted(load_sources().items()) if not missing_requirements(source)]
    models = [*installed, TOY_NAME]
    parser.add_argument("--models", nargs="+", default=models, help=f"bundled names or the toy (default: {models})")
    parser.add_argument("--database", help="catalog URL to fill; a temporary SQLite file by default")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per run (default {DEFAULT_SEEDS})")
    args = parser.parse_args()
    cache_dir = Settings().cache_dir
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(args.database or f"sqlite:///{scratch}/bench.db")
        ingest_knowledge(engine, KNOWLEDGE_DIR)
        rows, totals = [], []
        for name in args.models:
            load, forward = plain_forward_seconds(name, cache_dir)
            report = verify_model(engine, VerifyOptions(model=name, seeds=args.seeds, force=True), cache_dir=cache_dir)
            for outcome in report.outcomes:
                rows.append(
                    (report.model, outcome.detector, outcome.status, outcome.seconds, outcome.seconds / forward)
                )
            total = sum(outcome.seconds for outcome in report.outcomes)
            totals.append((report.model, load, forward, total, total / forward, len(report.outcomes)))
    print(f"{'model':<30} {'detector':<22} {'status':<15} {'seconds':>8} {'× forward':>10}")
    for model, detector, status, seconds, ratio in rows:
        print(f"{model:<30} {detector:<22} {status:<15} {seconds:>8.2f} {ratio:>10.1f}")
    print()
    print(f"{'model':<30} {'load s':>7} {'forward s':>10} {'detectors':>9} {'verify s':>9} {'× forward':>10}")
    for model, load, forward, total, ratio, count in totals:
        print(f"{model:<30} {load:>7.1f} {forward:>10.3f} {count:>9} {total:>9.1f} {ratio:>10.0f}")


if __name__ == "__main__":
    main()
