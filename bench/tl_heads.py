"""TransformerLens's head detector on our probes; run by bench/detectors.py in bench/.venv.

Reads the model folder and the token rows our detectors use, boots a
TransformerBridge on the same transformers model, and calls
`transformer_lens.head_detector.detect_head` once per head type, as a user
would: one call per head type with the rows as a list of prompts. Prints one
JSON object: the scores, the time of each call, and their peak memory.

detect_head only takes strings, so the bridge's `to_tokens` is swapped for a
lookup that returns our exact token rows for placeholder prompts: tokenizing
random tokens back from text would not give the same ids, and no BOS is added:
our rows already begin with the document-start token ingest.detectors.probes
picks for the model (SmolLM2: <|endoftext|>), so both read the same tokens.
Everything after tokenization is TransformerLens's own code path.
"""

import argparse
import json
from importlib.metadata import version

import torch
from transformer_lens.head_detector import detect_head
from transformer_lens.model_bridge import TransformerBridge
from transformers import AutoModelForCausalLM, AutoTokenizer

from bench.measure import medians, peak_growth_mb, timed

# Our detector name -> TransformerLens's head name.
HEADS = {
    "previous_token": "previous_token_head",
    "duplicate_token": "duplicate_token_head",
    "induction": "induction_head",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_dir", help="the converted transformers folder our loader uses")
    parser.add_argument("tokens", help="torch file: {detector name: input_ids [batch, pos]}")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tokens: dict[str, torch.Tensor] = torch.load(args.tokens)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, attn_implementation="eager", dtype=torch.float32)
    bridge = TransformerBridge.boot_transformers(args.model_dir, hf_model=model.eval(), tokenizer=tokenizer)

    rows: dict[str, torch.Tensor] = {}  # placeholder prompt -> its token row, [1, pos]
    prompts: dict[str, list[str]] = {}  # detector name -> its placeholder prompts
    for name in HEADS:
        prompts[name] = [f"{name} row {i}" for i in range(len(tokens[name]))]
        rows.update({prompt: row[None] for prompt, row in zip(prompts[name], tokens[name], strict=True)})
    bridge.to_tokens = lambda seq, **_: torch.cat([rows[s] for s in seq]) if isinstance(seq, list) else rows[seq]

    def detect(name: str) -> torch.Tensor:
        return detect_head(bridge, prompts[name], HEADS[name])  # [layer, head], mean over the rows

    def detect_all() -> dict[str, torch.Tensor]:
        return {name: detect(name) for name in HEADS}

    def plain(name: str) -> object:
        return model(input_ids=tokens[name], attention_mask=torch.ones_like(tokens[name]), use_cache=False)

    with torch.no_grad():  # inference, as our detectors run
        bridge(tokens["induction"][:1, :2])  # page in the memory-mapped weights: peaks are then the calls' own
        scores, peak = peak_growth_mb(detect_all)  # the first, cold round doubles as warm-up
        times: dict[str, list[float]] = {}
        for _ in range(args.repeats):  # interleaved, so that a busy machine slows both alike
            for name in HEADS:
                times.setdefault(name, []).append(timed(lambda name=name: detect(name)))
                times.setdefault(f"plain {name}", []).append(timed(lambda name=name: plain(name)))
    seconds = medians(times)
    print(  # noqa: T201 - the JSON answer to bench/detectors.py
        json.dumps(
            {
                "version": version("transformer-lens"),
                "scores": {name: score.tolist() for name, score in scores.items()},
                "seconds": {name: seconds[name] for name in HEADS},
                "plain_seconds": {name: seconds[f"plain {name}"] for name in HEADS},
                "peak_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
