"""IOI prompts: every template in both name orders, equally often, and the names where the probe says they are."""

from collections import Counter

import pytest

from ingest.detectors.ioi import N_PROMPTS, ioi_probes, prompt_plan
from ingest.detectors.task_texts import task_texts


def test_every_template_appears_as_often_in_abba_as_in_baba() -> None:
    plan = prompt_plan(N_PROMPTS, len(task_texts().ioi.templates))
    counts = Counter(plan)
    for template in range(len(task_texts().ioi.templates)):
        assert counts[(template, True)] == counts[(template, False)] > 0


def test_the_probe_size_gives_every_template_and_order_the_same_number_of_prompts() -> None:
    n_templates = len(task_texts().ioi.templates)
    assert N_PROMPTS % (2 * n_templates) == 0
    assert set(Counter(prompt_plan(N_PROMPTS, n_templates)).values()) == {N_PROMPTS // (2 * n_templates)}


def test_an_odd_number_of_prompts_is_refused() -> None:
    with pytest.raises(ValueError, match="7 is odd"):
        prompt_plan(7, 2)


@pytest.mark.model
def test_half_the_prompts_name_the_indirect_object_first(smollm2) -> None:  # type: ignore[no-untyped-def]
    clean = ioi_probes(smollm2.tokenizer, seed=0).clean
    io_first = clean.io_at < clean.s1_at  # [batch]
    assert int(io_first.sum()) == N_PROMPTS // 2
    assert io_first[0::2].all() and not io_first[1::2].any()  # pairs of one template, ABBA then BABA


@pytest.mark.model
def test_the_marked_positions_hold_the_names(smollm2) -> None:  # type: ignore[no-untyped-def]
    clean = ioi_probes(smollm2.tokenizer, seed=0).clean
    for row, (io, s) in enumerate(clean.candidates.tolist()):
        ids = clean.input_ids[row]
        assert int(ids[clean.io_at[row]]) == io
        assert int(ids[clean.s1_at[row]]) == s == int(ids[clean.s2_at[row]])


@pytest.mark.model
def test_each_pair_of_prompts_swaps_which_name_is_repeated(smollm2) -> None:  # type: ignore[no-untyped-def]
    clean = ioi_probes(smollm2.tokenizer, seed=0).clean
    abba, baba = clean.candidates[0::2], clean.candidates[1::2]  # [pairs, 2]: IO, S
    assert abba.flip(1).tolist() == baba.tolist()  # a name pair in both roles: no name prior passes for the task
    for row in range(0, len(clean.answer_at), 2):  # the same words up to the repeated name, which differs
        s2 = int(clean.s2_at[row])
        assert clean.input_ids[row, :s2].tolist() == clean.input_ids[row + 1, :s2].tolist()
        assert int(clean.input_ids[row, s2]) != int(clean.input_ids[row + 1, s2])
