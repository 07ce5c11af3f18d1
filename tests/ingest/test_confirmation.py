"""Causal confirmation on a hand-built metric: the found set must move it the predicted way, beyond random sets."""

import torch

from ingest.confirmation import RANDOM_SETS, confirm_by_ablation, random_sets_like

SHAPE = (4, 6)  # layers, heads


def metric_lowered_by(weights: dict[tuple[int, int], float]):  # type: ignore[no-untyped-def]
    """A metric over 32 prompts that each ablated head lowers by its weight."""
    base = torch.linspace(2.0, 3.0, 32)

    def metric(sets: list[list[tuple[int, int]]]) -> torch.Tensor:
        return torch.stack([base - sum(weights.get(head, 0.01) for head in ablated) for ablated in sets])

    return metric


def test_a_set_that_carries_the_answer_is_confirmed() -> None:
    heads = [(2, 1), (3, 0)]
    result = confirm_by_ablation(
        heads, metric_lowered_by({h: 1.0 for h in heads}), expected="lowers", metric="m", shape=SHAPE, seed=0
    )
    assert result.confirmed
    assert result.effect < 0 and result.p_value == 1 / (RANDOM_SETS + 1)


def test_a_set_that_raises_the_metric_is_not_confirmed_as_lowering_it() -> None:
    heads = [(2, 1)]
    result = confirm_by_ablation(
        heads, metric_lowered_by({(2, 1): -1.0}), expected="lowers", metric="m", shape=SHAPE, seed=0
    )
    assert not result.confirmed


def test_a_random_set_of_the_same_size_does_not_confirm() -> None:
    """Every head lowers the metric alike: the found set is no different from random ones."""
    result = confirm_by_ablation(
        [(1, 2), (2, 3)], metric_lowered_by({}), expected="lowers", metric="m", shape=SHAPE, seed=0
    )
    assert not result.confirmed


def test_random_sets_keep_the_layers_and_leave_the_found_heads_out() -> None:
    heads = [(1, 0), (3, 5)]
    for drawn in random_sets_like(heads, SHAPE, seed=0):
        assert sorted(layer for layer, _ in drawn) == [1, 3]
        assert not set(drawn) & set(heads)


def test_random_sets_move_to_the_nearest_layer_when_one_is_full() -> None:
    heads = [(0, h) for h in range(6)]  # layer 0 has no head left
    for drawn in random_sets_like(heads, SHAPE, seed=1, count=3):
        assert {layer for layer, _ in drawn} == {1}
