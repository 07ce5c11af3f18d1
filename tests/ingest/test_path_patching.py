"""Path patching and the query hooks on tiny random models of every family, against re-runs written out by hand.

The by-hand reference runs Wang et al.'s three steps literally: whole
prompts, every head's output frozen at every position by its own hook, the
query slice of each family written out from the transformers source, and the
model's own logits. ingest.path_patching must agree with it although it runs
END alone, batches senders and stops passes early.
"""

from collections.abc import Callable

import pytest
import torch
from torch import Tensor
from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    GPTNeoXConfig,
    LlamaConfig,
    PreTrainedModel,
    Qwen2Config,
)
from transformers.models.gemma3 import Gemma3TextConfig

from ingest.capture import capture
from ingest.families import FAMILIES, attention_modules, family_of
from ingest.interventions import Head, recorded_queries, replaced_queries
from ingest.path_patching import PatchingPrompts, PathPatching, activation_patching, path_patching
from tests.utils.tiny_models import lens_of

# Three layers, so that receivers sit in two layers and a sender can share a layer with one of them; weights
# drawn wider than the default 0.02, so that one head's patch moves the logits well beyond ATOL.
SMALL = {
    "vocab_size": 64,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "hidden_size": 32,
    "initializer_range": 0.3,
}
CONFIGS = {
    "llama": LlamaConfig(**SMALL, intermediate_size=64, num_key_value_heads=2),
    "qwen2": Qwen2Config(**SMALL, intermediate_size=64, num_key_value_heads=2),
    "gemma3_text": Gemma3TextConfig(**SMALL, intermediate_size=64, num_key_value_heads=1, head_dim=8),
    "gpt2": GPT2Config(vocab_size=64, n_layer=3, n_head=4, n_embd=32, initializer_range=0.3),
    "gpt_neox": GPTNeoXConfig(**SMALL, intermediate_size=64),
}
# Head h's query columns in the query projection's output, read off each family's attention code in transformers:
# q_proj is per head; GPT-2's c_attn output splits into q | k | v, each per head; GPT-NeoX views its
# query_key_value output as [head, 3 * d_head] and chunks each head's part into q, k, v.
QUERY_SLICES: dict[str, Callable[[int, int], slice]] = {  # (head, d_head) -> columns
    "llama": lambda h, d: slice(h * d, (h + 1) * d),
    "qwen2": lambda h, d: slice(h * d, (h + 1) * d),
    "gemma3_text": lambda h, d: slice(h * d, (h + 1) * d),
    "gpt2": lambda h, d: slice(h * d, (h + 1) * d),
    "gpt_neox": lambda h, d: slice(3 * h * d, 3 * h * d + d),
}
# The tiny models' head width.
D_HEAD = 8
# float32 on three tiny layers: the one-position re-runs and the whole-prompt ones sum in other orders.
ATOL = 1e-4


def tiny(model_type: str) -> PreTrainedModel:
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(CONFIGS[model_type], attn_implementation="eager").eval()


def tiny_prompts(*, same: bool = False) -> PatchingPrompts:
    """Two rows, the second right-padded; the corrupted twin differs in every token (or is the clean one)."""
    generator = torch.Generator().manual_seed(1)
    clean = torch.randint(0, 64, (2, 7), generator=generator)
    corrupted = clean.clone() if same else torch.randint(0, 64, (2, 7), generator=generator)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    return PatchingPrompts(clean, corrupted, mask, end=torch.tensor([6, 4]), read=torch.tensor([[3, 5], [7, 2]]))


def test_every_family_with_hooks_has_a_query_slice() -> None:
    assert set(CONFIGS) == set(QUERY_SLICES) == set(FAMILIES)


def by_hand(
    model: PreTrainedModel, model_type: str, prompts: PatchingPrompts, sender: Head, receivers: list[Head]
) -> Tensor:
    """Wang et al.'s three steps on whole prompts: the read tokens' logits, one sender patched: [batch, n_tokens]."""
    projection, query = FAMILIES[model_type].output_projection, FAMILIES[model_type].query_projection
    modules = attention_modules(model)
    ids, mask, end = prompts.clean_ids, prompts.attention_mask, prompts.end
    rows = torch.arange(len(end))
    config = model.config
    d_head = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads

    def hooked(run_ids: Tensor, hooks: list[tuple[torch.nn.Module, str, object]]) -> Tensor:
        handles = [
            module.register_forward_pre_hook(fn) if kind == "pre" else module.register_forward_hook(fn)
            for module, kind, fn in hooks
        ]
        try:
            with torch.no_grad():
                logits = model(input_ids=run_ids, attention_mask=mask).logits  # [batch, pos, vocab]
        finally:
            for handle in handles:
                handle.remove()
        return logits[rows, end].gather(1, prompts.read)  # [batch, n_tokens]

    # Step 1: every head's output at every position, clean and corrupted.
    z: dict[str, list[Tensor]] = {"clean": [], "corrupted": []}
    for name, run_ids in (("clean", ids), ("corrupted", prompts.corrupted_ids)):
        hooked(
            run_ids,
            [(getattr(m, projection), "pre", lambda _m, a, name=name: z[name].append(a[0].clone())) for m in modules],
        )

    # Step 2: every head frozen to its clean output everywhere, the sender corrupted at END; receivers' queries kept.
    def freeze(layer: int):  # type: ignore[no-untyped-def]
        def hook(_m, _a):  # type: ignore[no-untyped-def]
            frozen = z["clean"][layer].clone()  # [batch, pos, head * d_head]
            if layer == sender[0]:
                columns = slice(sender[1] * d_head, (sender[1] + 1) * d_head)
                frozen[rows, end, columns] = z["corrupted"][layer][rows, end, columns]
            return (frozen,)

        return hook

    kept: dict[Head, Tensor] = {}

    def keep(layer: int):  # type: ignore[no-untyped-def]
        def hook(_m, _a, out):  # type: ignore[no-untyped-def]
            for r_layer, r_head in receivers:
                if r_layer == layer:
                    kept[(r_layer, r_head)] = out[rows, end, QUERY_SLICES[model_type](r_head, d_head)].clone()

        return hook

    hooked(
        ids,
        [(getattr(m, projection), "pre", freeze(layer)) for layer, m in enumerate(modules)]
        + [(getattr(m, query), "post", keep(layer)) for layer, m in enumerate(modules)],
    )

    # Step 3: only the receivers' queries at END replaced, everything else recomputed.
    def patch(layer: int):  # type: ignore[no-untyped-def]
        def hook(_m, _a, out):  # type: ignore[no-untyped-def]
            out = out.clone()
            for (r_layer, r_head), value in kept.items():
                if r_layer == layer:
                    out[rows, end, QUERY_SLICES[model_type](r_head, d_head)] = value
            return out

        return hook

    return hooked(ids, [(getattr(m, query), "post", patch(layer)) for layer, m in enumerate(modules)])


@pytest.mark.parametrize("rows_per_pass", [2, 64], ids=["one-sender-a-pass", "all-senders-in-one-pass"])
@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_path_patching_equals_wang_et_al_s_three_steps_run_by_hand(model_type: str, rows_per_pass: int) -> None:
    model = tiny(model_type)
    prompts = tiny_prompts()
    senders = [(0, 0), (0, 3), (1, 1)]
    receivers = [(1, 2), (2, 0), (2, 3)]  # (1, 1) cannot reach (1, 2): that receiver keeps its clean query
    result = path_patching(lens_of(model), prompts, senders, receivers, rows_per_pass=rows_per_pass)
    assert result.patched.shape == (3, 2, 2)
    for index, sender in enumerate(senders):
        expected = by_hand(model, model_type, prompts, sender, receivers)
        assert torch.allclose(result.patched[index], expected, atol=ATOL)
    assert float((result.patched - result.clean).abs().max()) > 100 * ATOL  # the patches moved the logits


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_a_sender_patched_with_its_own_clean_output_leaves_the_clean_logits(model_type: str) -> None:
    model = tiny(model_type)
    prompts = tiny_prompts(same=True)
    result = path_patching(lens_of(model), prompts, [(0, 1), (1, 0)], [(2, 1)])
    with torch.no_grad():
        logits = model(input_ids=prompts.clean_ids, attention_mask=prompts.attention_mask).logits
    expected = logits[torch.arange(2), prompts.end].gather(1, prompts.read)  # [batch, n_tokens]
    assert torch.allclose(result.clean, expected, atol=ATOL)
    assert torch.allclose(result.patched, expected.expand(2, -1, -1), atol=ATOL)


def test_a_sender_that_no_receiver_comes_after_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Senders \[\(2, 0\)\] are not in a layer before any receiver"):
        path_patching(lens_of(tiny("llama")), tiny_prompts(), [(0, 0), (2, 0)], [(1, 0), (2, 1)])


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_a_query_replaced_by_its_own_value_changes_nothing(model_type: str) -> None:
    model = tiny(model_type)
    prompts = tiny_prompts()
    heads = [(0, 1), (1, 3)]
    at = torch.tensor([3, 2])
    with recorded_queries(lens_of(model), heads, at) as queries:
        before = capture(lens_of(model), prompts.clean_ids, prompts.attention_mask).patterns
    with replaced_queries(lens_of(model), queries, at):
        after = capture(lens_of(model), prompts.clean_ids, prompts.attention_mask).patterns
    assert torch.equal(before, after)


@pytest.mark.parametrize("model_type", sorted(CONFIGS))
def test_a_replaced_query_changes_only_that_heads_attention_from_that_position(model_type: str) -> None:
    # A middle position: were the slice a key, the column of that position would change at every later query.
    model = tiny(model_type)
    prompts = tiny_prompts()
    layer, head, at = 1, 2, torch.tensor([3, 2])
    before = capture(lens_of(model), prompts.clean_ids, prompts.attention_mask).patterns  # [layer, batch, head, q, k]
    other = torch.randn(2, D_HEAD, generator=torch.Generator().manual_seed(2)) * 5
    with replaced_queries(lens_of(model), {(layer, head): other}, at):
        after = capture(lens_of(model), prompts.clean_ids, prompts.attention_mask).patterns
    changed = (after - before).abs()[: layer + 1] > 1e-6  # later layers read the changed output: not compared
    expected = torch.zeros_like(changed)
    expected[layer, torch.arange(2), head, at] = True  # that head's row of attention at that position
    expected &= before[: layer + 1] > 0  # keys outside the causal mask stay at zero
    assert torch.equal(changed, expected)


@pytest.mark.parametrize("model_type", ["llama", "gpt2"])
def test_activation_patching_patches_one_heads_output_at_the_end(model_type: str) -> None:
    model = tiny(model_type)
    prompts = tiny_prompts()
    layer, head = 1, 2
    projection = family_of(model).output_projection
    corrupted: list[Tensor] = []
    module = getattr(attention_modules(model)[layer], projection)
    handle = module.register_forward_pre_hook(lambda _m, a: corrupted.append(a[0].clone()))
    with torch.no_grad():
        model(input_ids=prompts.corrupted_ids, attention_mask=prompts.attention_mask)
    handle.remove()
    rows, columns = torch.arange(2), slice(head * D_HEAD, (head + 1) * D_HEAD)

    def patch(_m, a):  # type: ignore[no-untyped-def]
        z = a[0].clone()
        z[rows, prompts.end, columns] = corrupted[0][rows, prompts.end, columns]
        return (z,)

    handle = module.register_forward_pre_hook(patch)
    with torch.no_grad():
        logits = model(input_ids=prompts.clean_ids, attention_mask=prompts.attention_mask).logits
    handle.remove()
    expected = logits[rows, prompts.end].gather(1, prompts.read)
    assert torch.allclose(activation_patching(lens_of(model), prompts, [(layer, head)]).patched[0], expected, atol=ATOL)


@pytest.mark.parametrize("model_type", ["llama", "gpt_neox"])
def test_the_first_order_estimate_is_exact_path_patching_for_a_small_patch(model_type: str) -> None:
    model = tiny(model_type)
    patching = PathPatching(lens_of(model), tiny_prompts(), [(1, 2), (2, 0)])
    clean_z = patching.clean_z  # [layer, batch, head, d_head]
    patching.corrupted_z = clean_z + 1e-3 * torch.randn(clean_z.shape, generator=torch.Generator().manual_seed(3))
    senders = [(0, 0), (0, 3), (1, 1)]
    exact = patching.patched(senders)  # [sender, batch, n_tokens]
    exact_change = (exact[..., 0] - exact[..., 1]) - (patching.clean[:, 0] - patching.clean[:, 1])  # [sender, batch]
    estimate = patching.first_order(senders)
    assert float(exact_change.abs().max()) > 1e-4  # a change to compare, yet small enough to be linear
    assert torch.allclose(estimate, exact_change, atol=2e-2 * float(exact_change.abs().max()))
