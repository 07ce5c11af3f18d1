"""How the catalog stores a prompt's attention: uint8 weights packed and unpacked whole, read per head as floats."""

import numpy as np
import pytest

from catalog.attention import LEVELS, StoredAttention, pack, unpack, unpack_head


def weights(n_layers: int = 2, n_heads: int = 3, n_tokens: int = 4) -> np.ndarray:
    """uint8 [layer, head, query, key], every head's weights different."""
    shape = (n_layers, n_heads, n_tokens, n_tokens)
    return np.random.default_rng(0).integers(0, LEVELS + 1, size=shape, dtype=np.uint8)


def stored(values: np.ndarray) -> StoredAttention:
    return StoredAttention(tokens=["t"] * values.shape[-1], start=0, prompt_length=values.shape[-1], weights=values)


def test_packed_weights_unpack_to_the_same_array() -> None:
    original = weights()
    assert np.array_equal(unpack(pack(original), 2, 3, 4), original)


def test_weights_packed_from_a_view_that_is_not_contiguous_unpack_in_the_views_order() -> None:
    view = weights(n_layers=3, n_heads=2).transpose(1, 0, 3, 2)  # [2, 3, 4, 4], not C-contiguous
    assert not view.flags.c_contiguous
    assert np.array_equal(unpack(pack(view), 2, 3, 4), view)


def test_packed_weights_are_compressed() -> None:
    zeros = np.zeros((4, 4, 32, 32), dtype=np.uint8)
    assert len(pack(zeros)) < zeros.nbytes / 10


def test_unpacking_into_a_shape_the_data_does_not_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        unpack(pack(weights()), 2, 3, 5)


def test_a_heads_weights_are_read_as_floats_in_steps_of_1_over_levels() -> None:
    values = np.zeros((1, 1, 2, 2), dtype=np.uint8)
    values[0, 0] = [[0, 51], [LEVELS, 1]]
    head = stored(values).of_head(0, 0)
    assert np.issubdtype(head.dtype, np.floating)
    assert np.allclose(head, [[0.0, 0.2], [1.0, 1 / LEVELS]])


def test_every_heads_weights_read_as_floats_lie_between_0_and_1() -> None:
    attention = stored(weights())
    for layer in range(2):
        for head in range(3):
            read = attention.of_head(layer, head)
            assert read.min() >= 0.0 and read.max() <= 1.0


def test_a_heads_weights_are_those_of_its_own_layer_and_head() -> None:
    values = weights()
    assert np.allclose(stored(values).of_head(1, 2) * LEVELS, values[1, 2])
    assert not np.allclose(stored(values).of_head(1, 2) * LEVELS, values[0, 2])


def test_one_head_unpacked_alone_equals_that_head_of_the_whole() -> None:
    values = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    whole = unpack(pack(values), 2, 3, 4)
    for layer, head in [(0, 0), (1, 2), (0, 2)]:
        assert np.array_equal(unpack_head(pack(values), 3, 4, layer, head) * LEVELS, whole[layer, head])
