"""A loaded model as detectors see it: the only way to the model.

Every forward pass, patch, ablation and read goes through a ModelLens: its
`hooked` block is the one place hooks are registered (and always removed), its
`forward` moves inputs to the model's device, and its `capture` and `read`
share one pass between detectors that probe the same inputs, except while an
intervention is in place, when a cached clean pass would be wrong. The pieces
logit attribution needs (unembedding, final norm's gain) are read once here,
in float32 on the CPU, whatever the model's device and dtype.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ingest.capture import CaptureCache, Captured, PlannedReads, Read, Reading
from ingest.families import Family, blocks, family_of, submodule
from ingest.toy_models import toy_task

# A hook: the module, whether it runs before ("pre", sees the inputs) or after ("post", sees the output), the function.
Hook = tuple[nn.Module, Literal["pre", "post"], Callable[..., Any]]


@dataclass
class ModelLens:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    captures: CaptureCache = field(init=False)
    reads: PlannedReads = field(init=False)
    interventions: int = field(default=0, init=False)  # hooked blocks that change the pass, now open
    passes: Counter[str] = field(default_factory=Counter, init=False)  # forwards run: "forward", of which "with_grad"

    def __post_init__(self) -> None:
        self.captures = CaptureCache(self)
        self.reads = PlannedReads(self)

    @contextmanager
    def hooked(self, hooks: Iterable[Hook], *, intervening: bool = True) -> Iterator[None]:
        """Within the block, the hooks run on every pass; they are removed on exit, whatever happens.

        `intervening=False` promises the hooks only read: captures stay shared.
        """
        handles = []
        self.interventions += intervening
        try:
            for module, when, function in hooks:
                register = module.register_forward_pre_hook if when == "pre" else module.register_forward_hook
                handles.append(register(function))
            yield
        finally:
            for handle in handles:
                handle.remove()
            self.interventions -= intervening

    def forward(self, **inputs: Any) -> Any:
        """The model's forward pass on `inputs`, with tensors moved to its device."""
        moved = {name: value.to(self.device) if isinstance(value, Tensor) else value for name, value in inputs.items()}
        self.passes["forward"] += 1
        self.passes["with_grad"] += torch.is_grad_enabled()
        return self.model(**moved)

    def capture(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        *,
        answer_at: Tensor | None = None,
        queries_at: Tensor | None = None,
        values_at: Tensor | None = None,
    ) -> Captured:
        """One forward pass, shared with any detector that asks for the same inputs (ingest.capture.capture)."""
        return self.captures(
            input_ids,
            attention_mask,
            answer_at=answer_at,
            queries_at=queries_at,
            values_at=values_at,
            shared=self.interventions == 0,
        )

    def plan(self, readings: list[Reading]) -> None:
        """Readings to take together with any other of the same inputs, in the first pass over those inputs."""
        self.reads.plan(readings)

    def read(self, reading: Reading) -> Read:
        """What `reading` keeps of every layer's pattern, from one pass shared with the readings planned alongside."""
        return self.reads(reading, shared=self.interventions == 0)

    @property
    def passes_reused(self) -> int:
        """How many captures and readings were served by a pass run for another detector."""
        return self.captures.hits + self.reads.hits

    @property
    def family(self) -> Family:
        return family_of(self.model)

    @property
    def device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers

    @property
    def n_heads(self) -> int:
        return self.model.config.num_attention_heads

    @property
    def toy_task(self) -> str | None:
        """The synthetic task a toy model was trained on (ingest.toy_models), None for a language model."""
        return toy_task(self.model.config)

    @cached_property
    def unembedding(self) -> Tensor:
        """[vocab, d_model]: each token's readout direction."""
        return self.model.get_output_embeddings().weight.detach().float().cpu()

    @cached_property
    def embedding(self) -> Tensor:
        """[vocab, d_model]: each token's input embedding, with the model's embedding scale (Gemma's sqrt(d_model))."""
        weight = self.model.get_input_embeddings().weight.detach().float().cpu()
        scale = getattr(self.model.get_input_embeddings(), "embed_scale", None)
        return weight * float(scale) if scale is not None else weight

    @cached_property
    def final_norm_gain(self) -> Tensor:
        """[d_model]: the final norm's elementwise gain."""
        return norm_gain(submodule(self.model, self.family.final_norm), self.model.config.hidden_size)

    @cached_property
    def final_norm_eps(self) -> float:
        return norm_eps(submodule(self.model, self.family.final_norm))

    @property
    def centred_norm(self) -> bool:
        return self.family.centred

    def post_attention_norm(self, layer: int) -> tuple[Tensor, float] | None:
        """Gain and eps of the norm a family puts on the attention output before the residual (Gemma), if any."""
        name = self.family.post_attention_norm
        if name is None:
            return None
        norm = getattr(blocks(self.model)[layer], name)
        return norm_gain(norm, self.model.config.hidden_size), norm_eps(norm)


def norm_gain(norm: nn.Module, d_model: int) -> Tensor:
    """[d_model]: a norm's elementwise gain, read off the module itself.

    A vector v of alternating +1/-1 has mean 0 and unit variance, so a norm maps
    v to gain * v / sqrt(1 + eps) (+ bias); (norm(v) - norm(-v)) / 2 * v cancels
    the bias and leaves the gain, whatever the parametrisation (Gemma's 1 + weight too).
    """
    v = torch.ones(d_model)
    v[1::2] = -1.0  # [d_model]
    weight = next(norm.parameters())
    with torch.no_grad():
        plus = norm(v.to(weight.device, weight.dtype)[None]).float().cpu()[0]
        minus = norm((-v).to(weight.device, weight.dtype)[None]).float().cpu()[0]
    return (plus - minus) / 2 * v * (1 + norm_eps(norm)) ** 0.5  # [d_model]


def norm_eps(norm: nn.Module) -> float:
    for name in ("variance_epsilon", "eps"):
        if hasattr(norm, name):
            return float(getattr(norm, name))
    return 1e-6
