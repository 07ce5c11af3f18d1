"""Branching the answer token: k interventions in one pass give each intervention's own logits."""

import pytest
import torch

from ingest.branches import branched, mean_ablated_branches, metric_by_branch
from ingest.capture import final_hidden, logits_of
from ingest.families import FAMILIES
from ingest.interventions import replaced_head_outputs
from tests.utils.tiny_models import lens_of, tiny_model

HEAD_SETS = [[], [(1, 2)], [(0, 0), (1, 3)], [(0, 1), (0, 2), (1, 0)]]


def right_padded_prompts() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Three rows of 9, 6 and 7 tokens; the answers are read before the end of two of them."""
    input_ids = torch.randint(1, 64, (3, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 6:] = 0
    mask[2, 7:] = 0
    return input_ids, mask, torch.tensor([8, 3, 5])


def logits_per_set_one_pass_each(lens, input_ids, mask, answer_at, means) -> torch.Tensor:  # type: ignore[no-untyped-def]
    rows = torch.arange(len(answer_at))
    per_set = []
    for heads in HEAD_SETS:
        with replaced_head_outputs(lens, [list(head) for head in heads], means, answer_at):
            hidden = final_hidden(lens, input_ids=input_ids, attention_mask=mask, use_cache=False)
        per_set.append(logits_of(lens, hidden[rows, answer_at]))
    return torch.stack(per_set)  # [set, batch, vocab]


@pytest.mark.parametrize("model_type", sorted(FAMILIES))
def test_each_branch_gives_the_logits_of_a_pass_under_its_own_ablation(model_type: str) -> None:
    lens = lens_of(tiny_model(model_type))
    input_ids, mask, answer_at = right_padded_prompts()
    means = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(2))  # [layer, head, d_head]
    prompts = branched(input_ids, mask, answer_at, len(HEAD_SETS), dtype=lens.model.dtype)
    with mean_ablated_branches(lens, HEAD_SETS, means, prompts.first):
        together = metric_by_branch(lens, prompts, lambda logits: logits)  # [set, batch, vocab]
    separately = logits_per_set_one_pass_each(lens, input_ids, mask, answer_at, means)
    assert torch.allclose(together, separately, atol=1e-4)
    assert not torch.allclose(together[0], together[3], atol=1e-3)  # the ablations did change the answer


def test_a_copy_sees_the_prompt_before_its_answer_and_itself_only() -> None:
    input_ids, mask, answer_at = right_padded_prompts()
    prompts = branched(input_ids, mask, answer_at, 3, dtype=torch.float32)
    visible = prompts.attention_mask[:, 0] == 0  # [batch, query, key]
    first = prompts.first
    assert first == 8
    assert bool(visible[1, first + 2, :3].all()) and not bool(visible[1, first + 2, 3:first].any())
    assert visible[1, first + 2, first:].tolist() == [False, False, True]
    assert prompts.position_ids[1, first:].tolist() == [3, 3, 3]
    assert prompts.input_ids[1, first:].tolist() == [int(input_ids[1, 3])] * 3


def test_prompts_longer_than_a_sliding_window_are_refused() -> None:
    model = tiny_model("gemma3_text")
    model.config.sliding_window = 4
    input_ids, mask, answer_at = right_padded_prompts()
    prompts = branched(input_ids, mask, answer_at, 2, dtype=torch.float32)
    with pytest.raises(ValueError, match="sliding window of 4"):
        metric_by_branch(lens_of(model), prompts, lambda logits: logits)
