"""Capture sees every head of a real model, and its per-head outputs add up to the attention block's output."""

import pytest
import torch

from ingest.capture import capture, head_contributions
from ingest.families import attention_modules
from tests.utils.tiny_models import lens_of

pytestmark = pytest.mark.model

# Summing nine heads' float32 writes in another order than the output projection does.
ATOL = 1e-4


@pytest.fixture(scope="module")
def tokens(smollm2):  # type: ignore[no-untyped-def]
    ids = smollm2.tokenizer("The cat sat on the mat because the mat was warm.", return_tensors="pt").input_ids
    return ids, torch.ones_like(ids)


def test_patterns_cover_every_layer_and_query_head(smollm2, tokens) -> None:  # type: ignore[no-untyped-def]
    captured = capture(lens_of(smollm2.model), *tokens)
    n_pos = tokens[0].shape[1]
    assert captured.patterns.shape == (30, 1, 9, n_pos, n_pos)
    assert captured.head_outputs.shape == (30, 1, n_pos, 9, 64)


def test_patterns_are_causal_distributions(smollm2, tokens) -> None:  # type: ignore[no-untyped-def]
    patterns = capture(lens_of(smollm2.model), *tokens).patterns
    assert torch.allclose(patterns.sum(-1), torch.ones(patterns.shape[:-1]), atol=1e-5)
    assert patterns.triu(diagonal=1).abs().max() == 0


def test_head_outputs_through_the_output_projection_add_up_to_the_block_output(smollm2, tokens) -> None:  # type: ignore[no-untyped-def]
    outputs = {}
    modules = attention_modules(smollm2.model)
    handles = [
        module.register_forward_hook(lambda _m, _i, out, layer=layer: outputs.__setitem__(layer, out[0]))
        for layer, module in enumerate(modules)
    ]
    try:
        captured = capture(lens_of(smollm2.model), *tokens)
    finally:
        for handle in handles:
            handle.remove()
    for layer in (0, 14, 29):
        summed = head_contributions(lens_of(smollm2.model), captured, layer).sum(dim=2)  # [batch, pos, d_model]
        assert torch.allclose(summed, outputs[layer], atol=ATOL)


def test_capture_leaves_the_hooks_as_it_found_them(smollm2, tokens) -> None:  # type: ignore[no-untyped-def]
    # Compared with before, not with none: transformers itself may keep output-recording hooks installed.
    before = [dict(module._forward_hooks) for module in attention_modules(smollm2.model)]
    capture(lens_of(smollm2.model), *tokens)
    assert [dict(module._forward_hooks) for module in attention_modules(smollm2.model)] == before
