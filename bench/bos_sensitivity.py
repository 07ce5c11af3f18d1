"""How much the pattern detectors depend on the document-start token: each bundled model, with and without it.

Every probe starts with the token the model saw before each training document
(`ingest.detectors.probes.document_start`: Gemma 3's `<bos>`, `<|endoftext|>`
for SmolLM2 and Qwen2). This runs each pattern detector at seed 0 twice on
each installed bundled model, as `ingest.verify.run_detector` runs it, once
as verification does and once inside `without_bos()`, and prints per detector
and model the heads that pass the detector's rule at seed 0 (score against
threshold and baseline, `Detector.decide`; verification's "found" also needs
several seeds to agree) and the strongest head, in each setting, with the
differences.

From the repository root, after `make models` (and `make models-qwen` for Qwen):

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.bos_sensitivity
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.bos_sensitivity --models smollm2 --detectors attention_sink induction
"""

import argparse
import time
from dataclasses import dataclass

from catalog.settings import Settings
from ingest.detectors.base import Detector, PatternDetector
from ingest.detectors.probes import bos_policy, without_bos
from ingest.lens import ModelLens
from ingest.model_files import load_sources, missing_requirements
from ingest.model_loading import LoadedModel, load_model
from ingest.plugins import detectors
from ingest.verify import run_detector

# The detectors the audit asked about first; --detectors takes any pattern detector.
DEFAULT_DETECTORS = ["attention_sink", "previous_token", "induction", "duplicate_token"]


@dataclass(frozen=True)
class Setting:
    """One detector's outcome on one model in one setting (with or without the document start)."""

    passing: int
    scored: int
    layer: int
    head: int
    score: float


def measured(loaded: LoadedModel, lens: ModelLens, detector: Detector) -> Setting:
    """Heads passing the rule at seed 0, and the strongest head (score, or score above baseline for margin rules)."""
    result = run_detector(loaded, detector, seed=0, lens=lens)
    scores, baselines = result.scores, result.baselines
    _, passing = detector.decide(scores, baselines)
    strength = (scores - baselines if detector.rule == "margin" else scores).nan_to_num(-1.0)
    layer, head = divmod(int(strength.argmax()), strength.shape[1])
    scored = int((~scores.isnan()).sum())
    return Setting(int(passing.sum()), scored, layer, head, float(scores[layer, head]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    installed = [name for name, source in sorted(load_sources().items()) if not missing_requirements(source)]
    pattern = sorted(name for name, d in detectors(entrypoints=False).items() if isinstance(d, PatternDetector))
    parser.add_argument("--models", nargs="+", default=installed, help=f"bundled names (default: {installed})")
    parser.add_argument(
        "--detectors", nargs="+", default=DEFAULT_DETECTORS, choices=pattern, help="pattern detectors to run"
    )
    args = parser.parse_args()
    registry = detectors(entrypoints=False)
    cache_dir = Settings().cache_dir
    rows, policies = [], []
    started = time.perf_counter()
    for name in args.models:
        loaded = load_model(name, cache_dir=cache_dir)
        lens = ModelLens(loaded.model, loaded.tokenizer)
        policy = bos_policy(loaded.tokenizer)
        policies.append((loaded.facts.slug, policy))
        for detector_name in args.detectors:
            detector = registry[detector_name]
            with_bos = measured(loaded, lens, detector)
            with without_bos():
                bare = measured(loaded, lens, detector)
            rows.append((loaded.facts.slug, detector_name, with_bos, bare))
    for slug, policy in policies:
        print(f"{slug}: document start {policy['bos']!r} (id {policy['bos_id']}, rule {policy['rule']})")
    print()
    header = (
        f"{'model':<28} {'detector':<16} {'heads':>5} {'pass BOS':>8} {'pass none':>9} {'Δ pass':>7} "
        f"{'top BOS':>16} {'top none':>16} {'Δ top':>7}"
    )
    print(header)
    for slug, detector_name, with_bos, bare in rows:
        top_bos = f"L{with_bos.layer}H{with_bos.head} {with_bos.score:.3f}"
        top_bare = f"L{bare.layer}H{bare.head} {bare.score:.3f}"
        print(
            f"{slug:<28} {detector_name:<16} {with_bos.scored:>5} {with_bos.passing:>8} {bare.passing:>9} "
            f"{with_bos.passing - bare.passing:>+7} {top_bos:>16} {top_bare:>16} {with_bos.score - bare.score:>+7.3f}"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
