"""Rank tests on OV circuits (ingest.circuits), on hand-built matrices: copy scores and their chunked vocabulary."""

import pytest
import torch

from ingest import circuits
from ingest.circuits import extremes_among_logits

# A hand-built model: 40 tokens whose unembedding directions are random in 16 dimensions, one head with d_head = 16.
VOCAB, D_MODEL = 40, 16
UNEMBEDDING = torch.randn(VOCAB, D_MODEL, generator=torch.Generator().manual_seed(0))  # [vocab, d_model]
TOKENS = torch.arange(VOCAB)[:, None]  # [n, 1]: each token asked about itself
IDENTITY = torch.eye(D_MODEL)[None]  # [head, d_head, d_model]


def test_an_ov_circuit_that_copies_puts_every_token_among_its_top_5() -> None:
    # The value of a token is its own unembedding direction: the readout is U_t . U_v, largest at v = t.
    values = UNEMBEDDING[None]  # [head, n, d_head]
    inside = extremes_among_logits(values, IDENTITY, UNEMBEDDING, TOKENS, k=5)["highest"]
    assert inside.all()


def test_a_negated_copying_circuit_has_a_negative_copy_score_of_one_and_a_copy_score_of_zero() -> None:
    values = UNEMBEDDING[None]  # [head, n, d_head]
    inside = extremes_among_logits(values, -IDENTITY, UNEMBEDDING, TOKENS, k=5, sides=("highest", "lowest"))
    assert inside["lowest"].all() and not inside["highest"].any()


def test_a_token_with_k_logits_above_it_is_outside_the_top_k() -> None:
    # With an identity unembedding the logits are the values themselves.
    logits = torch.tensor([[9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0]])  # [n, vocab]: token 5 has five tokens above it
    eye = torch.eye(7)
    asked = torch.tensor([[5]])
    assert not extremes_among_logits(logits[None], eye[None], eye, asked, k=5)["highest"].any()
    assert extremes_among_logits(logits[None], eye[None], eye, asked, k=6)["highest"].all()


@pytest.mark.parametrize("budget", [1, 7, 10_000])
@pytest.mark.parametrize("d_head", [2, 8])  # heads read through d_head first, or through their outputs
@pytest.mark.parametrize("prefilter", [3, 1024])  # rows first ranked among a few tokens, or the whole vocabulary
def test_the_rank_test_agrees_with_a_full_sort_however_the_vocabulary_is_read(
    budget: int, d_head: int, prefilter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(circuits, "PREFILTER", prefilter)
    generator = torch.Generator().manual_seed(1)
    values = torch.randn(3, 12, d_head, generator=generator)  # [head, n, d_head]
    w_o = torch.randn(3, d_head, D_MODEL, generator=generator)  # [head, d_head, d_model]
    columns = torch.randint(VOCAB, (12, 2), generator=generator)  # [n, 2]
    logits = values @ w_o @ UNEMBEDDING.T  # [head, n, vocab]
    asked = logits.gather(-1, columns.expand(3, -1, -1))  # [head, n, 2]
    above = (logits[..., None, :] > asked[..., None]).sum(-1)  # [head, n, 2]: tokens with a higher logit
    below = (logits[..., None, :] < asked[..., None]).sum(-1)
    inside = extremes_among_logits(values, w_o, UNEMBEDDING, columns, k=5, sides=("highest", "lowest"), budget=budget)
    assert torch.equal(inside["highest"], above < 5)
    assert torch.equal(inside["lowest"], below < 5)


def test_k_beyond_the_vocabulary_is_rejected() -> None:
    with pytest.raises(ValueError, match="k=41"):
        extremes_among_logits(UNEMBEDDING[None], IDENTITY, UNEMBEDDING, TOKENS, k=41)
