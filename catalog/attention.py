"""Every head's attention on one prompt of a run's probe, as the catalog keeps it for the head pages.

Weights are whole steps of 1/LEVELS in uint8, [layer, head, query, key], over
the prompt's last tokens (ingest.prompt_attention decides which), compressed
with zlib: a picture's precision, a few hundred kilobytes per prompt and model.
"""

import zlib
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from catalog import models as m

# Weights are stored as whole steps of 1/LEVELS.
LEVELS = 255


def pack(weights: np.ndarray) -> bytes:
    """uint8 [layer, head, query, key] as the catalog stores it."""
    return zlib.compress(np.ascontiguousarray(weights, dtype=np.uint8).tobytes(), level=6)


def unpack(data: bytes, n_layers: int, n_heads: int, n_tokens: int) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(n_layers, n_heads, n_tokens, n_tokens)


@dataclass(frozen=True)
class StoredAttention:
    """A prompt's kept tokens and every head's attention among them."""

    tokens: list[str]
    start: int  # the prompt position of the first token kept
    prompt_length: int
    weights: np.ndarray  # uint8 [layer, head, query, key]

    def of_head(self, layer: int, head: int) -> np.ndarray:
        """float [query, key] in [0, 1]: one head's weights."""
        return self.weights[layer, head].astype(np.float64) / LEVELS


def attention_by_run(session: Session, model: str) -> dict[int, StoredAttention]:
    """Each run of the model that kept an attention example, by run id; runs sharing a prompt share one."""
    unpacked: dict[int, StoredAttention] = {}
    by_run = {}
    for run_id, example, n_layers, n_heads in _examples(session, model):
        if example.id not in unpacked:
            weights = unpack(example.weights, n_layers, n_heads, len(example.tokens))
            unpacked[example.id] = StoredAttention(example.tokens, example.start, example.prompt_length, weights)
        by_run[run_id] = unpacked[example.id]
    return by_run


@dataclass(frozen=True)
class HeadAttention:
    """A prompt's kept tokens and one head's attention among them."""

    tokens: list[str]
    start: int
    prompt_length: int
    weights: np.ndarray  # float [query, key] in [0, 1]


def head_attention_by_run(session: Session, model: str, layer: int, head: int) -> dict[int, HeadAttention]:
    """One head's weights on each run's example, by run id, each decompressed only as far as that head."""
    by_example: dict[int, HeadAttention] = {}
    by_run = {}
    for run_id, example, _, n_heads in _examples(session, model):
        if example.id not in by_example:
            weights = unpack_head(example.weights, n_heads, len(example.tokens), layer, head)
            by_example[example.id] = HeadAttention(example.tokens, example.start, example.prompt_length, weights)
        by_run[run_id] = by_example[example.id]
    return by_run


def unpack_head(data: bytes, n_heads: int, n_tokens: int, layer: int, head: int) -> np.ndarray:
    """float [query, key] in [0, 1]: one head of packed weights, without decompressing the heads after it."""
    size = n_tokens * n_tokens
    start = (layer * n_heads + head) * size
    prefix = zlib.decompressobj().decompress(data, start + size)
    return np.frombuffer(prefix[start:], dtype=np.uint8).reshape(n_tokens, n_tokens).astype(np.float64) / LEVELS


def _examples(session: Session, model: str):  # type: ignore[no-untyped-def]
    return session.exec(
        select(m.RunAttention.run_id, m.AttentionExample, m.Model.n_layers, m.Model.n_heads)
        .join(m.AttentionExample, col(m.RunAttention.attention_example_id) == m.AttentionExample.id)
        .join(m.Model, col(m.AttentionExample.model_id) == m.Model.id)
        .where(m.Model.slug == model)
    ).all()
