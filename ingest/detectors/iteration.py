"""Iteration heads (Cabannes et al. 2024): in a chain of thought, attend to the input element the next step needs.

Cabannes et al. train two-layer transformers to compute parity step by step:
bits x_1..x_n, an end-of-input marker "=", then the running parities
y_1..y_n. At the position that predicts y_t (the one holding y_{t-1}, or "="
for t = 1) an iteration head in the second layer attends to x_t, the bit the
step consumes. This is the survey's simplified-model method: the toy model
of ingest.toy_models is trained here on that task, and any other model is
given the same prompts (with a space before each symbol, so a language
model sees digits), teacher-forced up to a random step.

Each head is scored by its mean attention from the predicting position onto
x_t, against its attention onto another input bit drawn at random (a margin).
The task check asks for y_t among "0" and "1" (chance: 1 in 2). Our toy,
trained for two minutes, spreads its second-layer attention more than the
paper's figures show: read the score as the share of attention on x_t.
"""

import random

import torch

from ingest.detectors.base import Detector
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.tasks import MarkedAttentionDetector, MarkedProbe, TaskProbe
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens
from ingest.toy_models import MAX_BITS, MIN_BITS

N_PROMPTS = 96


def symbol_ids(tokenizer, symbols: list[str]) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """Token ids of ' s_1 ... s_k', and the position of each symbol's last token."""
    ids: list[int] = []
    ends = []
    for symbol in symbols:
        ids += tokenizer.encode(" " + symbol, add_special_tokens=False)
        ends.append(len(ids) - 1)
    return ids, ends


def digit_tokens(tokenizer) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """The tokens that lead up to a spaced digit (a lone space for SmolLM2, none for the toy), and the two digits."""
    zero, one = (tokenizer.encode(" " + digit, add_special_tokens=False) for digit in "01")
    if zero[:-1] != one[:-1] or zero[-1] == one[-1]:
        raise ValueError(f"this tokenizer splits ' 0' and ' 1' differently ({zero}, {one}): no parity probe")
    return zero[:-1], [zero[-1], one[-1]]


def parity_prompts(tokenizer, *, seed: int) -> MarkedProbe:  # type: ignore[no-untyped-def]
    """Parity chains of thought cut before a random step t, up to the token before y_t; the answer is y_t."""
    generator = random.Random(seed)
    lead, digits = digit_tokens(tokenizer)
    prefix = bos_prefix(tokenizer)
    rows, candidates, needed, other = [], [], [], []
    for _ in range(N_PROMPTS):
        bits = [generator.randint(0, 1) for _ in range(generator.randint(MIN_BITS, MAX_BITS))]
        parities = [sum(bits[: i + 1]) % 2 for i in range(len(bits))]
        step = generator.randrange(len(bits))  # 0-based: the answer is parities[step], which consumes bits[step]
        ids, ends = symbol_ids(tokenizer, [str(bit) for bit in bits] + ["="] + [str(y) for y in parities[:step]])
        rows.append(prefix + ids + lead)
        candidates.append([digits[parities[step]], digits[1 - parities[step]]])
        needed.append(len(prefix) + ends[step])
        other.append(len(prefix) + ends[generator.choice([i for i in range(len(bits)) if i != step])])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    targets, controls = torch.tensor(needed), torch.tensor(other)
    return MarkedProbe(
        input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates), target_at=targets, control_at=controls
    )


class IterationDetector(MarkedAttentionDetector):
    name = "iteration"
    ablation_effect = "lowers"  # the next parity bit needs the bit it reads
    version = "1"
    head_type = "iteration-head"
    method = "simplified-model-training"
    threshold_source = (
        "headatlas convention: Cabannes et al. show the iteration head's attention on x_t without a cut-off; "
        "10 points more attention to the bit the step needs than to another input bit, as for letter movers"
    )
    baseline_description = "the same attention onto another input bit of the prompt, chosen at random"

    def applies_to(self, lens: ModelLens) -> str | None:
        return None  # the parity toy's own task, and a plain text prompt for a language model

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return parity_prompts(tokenizer, seed=seed)

    def parameters(self) -> dict[str, object]:
        return {"prompts": N_PROMPTS, "bits": [MIN_BITS, MAX_BITS], "task": "parity chain of thought, teacher-forced"}


@hookimpl
def register_detectors() -> list[Detector]:
    return [IterationDetector()]
