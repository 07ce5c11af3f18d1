"""Path patching (Wang et al. 2022, Section 3.1): a head's effect on the answer through chosen heads' queries only.

Activation patching a head's output moves the answer through every path
downstream of it. Path patching keeps one: the sender's output at the last
position (END) is patched from a corrupted run, and only the receivers'
queries at END see it. Wang et al.'s steps, for each sender:

1. run the clean and the corrupted prompts;
2. run the clean prompts with every head's output frozen to its clean value,
   except the sender's at END, which takes its corrupted value; MLPs
   recompute, and the receivers' queries at END are recorded;
3. run the clean prompts with only the receivers' queries at END replaced by
   those, everything downstream recomputed, and read the logits at END.

Both patched runs differ from the clean one only at END, so they run END
alone: in step 2 every head's output there is replaced, so attention needs no
context; in step 3 END attends to the clean run's cached keys and values.
Several senders share a pass, each in its own copy of the prompts, and no pass
computes past what it reads (step 2 stops at the last receiver's layer, step 3
before the unembedding). `activation_patching` is the plain reference: one
head's output at END patched, everything downstream of it recomputed.
"""

import copy
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from transformers import DynamicCache

from ingest.capture import final_hidden, forward_until
from ingest.families import projection
from ingest.interventions import Head, recorded_queries, replaced_head_outputs, replaced_queries
from ingest.lens import Hook, ModelLens

# Copies of the prompts in one patched pass (8 senders of 48 IOI prompts). Step 3 holds the clean keys and
# values once per copy, so this bounds memory: ~330 MB for SmolLM2's 30 layers and 18 positions.
ROWS_PER_PASS = 384


@dataclass(frozen=True)
class PatchingPrompts:
    """Clean prompts and their corrupted twins, aligned position by position, and what is read from them."""

    clean_ids: Tensor  # [batch, pos]
    corrupted_ids: Tensor  # [batch, pos]
    attention_mask: Tensor  # [batch, pos], shared by both: the twins align
    end: Tensor  # [batch]: each row's last real position, where senders are patched and the answer is read
    read: Tensor  # [batch, n_tokens]: the tokens whose logits are read at END

    def __post_init__(self) -> None:
        if self.clean_ids.shape != self.corrupted_ids.shape or self.clean_ids.shape != self.attention_mask.shape:
            raise ValueError(
                f"Clean {tuple(self.clean_ids.shape)}, corrupted {tuple(self.corrupted_ids.shape)} and mask "
                f"{tuple(self.attention_mask.shape)} prompts must align position by position"
            )
        if len(self.end) != len(self.clean_ids) or len(self.read) != len(self.clean_ids):
            raise ValueError(f"end and read need one row per prompt ({len(self.clean_ids)})")


@dataclass(frozen=True)
class PatchedLogits:
    """The read tokens' logits at END, clean and with each patch."""

    clean: Tensor  # [batch, n_tokens]
    patched: Tensor  # [patch, batch, n_tokens], one patch per sender (or per head, for activation patching)


class PathPatching:
    """Path patching into fixed receivers on one set of prompts: step 1 runs once, then senders in any number.

    `patched` runs Wang et al.'s steps 2 and 3 for each sender; `first_order`
    estimates all senders at once from two gradients, to choose whom to patch.
    """

    @torch.no_grad()
    def __init__(
        self,
        lens: ModelLens,
        prompts: PatchingPrompts,
        receivers: list[Head],
        *,
        rows_per_pass: int = ROWS_PER_PASS,
    ) -> None:
        """Run step 1 on the clean and the corrupted prompts.

        Args:
            lens: the model, of a family in ingest.families.
            prompts: the clean and corrupted prompts, END and the tokens read.
            receivers: (layer, head) pairs whose queries at END take the patch.
            rows_per_pass: copies of the prompts per forward pass; senders are
                batched to fill it.
        """
        if not receivers:
            raise ValueError("Path patching needs at least one receiver")
        self.lens, self.prompts, self.receivers, self.rows_per_pass = lens, prompts, receivers, rows_per_pass
        self.cache = DynamicCache(config=lens.model.config)  # the clean prompts' keys and values, for step 3
        with recorded_queries(lens, receivers, prompts.end) as queries:
            self.clean_z, hidden = _run(lens, prompts.clean_ids, prompts.attention_mask, prompts.end, self.cache)
        self.clean_queries = queries  # [batch, d_head] per receiver
        self.corrupted_z, _ = _run(lens, prompts.corrupted_ids, prompts.attention_mask, prompts.end)
        self.clean = chosen_logits(lens, hidden, prompts.read)  # [batch, n_tokens]

    @torch.no_grad()
    def patched(self, senders: list[Head]) -> Tensor:
        """Steps 2 and 3 for each sender on its own: the read tokens' logits at END, [sender, batch, n_tokens].

        A receiver in the sender's layer or before it cannot read the sender,
        and keeps its clean query; every sender must precede some receiver.
        """
        self._check(senders)
        per_pass = max(1, self.rows_per_pass // len(self.prompts.end))
        patched = []
        for start in range(0, len(senders), per_pass):
            chunk = senders[start : start + per_pass]
            patched.append(self._logits_with_queries(self._queries_with_frozen_heads(chunk), len(chunk)))
        return torch.cat(patched)  # [sender, batch, n_tokens]

    def first_order(self, senders: list[Head]) -> Tensor:
        """Each sender's path effect on logit(read 0) - logit(read 1), to first order: [sender, batch].

        Attribution patching of the path (Nanda 2023; Syed et al. 2023): the
        metric's gradient with respect to the receivers' queries in step 3,
        carried back through step 2's frozen heads to every head's output, dotted
        with each sender's corrupted-minus-clean output. Two passes over END
        alone, whatever the number of senders; large changes of attention make
        it an estimate, so it only chooses whom `patched` patches.
        """
        self._check(senders)
        with torch.enable_grad():
            leaves = {head: query.clone().requires_grad_(True) for head, query in self.clean_queries.items()}
            with replaced_queries(self.lens, leaves, torch.zeros(len(self.prompts.end), dtype=torch.long)):
                hidden = self._end_after_context(copy.deepcopy(self.cache), _copies(self.prompts, 1))
            logits = chosen_logits(self.lens, hidden, self.prompts.read[:, :2])  # [batch, 2]
            on_queries = torch.autograd.grad((logits[:, 0] - logits[:, 1]).sum(), list(leaves.values()))
            outputs = self.clean_z.clone().requires_grad_(True)  # [layer, batch, head, d_head]
            queries = self._end_with_frozen_heads(outputs, _copies(self.prompts, 1))
            along = sum((queries[head] * grad).sum() for head, grad in zip(leaves, on_queries, strict=True))
            (on_outputs,) = torch.autograd.grad(along, outputs)  # [layer, batch, head, d_head]
        layers, heads = torch.tensor(senders).T  # [sender] each
        delta = self.corrupted_z[layers, :, heads] - self.clean_z[layers, :, heads]  # [sender, batch, d_head]
        return (delta * on_outputs[layers, :, heads]).sum(-1)  # [sender, batch]

    def _check(self, senders: list[Head]) -> None:
        last = max(layer for layer, _ in self.receivers)
        if late := [sender for sender in senders if sender[0] >= last]:
            raise ValueError(f"Senders {late} are not in a layer before any receiver (the last is in layer {last})")

    def _queries_with_frozen_heads(self, senders: list[Head]) -> dict[Head, Tensor]:
        """Step 2: each receiver's query at END with every head frozen but one sender per copy: [rows, d_head] each."""
        prompt = _copies(self.prompts, len(senders))  # [rows]
        rows = torch.arange(len(prompt))
        sender_layer, sender_head = torch.tensor(senders).T.repeat(1, len(self.prompts.end))  # [rows] each
        outputs = self.clean_z[:, prompt].clone()  # [layer, rows, head, d_head]
        outputs[sender_layer, rows, sender_head] = self.corrupted_z[sender_layer, prompt, sender_head]
        return self._end_with_frozen_heads(outputs, prompt)

    def _end_with_frozen_heads(self, outputs: Tensor, prompt: Tensor) -> dict[Head, Tensor]:
        """The receivers' queries when END runs alone with every head's output there set: [rows, d_head] each.

        Every head's output is replaced, so attention needs no context; the
        pass stops once the last receiver's query is computed.
        """
        n_layers, n_heads = outputs.shape[0], outputs.shape[2]
        every_head = [[layer, head] for layer in range(n_layers) for head in range(n_heads)]
        only = torch.zeros(len(prompt), dtype=torch.long)  # [rows]: each row is END alone
        last = max(layer for layer, _ in self.receivers)
        stop_at = projection(self.lens.model, last, "output_projection")
        with (
            replaced_head_outputs(self.lens, every_head, outputs, only),
            recorded_queries(self.lens, self.receivers, only) as queries,
        ):
            forward_until(
                self.lens,
                stop_at,
                input_ids=self.prompts.clean_ids[prompt, self.prompts.end[prompt]][:, None],  # [rows, 1]
                attention_mask=torch.ones(len(prompt), 1, dtype=torch.long),
                position_ids=self.prompts.end[prompt][:, None],  # [rows, 1]
                use_cache=False,
            )
        return queries

    def _logits_with_queries(self, queries: dict[Head, Tensor], n_copies: int) -> Tensor:
        """Step 3: the read tokens' logits at END with the receivers' queries replaced: [copy, batch, n_tokens]."""
        prompt = _copies(self.prompts, n_copies)  # [rows]
        context = copy.deepcopy(self.cache)
        context.batch_repeat_interleave(n_copies)  # the clean keys and values, once per copy
        with replaced_queries(self.lens, queries, torch.zeros(len(prompt), dtype=torch.long)):
            hidden = self._end_after_context(context, prompt)  # [rows, d_model]
        logits = chosen_logits(self.lens, hidden, self.prompts.read[prompt])  # [rows, n_tokens]
        return logits.reshape(len(self.prompts.end), n_copies, -1).transpose(0, 1)  # [copy, batch, n_tokens]

    def _end_after_context(self, context: DynamicCache, prompt: Tensor) -> Tensor:
        """The unembedding's input at END run again after the clean prompts' cached positions: [rows, d_model].

        END attends to the positions before it (its own cached entry and the
        padding after it are masked) and to itself, at its own position.
        """
        prompts = self.prompts
        n_pos = prompts.attention_mask.shape[1]
        before_end = prompts.attention_mask.bool() & (torch.arange(n_pos)[None] < prompts.end[:, None])  # [batch, pos]
        mask = torch.cat([before_end, torch.ones(len(before_end), 1, dtype=torch.bool)], dim=1)  # [batch, pos + 1]
        hidden = final_hidden(
            self.lens,
            input_ids=prompts.clean_ids[prompt, prompts.end[prompt]][:, None],  # [rows, 1]
            attention_mask=mask[prompt].long(),  # [rows, pos + 1]
            position_ids=prompts.end[prompt][:, None],  # [rows, 1]
            use_cache=True,
            **_with_cache(self.lens, context),
        )  # [rows, 1, d_model]
        return hidden[:, 0]


@torch.no_grad()
def path_patching(
    lens: ModelLens,
    prompts: PatchingPrompts,
    senders: list[Head],
    receivers: list[Head],
    *,
    rows_per_pass: int = ROWS_PER_PASS,
) -> PatchedLogits:
    """Patch each sender's output at END from the corrupted prompts into the receivers' queries at END only."""
    patching = PathPatching(lens, prompts, receivers, rows_per_pass=rows_per_pass)
    return PatchedLogits(clean=patching.clean, patched=patching.patched(senders))


@torch.no_grad()
def activation_patching(lens: ModelLens, prompts: PatchingPrompts, heads: list[Head]) -> PatchedLogits:
    """Patch each head's output at END from the corrupted prompts into the clean run, one full forward pass per head.

    The reference path patching is checked against: it moves the answer
    through every path downstream of the head, the receivers' queries among them.
    """
    clean_hidden = _run(lens, prompts.clean_ids, prompts.attention_mask, prompts.end)[1]
    corrupted_z = _run(lens, prompts.corrupted_ids, prompts.attention_mask, prompts.end)[0]
    rows = torch.arange(len(prompts.end))
    patched = []
    for layer, head in heads:
        with replaced_head_outputs(lens, [[layer, head]], corrupted_z, prompts.end):
            hidden = final_hidden(lens, input_ids=prompts.clean_ids, attention_mask=prompts.attention_mask)
        patched.append(chosen_logits(lens, hidden[rows, prompts.end], prompts.read))
    return PatchedLogits(clean=chosen_logits(lens, clean_hidden, prompts.read), patched=torch.stack(patched))


def chosen_logits(lens: ModelLens, hidden: Tensor, tokens: Tensor) -> Tensor:
    """The logits of a few tokens per row from the unembedding's input: [rows, d_model], [rows, n] -> [rows, n].

    Reading only these rows of the unembedding is what keeps Gemma's 262k-token vocabulary cheap.
    """
    model = lens.model
    unembedding = model.get_output_embeddings()
    weight = unembedding.weight[tokens.to(unembedding.weight.device)]  # [rows, n, d_model]
    logits = torch.einsum("rm,rnm->rn", hidden.to(weight.device, weight.dtype), weight)  # [rows, n]
    if getattr(unembedding, "bias", None) is not None:
        logits = logits + unembedding.bias[tokens.to(unembedding.weight.device)]
    if cap := getattr(model.config, "final_logit_softcapping", None):  # Gemma's tanh cap on the logits
        logits = torch.tanh(logits / cap) * cap
    return logits.float().cpu()


def _run(
    lens: ModelLens, input_ids: Tensor, mask: Tensor, end: Tensor, cache: DynamicCache | None = None
) -> tuple[Tensor, Tensor]:
    """Step 1: every head's output at END, [layer, batch, head, d_head], and the unembedding's input, [batch, d_model].

    With `cache`, the pass also fills it with the prompts' keys and values for step 3.
    """
    rows = torch.arange(len(end))
    with _head_outputs_at(lens, end) as outputs:
        hidden = final_hidden(
            lens, input_ids=input_ids, attention_mask=mask, use_cache=cache is not None, **_with_cache(lens, cache)
        )  # [batch, pos, d_model]
    return torch.stack(outputs), hidden[rows, end].cpu()


def _with_cache(lens: ModelLens, cache: DynamicCache | None) -> dict[str, object]:
    """The keyword a forward pass takes its cache by: `cache` in recent transformers, else `past_key_values`."""
    if cache is None:
        return {}
    name = "cache" if "cache" in inspect.signature(lens.model.forward).parameters else "past_key_values"
    return {name: cache}


@contextmanager
def _head_outputs_at(lens: ModelLens, end: Tensor) -> Iterator[list[Tensor]]:
    """Yield a list that a forward pass fills with each layer's head outputs at END: [batch, head, d_head] each."""
    outputs: list[Tensor] = []
    rows = torch.arange(len(end))
    n_heads = lens.n_heads

    def keep(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        z = inputs[0][rows, end].detach().clone().cpu()  # [batch, head * d_head]
        outputs.append(z.reshape(len(rows), n_heads, -1))  # [batch, head, d_head]

    hooks: list[Hook] = [
        (projection(lens.model, layer, "output_projection"), "pre", keep) for layer in range(lens.n_layers)
    ]
    with lens.hooked(hooks, intervening=False):
        yield outputs


def _copies(prompts: PatchingPrompts, n_copies: int) -> Tensor:
    """[rows]: the prompt each row of a patched pass holds; row b * n_copies + j is prompt b with patch j."""
    return torch.arange(len(prompts.end)).repeat_interleave(n_copies)
