"""One prompt of a detector's probe, and every head's attention on it, kept with the run for the head pages.

The site draws a head's attention from this and never loads a model. It keeps
the last WINDOW tokens of a longer prompt (as queries and as keys: a key before
the window is left out, so a row may sum to less than 1), and each weight
rounded to 1/255, which a picture needs and an analysis should not rely on:
the scores come from the detector's own passes, never from this. The catalog
stores it packed (catalog.attention).
"""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from catalog.attention import LEVELS, pack
from ingest.capture import Reading, read_patterns

if TYPE_CHECKING:
    from ingest.lens import ModelLens

# The most tokens a picture shows: the last ones of a longer prompt.
WINDOW = 48


@dataclass(frozen=True)
class PromptAttention:
    """A prompt's kept tokens and every head's attention among them."""

    tokens: list[str]  # as the tokenizer decodes each one
    start: int  # the prompt position of the first token kept
    prompt_length: int
    weights: np.ndarray  # uint8 [layer, head, query, key]: weight × LEVELS, rounded
    prompt_ids: tuple[int, ...]  # the whole prompt: earlier keys change every kept row's weights

    @property
    def digest(self) -> str:
        """The same prompt and window on the same model is one example, whichever runs probe it."""
        return hashlib.sha256(repr((self.prompt_ids, self.start)).encode()).hexdigest()

    def packed(self) -> bytes:
        return pack(self.weights)


@torch.no_grad()
def prompt_attention(lens: "ModelLens", prompt: Tensor) -> PromptAttention:
    """Every head's attention on one prompt ([pos] token ids), read layer by layer in one pass."""
    length = len(prompt)
    start = max(0, length - WINDOW)

    def keep(pattern: Tensor) -> Tensor:  # [1, head, q_pos, k_pos] -> [head, query, key] in steps of 1/LEVELS
        return (pattern[0, :, start:, start:] * LEVELS).round().to(torch.uint8)

    reading = Reading("attention example", prompt[None], torch.ones(1, length, dtype=torch.long), keep)
    weights = read_patterns(lens, [reading])[reading.name].layers  # [layer, head, query, key]
    kept = prompt[start:].tolist()
    return PromptAttention(
        tokens=[lens.tokenizer.decode([token]) for token in kept],
        start=start,
        prompt_length=length,
        weights=weights.numpy(),
        prompt_ids=tuple(prompt.tolist()),
    )
