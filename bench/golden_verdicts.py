"""Every detector's verdicts on one model, recorded or compared: did a change of the engine change a verdict?

`record` runs every registered detector over the default seeds with
`ingest.verify.run_detector` (what `headatlas verify` stores, without the
catalog) and writes each one's status and heads found to a JSON file.
`compare` does the same with this checkout and prints, per detector, what
differs from a recorded file. To record another revision's verdicts, run
`record` with that revision's code first on the path; the script uses only
APIs that revision 29faaaa already had:

    git worktree add /tmp/before 29faaaa
    HF_HUB_OFFLINE=1 PYTHONPATH=/tmp/before .venv/bin/python bench/golden_verdicts.py record smollm2 before.json
    HF_HUB_OFFLINE=1 .venv/bin/python bench/golden_verdicts.py compare smollm2 before.json

tests/data/golden_verdicts/ keeps the files recorded at 29faaaa, before the
engine of issue 11; the SmolLM2 suite compares its own runs with them.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def verdicts(model: str, only: list[str] | None) -> dict[str, Any]:
    """{detector: {"status", "found": [[layer, head], ...], "seconds"}} for every registered detector."""
    from catalog.settings import Settings
    from ingest.evidence import DEFAULT_SEEDS
    from ingest.lens import ModelLens
    from ingest.model_loading import load_model
    from ingest.plugins import detectors
    from ingest.verify import run_detector

    loaded = load_model(model, cache_dir=Settings().cache_dir)
    lens = ModelLens(loaded.model, loaded.tokenizer)
    out: dict[str, Any] = {}
    for detector in detectors(entrypoints=False).values():
        if only and detector.name not in only:
            continue
        clock = time.perf_counter()
        try:
            run = run_detector(loaded, detector, seed=0, n_seeds=DEFAULT_SEEDS, lens=lens)
            found = sorted([layer, head] for layer, head, _ in run.found)
            out[detector.name] = {"status": str(run.status), "found": found}
        except Exception as error:  # noqa: BLE001 - recorded: a revision may fail where another does not
            out[detector.name] = {"status": "error", "found": [], "error": f"{type(error).__name__}: {error}"}
        out[detector.name]["seconds"] = round(time.perf_counter() - clock, 2)
        print(detector.name, out[detector.name], file=sys.stderr, flush=True)  # noqa: T201 - progress
    return out


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per detector whose status or heads differ, naming the heads gained and lost."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            lines.append(f"{name}: only {'after' if old is None else 'before'}")
            continue
        gained = sorted({tuple(h) for h in new["found"]} - {tuple(h) for h in old["found"]})
        lost = sorted({tuple(h) for h in old["found"]} - {tuple(h) for h in new["found"]})
        if old["status"] != new["status"] or gained or lost:
            heads = f"+{_heads(gained)} -{_heads(lost)}" if gained or lost else "same heads"
            lines.append(f"{name}: {old['status']} -> {new['status']}, {heads}")
    return lines


def _heads(heads: list[tuple[int, int]]) -> str:
    return "[" + " ".join(f"L{layer}H{head}" for layer, head in heads) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("model", help="a bundled name, the toy, a folder or a hub id")
    parser.add_argument("file", type=Path, help="the JSON file to write (record) or to compare with (compare)")
    parser.add_argument("--detectors", nargs="*", help="only these detectors")
    args = parser.parse_args()
    found = verdicts(args.model, args.detectors)
    if args.action == "record":
        args.file.write_text(json.dumps(found, indent=1) + "\n")
        return
    recorded = {name: value for name, value in json.loads(args.file.read_text()).items() if not name.startswith("_")}
    if args.detectors:
        recorded = {name: value for name, value in recorded.items() if name in args.detectors}
    lines = differences(recorded, found)
    print("\n".join(lines) if lines else "no verdict changed")  # noqa: T201 - the report
    before = sum(v.get("seconds", 0) for v in recorded.values())
    after = sum(v["seconds"] for v in found.values())
    print(f"detectors' seconds: {before:.0f} recorded, {after:.0f} now")  # noqa: T201


if __name__ == "__main__":
    main()
