"""Capture every head's attention pattern and output in one batched forward pass.

Hooks are written once per architecture family, as a row of ARCHITECTURES: the
attention module of each layer returns `(output, pattern)` under eager
attention, and the input of its output projection is the concatenation of the
heads' outputs. Detectors only ever see `Captured`, whatever the architecture.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel


@dataclass(frozen=True)
class ArchitectureHooks:
    """Where one family keeps its layers, attention modules and output projections."""

    layers: str  # attribute path from the model to its list of blocks
    attention: str  # attribute of a block
    output_projection: str  # attribute of the attention module
    final_norm: str  # attribute path from the model to the norm before the unembedding
    centred: bool = False  # LayerNorm subtracts the mean; RMSNorm does not
    attention_norm: str = "input_layernorm"  # attribute of a block: the norm before attention
    value_projection: str | None = "v_proj"  # attribute of the attention module, where values have their own matrix
    post_attention_norm: str | None = None  # attribute of a block: a norm on the attention output (Gemma)
    query_projection: str = "q_proj"  # attribute of the attention module whose output holds the queries
    # Head h's query is columns [h * query_stride * d_head, +d_head) of that output: 1 where the
    # queries are contiguous (their own matrix, or GPT-2's first third of c_attn), 3 where q, k and v
    # are interleaved per head (GPT-NeoX's query_key_value).
    query_stride: int = 1


# transformers model_type -> where to hook.
ARCHITECTURES = {
    "llama": ArchitectureHooks("model.layers", "self_attn", "o_proj", "model.norm"),
    "qwen2": ArchitectureHooks("model.layers", "self_attn", "o_proj", "model.norm"),
    "gemma3_text": ArchitectureHooks(
        "model.layers", "self_attn", "o_proj", "model.norm", post_attention_norm="post_attention_layernorm"
    ),
    "gpt2": ArchitectureHooks(
        "transformer.h",
        "attn",
        "c_proj",
        "transformer.ln_f",
        centred=True,
        attention_norm="ln_1",
        value_projection=None,
        query_projection="c_attn",
    ),
    "gpt_neox": ArchitectureHooks(
        "gpt_neox.layers",
        "attention",
        "dense",
        "gpt_neox.final_layer_norm",
        centred=True,
        value_projection=None,
        query_projection="query_key_value",
        query_stride=3,
    ),
}


@dataclass(frozen=True)
class Captured:
    """What one forward pass saw, for all layers and query heads at once."""

    patterns: Tensor  # [layer, batch, head, q_pos, k_pos]
    head_outputs: Tensor  # [layer, batch, pos, head, d_head], before the output projection
    predictions: Tensor | None  # [batch, pos], the model's most likely next token, when asked for
    logits: Tensor | None = None  # [batch, vocab] at each row's answer position, when asked for
    final_residual: Tensor | None = None  # [batch, d_model], the final norm's input at the answer position

    @property
    def n_layers(self) -> int:
        return self.patterns.shape[0]

    @property
    def n_heads(self) -> int:
        return self.patterns.shape[2]


def attention_modules(model: PreTrainedModel) -> list[nn.Module]:
    hooks = architecture(model)
    return [getattr(block, hooks.attention) for block in blocks(model)]


def blocks(model: PreTrainedModel) -> list[nn.Module]:
    return list(submodule(model, architecture(model).layers))  # type: ignore[call-overload]


def submodule(model: nn.Module, path: str) -> nn.Module:
    for attribute in path.split("."):
        model = getattr(model, attribute)
    return model


def architecture(model: PreTrainedModel) -> ArchitectureHooks:
    model_type = model.config.model_type
    if model_type not in ARCHITECTURES:
        raise ValueError(f"No capture hooks for model type {model_type!r}; supported: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[model_type]


@torch.no_grad()
def capture(
    model: PreTrainedModel,
    input_ids: Tensor,
    attention_mask: Tensor,
    *,
    with_predictions: bool = False,
    answer_at: Tensor | None = None,
) -> Captured:
    """Run the model once on a batch and return every head's pattern and output.

    Args:
        model: a model loaded with eager attention.
        input_ids: [batch, pos] token ids.
        attention_mask: [batch, pos], 1 for real tokens, 0 for padding.
        with_predictions: also return the model's next-token predictions; without
            them only the last position's logits are computed, which saves the
            unembedding (large for Gemma's 262k-token vocabulary).
        answer_at: [batch] positions; also return each row's logits there and
            the final norm's input, which direct logit attribution needs.
    """
    patterns: list[Tensor] = []
    outputs: list[Tensor] = []
    residuals: list[Tensor] = []
    n_heads = model.config.num_attention_heads
    positions = answer_at.unique() if answer_at is not None else None  # [n_positions], sorted
    keep: int | Tensor = 0 if with_predictions else (positions if positions is not None else 1)
    with _hooks(model, patterns, outputs, n_heads), _final_residual_hook(model, residuals):
        result = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, logits_to_keep=keep)
    if len(patterns) != model.config.num_hidden_layers:
        raise RuntimeError("Attention patterns were not returned; load the model with attn_implementation='eager'")
    rows = torch.arange(input_ids.shape[0])
    logits = final_residual = None
    if answer_at is not None:
        logit_index = answer_at if with_predictions else torch.searchsorted(positions, answer_at)  # type: ignore[arg-type]
        logits = result.logits[rows, logit_index].float()  # [batch, vocab]
        final_residual = residuals[0][rows, answer_at]  # [batch, d_model]
    return Captured(
        patterns=torch.stack(patterns),  # [layer, batch, head, q_pos, k_pos]
        head_outputs=torch.stack(outputs),  # [layer, batch, pos, head, d_head]
        predictions=result.logits.argmax(dim=-1) if with_predictions else None,  # [batch, pos]
        logits=logits,
        final_residual=final_residual,
    )


@contextmanager
def _final_residual_hook(model: PreTrainedModel, residuals: list[Tensor]) -> Iterator[None]:
    def keep_input(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        residuals.append(inputs[0].detach().float())  # [batch, pos, d_model]

    handle = submodule(model, architecture(model).final_norm).register_forward_pre_hook(keep_input)
    try:
        yield
    finally:
        handle.remove()


@contextmanager
def _hooks(model: PreTrainedModel, patterns: list[Tensor], outputs: list[Tensor], n_heads: int) -> Iterator[None]:
    """Hooks that append each layer's pattern and head outputs; always removed on exit."""
    projection = architecture(model).output_projection

    def keep_pattern(_module: nn.Module, _inputs: object, output: tuple[Tensor, Tensor | None]) -> None:
        if output[1] is not None:
            patterns.append(output[1].detach().float())  # [batch, head, q_pos, k_pos]

    def keep_head_outputs(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        z = inputs[0].detach().float()  # [batch, pos, head * d_head]
        outputs.append(z.reshape(*z.shape[:2], n_heads, -1))  # [batch, pos, head, d_head]

    handles = []
    try:
        for module in attention_modules(model):
            handles.append(module.register_forward_hook(keep_pattern))
            handles.append(getattr(module, projection).register_forward_pre_hook(keep_head_outputs))
        yield
    finally:
        for handle in handles:
            handle.remove()


def output_projection_weight(model: PreTrainedModel, layer: int) -> Tensor:
    """The layer's output projection as [d_model, head * d_head], whatever the module type."""
    module = getattr(attention_modules(model)[layer], architecture(model).output_projection)
    weight = module.weight.detach().float()
    return weight if isinstance(module, nn.Linear) else weight.T  # GPT-2's Conv1D stores [in, out]


def head_contributions(model: PreTrainedModel, captured: Captured, layer: int) -> Tensor:
    """Each head's write to the residual stream in `layer`: [batch, pos, head, d_model]."""
    z = captured.head_outputs[layer]  # [batch, pos, head, d_head]
    weight = output_projection_weight(model, layer)  # [d_model, head * d_head]
    weight = weight.reshape(weight.shape[0], captured.n_heads, -1)  # [d_model, head, d_head]
    return torch.einsum("bphd,mhd->bphm", z, weight)  # [batch, pos, head, d_model]


class CaptureCache:
    """The latest captures by their inputs, so that detectors probing the same tokens share one forward pass.

    previous_token, duplicate_token and induction read the same repeated random
    tokens, the syntactic detectors the same sentences; run in registry order,
    each probe is run once. Captured tensors are shared, so scores must not
    modify them.
    """

    def __init__(self, model: PreTrainedModel, *, size: int = 2) -> None:
        self.model, self.size = model, size
        self.entries: OrderedDict[tuple[str, bool], Captured] = OrderedDict()
        self.hits = 0

    def __call__(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        *,
        with_predictions: bool = False,
        answer_at: Tensor | None = None,
    ) -> Captured:
        key = _inputs_key(input_ids, attention_mask, answer_at)
        for wanted in (key, with_predictions), (key, True):  # a capture with predictions serves both
            if wanted in self.entries:
                self.entries.move_to_end(wanted)
                self.hits += 1
                return self.entries[wanted]
        captured = capture(
            self.model, input_ids, attention_mask, with_predictions=with_predictions, answer_at=answer_at
        )
        self.entries[(key, with_predictions)] = captured
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return captured


def _inputs_key(input_ids: Tensor, attention_mask: Tensor, answer_at: Tensor | None) -> str:
    digest = hashlib.sha256(str(tuple(input_ids.shape)).encode())
    digest.update(input_ids.numpy().tobytes())
    digest.update(attention_mask.numpy().tobytes())
    digest.update(b"" if answer_at is None else answer_at.numpy().tobytes())
    return digest.hexdigest()
