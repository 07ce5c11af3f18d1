"""Capture what a forward pass shows of every head: whole, or read layer by layer.

`capture` serves the task detectors, which need every layer at once (direct
effects sum over layers): it keeps each layer's pattern rows and head outputs
only at the query positions a detector names, and value vectors only at the
source positions it names, so what is kept grows with the rows read, not with
the prompt. `read_patterns` serves the pattern detectors, whose probes can be
long: each reading reduces a layer's pattern to its scores while the layer
runs, and the pattern is dropped, so memory grows with one layer, not with
depth.

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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ingest.families import attention_modules, output_projection_weight, projection, submodule, values_per_head

if TYPE_CHECKING:
    from ingest.lens import Hook, ModelLens


@dataclass(frozen=True)
class Captured:
    """What one forward pass kept, for all layers and query heads at once.

    Positions are read through `pattern_from`, `outputs_at` and `values_of`,
    which find them among those kept and refuse one that was not.
    """

    patterns: Tensor  # [layer, batch, head, query, k_pos]: the rows at queries_at
    head_outputs: Tensor  # [layer, batch, query, head, d_head], before the output projection
    queries_at: Tensor | None = None  # [batch, query]: the query positions kept; None when all were
    logits: Tensor | None = None  # [batch, vocab] at each row's answer position, when asked for
    final_residual: Tensor | None = None  # [batch, d_model], the final norm's input at the answer position
    values: Tensor | None = None  # [layer, batch, source, head, d_head]: each head's value vectors at values_at
    values_at: Tensor | None = None  # [batch, source]: the source positions whose values were kept

    @property
    def n_layers(self) -> int:
        return self.patterns.shape[0]

    @property
    def n_heads(self) -> int:
        return self.patterns.shape[2]

    def pattern_from(self, at: Tensor) -> Tensor:
        """Each row's attention from its query position `at` [batch]: [layer, batch, head, k_pos]."""
        slot = _slot_of(self.queries_at, at, "query positions")
        return self.patterns.transpose(2, 3)[:, torch.arange(len(at)), slot]

    def outputs_at(self, at: Tensor) -> Tensor:
        """Each row's head outputs at its position `at` [batch]: [layer, batch, head, d_head]."""
        return self.head_outputs[:, torch.arange(len(at)), _slot_of(self.queries_at, at, "query positions")]

    def values_of(self, at: Tensor) -> Tensor:
        """Each row's value vectors at its source position `at` [batch]: [layer, batch, head, d_head]."""
        if self.values is None:
            raise ValueError("Reading values needs a capture with values_at")
        return self.values[:, torch.arange(len(at)), _slot_of(self.values_at, at, "source positions")]


def _slot_of(kept_at: Tensor | None, at: Tensor, kept: str) -> Tensor:
    """[batch]: where each row's position `at` stands among its positions kept (`kept_at` [batch, n]; None: all)."""
    if kept_at is None:
        return at
    found = kept_at == at[:, None]  # [batch, n]
    if not bool(found.any(dim=1).all()):
        raise ValueError(f"A position was read that the capture did not keep; name it among the {kept} to keep")
    return found.int().argmax(dim=1)


def _holds(kept_at: Tensor, wanted_at: Tensor) -> bool:
    """Whether each row's kept positions [batch, n] include every position wanted [batch, m]."""
    return bool((wanted_at[:, :, None] == kept_at[:, None, :]).any(dim=-1).all())


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
    answer_at: Tensor | None = None,
    queries_at: Tensor | None = None,
    values_at: Tensor | None = None,
) -> Captured:
    """Run the model once on a batch and keep every layer's patterns and head outputs at the positions named.

    Args:
        lens: a model loaded with eager attention.
        input_ids: [batch, pos] token ids.
        attention_mask: [batch, pos], 1 for real tokens, 0 for padding.
        answer_at: [batch] positions; also return each row's logits there and
            the final norm's input, which direct logit attribution needs.
        queries_at: [batch, n] query positions whose pattern rows and head
            outputs to keep; every position when None.
        values_at: [batch, m] source positions whose value vectors to keep
            (value-path attribution); none when None.
    """
    kept: dict[str, list[Tensor]] = {"patterns": [], "outputs": [], "values": [], "residual": []}
    keeping = _Keeping(queries_at, values_at, with_residual=answer_at is not None)
    with lens.hooked(_capture_hooks(lens, kept, keeping), intervening=False):
        hidden = final_hidden(lens, input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    if len(kept["patterns"]) != lens.n_layers:
        raise RuntimeError("Attention patterns were not returned; load the model with attn_implementation='eager'")
    rows = torch.arange(input_ids.shape[0])
    logits = final_residual = None
    if answer_at is not None:
        logits = logits_of(lens, hidden[rows, answer_at.to(hidden.device)])  # [batch, vocab]
        final_residual = kept["residual"][0][rows, answer_at]  # [batch, d_model]
    return Captured(
        patterns=torch.stack(kept["patterns"]),  # [layer, batch, head, query, k_pos]
        head_outputs=torch.stack(kept["outputs"]),  # [layer, batch, query, head, d_head]
        queries_at=queries_at,
        logits=logits,
        final_residual=final_residual,
        values=torch.stack(kept["values"]) if values_at is not None else None,
        values_at=values_at,
    )


@dataclass(frozen=True)
class _Keeping:
    """The positions a capture keeps, taken on the model's device before anything is copied to the CPU."""

    queries_at: Tensor | None  # [batch, n], or None for every position
    values_at: Tensor | None  # [batch, m], or None for no values
    with_residual: bool

    @staticmethod
    def rows(tensor: Tensor, at: Tensor | None) -> Tensor:
        """tensor [batch, pos, ...] at each row's positions `at` [batch, n]: [batch, n, ...]; all when None."""
        if at is None:
            return tensor
        at = at.to(tensor.device)
        return tensor[torch.arange(len(at), device=tensor.device)[:, None], at]


def _capture_hooks(lens: "ModelLens", kept: dict[str, list[Tensor]], keeping: _Keeping) -> list["Hook"]:
    """Hooks that append each layer's pattern rows and head outputs, and (asked for) values and the final residual."""
    n_heads, model = lens.n_heads, lens.model

    def keep_pattern(_module: nn.Module, _inputs: object, output: tuple[Tensor, Tensor | None]) -> None:
        if output[1] is not None:
            rows = keeping.rows(output[1].detach().transpose(1, 2), keeping.queries_at)  # [batch, query, head, k_pos]
            kept["patterns"].append(rows.transpose(1, 2).float().cpu())  # [batch, head, query, k_pos]

    def keep_head_outputs(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        z = keeping.rows(inputs[0].detach(), keeping.queries_at).float().cpu()  # [batch, query, head * d_head]
        kept["outputs"].append(z.reshape(*z.shape[:2], n_heads, -1))  # [batch, query, head, d_head]

    def keep_values(_module: nn.Module, _inputs: object, output: Tensor) -> None:
        at_sources = keeping.rows(output.detach(), keeping.values_at)  # [batch, source, out]
        kept["values"].append(values_per_head(model, at_sources).cpu())  # [batch, source, head, d_head]

    def keep_residual(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        kept["residual"].append(inputs[0].detach().float().cpu())  # [batch, pos, d_model]

    final_norm = submodule(model, lens.family.final_norm)
    hooks: list[Hook] = [(final_norm, "pre", keep_residual)] if keeping.with_residual else []
    for layer, module in enumerate(attention_modules(model)):
        hooks.append((module, "post", keep_pattern))
        hooks.append((projection(model, layer, "output_projection"), "pre", keep_head_outputs))
        if keeping.values_at is not None:
            hooks.append((projection(model, layer, "value_projection"), "post", keep_values))
    return hooks


def head_contributions(lens: "ModelLens", captured: Captured, layer: int) -> Tensor:
    """Each head's write to the residual stream in `layer`: [batch, pos, head, d_model]."""
    z = captured.head_outputs[layer]  # [batch, pos, head, d_head]
    weight = output_projection_weight(lens.model, layer).cpu()  # [d_model, head * d_head]
    weight = weight.reshape(weight.shape[0], captured.n_heads, -1)  # [d_model, head, d_head]
    return torch.einsum("bphd,mhd->bphm", z, weight)  # [batch, pos, head, d_model]


class CaptureCache:
    """The latest captures by their inputs, so that task detectors probing the same prompts share one forward pass.

    The IOI detectors read the same prompts and positions; run in registry
    order, each is run once. A capture serves any request for positions it
    kept. Captured tensors are shared, so scores must not modify them.
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
        answer_at: Tensor | None,
        queries_at: Tensor | None,
        values_at: Tensor | None,
        shared: bool,
    ) -> Captured:
        key = _inputs_key(input_ids, attention_mask, answer_at)
        found = self.entries.get(key) if shared else None
        if found is not None and _serves(found, queries_at, values_at):
            self.entries.move_to_end(key)
            self.hits += 1
            return found
        captured = capture(
            self.lens, input_ids, attention_mask, answer_at=answer_at, queries_at=queries_at, values_at=values_at
        )
        if shared:
            self.entries[key] = captured
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return captured


def _serves(found: Captured, queries_at: Tensor | None, values_at: Tensor | None) -> bool:
    """Whether a capture kept every query position and every source position's values that a request names."""
    queries_kept = found.queries_at is None or (queries_at is not None and _holds(found.queries_at, queries_at))
    values_kept = values_at is None or (found.values_at is not None and _holds(found.values_at, values_at))
    return queries_kept and values_kept


def _inputs_key(input_ids: Tensor, attention_mask: Tensor, answer_at: Tensor | None) -> str:
    digest = hashlib.sha256(str(tuple(input_ids.shape)).encode())
    digest.update(input_ids.cpu().numpy().tobytes())
    digest.update(attention_mask.cpu().numpy().tobytes())
    digest.update(b"" if answer_at is None else answer_at.cpu().numpy().tobytes())
    return digest.hexdigest()


# Reduces one layer's pattern, [batch, head, q_pos, k_pos] in float32 on the CPU, to what a detector keeps of it.
LayerReader = Callable[[Tensor], Tensor]
# Next-token predictions are computed this many positions at a time, bounding the logits held at once.
PREDICTION_CHUNK = 256


@dataclass(frozen=True)
class Reading:
    """What one detector keeps of every layer's attention pattern in a pass over some inputs."""

    name: str  # unique among readings of the same inputs: detector, role and seed
    input_ids: Tensor  # [batch, pos]
    attention_mask: Tensor  # [batch, pos]
    read: LayerReader
    predict_at: Tensor | None = None  # [batch, pos] bool: where the model's next-token predictions are needed

    @cached_property
    def inputs_key(self) -> str:
        return _inputs_key(self.input_ids, self.attention_mask, None)


@dataclass(frozen=True)
class Read:
    """What a reading kept: its reader's output for every layer, and the predictions it asked for."""

    layers: Tensor  # [layer, ...]: the reader's output, stacked
    predictions: Tensor | None  # [batch, pos] token ids, -1 where none was asked for


@torch.no_grad()
def read_patterns(lens: "ModelLens", readings: list[Reading]) -> dict[str, Read]:
    """One pass over the readings' shared inputs, in which every reader reduces each layer's pattern as it is made."""
    first = readings[0]
    if any(reading.inputs_key != first.inputs_key for reading in readings):
        raise ValueError("Readings in one pass must share their inputs")
    kept: dict[str, list[Tensor]] = {reading.name: [] for reading in readings}

    def read_layer(_module: nn.Module, _inputs: object, output: tuple[Tensor, Tensor | None]) -> None:
        if output[1] is not None:
            pattern = output[1].detach().float().cpu()  # [batch, head, q_pos, k_pos], this layer's only
            for reading in readings:
                kept[reading.name].append(reading.read(pattern))

    hooks: list[Hook] = [(module, "post", read_layer) for module in attention_modules(lens.model)]
    with lens.hooked(hooks, intervening=False):
        hidden = final_hidden(lens, input_ids=first.input_ids, attention_mask=first.attention_mask, use_cache=False)
    if any(len(layers) != lens.n_layers for layers in kept.values()):
        raise RuntimeError("Attention patterns were not returned; load the model with attn_implementation='eager'")
    wanted = [reading.predict_at for reading in readings if reading.predict_at is not None]
    predictions = predictions_at(lens, hidden, torch.stack(wanted).any(dim=0)) if wanted else None
    return {
        reading.name: Read(torch.stack(kept[reading.name]), predictions if reading.predict_at is not None else None)
        for reading in readings
    }


def predictions_at(lens: "ModelLens", hidden: Tensor, at: Tensor) -> Tensor:
    """[batch, pos]: the most likely next token where `at` [batch, pos] is set, -1 elsewhere."""
    predictions = torch.full(at.shape, -1, dtype=torch.long)
    rows = hidden[at.to(hidden.device)]  # [n, d_model]
    if len(rows):
        predictions[at] = torch.cat([logits_of(lens, chunk).argmax(dim=-1) for chunk in rows.split(PREDICTION_CHUNK)])
    return predictions


class PlannedReads:
    """Readings planned ahead, run in one pass per distinct inputs, and kept: what they keep is small.

    Detectors that probe the same tokens (previous_token, duplicate_token and
    induction; the syntactic relations; attention_sink and positional) plan
    their readings before any runs, and the first request for those tokens
    reads them all. Under an intervention nothing is served or kept.
    """

    def __init__(self, lens: "ModelLens") -> None:
        self.lens = lens
        self.planned: dict[str, dict[str, Reading]] = {}  # inputs key -> reading name -> reading
        self.done: dict[tuple[str, str], Read] = {}  # (inputs key, reading name) -> what it kept
        self.hits = 0

    def plan(self, readings: list[Reading]) -> None:
        for reading in readings:
            if (reading.inputs_key, reading.name) not in self.done:
                self.planned.setdefault(reading.inputs_key, {})[reading.name] = reading

    def __call__(self, reading: Reading, *, shared: bool) -> Read:
        if not shared:
            return read_patterns(self.lens, [reading])[reading.name]
        key = (reading.inputs_key, reading.name)
        if key in self.done:
            self.hits += 1
            return self.done[key]
        group = self.planned.pop(reading.inputs_key, {}) | {reading.name: reading}
        for name, read in read_patterns(self.lens, list(group.values())).items():
            self.done[(reading.inputs_key, name)] = read
        return self.done[key]
