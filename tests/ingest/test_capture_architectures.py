"""Capture hooks for every supported family, on tiny randomly initialised models built from configs.

No weights are downloaded: each model is made from a small config, so this
checks the hook paths and the output-projection layout of every family,
including GPT-2's transposed Conv1D.
"""

import copy

import pytest
import torch
from transformers import AutoModelForCausalLM, GPT2Config, GPTNeoXConfig, LlamaConfig, Qwen2Config
from transformers.models.gemma3 import Gemma3TextConfig

from ingest.capture import capture, head_contributions
from ingest.families import FAMILIES, UnsupportedFamily, attention_modules
from ingest.lens import ModelLens

# Sizes small enough to build in milliseconds: 2 layers, 4 heads of 8 dimensions.
SMALL = {"vocab_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 32}
CONFIGS = {
    "llama": LlamaConfig(**SMALL, intermediate_size=64, num_key_value_heads=2),
    "qwen2": Qwen2Config(**SMALL, intermediate_size=64, num_key_value_heads=2),
    "gemma3_text": Gemma3TextConfig(**SMALL, intermediate_size=64, num_key_value_heads=1, head_dim=8),
    "gpt2": GPT2Config(vocab_size=64, n_layer=2, n_head=4, n_embd=32),
    "gpt_neox": GPTNeoXConfig(**SMALL, intermediate_size=64),
}
# Summing four heads' float32 writes in another order than the projection does.
ATOL = 1e-5


def test_every_family_with_hooks_has_a_test_config() -> None:
    assert set(CONFIGS) == set(FAMILIES)


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_head_outputs_add_up_to_the_attention_output(model_type: str) -> None:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(CONFIGS[model_type], attn_implementation="eager").eval()
    input_ids = torch.randint(0, 64, (2, 7))
    outputs = {}
    handles = [
        module.register_forward_hook(lambda _m, _i, out, layer=layer: outputs.__setitem__(layer, out[0]))
        for layer, module in enumerate(attention_modules(model))
    ]
    try:
        captured = capture(ModelLens(model, None), input_ids, torch.ones_like(input_ids))  # type: ignore[arg-type]
    finally:
        for handle in handles:
            handle.remove()
    assert captured.patterns.shape == (2, 2, 4, 7, 7)
    for layer in range(2):
        summed = head_contributions(ModelLens(model, None), captured, layer).sum(dim=2)  # type: ignore[arg-type]  # [batch, pos, d_model]
        bias = getattr(attention_modules(model)[layer], FAMILIES[model_type].output_projection).bias
        expected = outputs[layer] - (bias if bias is not None else 0)
        assert torch.allclose(summed, expected, atol=ATOL)


def test_a_model_without_eager_attention_is_refused() -> None:
    model = AutoModelForCausalLM.from_config(CONFIGS["llama"], attn_implementation="sdpa").eval()
    input_ids = torch.randint(0, 64, (1, 5))
    with pytest.raises(RuntimeError, match="attn_implementation='eager'"):
        capture(ModelLens(model, None), input_ids, torch.ones_like(input_ids))  # type: ignore[arg-type]


def test_an_unsupported_family_is_named() -> None:
    model = AutoModelForCausalLM.from_config(copy.deepcopy(CONFIGS["llama"])).eval()
    model.config.model_type = "mamba"
    with pytest.raises(UnsupportedFamily, match="No family record for model type 'mamba'"):
        attention_modules(model)
