"""A capture keeps the query rows and value vectors at the positions named, and refuses to read any other."""

import pytest
import torch

from ingest.capture import capture
from tests.utils.tiny_models import TINY_CONFIGS, lens_of, tiny_model

IDS = torch.randint(0, 64, (2, 7), generator=torch.Generator().manual_seed(0))
MASK = torch.ones_like(IDS)
QUERIES = torch.tensor([[6, 2], [4, 5]])  # [batch, 2]: each row's own query positions
SOURCES = torch.tensor([[0, 3], [1, 1]])  # [batch, 2]: each row's own source positions


@pytest.mark.parametrize("model_type", sorted(TINY_CONFIGS))
def test_the_rows_kept_are_the_whole_capture_at_those_positions(model_type: str) -> None:
    lens = lens_of(tiny_model(model_type))
    whole = capture(lens, IDS, MASK, values_at=torch.arange(7).expand(2, 7))
    kept = capture(lens, IDS, MASK, queries_at=QUERIES, values_at=SOURCES)
    for column in range(2):
        at = QUERIES[:, column]
        assert torch.allclose(kept.pattern_from(at), whole.pattern_from(at))
        assert torch.allclose(kept.outputs_at(at), whole.outputs_at(at))
        assert torch.allclose(kept.values_of(SOURCES[:, column]), whole.values_of(SOURCES[:, column]))


def test_a_capture_holds_only_the_positions_named() -> None:
    lens = lens_of(tiny_model("llama"))
    kept = capture(lens, IDS, MASK, queries_at=QUERIES, values_at=SOURCES[:, :1])
    layers, heads = lens.n_layers, lens.n_heads
    assert kept.patterns.shape == (layers, 2, heads, 2, 7)
    assert kept.head_outputs.shape[:4] == (layers, 2, 2, heads)
    assert kept.values is not None and kept.values.shape[:4] == (layers, 2, 1, heads)


def test_reading_a_query_position_that_was_not_kept_is_refused() -> None:
    kept = capture(lens_of(tiny_model("llama")), IDS, MASK, queries_at=QUERIES)
    with pytest.raises(ValueError, match="did not keep"):
        kept.outputs_at(torch.tensor([6, 3]))  # row 1 kept 4 and 5, not 3


def test_reading_values_at_a_source_that_was_not_kept_is_refused() -> None:
    kept = capture(lens_of(tiny_model("llama")), IDS, MASK, values_at=SOURCES)
    with pytest.raises(ValueError, match="did not keep"):
        kept.values_of(torch.tensor([0, 2]))


def test_reading_values_from_a_capture_without_them_is_refused() -> None:
    with pytest.raises(ValueError, match="values_at"):
        capture(lens_of(tiny_model("llama")), IDS, MASK).values_of(torch.tensor([0, 0]))
