"""Detectors probing the same inputs share one forward pass, and never a clean one under an intervention."""

import torch

from ingest.capture import Reading, capture, read_patterns
from ingest.interventions import replaced_head_outputs
from ingest.lens import ModelLens
from tests.utils.tiny_models import lens_of, tiny_model


def tiny_lens(size: int = 2) -> ModelLens:
    lens = lens_of(tiny_model("llama"))
    lens.captures.size = size
    return lens


def inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(0, 64, (2, 6), generator=torch.Generator().manual_seed(seed))
    return ids, torch.ones_like(ids)


def test_the_same_inputs_are_captured_once() -> None:
    lens = tiny_lens()
    first = lens.capture(*inputs(0))
    again = lens.capture(*inputs(0))
    assert again is first and lens.captures.hits == 1


def test_other_inputs_are_captured_anew() -> None:
    lens = tiny_lens()
    first = lens.capture(*inputs(0))
    assert lens.capture(*inputs(1)) is not first and lens.captures.hits == 0


def test_a_capture_with_values_serves_a_request_without() -> None:
    lens = tiny_lens()
    with_values = lens.capture(*inputs(0), values_at=torch.tensor([[1], [2]]))
    assert lens.capture(*inputs(0)) is with_values


def test_a_capture_without_values_does_not_serve_one_with() -> None:
    lens = tiny_lens()
    lens.capture(*inputs(0))
    assert lens.capture(*inputs(0), values_at=torch.tensor([[1], [2]])).values is not None


def test_a_capture_of_every_position_serves_a_request_for_some() -> None:
    lens = tiny_lens()
    whole = lens.capture(*inputs(0))
    assert lens.capture(*inputs(0), queries_at=torch.tensor([[5], [3]])) is whole


def test_a_capture_of_some_positions_does_not_serve_a_request_for_others() -> None:
    lens = tiny_lens()
    some = lens.capture(*inputs(0), queries_at=torch.tensor([[5], [3]]), values_at=torch.tensor([[1], [2]]))
    assert lens.capture(*inputs(0), queries_at=torch.tensor([[5, 4], [3, 3]])) is not some
    assert lens.capture(*inputs(0), values_at=torch.tensor([[0], [2]])) is not some


def test_only_the_latest_captures_are_kept() -> None:
    lens = tiny_lens(size=2)
    first = lens.capture(*inputs(0))
    lens.capture(*inputs(1))
    lens.capture(*inputs(2))
    assert lens.capture(*inputs(0)) is not first


def test_a_capture_under_an_intervention_is_neither_served_from_the_cache_nor_kept() -> None:
    lens = tiny_lens()
    clean = lens.capture(*inputs(0))
    with replaced_head_outputs(lens, [[0, 1]], torch.zeros(2, 4, 8), torch.tensor([5, 5])):
        ablated = lens.capture(*inputs(0))
    assert ablated is not clean and not torch.equal(ablated.head_outputs, clean.head_outputs)
    assert lens.capture(*inputs(0)) is clean


def reading(name: str, seed: int = 0, *, predict: bool = False) -> Reading:
    """A reading that keeps each layer's attention from every query to key 0: [batch, head, q_pos]."""
    ids, mask = inputs(seed)
    return Reading(name, ids, mask, lambda pattern: pattern[..., 0], predict_at=mask.bool() if predict else None)


def test_a_reading_keeps_of_each_layer_what_a_whole_capture_shows() -> None:
    lens = tiny_lens()
    read = read_patterns(lens, [reading("sink")])["sink"]
    assert torch.equal(read.layers, capture(lens, *inputs(0)).patterns[..., 0])


def test_predictions_are_made_only_where_a_reading_asks() -> None:
    lens = tiny_lens()
    asked = reading("asked", predict=True)
    asked = Reading(
        "asked", asked.input_ids, asked.attention_mask, asked.read, torch.tensor([[1, 0, 0, 0, 0, 1]] * 2).bool()
    )
    predictions = read_patterns(lens, [asked])["asked"].predictions
    logits = lens.model(input_ids=asked.input_ids).logits.argmax(-1)  # [batch, pos]
    assert predictions is not None and (predictions[:, 1:5] == -1).all()
    assert torch.equal(predictions[:, [0, 5]], logits[:, [0, 5]])


def test_readings_planned_on_the_same_inputs_share_one_pass() -> None:
    lens = tiny_lens()
    lens.plan([reading("a"), reading("b"), reading("other", seed=1)])
    lens.read(reading("a"))
    assert lens.reads.planned.keys() == {reading("other", seed=1).inputs_key}
    lens.read(reading("b"))
    assert lens.reads.hits == 1


def test_a_reading_under_an_intervention_is_neither_served_from_the_plan_nor_kept() -> None:
    lens = tiny_lens()
    clean = lens.read(reading("a"))
    with replaced_head_outputs(lens, [[0, 1]], torch.zeros(2, 4, 8), torch.tensor([5, 5])):
        ablated = lens.read(reading("a"))
    assert ablated is not clean and lens.read(reading("a")) is clean
