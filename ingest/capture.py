"""Capture every head's attention pattern and output in one batched forward pass.

The family record (ingest.families) says where to hook: the attention module of
each layer returns `(output, pattern)` under eager attention, the input of its
output projection is the heads' outputs side by side, and the value projection's
output holds the values. Detectors only ever see `Captured`, in float32 on the
CPU, whatever the architecture, device and dtype.

The pass stops before the unembedding and applies it to the rows asked for,
copied contiguous: the model's own `logits_to_keep` hands the unembedding a
strided slice, several times slower on a large vocabulary.
"""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ingest.families import attention_modules, output_projection_weight, projection, submodule, values_per_head

if TYPE_CHECKING:
    from ingest.lens import Hook, ModelLens


@dataclass(frozen=True)
class Captured:
    """What one forward pass saw, for all layers and query heads at once."""

    patterns: Tensor  # [layer, batch, head, q_pos, k_pos]
    head_outputs: Tensor  # [layer, batch, pos, head, d_head], before the output projection
    predictions: Tensor | None  # [batch, pos], the model's most likely next token, when asked for
    logits: Tensor | None = None  # [batch, vocab] at each row's answer position, when asked for
    final_residual: Tensor | None = None  # [batch, d_model], the final norm's input at the answer position
    values: Tensor | None = None  # [layer, batch, pos, head, d_head], each head's value vectors, when asked for

    @property
    def n_layers(self) -> int:
        return self.patterns.shape[0]

    @property
    def n_heads(self) -> int:
        return self.patterns.shape[2]


class _Stopped(Exception):
    """Raised by a hook to end a forward pass early; carries what the hook read."""

    def __init__(self, value: Tensor) -> None:
        super().__init__("forward pass stopped")
        self.value = value


def forward_until(lens: "ModelLens", module: nn.Module, **inputs: object) -> Tensor:
    """Run the model on `inputs` until `module` is called, and return that call's first input.

    What comes after is never computed: a pass that needs only the queries of
    some layer, or the final residual before a large unembedding, costs only
    what it reads. Raises RuntimeError if the module is never called.
    """

    def stop(_module: nn.Module, args: tuple[Tensor, ...]) -> None:
        raise _Stopped(args[0])

    with lens.hooked([(module, "pre", stop)], intervening=False):
        try:
            lens.forward(**inputs)
        except _Stopped as stopped:
            return stopped.value
    raise RuntimeError(f"The forward pass never reached {type(module).__name__}")


def final_hidden(lens: "ModelLens", **inputs: object) -> Tensor:
    """The unembedding's input, [batch, pos, d_model], without computing any logits."""
    return forward_until(lens, lens.model.get_output_embeddings(), **inputs)


def logits_of(lens: "ModelLens", hidden: Tensor) -> Tensor:
    """[..., vocab] float32 on the CPU: the unembedding (and Gemma's soft cap) on hidden states [..., d_model]."""
    logits = lens.model.get_output_embeddings()(hidden.contiguous())
    if cap := getattr(lens.model.config, "final_logit_softcapping", None):
        logits = torch.tanh(logits / cap) * cap
    return logits.float().cpu()


@torch.no_grad()
def capture(
    lens: "ModelLens",
    input_ids: Tensor,
    attention_mask: Tensor,
    *,
    with_predictions: bool = False,
    with_values: bool = False,
    answer_at: Tensor | None = None,
) -> Captured:
    """Run the model once on a batch and return every head's pattern and output.

    Args:
        lens: a model loaded with eager attention.
        input_ids: [batch, pos] token ids.
        attention_mask: [batch, pos], 1 for real tokens, 0 for padding.
        with_predictions: also return the model's next-token predictions at
            every position (the unembedding everywhere: large for Gemma's 262k tokens).
        with_values: also return every head's value vectors (value-path attribution).
        answer_at: [batch] positions; also return each row's logits there and
            the final norm's input, which direct logit attribution needs.
    """
    kept: dict[str, list[Tensor]] = {"patterns": [], "outputs": [], "values": [], "residual": []}
    with lens.hooked(_capture_hooks(lens, kept, with_values, answer_at is not None), intervening=False):
        hidden = final_hidden(lens, input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    if len(kept["patterns"]) != lens.n_layers:
        raise RuntimeError("Attention patterns were not returned; load the model with attn_implementation='eager'")
    rows = torch.arange(input_ids.shape[0])
    logits = final_residual = None
    if answer_at is not None:
        logits = logits_of(lens, hidden[rows, answer_at.to(hidden.device)])  # [batch, vocab]
        final_residual = kept["residual"][0][rows, answer_at]  # [batch, d_model]
    return Captured(
        patterns=torch.stack(kept["patterns"]),  # [layer, batch, head, q_pos, k_pos]
        head_outputs=torch.stack(kept["outputs"]),  # [layer, batch, pos, head, d_head]
        predictions=_predictions(lens, hidden) if with_predictions else None,  # [batch, pos]
        logits=logits,
        final_residual=final_residual,
        values=torch.stack(kept["values"]) if with_values else None,
    )


def _predictions(lens: "ModelLens", hidden: Tensor) -> Tensor:
    """[batch, pos]: the most likely next token at every position, a row at a time to bound the logits held."""
    return torch.stack([logits_of(lens, row).argmax(dim=-1) for row in hidden])


def _capture_hooks(
    lens: "ModelLens", kept: dict[str, list[Tensor]], with_values: bool, with_residual: bool
) -> list["Hook"]:
    """Hooks that append each layer's pattern and head outputs, and (asked for) values and the final residual."""
    n_heads, model = lens.n_heads, lens.model

    def keep_pattern(_module: nn.Module, _inputs: object, output: tuple[Tensor, Tensor | None]) -> None:
        if output[1] is not None:
            kept["patterns"].append(output[1].detach().float().cpu())  # [batch, head, q_pos, k_pos]

    def keep_head_outputs(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        z = inputs[0].detach().float().cpu()  # [batch, pos, head * d_head]
        kept["outputs"].append(z.reshape(*z.shape[:2], n_heads, -1))  # [batch, pos, head, d_head]

    def keep_values(_module: nn.Module, _inputs: object, output: Tensor) -> None:
        kept["values"].append(values_per_head(model, output.detach()).cpu())  # [batch, pos, head, d_head]

    def keep_residual(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        kept["residual"].append(inputs[0].detach().float().cpu())  # [batch, pos, d_model]

    hooks: list[Hook] = [(submodule(model, lens.family.final_norm), "pre", keep_residual)] if with_residual else []
    for layer, module in enumerate(attention_modules(model)):
        hooks.append((module, "post", keep_pattern))
        hooks.append((projection(model, layer, "output_projection"), "pre", keep_head_outputs))
        if with_values:
            hooks.append((projection(model, layer, "value_projection"), "post", keep_values))
    return hooks


def head_contributions(lens: "ModelLens", captured: Captured, layer: int) -> Tensor:
    """Each head's write to the residual stream in `layer`: [batch, pos, head, d_model]."""
    z = captured.head_outputs[layer]  # [batch, pos, head, d_head]
    weight = output_projection_weight(lens.model, layer).cpu()  # [d_model, head * d_head]
    weight = weight.reshape(weight.shape[0], captured.n_heads, -1)  # [d_model, head, d_head]
    return torch.einsum("bphd,mhd->bphm", z, weight)  # [batch, pos, head, d_model]


class CaptureCache:
    """The latest captures by their inputs, so that detectors probing the same tokens share one forward pass.

    previous_token, duplicate_token and induction read the same repeated random
    tokens, the syntactic detectors the same sentences; run in registry order,
    each probe is run once. A capture with more in it (predictions, values)
    serves a request for less. Captured tensors are shared, so scores must not
    modify them.
    """

    def __init__(self, lens: "ModelLens", *, size: int = 2) -> None:
        self.lens, self.size = lens, size
        self.entries: OrderedDict[str, Captured] = OrderedDict()
        self.hits = 0

    def __call__(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        *,
        with_predictions: bool,
        with_values: bool,
        answer_at: Tensor | None,
        shared: bool,
    ) -> Captured:
        key = _inputs_key(input_ids, attention_mask, answer_at)
        found = self.entries.get(key) if shared else None
        if found is not None and (found.predictions is not None or not with_predictions):
            if found.values is not None or not with_values:
                self.entries.move_to_end(key)
                self.hits += 1
                return found
        captured = capture(
            self.lens,
            input_ids,
            attention_mask,
            with_predictions=with_predictions or (found is not None and found.predictions is not None),
            with_values=with_values or (found is not None and found.values is not None),
            answer_at=answer_at,
        )
        if shared:
            self.entries[key] = captured
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return captured


def _inputs_key(input_ids: Tensor, attention_mask: Tensor, answer_at: Tensor | None) -> str:
    digest = hashlib.sha256(str(tuple(input_ids.shape)).encode())
    digest.update(input_ids.cpu().numpy().tobytes())
    digest.update(attention_mask.cpu().numpy().tobytes())
    digest.update(b"" if answer_at is None else answer_at.cpu().numpy().tobytes())
    return digest.hexdigest()
