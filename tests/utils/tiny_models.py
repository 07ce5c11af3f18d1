"""Tiny randomly initialised models of every family, built from configs: nothing is downloaded.

Each is 2 layers of 4 heads of 8 dimensions (GQA where the family has it) with a
real tokenizer, so that every detector's probe can be built and every scoring
path runs; the model itself is at chance on every task.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    GPTNeoXConfig,
    LlamaConfig,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Qwen2Config,
)
from transformers.models.gemma3 import Gemma3TextConfig

from ingest.lens import ModelLens

SMALL = {"num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 32}


# transformers model_type (a key of ingest.families.FAMILIES) -> a config small enough to build in milliseconds.
TINY_CONFIGS: dict[str, Callable[[int], PretrainedConfig]] = {
    "llama": lambda vocab: LlamaConfig(**SMALL, vocab_size=vocab, intermediate_size=64, num_key_value_heads=2),
    "qwen2": lambda vocab: Qwen2Config(**SMALL, vocab_size=vocab, intermediate_size=64, num_key_value_heads=2),
    "gemma3_text": lambda vocab: Gemma3TextConfig(
        **SMALL, vocab_size=vocab, intermediate_size=64, num_key_value_heads=1, head_dim=8
    ),
    "gpt2": lambda vocab: GPT2Config(vocab_size=vocab, n_layer=2, n_head=4, n_embd=32, n_positions=4096),
    "gpt_neox": lambda vocab: GPTNeoXConfig(
        **SMALL, vocab_size=vocab, intermediate_size=64, max_position_embeddings=4096
    ),
}


def tiny_model(model_type: str, vocab_size: int = 64, *, seed: int = 0) -> PreTrainedModel:
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(TINY_CONFIGS[model_type](vocab_size), attn_implementation="eager")
    return model.eval().requires_grad_(False)


def tiny_checkpoint(model_type: str, tokenizer: PreTrainedTokenizerBase, folder: Path) -> Path:
    """A checkpoint folder of a tiny `model_type` model with `tokenizer`, as a user's local folder would be."""
    model = tiny_model(model_type, len(tokenizer))
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(model.config, name, getattr(tokenizer, name))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def lens_of(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None = None) -> ModelLens:
    """A lens on `model`, for tests that reach it without a tokenizer."""
    return ModelLens(model, tokenizer)  # type: ignore[arg-type]
