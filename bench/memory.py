"""Peak memory of the pattern detectors against a plain forward pass, as models get deeper.

Three ways to run the same inputs (every distinct probe of the pattern
detectors, at seed 0), each in a fresh process (bench/measure.py: what one cold
call adds to the resident set):

- plain: `model(**inputs, use_cache=False)` under no_grad, and plain(lk), the
  same with `logits_to_keep=1`, skipping the unembedding of every position as
  the detectors' passes do; the largest over the distinct inputs;
- whole: `ingest.capture.capture` on each distinct input, every layer's
  patterns and head outputs kept at once, which is how the pattern detectors
  read them before readings; the largest;
- readings: every pattern detector measured as verify runs them (readings
  planned, one pass per distinct input, each layer's pattern reduced as it is
  made and dropped): the peak of all of them.

The task detectors need every layer at once (direct effects sum over layers),
so their rows compare two captures of each task detector's scoring prompts:
whole keeps every position's pattern rows, head outputs and (where the
detector reads values) value vectors, as the captures did before; kept keeps
only the query rows and sources the detector reads, as verify runs them.

Models: tiny random Llama-family models of 8, 32 and 128 layers (8 heads of
8 dimensions, SmolLM2's tokenizer, nothing downloaded) and SmolLM2 itself;
then the retrieval probe with 2,000-token haystacks on SmolLM2; then the
task detectors' captures on SmolLM2 and on the 128-layer tiny model; then a
7B-shaped row: a tiny model of 32 layers of 32 heads on one 2,048-token row,
scaled to a 7B model's batch of 8 by arithmetic (activation memory grows with
the batch, the weights do not).

From the repository root, after `make models`:

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.memory            # ~10 min on 2 cores
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/memory.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import peak_growth_mb, ratio, say, table

ROOT = Path(__file__).resolve().parent.parent
# glibc raises its mmap threshold each time a large block is freed, so later pattern-sized blocks come from the
# heap, where small tensors kept between them stop the freed ones from going back to the system: the resident
# set then keeps a few MB per layer that no tensor holds. Fixing the threshold (as `--allocator fixed` does, the
# default) measures what the tensors need; `--allocator default` measures glibc's default behaviour.
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": "65536"}
CACHE_DIR = Path.home() / ".cache" / "headatlas"
# The goal: the pattern detectors together at most this many times a plain forward's peak.
TARGET = 1.3
DEPTHS = (8, 32, 128)
LONG_HAYSTACK = 2000
# A 7B model's shape (Llama-2-7B): layers, heads, d_model, parameters; and the batch and length of its probes.
SEVEN_B = {"layers": 32, "heads": 32, "d_model": 4096, "parameters": 6.74e9, "batch": 8, "tokens": 2048}


def load(model: str) -> Any:
    """SmolLM2, or a tiny random model `tiny-L` (or `tiny-L-H`: L layers of H heads) with SmolLM2's tokenizer."""
    from transformers import AutoModelForCausalLM, LlamaConfig

    from ingest.model_loading import load_model

    smollm2 = load_model("smollm2", cache_dir=CACHE_DIR)
    if model == "smollm2":
        return smollm2.model, smollm2.tokenizer
    tokenizer = smollm2.tokenizer
    del smollm2  # only its tokenizer is needed
    layers, heads = (int(part) for part in (model.split("-")[1:] + ["8"])[:2])
    config = LlamaConfig(
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        hidden_size=8 * heads,
        intermediate_size=16 * heads,
        vocab_size=len(tokenizer),
    )
    tiny = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval().requires_grad_(False)
    return tiny, tokenizer


def pattern_detectors(probe: str) -> list[Any]:
    from ingest.detectors.base import PatternDetector
    from ingest.detectors.retrieval import RetrievalDetector
    from ingest.plugins import detectors

    if probe == "long":
        return [RetrievalDetector(haystack_tokens=LONG_HAYSTACK)]
    return [d for d in detectors(entrypoints=False).values() if isinstance(d, PatternDetector)]


def task_requests(lens: Any) -> list[dict[str, Any]]:
    """Each task detector's scoring capture at seed 0: its prompts, and the rows and sources it reads."""
    from ingest.detectors.tasks import TaskDetector
    from ingest.plugins import detectors

    requests = []
    for detector in detectors(entrypoints=False).values():
        if isinstance(detector, TaskDetector):
            probe = detector.task_inputs(lens.tokenizer, seed=0)
            requests.append({
                "input_ids": probe.input_ids, "attention_mask": probe.attention_mask, "answer_at": probe.answer_at,
                "queries_at": detector.queries_read(probe), "values_at": detector.sources_read(lens, probe),
            })  # fmt: skip
    return requests


def whole_request(request: dict[str, Any]) -> dict[str, Any]:
    """The same capture keeping every position, and every position's values where the detector reads any."""
    import torch

    ids = request["input_ids"]
    every = torch.arange(ids.shape[1]).expand(*ids.shape)
    return {**request, "queries_at": None, "values_at": None if request["values_at"] is None else every}


def distinct_inputs(chosen: list[Any], tokenizer: Any) -> list[tuple[Any, Any]]:
    seen: dict[str, tuple[Any, Any]] = {}
    for detector in chosen:
        for reading in detector.readings(detector.probes(tokenizer, seed=0), seed=0):
            seen[reading.inputs_key] = (reading.input_ids, reading.attention_mask)
    return list(seen.values())


def measure(mode: str, model_name: str, probe: str) -> dict[str, Any]:
    """One mode's peak on one model, in this (fresh) process."""
    import torch

    from ingest.capture import capture
    from ingest.lens import ModelLens
    from ingest.verify import planned_readings

    torch.manual_seed(0)
    model, tokenizer = load(model_name)
    lens = ModelLens(model, tokenizer)
    requests = task_requests(lens) if probe == "tasks" else []
    if probe == "tasks":
        chosen, inputs = [], [(request["input_ids"], request["attention_mask"]) for request in requests]
    elif probe == "row":  # one row of 2,048 random tokens, read by one previous-token reading per layer
        chosen, inputs = [], [_random_row(tokenizer)]
    else:
        chosen = pattern_detectors(probe)
        inputs = distinct_inputs(chosen, tokenizer)
    with torch.no_grad():  # page in the weights and start the thread pools
        model(input_ids=inputs[0][0][:1, :2])

    @torch.no_grad()
    def plain(keep: int) -> None:
        for ids, mask in inputs:
            model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=keep)

    def whole() -> None:
        if requests:
            for request in requests:
                capture(lens, **whole_request(request))
            return
        for ids, mask in inputs:
            capture(lens, ids, mask)

    def readings() -> None:
        if requests:
            for request in requests:
                capture(lens, **request)
            return
        if not chosen:
            _read_row(lens, *inputs[0])
            return
        lens.plan(planned_readings(chosen, lens, 0, 1))
        for detector in chosen:
            detector.measure(lens, seed=0)

    calls = {"plain": lambda: plain(0), "plain_lk": lambda: plain(1), "whole": whole, "readings": readings}
    _, peak = peak_growth_mb(calls[mode])
    shapes = sorted({tuple(ids.shape) for ids, _ in inputs}, key=lambda s: -s[0] * s[1] ** 2)
    return {"peak_mb": peak, "largest": "x".join(map(str, shapes[0])), "inputs": len(inputs)}


def _random_row(tokenizer: Any) -> tuple[Any, Any]:
    import torch

    from ingest.detectors.probes import random_tokens

    ids = random_tokens(tokenizer, (1, SEVEN_B["tokens"]), seed=0)
    return ids, torch.ones_like(ids)


def _read_row(lens: Any, ids: Any, mask: Any) -> None:
    """Previous-token attention of every head, read layer by layer: what a pattern detector keeps."""
    import torch

    from ingest.capture import Reading, read_patterns
    from ingest.detectors.scoring import attention_on_targets

    n = ids.shape[1]
    targets = torch.zeros(1, n, n, dtype=torch.bool)
    targets[0, torch.arange(1, n), torch.arange(n - 1)] = True
    queries = torch.ones(1, n, dtype=torch.bool)
    read_patterns(lens, [Reading("row", ids, mask, lambda pattern: attention_on_targets(pattern, targets, queries))])


def child(mode: str, model: str, probe: str, allocator: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.memory", "--child", mode, model, probe]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(FIXED_MMAP_THRESHOLD if allocator == "fixed" else {})}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(label: str, model: str, probe: str, modes: tuple[str, ...], allocator: str) -> dict[str, Any]:
    say(f"measuring {label} ...", file=sys.stderr)
    peaks = {mode: child(mode, model, probe, allocator) for mode in modes}
    return {
        "label": label,
        **{mode: out["peak_mb"] for mode, out in peaks.items()},
        "largest": peaks["plain"]["largest"],
        "tasks": probe == "tasks",
    }


def report(rows: list[dict[str, Any]], seven_b: dict[str, Any]) -> None:
    say("Peak memory a cold call adds (MB); x = ratio to plain(lk), the forward that skips the logits as ours do")
    header = ["model", "largest input", "plain", "plain(lk)", "whole", "x", "as run", "x", f"<= {TARGET}x"]
    lines = []
    for r in rows:
        whole = r.get("whole")
        lines.append([
            r["label"], r["largest"], mb(r["plain"]), mb(r["plain_lk"]),
            mb(whole) if whole is not None else "-", ratio(whole, r["plain_lk"]) if whole is not None else "-",
            mb(r["readings"]), ratio(r["readings"], r["plain_lk"]),
            "-" if r["tasks"] else "PASS" if r["readings"] <= TARGET * r["plain_lk"] else "MISS",
        ])  # fmt: skip
    table(header, lines)
    say("whole: every layer's patterns and head outputs at every position held at once (before)")
    say("as run: readings for the pattern detectors; for the task detectors, captures of the rows and sources read")
    say(f"the goal of <= {TARGET}x is the pattern detectors'; a task capture also keeps every layer's rows read")
    report_seven_b(seven_b)


def report_seven_b(measured: dict[str, Any]) -> None:
    """Scale the 32 x 32 x 2,048-token row to a 7B model's batch of 8, by arithmetic on what was measured."""
    shape = SEVEN_B
    pattern_gb = shape["batch"] * shape["heads"] * shape["tokens"] ** 2 * 4 / 1e9  # one layer, float32
    weights_gb = shape["parameters"] * 4 / 1e9
    plain_gb, read_gb = (measured[mode] * shape["batch"] / 1e3 for mode in ("plain_lk", "readings"))
    whole_gb = read_gb + 2 * shape["layers"] * pattern_gb  # every layer's patterns and their stacked copy
    say(f"\n7B-shaped estimate: {shape['layers']} layers x {shape['heads']} heads, batch {shape['batch']} x ")
    say(f"{shape['tokens']} tokens, float32. Measured on a tiny {shape['layers']} x {shape['heads']} model, one row:")
    say(f"  plain(lk) {measured['plain_lk']:.0f} MB, readings {measured['readings']:.0f} MB")
    say(
        f"  ({ratio(measured['readings'], measured['plain_lk'])}x); one layer's pattern at batch 8: {pattern_gb:.1f} GB"
    )
    lines = []
    for label, activations in (("plain(lk)", plain_gb), ("readings", read_gb), ("whole (before)", whole_gb)):
        total = activations + weights_gb
        lines.append([label, f"{activations:.0f}", f"{total:.0f}", ratio(total, plain_gb + weights_gb)])
    table(["7B, batch 8", "activations GB", "with fp32 weights GB", "x plain"], lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="*", default=list(DEPTHS), help="tiny models' layer counts")
    parser.add_argument("--allocator", choices=["fixed", "default"], default="fixed", help="glibc's mmap threshold")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "MODEL", "PROBE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        say(json.dumps(measure(*args.child)))
        return
    say(f"glibc mmap threshold: {'fixed at 64 KiB' if args.allocator == 'fixed' else 'default (dynamic)'}")
    every = ("plain", "plain_lk", "whole", "readings")
    rows = [row(f"tiny, {depth} layers", f"tiny-{depth}", "detectors", every, args.allocator) for depth in args.depths]
    rows.append(row("SmolLM2-135M (30 layers)", "smollm2", "detectors", every, args.allocator))
    rows.append(
        row(
            f"SmolLM2, retrieval at {LONG_HAYSTACK} tokens",
            "smollm2",
            "long",
            ("plain", "plain_lk", "readings"),
            args.allocator,
        )
    )
    deepest = max(args.depths, default=DEPTHS[-1])
    for label, model in (("SmolLM2", "smollm2"), (f"tiny, {deepest} layers", f"tiny-{deepest}")):
        rows.append(row(f"{label}, task detectors' captures", model, "tasks", every, args.allocator))
    seven_b = row(
        "tiny 32 x 32, one 2,048-token row", "tiny-32-32", "row", ("plain", "plain_lk", "readings"), args.allocator
    )
    rows.append(seven_b)
    report(rows, seven_b)


def mb(value: float) -> str:
    return f"{value:.0f}"


if __name__ == "__main__":
    main()
