"""One record per architecture family: where its parts live and how its heads' queries and values are laid out.

Everything that reaches into a transformers model by attribute name reads it
from here (the lens, capture, attribution, interventions, OV readouts, model
loading), so that a family is added by adding one record, and the test that
lists families (tests/ingest/test_families.py) asks for its checks.
"""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

# How a family's attention projects queries, keys and values:
# - "separate": q_proj, k_proj and v_proj of their own (Llama, Qwen2, Gemma 3);
# - "concatenated": one projection whose output is [all queries | all keys | all values] (GPT-2's c_attn);
# - "interleaved": one projection whose output is, head by head, [query | key | value] (GPT-NeoX's query_key_value).
ProjectionLayout = Literal["separate", "concatenated", "interleaved"]
Positional = Literal["learned-absolute", "rotary", "alibi"]


@dataclass(frozen=True)
class Family:
    """Where one family keeps its blocks, attention, norms and projections, and what else sets it apart."""

    name: str  # the catalog's family name (catalog/knowledge/models.yaml)
    positional: Positional  # read from the record, never guessed
    blocks: str  # attribute path from the model to its list of blocks
    attention: str  # attribute of a block
    output_projection: str  # attribute of the attention module; its input is the heads' outputs side by side
    final_norm: str  # attribute path from the model to the norm before the unembedding
    attention_norm: str  # attribute of a block: the norm before attention
    layout: ProjectionLayout
    query_projection: str  # attribute of the attention module whose output holds the queries
    value_projection: str  # attribute of the attention module whose output holds the values
    centred: bool = False  # LayerNorm subtracts the mean; RMSNorm does not
    post_attention_norm: str | None = None  # attribute of a block: a norm on the attention output (Gemma)

    def query_columns(self, head: int, d_head: int) -> slice:
        """The columns of the query projection's output that hold `head`'s query."""
        stride = 3 if self.layout == "interleaved" else 1
        start = head * stride * d_head
        return slice(start, start + d_head)

    def value_columns(self, n_kv_heads: int, d_head: int) -> Tensor:
        """[kv_head * d_head]: the columns of the value projection's output holding the values, head by head."""
        within = torch.arange(d_head)
        if self.layout == "separate":
            return torch.arange(n_kv_heads * d_head)
        if self.layout == "concatenated":
            return 2 * n_kv_heads * d_head + torch.arange(n_kv_heads * d_head)
        return torch.cat([head * 3 * d_head + 2 * d_head + within for head in range(n_kv_heads)])


def _separate_projections(name: str, **more: str) -> Family:
    """A family laid out as Llama is: q/k/v_proj and o_proj in self_attn, RMSNorms, rotary positions."""
    return Family(
        name, "rotary", "model.layers", "self_attn", "o_proj", "model.norm", "input_layernorm", "separate",
        "q_proj", "v_proj", **more,
    )  # fmt: skip


FAMILIES: dict[str, Family] = {  # transformers model_type -> family
    "llama": _separate_projections("llama"),
    "qwen2": _separate_projections("qwen2"),
    "gemma3_text": _separate_projections("gemma", post_attention_norm="post_attention_layernorm"),
    "gpt2": Family(
        "gpt2",
        "learned-absolute",
        "transformer.h",
        "attn",
        "c_proj",
        "transformer.ln_f",
        "ln_1",
        "concatenated",
        "c_attn",
        "c_attn",
        centred=True,
    ),
    "gpt_neox": Family(
        "gpt-neox",
        "rotary",
        "gpt_neox.layers",
        "attention",
        "dense",
        "gpt_neox.final_layer_norm",
        "input_layernorm",
        "interleaved",
        "query_key_value",
        "query_key_value",
        centred=True,
    ),
}


class UnsupportedFamily(ValueError):
    """A model type with no Family record."""


def family_of(model: PreTrainedModel) -> Family:
    model_type = model.config.model_type
    if model_type not in FAMILIES:
        raise UnsupportedFamily(f"No family record for model type {model_type!r}; supported: {sorted(FAMILIES)}")
    return FAMILIES[model_type]


def submodule(model: nn.Module, path: str) -> nn.Module:
    for attribute in path.split("."):
        model = getattr(model, attribute)
    return model


def blocks(model: PreTrainedModel) -> list[nn.Module]:
    return list(submodule(model, family_of(model).blocks))  # type: ignore[call-overload]


def attention_modules(model: PreTrainedModel) -> list[nn.Module]:
    name = family_of(model).attention
    return [getattr(block, name) for block in blocks(model)]


def projection(model: PreTrainedModel, layer: int, which: str) -> nn.Module:
    """The layer's attention projection named by the family record's field `which` (e.g. "value_projection")."""
    return getattr(attention_modules(model)[layer], getattr(family_of(model), which))


def linear_weight(module: nn.Module) -> Tensor:
    """A projection's weight as [out, in] in float32, whatever the module type (GPT-2's Conv1D stores [in, out])."""
    weight = module.weight.detach().float()
    return weight if isinstance(module, nn.Linear) else weight.T


def output_projection_weight(model: PreTrainedModel, layer: int) -> Tensor:
    """The layer's output projection as [d_model, head * d_head]."""
    return linear_weight(projection(model, layer, "output_projection"))


def d_head(model: PreTrainedModel) -> int:
    """Width of one head's query, value and output (Gemma's head_dim need not be d_model / n_heads)."""
    return output_projection_weight(model, 0).shape[1] // model.config.num_attention_heads


def n_kv_heads(model: PreTrainedModel) -> int:
    return getattr(model.config, "num_key_value_heads", None) or model.config.num_attention_heads


def value_columns(model: PreTrainedModel) -> Tensor:
    """[kv_head * d_head]: where the value projection's output holds the values."""
    return family_of(model).value_columns(n_kv_heads(model), d_head(model))


def values_per_head(model: PreTrainedModel, projected: Tensor) -> Tensor:
    """The value projection's output [..., out] as each query head's values [..., head, d_head].

    Heads of one key-value group share their values.
    """
    values = projected[..., value_columns(model).to(projected.device)].float()  # [..., kv_head * d_head]
    values = values.reshape(*values.shape[:-1], n_kv_heads(model), -1)  # [..., kv_head, d_head]
    return values.repeat_interleave(model.config.num_attention_heads // n_kv_heads(model), dim=-2)


def value_weights(model: PreTrainedModel, layer: int) -> tuple[Tensor, Tensor | None]:
    """The layer's value matrix [kv_head * d_head, d_model] and bias, cut out of a fused projection if need be."""
    module = projection(model, layer, "value_projection")
    columns = value_columns(model)
    bias = module.bias.detach().float()[columns] if module.bias is not None else None
    return linear_weight(module)[columns], bias
