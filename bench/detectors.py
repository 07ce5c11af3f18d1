"""Benchmark every pattern detector on SmolLM2 against a plain forward pass and TransformerLens.

Pattern detectors are the ones scored from attention patterns on a probe of
their own; task detectors (scored from answers) are timed by
bench/verification.py. For each pattern detector, on its own probe
(`detector.inputs(tokenizer, seed=0)`):

- plain: `model(input_ids, attention_mask, use_cache=False)` under no_grad, eager
  attention as loaded: the floor. plain(lk) is the same call with the
  `logits_to_keep` that capture uses (1 unless the detector needs predictions),
  so it skips the unembedding of every position just as capture does.
- capture+score and full run: `ingest.verify.run_detector`, whose timings give the
  forward+score part and the total (probe, forward, score and control baseline).
- together: every pattern detector in registry order on one lens with their
  readings planned, as `ingest.verify.verify_model` runs them, against a plain
  forward once per distinct probe they use.
- TransformerLens: `detect_head` for previous-token, duplicate-token and induction
  heads on the same token rows (bench/tl_heads.py, in bench/.venv), its time
  against ours (each alone and the three together), and the Spearman rank correlation of
  its [layer, head] scores with ours.

Every measurement runs in a fresh process: peak memory is what the first (cold)
call adds to the loaded model's resident set (see bench/measure.py); times are
medians of --repeats warm calls. Targets are printed PASS/MISS, never asserted.

Run from the repository root (bench/README.md sets up bench/.venv for TransformerLens):

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.detectors
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):  # run as `python bench/detectors.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import medians, peak_growth_mb, ratio, rss_mb, say, table, timed

if TYPE_CHECKING:
    from ingest.capture import Read, Reading

ROOT = Path(__file__).resolve().parent.parent
TL_PYTHON = ROOT / "bench" / ".venv" / "bin" / "python"
CACHE_DIR = Path.home() / ".cache" / "headatlas"
# The issue's targets: all pattern detectors' capture+score against their plain forwards,
# and TransformerLens's three detect_head calls against our three detectors, each run as
# verification runs them: together, in registry order, their readings planned on one lens.
PATTERN_TARGET = 1.15
TL_TARGET = 3.5
# Our detectors that TransformerLens's head detector also scores.
TL_DETECTORS = ("previous_token", "duplicate_token", "induction")


# --- one measurement, in its own process -------------------------------------------------


def measure(mode: str, name: str, repeats: int) -> dict[str, Any]:
    """Load SmolLM2 and build `name`'s probe; then the peak memory of one cold call of
    plain | capture (capture+score) | full (run_detector), and for full the times of
    `repeats` rounds of plain, plain(lk) and run_detector, interleaved so that a busy
    machine slows all three alike."""
    import torch

    from ingest.capture import read_patterns
    from ingest.lens import ModelLens
    from ingest.model_loading import load_model
    from ingest.plugins import detectors
    from ingest.verify import run_detector

    loaded = load_model("smollm2", cache_dir=CACHE_DIR)
    detector = detectors(entrypoints=False)[name]
    probe = detector.inputs(loaded.tokenizer, seed=0)
    reading = detector.readings(detector.probes(loaded.tokenizer, seed=0), seed=0)[0]

    @torch.no_grad()
    def plain(logits_to_keep: int = 0) -> object:
        return loaded.model(
            input_ids=probe.input_ids,
            attention_mask=probe.attention_mask,
            use_cache=False,
            logits_to_keep=logits_to_keep,  # 0 keeps every position, as the default call does
        )

    def capture_score() -> object:  # the forward+score part of run_detector, as it runs it: the probe's reading
        read = read_patterns(ModelLens(loaded.model, loaded.tokenizer), [reading])[reading.name]
        return detector.scores(read.layers, probe, read.predictions)

    with torch.no_grad():  # page in the memory-mapped weights and start the thread pools: peaks are then the call's own
        loaded.model(input_ids=probe.input_ids[:1, :2])
    out: dict[str, Any] = {"model_mb": rss_mb(), "shape": list(probe.input_ids.shape)}
    if mode == "plain":
        _, out["peak_mb"] = peak_growth_mb(plain)
    elif mode == "capture":
        _, out["peak_mb"] = peak_growth_mb(capture_score)
    else:
        result, out["peak_mb"] = peak_growth_mb(lambda: run_detector(loaded, detector, seed=0))  # also the warm-up
        same_logits = 0 if detector.needs_predictions else 1
        times: dict[str, list[float]] = {"plain": [], "plain_lk": [], "capture": [], "full": []}
        for _ in range(repeats):
            times["plain"].append(timed(plain))
            times["plain_lk"].append(timed(lambda: plain(same_logits)))
            timings = run_detector(loaded, detector, seed=0).timings
            times["capture"].append(timings["forward"] + timings["score"])
            times["full"].append(timings["total"])
        out["seconds"] = medians(times)
        out["scores"] = result.scores.tolist()
        out["input_ids"] = probe.input_ids.tolist()
        out["model_dir"] = loaded.model.name_or_path
        out["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    return out


def measure_together(names: list[str], repeats: int) -> dict[str, Any]:
    """Load SmolLM2; run the detectors `names` in registry order on one fresh lens per round,
    their readings planned, as verify_model runs them, and the TransformerLens three alone the
    same way. The first, cold round notes every distinct input the detectors read (their probes
    and control probes) and its peak memory; then `repeats` rounds of a plain forward per
    distinct input, the same with the logits the readings keep, and the two groups, interleaved."""
    import torch

    from ingest.capture import PlannedReads
    from ingest.lens import ModelLens
    from ingest.model_loading import load_model
    from ingest.plugins import detectors
    from ingest.verify import planned_readings, run_detector

    loaded = load_model("smollm2", cache_dir=CACHE_DIR)
    chosen = [detector for name, detector in detectors(entrypoints=False).items() if name in names]
    three = [detector for detector in chosen if detector.name in TL_DETECTORS]
    probes = {detector.name: detector.inputs(loaded.tokenizer, seed=0) for detector in chosen}
    main = {name: probe_key(probe.input_ids, probe.attention_mask) for name, probe in probes.items()}

    class ProbeLog(PlannedReads):
        """PlannedReads that also note each distinct input, who read it, and the forward passes run."""

        def __init__(self, lens: ModelLens) -> None:
            super().__init__(lens)
            self.inputs: dict[str, dict[str, Any]] = {}  # key -> input_ids, attention_mask, users, ...
            self.asker, self.forwards = "", 0

        def __call__(self, reading: "Reading", *, shared: bool) -> "Read":
            seen = self.inputs.setdefault(
                probe_key(reading.input_ids, reading.attention_mask),
                {"input_ids": reading.input_ids, "attention_mask": reading.attention_mask, "users": []},
            )
            seen["users"] += [self.asker] if self.asker not in seen["users"] else []
            seen["predictions"] = seen.get("predictions", False) or reading.predict_at is not None
            hits = self.hits
            read = super().__call__(reading, shared=shared)
            self.forwards += self.hits == hits
            return read

    def run_all(group: list[Any], *, logged: bool = False) -> tuple[list[Any], ProbeLog | None]:
        lens = ModelLens(loaded.model, loaded.tokenizer)
        log = ProbeLog(lens) if logged else None
        if log is not None:
            lens.reads = log
        lens.plan(planned_readings(group, lens, 0, 1))
        results = []
        for detector in group:
            if log is not None:
                log.asker = detector.name
            results.append(run_detector(loaded, detector, seed=0, lens=lens))
        return results, log

    @torch.no_grad()
    def plain(seen: dict[str, Any], logits_to_keep: int = 0) -> object:
        return loaded.model(
            input_ids=seen["input_ids"],
            attention_mask=seen["attention_mask"],
            use_cache=False,
            logits_to_keep=logits_to_keep,
        )

    with torch.no_grad():  # page in the memory-mapped weights, as in measure()
        loaded.model(input_ids=torch.tensor([[1, 2]]))
    (cold, log), peak = peak_growth_mb(lambda: run_all(chosen, logged=True))
    assert log is not None
    run_all(three)  # warm-up for the TransformerLens group
    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        for key, seen in log.inputs.items():
            times.setdefault(f"plain {key}", []).append(timed(lambda seen=seen: plain(seen)))
            same_logits = 0 if seen["predictions"] else 1
            times.setdefault(f"plain_lk {key}", []).append(timed(lambda s=seen, lk=same_logits: plain(s, lk)))
        for group_name, group in (("all", chosen), ("three", three)):
            if not group:
                continue
            results, _ = run_all(group)
            for result in results:
                t = result.timings
                times.setdefault(f"{group_name} capture {result.detector}", []).append(t["forward"] + t["score"])
                times.setdefault(f"{group_name} full {result.detector}", []).append(t["total"])
            times.setdefault(f"{group_name} capture", []).append(
                sum(r.timings["forward"] + r.timings["score"] for r in results)
            )
            times.setdefault(f"{group_name} full", []).append(sum(r.timings["total"] for r in results))
    seconds = medians(times)
    return {
        "peak_mb": peak,
        "forwards": log.forwards,
        "probes": [
            {
                "key": key,
                "shape": list(seen["input_ids"].shape),
                "users": seen["users"],
                "control": key not in main.values(),
                "plain": seconds[f"plain {key}"],
                "plain_lk": seconds[f"plain_lk {key}"],
            }
            for key, seen in log.inputs.items()
        ],
        "main_probe": main,
        "detectors": {
            result.detector: {
                "capture": seconds[f"all capture {result.detector}"],
                "full": seconds[f"all full {result.detector}"],
                "reused": result.timings["captures_reused"],
                "scores": result.scores.tolist(),
            }
            for result in cold
        },
        "seconds": {key: seconds[f"all {key}"] for key in ("capture", "full")},  # medians of the rounds' sums
        "three": {key: seconds[f"three {key}"] for key in ("capture", "full")}
        if len(three) == len(TL_DETECTORS)
        else None,
    }


def probe_key(input_ids: Any, attention_mask: Any) -> str:
    """Which distinct input this is: its shape, token ids and mask, as the lens tells readings apart."""
    digest = hashlib.sha256(str(tuple(input_ids.shape)).encode())
    digest.update(input_ids.numpy().tobytes())
    digest.update(attention_mask.numpy().tobytes())
    return digest.hexdigest()[:12]


def in_process(command: list[str]) -> dict[str, Any]:
    """Run a measuring process from the repository root; its last stdout line is JSON."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark -----------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One detector's numbers: times from the `full` process, peaks from one process each."""

    name: str
    needs_predictions: bool
    seconds: dict[str, float]  # plain, plain_lk, capture (forward+score), full (run_detector total)
    peak_mb: dict[str, float]  # plain, capture, full
    full: dict[str, Any]  # everything the `full` process returned


def measure_detector(name: str, needs_predictions: bool, repeats: int) -> Measured:
    run = {
        mode: in_process([sys.executable, "-m", "bench.detectors", "--child", mode, name, "--repeats", str(repeats)])
        for mode in ("plain", "capture", "full")
    }
    peaks = {mode: out["peak_mb"] for mode, out in run.items()}
    return Measured(name, needs_predictions, run["full"]["seconds"], peaks, run["full"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per detector (median); default 3")
    parser.add_argument("--detectors", nargs="*", help="only these detectors (default: every registered one)")
    parser.add_argument("--no-tl", action="store_true", help="skip TransformerLens")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DETECTOR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, name = args.child
        if mode == "together":  # name: the detectors, comma-separated
            say(json.dumps(measure_together(name.split(","), args.repeats)))
        else:
            say(json.dumps(measure(mode, name, repeats=args.repeats)))
        return

    from ingest.detectors.base import PatternDetector
    from ingest.plugins import detectors

    registry = detectors(entrypoints=False)
    load_before = os.getloadavg()[0]
    measured = []
    for name in args.detectors or [name for name, d in registry.items() if isinstance(d, PatternDetector)]:
        say(f"measuring {name} ...", file=sys.stderr)
        measured.append(measure_detector(name, registry[name].needs_predictions, args.repeats))
    pattern = [m.name for m in measured if not m.needs_predictions]
    together = None
    if pattern:
        say("measuring the pattern detectors together ...", file=sys.stderr)
        command = [sys.executable, "-m", "bench.detectors", "--child", "together", ",".join(pattern)]
        together = in_process([*command, "--repeats", str(args.repeats)])
    tl = None if args.no_tl else transformer_lens(measured, args.repeats)
    report(measured, together, tl, load=(load_before, os.getloadavg()[0]))


def transformer_lens(measured: list[Measured], repeats: int) -> dict[str, Any] | None:
    """TransformerLens's answer on our token rows, or None (with the reason) when it cannot run."""
    import torch

    ours = {m.name: m for m in measured if m.name in TL_DETECTORS}
    if len(ours) != len(TL_DETECTORS):
        say(f"TransformerLens skipped: it needs the detectors {', '.join(TL_DETECTORS)}", file=sys.stderr)
        return None
    if not TL_PYTHON.exists():
        say(f"TransformerLens skipped: {TL_PYTHON} is missing; run bench/setup.sh", file=sys.stderr)
        return None
    say("measuring TransformerLens ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        tokens = Path(folder) / "tokens.pt"
        torch.save({name: torch.tensor(m.full["input_ids"]) for name, m in ours.items()}, tokens)
        model_dir = ours["induction"].full["model_dir"]
        return in_process([str(TL_PYTHON), "-m", "bench.tl_heads", model_dir, str(tokens), "--repeats", str(repeats)])


def report(
    measured: list[Measured], together: dict[str, Any] | None, tl: dict[str, Any] | None, *, load: tuple[float, float]
) -> None:
    first = measured[0].full
    say(f"SmolLM2-135M-Instruct (float32, eager attention), torch {first['torch']}")
    say(f"loaded model RSS {first['model_mb']:.0f} MB; 1-min load average {load[0]:.2f} before, {load[1]:.2f} after")
    if load[0] > 1.0:  # after, it counts the benchmark's own two threads
        say("WARNING: something else was using the CPU; times are noisy (ratios less so: rounds are interleaved)")
    say("\nEach detector alone (a fresh lens each)")
    say("Time (s, median of warm rounds); x = ratio to the plain forward on the same probe")
    rows = []
    for m in measured:
        t = m.seconds
        name = m.name + (" *" if m.needs_predictions else "")
        shape = "x".join(map(str, m.full["shape"]))
        plain, plain_lk, capture, full = t["plain"], t["plain_lk"], t["capture"], t["full"]
        rows.append([name, shape, sec(plain), sec(plain_lk), sec(capture), ratio(capture, plain),
                     ratio(capture, plain_lk), sec(full), ratio(full, plain)])  # fmt: skip
    header = [
        "detector",
        "input",
        "plain",
        "plain(lk)",
        "capture+score",
        "x plain",
        "x plain(lk)",
        "full run",
        "x plain",
    ]
    table(header, rows)
    say("* also needs the model's predictions at the answer's positions")

    say("\nPeak memory (MB a cold call adds to the loaded model's RSS, one fresh process each)")
    rows = []
    for m in measured:
        mb = m.peak_mb
        rows.append([m.name, f"{mb['plain']:.0f}", f"{mb['capture']:.0f}", ratio(mb["capture"], mb["plain"]),
                     f"{mb['full']:.0f}", ratio(mb["full"], mb["plain"])])  # fmt: skip
    table(["detector", "plain", "capture+score", "x plain", "full run", "x plain"], rows)

    pattern = [m for m in measured if not m.needs_predictions]
    if together is not None:
        report_together(pattern, together)
    everything = ratio(total(measured, "capture"), total(measured, "plain"))
    say(f"  all {len(measured)} detectors each alone, retrieval included: capture+score {everything}x plain")
    if tl is not None:
        report_tl({m.name: m for m in measured}, together, tl)


def report_together(pattern: list[Measured], together: dict[str, Any]) -> None:
    """The pattern detectors as verify_model runs them, against a plain forward per distinct input."""
    probes = together["probes"]
    main = [probe for probe in probes if not probe["control"]]
    n_main = len(main)
    labels = {probe["key"]: f"P{i + 1}" for i, probe in enumerate(main)}
    labels |= {probe["key"]: f"C{i + 1}" for i, probe in enumerate(p for p in probes if p["control"])}
    say(f"\nPattern detectors together, as verify runs them: {len(pattern)} in registry order, readings planned")
    say(f"(retrieval excluded); medians of {len(pattern)}-detector rounds interleaved with the plain forwards")
    say(f"{len(probes)} distinct inputs ({n_main} probe(s) P, {len(probes) - n_main} control(s) C),")
    say(f"{together['forwards']} forward passes in all (one per distinct input, all readings planned)")
    rows = [
        [labels[p["key"]], "x".join(map(str, p["shape"])), sec(p["plain"]), sec(p["plain_lk"]), ", ".join(p["users"])]
        for p in probes
    ]
    table(["input", "shape", "plain", "plain(lk)", "asked for by"], rows)
    say("")
    rows = []
    for m in pattern:
        ours = together["detectors"][m.name]
        rows.append([m.name, labels[together["main_probe"][m.name]], sec(ours["capture"]), sec(ours["full"]),
                     f"{ours['reused']:.0f}", sec(m.seconds["capture"]), sec(m.seconds["full"])])  # fmt: skip
    header = ["detector", "probe", "capture+score", "full run", "reused", "alone: capture+score", "full run"]
    table(header, rows)
    say("reused: readings (probe and control) taken in a pass run for another detector")

    capture, full = together["seconds"]["capture"], together["seconds"]["full"]
    floor, floor_lk = (sum(p[key] for p in main) for key in ("plain", "plain_lk"))
    floor_all, floor_all_lk = (sum(p[key] for p in probes) for key in ("plain", "plain_lk"))
    say(f"capture+score {capture:.2f} s / plain once per distinct probe ({n_main}) {floor:.2f} s")
    say(f"  = {ratio(capture, floor)}x   target <= {PATTERN_TARGET}x: {verdict(capture / floor <= PATTERN_TARGET)}")
    say(f"  / plain(lk) {floor_lk:.2f} s = {ratio(capture, floor_lk)}x   (the floor computing the logits capture does)")
    say(f"full run {full:.2f} s / plain once per distinct input, controls included ({len(probes)}) {floor_all:.2f} s")
    say(f"  = {ratio(full, floor_all)}x   target <= {PATTERN_TARGET}x: {verdict(full / floor_all <= PATTERN_TARGET)}")
    say(f"  / plain(lk) {floor_all_lk:.2f} s = {ratio(full, floor_all_lk)}x")
    alone, alone_plain, alone_full = (total(pattern, key) for key in ("capture", "plain", "full"))
    say(f"each alone (the first table): capture+score {alone:.2f} s / plain {alone_plain:.2f} s")
    passed = verdict(alone / alone_plain <= PATTERN_TARGET)
    say(f"  = {ratio(alone, alone_plain)}x   target <= {PATTERN_TARGET}x: {passed}")
    say(f"  together / each alone: capture+score {ratio(capture, alone)}x, full run {ratio(full, alone_full)}x")
    say(f"  ({full:.2f} s against {alone_full:.2f} s; measured in different processes)")
    differences = [score_difference(together["detectors"][m.name]["scores"], m.full["scores"]) for m in pattern]
    say(f"scores together against each alone: largest |difference| {max(differences):.2g}")
    largest = max(m.peak_mb["full"] for m in pattern)
    say(f"peak memory: the cold run together adds {together['peak_mb']:.0f} MB; the largest detector alone")
    say(f"  (full run) {largest:.0f} MB")


def report_tl(ours: dict[str, Measured], together: dict[str, Any] | None, tl: dict[str, Any]) -> None:
    say(f"\nTransformerLens {tl['version']} detect_head: TransformerBridge, same token rows, no_grad")
    rows = []
    for name in TL_DETECTORS:
        theirs, t = tl["seconds"][name], ours[name].seconds
        agreement = spearman(tl["scores"][name], ours[name].full["scores"])
        rows.append([name, sec(theirs), sec(t["capture"]), ratio(theirs, t["capture"]), sec(t["full"]),
                     ratio(theirs, t["full"]), f"{agreement:.3f}"])  # fmt: skip
    three = [ours[name] for name in TL_DETECTORS]
    theirs, capture, full = sum(tl["seconds"].values()), total(three, "capture"), total(three, "full")
    rows.append(["all three, each alone", sec(theirs), sec(capture), ratio(theirs, capture), sec(full),
                 ratio(theirs, full), ""])  # fmt: skip
    our_plain = total(three, "plain")
    shared = together["three"] if together is not None else None
    if shared is not None:  # one lens for the three, their readings planned, as verify_model runs them
        capture, full = shared["capture"], shared["full"]
        rows.append(["all three, together", sec(theirs), sec(capture), ratio(theirs, capture), sec(full),
                     ratio(theirs, full), ""])  # fmt: skip
        plain_by_key = {probe["key"]: probe["plain"] for probe in together["probes"]}
        our_plain = sum(plain_by_key[together["main_probe"][name]] for name in TL_DETECTORS)
    table(["detector", "TL", "capture+score", "TL / ours", "full run", "TL / ours", "Spearman"], rows)
    how = "together" if shared is not None else "each alone"
    passed = verdict(theirs / capture >= TL_TARGET)
    say(f"ours {how} (capture+score) {ratio(theirs, capture)}x faster than TL's three calls; target >= {TL_TARGET}x:")
    say(f"  {passed}; full run {ratio(theirs, full)}x")
    # Each process also timed the same plain forwards: if the machine was busier for one, these differ.
    tl_plain = sum(tl["plain_seconds"].values())
    normalised = (theirs / tl_plain) / (capture / our_plain)
    say(f"  plain forwards (one per detector): {tl_plain:.3f} s in TL's process, {our_plain:.3f} s in ours; in units")
    say(f"  of each process's own plain forward, ours {how} is {normalised:.2f}x faster")
    capture_mb = max(m.peak_mb["capture"] for m in three)
    full_mb = max(m.peak_mb["full"] for m in three)
    say(f"peak memory: TL's three calls {tl['peak_mb']:.0f} MB; ours, the largest of the three detectors alone:")
    say(f"  {capture_mb:.0f} MB capture+score, {full_mb:.0f} MB full run")


def score_difference(a: list[list[float]], b: list[list[float]]) -> float:
    """The largest |a - b| over heads; inf when NaN (unscored) heads differ."""
    import torch

    x, y = torch.tensor(a), torch.tensor(b)  # [layer, head]
    if not torch.equal(x.isnan(), y.isnan()):
        return float("inf")
    return float((x - y).abs().nan_to_num(0.0).max())


def total(measured: list[Measured], key: str) -> float:
    return sum(m.seconds[key] for m in measured)


def spearman(a: list[list[float]], b: list[list[float]]) -> float:
    """Spearman rank correlation over all heads (ordinal ranks: the scores are continuous)."""
    import torch

    x, y = torch.tensor(a).flatten(), torch.tensor(b).flatten()  # [layer * head]
    ranks = torch.stack([x.argsort().argsort(), y.argsort().argsort()]).double()  # [2, layer * head]
    return float(torch.corrcoef(ranks)[0, 1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def sec(value: float) -> str:
    return f"{value:.3f}"


if __name__ == "__main__":
    main()
