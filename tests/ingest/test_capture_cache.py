"""Detectors probing the same inputs share one forward pass, and never a clean one under an intervention."""

import torch

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


def test_a_capture_with_predictions_serves_a_request_without() -> None:
    lens = tiny_lens()
    with_predictions = lens.capture(*inputs(0), with_predictions=True)
    assert lens.capture(*inputs(0)) is with_predictions


def test_a_capture_without_predictions_does_not_serve_one_with() -> None:
    lens = tiny_lens()
    lens.capture(*inputs(0))
    assert lens.capture(*inputs(0), with_predictions=True).predictions is not None


def test_a_capture_asked_for_values_keeps_the_predictions_already_captured() -> None:
    lens = tiny_lens()
    lens.capture(*inputs(0), with_predictions=True)
    both = lens.capture(*inputs(0), with_values=True)
    assert both.values is not None and both.predictions is not None


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
