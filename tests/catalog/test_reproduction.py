"""The comparison of a published list with our runs, on hand-built numbers."""

import pytest

from catalog.head_list_formats import ListedHead
from catalog.reproduction import TOP_K, Shape, list_profile, spearman, top_heads


def test_spearman_is_one_for_the_same_order_and_minus_one_for_the_reverse() -> None:
    assert spearman([0.1, 0.5, 0.9, 2.0], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert spearman([0.1, 0.5, 0.9, 2.0], [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_spearman_gives_tied_values_their_average_rank() -> None:
    # ranks [1.5, 1.5, 3] against [1, 2, 3]: covariance 1.5, spreads 1.5 and 2 -> 1.5 / sqrt(3)
    assert spearman([0.0, 0.0, 1.0], [1, 2, 3]) == pytest.approx(1.5 / 3**0.5)


def test_spearman_needs_three_pairs_and_some_spread() -> None:
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_the_heads_compared_are_the_top_scores_or_the_first_listed() -> None:
    scored = [ListedHead(0, i, float(i)) for i in range(TOP_K + 5)]
    assert [h.head for h in top_heads(scored)] == list(range(TOP_K + 4, 4, -1))
    unscored = [ListedHead(0, i) for i in range(TOP_K + 5)]
    assert top_heads(unscored) == unscored[:TOP_K]


def test_a_source_that_counts_heads_above_a_cut_has_exactly_those_compared() -> None:
    gates = [ListedHead(0, 0, 1.0), ListedHead(0, 1, 0.5), ListedHead(1, 0, 0.7), ListedHead(1, 1, 0.0)]
    assert top_heads(gates, counted_above=0.5) == [ListedHead(0, 0, 1.0), ListedHead(1, 0, 0.7)]


def test_a_profile_gives_relative_depths_share_and_score_quartiles() -> None:
    heads = [ListedHead(0, 0, 0.0), ListedHead(2, 1, 0.5), ListedHead(4, 0, 1.0)]
    profile = list_profile(heads, heads[1:], Shape(n_layers=5, n_heads=2, n_kv_heads=1))
    assert profile.heads == 2 and profile.share == pytest.approx(0.2)
    assert profile.depth_quartiles == [0.5, 0.625, 0.75, 0.875, 1.0]
    assert profile.score_quartiles == [0.0, 0.25, 0.5, 0.75, 1.0]
