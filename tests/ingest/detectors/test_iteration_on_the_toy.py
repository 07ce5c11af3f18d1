"""The survey's simplified-model method: a two-layer toy trained here on parity, and its iteration head."""

import pytest
import torch
from transformers import GPT2LMHeadModel

from ingest.model_loading import LoadedModel
from ingest.plugins import detectors
from ingest.toy_models import parity_accuracy
from ingest.verify import run_detector
from tests.utils.detectors import SEEDS, assert_control_fails

pytestmark = pytest.mark.model

ITERATION = detectors(entrypoints=False)["iteration"]


@pytest.fixture(scope="module")
def result(iteration_toy):  # type: ignore[no-untyped-def]
    return run_detector(iteration_toy, ITERATION, seed=0, n_seeds=SEEDS)


def test_the_toy_has_learned_parity(iteration_toy) -> None:  # type: ignore[no-untyped-def]
    assert parity_accuracy(iteration_toy.model, seed=1) > 0.99


def test_the_toy_is_catalogued_as_a_toy(iteration_toy) -> None:  # type: ignore[no-untyped-def]
    facts = iteration_toy.facts
    assert (facts.slug, facts.kind, facts.family) == ("toy-iteration", "toy", "gpt2")
    assert facts.name.startswith("Parity toy")
    assert (facts.n_layers, facts.n_heads) == (2, 1)


def test_the_toy_answers_nearly_every_parity_prompt(result) -> None:  # type: ignore[no-untyped-def]
    """Training sums floats in a machine-dependent order, so a fresh machine's toy may miss a prompt or two."""
    assert result.task.total == 96 * SEEDS
    assert result.task.correct >= 0.99 * result.task.total


def test_the_iteration_head_is_the_second_layer_head(result) -> None:  # type: ignore[no-untyped-def]
    assert result.shows_behaviour.tolist() == [[False], [True]]


def test_the_iteration_head_does_not_attend_to_other_input_bits(result) -> None:  # type: ignore[no-untyped-def]
    assert_control_fails(result, ITERATION, 1, 0)


def test_an_untrained_toy_does_parity_at_chance_and_gets_no_verdict(iteration_toy) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    untrained = GPT2LMHeadModel._from_config(iteration_toy.model.config, attn_implementation="eager").eval()
    loaded = LoadedModel(untrained, iteration_toy.tokenizer, iteration_toy.facts)
    outcome = run_detector(loaded, ITERATION, seed=0)
    assert outcome.status == "not-verifiable" and "at chance" in outcome.reason


@pytest.mark.parametrize("name", ["previous_token", "name_mover", "truthfulness"])
def test_language_detectors_say_they_do_not_apply_to_the_toy(iteration_toy, name: str) -> None:  # type: ignore[no-untyped-def]
    outcome = run_detector(iteration_toy, detectors(entrypoints=False)[name], seed=0)
    assert outcome.status == "not-applicable"
    assert "toy model trained only on parity" in outcome.reason
    assert outcome.scores.isnan().all()
