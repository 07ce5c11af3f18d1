"""Reading the stored attention back: every run's prompt for a model, and one head's weights as floats, run by run.

Runs are written by ingest.write_runs on hand-made models of 2 layers of 3 heads
(tests/utils/attention_runs.py), each test on a model of its own.
"""

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from catalog.attention import LEVELS, StoredAttention, attention_by_run
from catalog.errors import NotFoundError
from catalog.schemas import HeadAttentionPublic
from catalog.verification import get_head_attention
from tests.utils.attention_runs import N_HEADS, N_LAYERS, attention, write


def by_run(engine: Engine, model: str) -> dict[int, StoredAttention]:
    with Session(engine) as session:
        return attention_by_run(session, model)


def head_attention(engine: Engine, model: str, layer: int = 0, head: int = 0) -> list[HeadAttentionPublic]:
    with Session(engine) as session:
        return get_head_attention(session=session, model=model, layer=layer, head=head)


# --- attention_by_run ----------------------------------------------------------------


def test_each_run_reads_back_the_attention_it_stored(writable: Engine, model: str) -> None:
    kept = attention(6, start=10, prompt_length=16)
    run_id = write(writable, model, attention=kept)
    stored = by_run(writable, model)[run_id]
    assert (stored.tokens, stored.start, stored.prompt_length) == (kept.tokens, 10, 16)
    assert stored.weights.shape == (N_LAYERS, N_HEADS, 6, 6)
    assert np.array_equal(stored.weights, kept.weights)


def test_runs_sharing_a_prompt_share_one_stored_attention(writable: Engine, model: str) -> None:
    induction = write(writable, model, "induction", attention=attention(seed=1))
    duplicate = write(writable, model, "duplicate_token", attention=attention(seed=1))
    read = by_run(writable, model)
    assert read[induction] is read[duplicate]


def test_runs_on_different_prompts_read_their_own_attention(writable: Engine, model: str) -> None:
    induction = write(writable, model, "induction", attention=attention(seed=1))
    duplicate = write(writable, model, "duplicate_token", attention=attention(seed=2))
    read = by_run(writable, model)
    assert np.array_equal(read[induction].weights, attention(seed=1).weights)
    assert np.array_equal(read[duplicate].weights, attention(seed=2).weights)


def test_a_run_without_attention_is_left_out(writable: Engine, model: str) -> None:
    kept = write(writable, model, "induction", attention=attention(seed=1))
    write(writable, model, "duplicate_token", attention=None)
    assert set(by_run(writable, model)) == {kept}


def test_runs_of_another_model_are_left_out(writable: Engine, model: str) -> None:
    own = write(writable, model, attention=attention(seed=1))
    write(writable, f"{model}-other", attention=attention(seed=1))
    assert set(by_run(writable, model)) == {own}


# --- get_head_attention ----------------------------------------------------------------


def test_a_heads_attention_is_given_for_every_run_that_kept_one_in_run_order(writable: Engine, model: str) -> None:
    induction = write(writable, model, "induction", attention=attention(seed=1))
    duplicate = write(writable, model, "duplicate_token", attention=attention(seed=2))
    read = head_attention(writable, model)
    assert [(each.run_id, each.detector) for each in read] == [(induction, "induction"), (duplicate, "duplicate_token")]


def test_a_heads_attention_names_its_prompts_tokens_and_window(writable: Engine, model: str) -> None:
    kept = attention(6, start=10, prompt_length=16)
    write(writable, model, attention=kept)
    (read,) = head_attention(writable, model)
    assert (read.tokens, read.start, read.prompt_length) == (kept.tokens, 10, 16)


@pytest.mark.parametrize(("layer", "head"), [(0, 0), (1, 2)])
def test_a_heads_weights_are_its_stored_values_over_255(writable: Engine, model: str, layer: int, head: int) -> None:
    kept = attention(seed=1)
    write(writable, model, attention=kept)
    (read,) = head_attention(writable, model, layer, head)
    assert np.allclose(read.weights, kept.weights[layer, head] / LEVELS, atol=5e-5, rtol=0)
    assert not np.allclose(read.weights, kept.weights[1 - layer, head] / LEVELS, atol=5e-5, rtol=0)


def test_a_heads_weights_are_rounded_to_4_places(writable: Engine, model: str) -> None:
    kept = attention(seed=1)
    write(writable, model, attention=kept)
    (read,) = head_attention(writable, model)
    assert read.weights == [[round(value / LEVELS, 4) for value in row] for row in kept.weights[0, 0].tolist()]


def test_a_model_without_stored_attention_gives_no_entries(writable: Engine, model: str) -> None:
    write(writable, model, attention=None)
    assert head_attention(writable, model) == []


@pytest.mark.parametrize(("layer", "head", "field"), [(N_LAYERS, 0, "layer"), (0, N_HEADS, "head"), (-1, 0, "layer")])
def test_a_head_outside_the_model_is_refused_naming_the_index(
    writable: Engine, model: str, layer: int, head: int, field: str
) -> None:
    write(writable, model, attention=attention())
    with pytest.raises(NotFoundError) as refused:
        head_attention(writable, model, layer, head)
    assert refused.value.parameter == field


def test_an_unknown_model_is_not_found(writable: Engine) -> None:
    with pytest.raises(NotFoundError, match="no-such-model"):
        head_attention(writable, "no-such-model")
