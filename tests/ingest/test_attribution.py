"""Logit attribution's pieces on tiny random models of every family: exact decompositions, read off the modules."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from ingest.attribution import head_writes_at_answer, values_read_from
from ingest.capture import capture
from ingest.families import FAMILIES, attention_modules, blocks, n_kv_heads, submodule, value_weights
from ingest.lens import ModelLens
from tests.ingest.test_capture_architectures import CONFIGS

ATOL = 1e-4


def tiny(model_type: str):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(CONFIGS[model_type], attn_implementation="eager").eval()
    for module in model.modules():  # norms start at 1 and 0: give them gains worth reading
        if "norm" in type(module).__name__.lower() and getattr(module, "weight", None) is not None:
            torch.nn.init.normal_(module.weight, std=0.5)
    return model


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_the_final_norm_gain_is_what_the_norm_multiplies_a_normalised_vector_by(model_type: str) -> None:
    model = tiny(model_type)
    lens = ModelLens(model, tokenizer=None)  # type: ignore[arg-type]
    norm = submodule(model, FAMILIES[model_type].final_norm)
    x = torch.randn(32)
    x = x - x.mean()
    x = x / x.pow(2).mean().add(lens.final_norm_eps).sqrt()  # mean 0, unit scale: the norm only applies its gain
    bias = getattr(norm, "bias", None)
    with torch.no_grad():
        expected = norm(x[None])[0] - (bias if bias is not None else 0)
    assert torch.allclose(lens.final_norm_gain * x, expected, atol=ATOL)


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_head_writes_add_up_to_what_the_attention_block_adds_to_the_residual(model_type: str) -> None:
    model = tiny(model_type)
    lens = ModelLens(model, tokenizer=None)  # type: ignore[arg-type]
    input_ids = torch.randint(0, 64, (2, 7))
    answer_at = torch.tensor([6, 4])
    captured = capture(lens, input_ids, torch.ones_like(input_ids), answer_at=answer_at)
    writes = head_writes_at_answer(lens, captured, answer_at).sum(dim=2)  # [layer, batch, d_model]
    added = {}  # what each layer's attention (and Gemma's norm after it) adds to the residual stream
    hooks = FAMILIES[model_type]
    after = hooks.post_attention_norm
    for layer, block in enumerate(blocks(model)):
        module = getattr(block, after) if after else attention_modules(model)[layer]
        module.register_forward_hook(
            lambda _m, _i, out, layer=layer: added.__setitem__(layer, out if after else out[0])
        )
    with torch.no_grad():
        model(input_ids=input_ids)
    for layer in range(2):
        bias = getattr(attention_modules(model)[layer], hooks.output_projection).bias
        expected = added[layer][torch.arange(2), answer_at] - (bias if bias is not None else 0)
        assert torch.allclose(writes[layer], expected, atol=ATOL)


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_what_a_head_reads_from_each_position_adds_up_to_its_output(model_type: str) -> None:
    lens = ModelLens(tiny(model_type), tokenizer=None)  # type: ignore[arg-type]
    input_ids = torch.randint(0, 64, (2, 7))
    answer_at = torch.tensor([6, 4])
    seen = torch.arange(5).expand(2, 5)  # positions 0-4 are all both rows can see
    captured = capture(
        lens, input_ids, torch.ones_like(input_ids), answer_at=answer_at, queries_at=answer_at[:, None], values_at=seen
    )
    parts = sum(values_read_from(captured, answer_at, torch.tensor([k, k])) for k in range(5))
    whole = captured.outputs_at(answer_at)  # [layer, batch, head, d_head]
    assert torch.allclose(parts[:, 1], whole[:, 1], atol=ATOL)  # row 1 answers at position 4


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_value_weights_reproduce_the_values_the_forward_pass_computes(model_type: str) -> None:
    lens = ModelLens(tiny(model_type), tokenizer=None)  # type: ignore[arg-type]
    input_ids = torch.randint(0, 64, (1, 5))
    normed = {}
    norm = getattr(blocks(lens.model)[1], FAMILIES[model_type].attention_norm)
    norm.register_forward_hook(lambda _m, _i, out: normed.__setitem__("x", out))
    captured = capture(lens, input_ids, torch.ones_like(input_ids), values_at=torch.arange(5)[None])
    matrix, bias = value_weights(lens.model, 1)  # [kv_head * d_head, d_model]
    values = normed["x"][0] @ matrix.T + (bias if bias is not None else 0)  # [pos, kv_head * d_head]
    n_kv = n_kv_heads(lens.model)
    expected = values.reshape(5, n_kv, -1).repeat_interleave(lens.n_heads // n_kv, dim=1)  # [pos, head, d_head]
    assert torch.allclose(captured.values[1, 0], expected, atol=ATOL)  # type: ignore[index]
