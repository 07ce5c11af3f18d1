"""bfloat16 against float32 on SmolLM2: each detector's time and the largest difference of its scores.

Each detector runs at seed 0, one seed, through `ingest.verify.run_detector`,
once with the model loaded in float32 (the default) and once in bfloat16
(`load_model(..., dtype="bfloat16")`), on the CPU, alternating detector by
detector so that a busy machine slows both alike. Scores are accumulated in
float32 whatever the model's dtype; the difference is the largest |bf16 - fp32|
over the heads both score, next to the largest fp32 score for scale, and
whether the heads passing the rule at that seed are the same.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.dtypes                        # every detector, ~10 min on 2 cores
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.dtypes --detectors previous_token induction
"""

import argparse
import time

import torch

from catalog.settings import Settings
from ingest.lens import ModelLens
from ingest.model_loading import load_model
from ingest.plugins import detectors
from ingest.verify import run_detector

DTYPES = ("float32", "bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--detectors", nargs="*", help="only these detectors (default: every registered one)")
    args = parser.parse_args()
    loaded = {dtype: load_model(args.model, cache_dir=Settings().cache_dir, dtype=dtype) for dtype in DTYPES}
    lenses = {dtype: ModelLens(each.model, each.tokenizer) for dtype, each in loaded.items()}
    chosen = [d for name, d in detectors(entrypoints=False).items() if not args.detectors or name in args.detectors]
    print(
        f"{'detector':<22} {'fp32 s':>8} {'bf16 s':>8} {'bf16/fp32':>9} {'max |diff|':>10} {'max fp32':>9} same found"
    )
    totals = dict.fromkeys(DTYPES, 0.0)
    largest = 0.0
    for detector in chosen:
        runs, seconds = {}, {}
        for dtype in DTYPES:
            clock = time.perf_counter()
            runs[dtype] = run_detector(loaded[dtype], detector, seed=0, lens=lenses[dtype])
            seconds[dtype] = time.perf_counter() - clock
            totals[dtype] += seconds[dtype]
        fp32, bf16 = runs["float32"].scores, runs["bfloat16"].scores  # [layer, head]
        both = ~fp32.isnan() & ~bf16.isnan()
        diff = float((fp32 - bf16)[both].abs().max()) if both.any() else float("nan")
        top = float(fp32[both].abs().max()) if both.any() else float("nan")
        largest = max(largest, diff) if diff == diff else largest
        same = torch.equal(runs["float32"].shows_behaviour, runs["bfloat16"].shows_behaviour)
        ratio = seconds["bfloat16"] / seconds["float32"]
        print(
            f"{detector.name:<22} {seconds['float32']:>8.2f} {seconds['bfloat16']:>8.2f} {ratio:>9.2f} "
            f"{diff:>10.4f} {top:>9.3f} {'yes' if same else 'no'}"
        )
    fp32, bf16 = totals["float32"], totals["bfloat16"]
    print(f"\nall detectors: fp32 {fp32:.1f} s, bf16 {bf16:.1f} s, largest |diff| {largest:.4f}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")


if __name__ == "__main__":
    main()
