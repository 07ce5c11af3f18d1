"""A run's prompt attention is stored once per prompt and model, shared by the runs that probe it, never left unused.

Every test writes to a model of its own in one catalog per backend (holding the
shipped knowledge), so that what it reads back is its own.
"""

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from catalog import models as m
from catalog.attention import unpack
from tests.utils.attention_runs import N_HEADS, N_LAYERS, attention, write


def examples_of(engine: Engine, model: str) -> list[m.AttentionExample]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(m.AttentionExample)
                .join(m.Model, m.Model.id == m.AttentionExample.model_id)
                .where(m.Model.slug == model)
                .order_by(m.AttentionExample.id)
            )
        )


def example_of_run(engine: Engine, run_id: int) -> int | None:
    with Session(engine) as session:
        link = select(m.RunAttention.attention_example_id).where(m.RunAttention.run_id == run_id)
        return session.exec(link).first()


def examples_in_use(engine: Engine, model: str) -> set[int]:
    with Session(engine) as session:
        used = session.exec(
            select(m.RunAttention.attention_example_id)
            .join(m.Run, m.Run.id == m.RunAttention.run_id)
            .join(m.Model, m.Model.id == m.Run.model_id)
            .where(m.Model.slug == model)
        ).all()
    return set(used)


def test_a_runs_attention_is_stored_with_its_tokens_window_and_weights(writable: Engine, model: str) -> None:
    kept = attention(6, start=10, prompt_length=16)
    run_id = write(writable, model, attention=kept)
    (example,) = examples_of(writable, model)
    assert example_of_run(writable, run_id) == example.id
    assert (example.digest, example.tokens, example.start, example.prompt_length) == (kept.digest, kept.tokens, 10, 16)
    assert np.array_equal(unpack(example.weights, N_LAYERS, N_HEADS, 6), kept.weights)


def test_two_runs_whose_prompts_have_the_same_digest_share_one_example(writable: Engine, model: str) -> None:
    induction = write(writable, model, "induction", attention=attention(seed=1))
    duplicate = write(writable, model, "duplicate_token", attention=attention(seed=1))
    (example,) = examples_of(writable, model)
    assert example_of_run(writable, induction) == example_of_run(writable, duplicate) == example.id


def test_runs_on_different_prompts_store_an_example_each(writable: Engine, model: str) -> None:
    induction = write(writable, model, "induction", attention=attention(seed=1))
    duplicate = write(writable, model, "duplicate_token", attention=attention(seed=2))
    assert len(examples_of(writable, model)) == 2
    assert example_of_run(writable, induction) != example_of_run(writable, duplicate)


def test_the_same_prompt_on_two_models_is_stored_once_for_each(writable: Engine, model: str) -> None:
    write(writable, model, attention=attention(seed=1))
    write(writable, f"{model}-other", attention=attention(seed=1))
    assert len(examples_of(writable, model)) == len(examples_of(writable, f"{model}-other")) == 1


def test_a_run_replaced_with_another_prompt_leaves_no_example_that_no_run_uses(writable: Engine, model: str) -> None:
    write(writable, model, seed=0, attention=attention(seed=1))
    replacing = write(writable, model, seed=0, attention=attention(seed=2))
    (example,) = examples_of(writable, model)
    assert example.digest == attention(seed=2).digest
    assert examples_in_use(writable, model) == {example.id} == {example_of_run(writable, replacing)}


def test_a_run_replaced_without_attention_leaves_no_example_behind(writable: Engine, model: str) -> None:
    write(writable, model, seed=0, attention=attention(seed=1))
    write(writable, model, seed=0, attention=None)
    assert examples_of(writable, model) == []


def test_a_run_replaced_keeps_the_example_another_run_still_uses(writable: Engine, model: str) -> None:
    shared = attention(seed=1)
    write(writable, model, "induction", attention=shared)
    duplicate = write(writable, model, "duplicate_token", attention=shared)
    write(writable, model, "induction", attention=attention(seed=2))
    digests = {example.digest for example in examples_of(writable, model)}
    assert digests == {shared.digest, attention(seed=2).digest}
    assert example_of_run(writable, duplicate) in examples_in_use(writable, model)


def test_a_run_written_again_with_the_same_prompt_keeps_one_example(writable: Engine, model: str) -> None:
    write(writable, model, seed=0, attention=attention(seed=1))
    again = write(writable, model, seed=0, attention=attention(seed=1))
    (example,) = examples_of(writable, model)
    assert example_of_run(writable, again) == example.id


def test_a_run_of_another_seed_keeps_its_own_example(writable: Engine, model: str) -> None:
    first = write(writable, model, seed=0, attention=attention(seed=1))
    write(writable, model, seed=7, attention=attention(seed=2))
    assert example_of_run(writable, first) in {example.id for example in examples_of(writable, model)}
    assert len(examples_of(writable, model)) == 2


def test_a_run_without_attention_stores_null(writable: Engine, model: str) -> None:
    run_id = write(writable, model, attention=None)
    assert example_of_run(writable, run_id) is None
    assert examples_of(writable, model) == []
