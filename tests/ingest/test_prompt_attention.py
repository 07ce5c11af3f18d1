"""A prompt's attention as the head pages draw it, and the prompt each detector gives for it.

`prompt_attention` is pinned on tiny random models of every family against the
model's own eager attention, with a word-level tokenizer whose tokens decode as
words; the detectors' example prompts on the same tokenizer, and on the bundled
SmolLM2's where a probe needs real words.
"""

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from torch import Tensor
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from catalog.attention import LEVELS, unpack
from ingest.detectors.probes import bos_prefix, without_bos
from ingest.detectors.repeated_tokens import EXAMPLE_TOKENS
from ingest.plugins import get_detector
from ingest.prompt_attention import WINDOW, PromptAttention, prompt_attention
from tests.utils.tiny_models import TINY_CONFIGS, lens_of, tiny_model

FAMILIES = sorted(TINY_CONFIGS)
# "<s>" and "w0" to "w398": more words than the first ordinary token id (256), so random probes can be drawn.
WORDS = ["<s>"] + [f"w{i}" for i in range(399)]
SHORT, LONG = 20, 70


def word_tokenizer() -> PreTrainedTokenizerFast:
    """One token per word of WORDS, "<s>" the document start."""
    core = Tokenizer(models.WordLevel(vocab={word: i for i, word in enumerate(WORDS)}, unk_token="<s>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>")


TOKENIZER = word_tokenizer()


def prompt(length: int, *, seed: int = 0) -> Tensor:
    """[pos] seeded random word ids."""
    return torch.randint(1, len(WORDS), (length,), generator=torch.Generator().manual_seed(seed))


def model_of(family: str) -> PreTrainedModel:
    return tiny_model(family, len(WORDS))


def attention_of(model: PreTrainedModel, ids: Tensor) -> PromptAttention:
    return prompt_attention(lens_of(model, TOKENIZER), ids)


def eager_attention(model: PreTrainedModel, ids: Tensor) -> np.ndarray:
    """float [layer, head, query, key]: the model's own attention over the whole prompt."""
    with torch.no_grad():
        return torch.stack(model(ids[None], output_attentions=True).attentions)[:, 0].numpy()


def rounded(weights: np.ndarray) -> np.ndarray:
    return np.round(weights * LEVELS).astype(np.uint8)


# --- prompt_attention ------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_every_row_of_every_head_sums_to_one_within_the_rounding_on_a_short_prompt(family: str) -> None:
    weights = attention_of(model_of(family), prompt(SHORT)).weights
    sums = weights.astype(np.float64).sum(axis=-1) / LEVELS  # [layer, head, query]
    assert np.abs(sums - 1).max() <= SHORT / LEVELS / 2 + 1e-9


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("length", [SHORT, LONG])
def test_no_weight_lies_above_the_diagonal(family: str, length: int) -> None:
    weights = attention_of(model_of(family), prompt(length)).weights
    assert not np.triu(weights, k=1).any()


@pytest.mark.parametrize("family", FAMILIES)
def test_the_weights_are_the_models_own_eager_attention_rounded_to_steps_of_1_over_255(family: str) -> None:
    model, ids = model_of(family), prompt(SHORT)
    kept = attention_of(model, ids)
    assert kept.weights.dtype == np.uint8
    assert np.array_equal(kept.weights, rounded(eager_attention(model, ids)))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_short_prompt_is_kept_whole(family: str) -> None:
    kept = attention_of(model_of(family), prompt(SHORT))
    assert (kept.start, kept.prompt_length) == (0, SHORT)
    assert kept.weights.shape == (2, 4, SHORT, SHORT)
    assert kept.prompt_ids == tuple(prompt(SHORT).tolist())


@pytest.mark.parametrize("family", FAMILIES)
def test_a_long_prompt_keeps_only_its_last_48_tokens(family: str) -> None:
    kept = attention_of(model_of(family), prompt(LONG))
    assert WINDOW == 48
    assert (kept.start, kept.prompt_length) == (LONG - WINDOW, LONG) == (22, 70)
    assert kept.weights.shape == (2, 4, WINDOW, WINDOW)
    assert kept.prompt_ids == tuple(prompt(LONG).tolist())


@pytest.mark.parametrize("family", FAMILIES)
def test_a_long_prompts_weights_are_the_full_patterns_bottom_right_block(family: str) -> None:
    model, ids = model_of(family), prompt(LONG)
    full = eager_attention(model, ids)  # [layer, head, 70, 70]
    assert np.array_equal(attention_of(model, ids).weights, rounded(full[:, :, 22:, 22:]))


def test_the_tokens_kept_are_decoded_one_by_one() -> None:
    words = [f"w{i}" for i in range(LONG)]
    ids = torch.tensor(TOKENIZER.encode(" ".join(words), add_special_tokens=False))
    assert attention_of(model_of("llama"), ids).tokens == words[22:]


def test_the_packed_weights_unpack_to_the_weights() -> None:
    kept = attention_of(model_of("llama"), prompt(SHORT))
    assert np.array_equal(unpack(kept.packed(), 2, 4, SHORT), kept.weights)


def test_the_same_prompt_gives_the_same_digest() -> None:
    model = model_of("llama")
    assert attention_of(model, prompt(SHORT)).digest == attention_of(model, prompt(SHORT)).digest


@pytest.mark.parametrize("length", [SHORT, LONG])
def test_another_prompt_gives_another_digest(length: int) -> None:
    model = model_of("llama")
    assert attention_of(model, prompt(length, seed=0)).digest != attention_of(model, prompt(length, seed=1)).digest


def test_a_long_prompt_that_differs_only_before_the_window_gives_another_digest() -> None:
    model, ids = model_of("llama"), prompt(LONG)
    changed = ids.clone()
    changed[0] = ids[0] % (len(WORDS) - 1) + 1  # another word, same window
    one, other = attention_of(model, ids), attention_of(model, changed)
    assert not np.array_equal(one.weights, other.weights)
    assert one.digest != other.digest


# --- the detectors' example prompts -------------------------------------------------


@pytest.mark.parametrize("name", ["induction", "duplicate_token"])
def test_a_repeated_tokens_example_is_the_document_start_and_23_tokens_written_twice(name: str) -> None:
    example = get_detector(name).example_prompt(TOKENIZER, seed=0).tolist()
    prefix = bos_prefix(TOKENIZER)
    assert prefix == [WORDS.index("<s>")] and example[:1] == prefix
    first, second = example[1 : 1 + EXAMPLE_TOKENS], example[1 + EXAMPLE_TOKENS :]
    assert EXAMPLE_TOKENS == 23 and len(first) == 23 and first == second
    assert len(example) <= WINDOW


def test_without_the_document_start_the_induction_example_is_23_tokens_written_twice() -> None:
    with without_bos():
        example = get_detector("induction").example_prompt(TOKENIZER, seed=0).tolist()
    assert len(example) == 2 * EXAMPLE_TOKENS and example[:EXAMPLE_TOKENS] == example[EXAMPLE_TOKENS:]
    assert WORDS.index("<s>") not in example


def test_the_induction_example_is_seeded() -> None:
    induction = get_detector("induction")
    same = induction.example_prompt(TOKENIZER, seed=3), induction.example_prompt(TOKENIZER, seed=3)
    assert torch.equal(*same)
    assert not torch.equal(induction.example_prompt(TOKENIZER, seed=4), same[0])


def test_a_test_on_weights_only_has_no_example_prompt() -> None:
    assert get_detector("copy_suppression").example_prompt(TOKENIZER, seed=0) is None


@pytest.mark.model  # the probe's sentences need SmolLM2's tokenizer
def test_a_pattern_detectors_example_is_its_probes_first_prompt_without_padding(smollm2) -> None:  # type: ignore[no-untyped-def]
    detector = get_detector("positional")
    probe = detector.inputs(smollm2.tokenizer, seed=0)
    real = probe.attention_mask[0].bool()
    assert not real.all()  # the first prompt is padded: what is left out is the padding
    assert torch.equal(detector.example_prompt(smollm2.tokenizer, seed=0), probe.input_ids[0][real])


@pytest.mark.model  # the task's names and sentences need SmolLM2's tokenizer
@pytest.mark.parametrize("name", ["name_mover", "correct_letter"])
def test_a_task_detectors_example_ends_at_its_first_prompts_answer_and_holds_no_padding(smollm2, name: str) -> None:  # type: ignore[no-untyped-def]
    detector = get_detector(name)
    probe = detector.task_inputs(smollm2.tokenizer, seed=0)
    example = detector.example_prompt(smollm2.tokenizer, seed=0)
    answer_at = int(probe.answer_at[0])
    real_tokens = probe.input_ids[0][probe.attention_mask[0].bool()]
    assert int(example[-1]) == int(probe.input_ids[0, answer_at])
    assert len(example) == int(probe.attention_mask[0, : answer_at + 1].sum())
    assert torch.equal(example, real_tokens[: len(example)])
