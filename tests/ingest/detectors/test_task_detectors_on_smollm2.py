"""Causal and task detectors on SmolLM2-135M-Instruct over seeds 0-4: task, best head, control, ablation.

Golden heads and scores were measured with this code on the bundled Q4_1
weights. A detector whose task SmolLM2 does at chance must say so rather than
report absent heads (the iteration head's parity task among them: its own test
runs on the toy model trained for it, in test_iteration_on_the_toy).
"""

import random

import pytest
import torch

from ingest.capture import capture
from ingest.detectors.base import PatternDetector
from ingest.detectors.ioi import ioi_probes
from ingest.detectors.multiple_choice import label_shares
from ingest.detectors.s_inhibition import N_RANDOM
from ingest.detectors.tasks import attention_from_answer, marked, task_accuracy
from ingest.interventions import Head
from ingest.lens import ModelLens
from ingest.path_patching import PatchingPrompts, activation_patching
from ingest.plugins import detectors
from ingest.verify import run_detector
from tests.ingest.test_path_patching import by_hand
from tests.utils.detectors import SEEDS, assert_control_fails, assert_golden, assert_verdict_as_before
from tests.utils.tiny_models import lens_of

pytestmark = pytest.mark.model

# detector -> (layer, head, mean, low, high) of its strongest head on SmolLM2 over seeds 0-4, with its 95% interval.
# Capital recall, acronyms and the OV readouts score the same material at every seed: they run one seed, and their
# intervals and tests resample the prompts (countries, names, word pairs) instead.
GOLDEN = {
    "name_mover": (23, 0, 0.282, 0.273, 0.293),
    "negative_name_mover": (24, 4, 0.256, 0.242, 0.271),
    "backup_name_mover": (24, 5, 0.056, 0.053, 0.058),
    "s_inhibition": (20, 0, 0.116, 0.103, 0.129),
    "function_vector": (20, 5, 0.117, 0.100, 0.133),
    "truthfulness": (19, 3, 0.937, 0.925, 0.946),
    "memory_head": (24, 4, 0.286, 0.263, 0.309),
    "context_head": (23, 1, 0.287, 0.272, 0.305),
    "letter_mover": (17, 4, 0.812, 0.719, 0.897),
    "subject_head": (23, 4, 0.203, 0.188, 0.216),
    "semantic_induction": (23, 2, 0.597, 0.484, 0.726),
    "mover_head": (23, 4, 0.935, 0.916, 0.950),
    "consistency": (19, 3, 0.993, 0.986, 1.000),
}
# Head types whose heads pass the per-head evidence but whose set, ablated together, does not move the task the way
# the type predicts beyond random sets: SmolLM2's name movers raise the logit difference when ablated.
NOT_CONFIRMED = {"name_mover", "backup_name_mover", "sentiment_summarizer"}
# Head types whose heads found are confirmed as a set.
CONFIRMED = {
    "negative_name_mover",
    "s_inhibition",
    "function_vector",
    "memory_head",
    "context_head",
    "letter_mover",
    "subject_head",
    "mover_head",
}
# detector -> (correct, total) of SmolLM2 on the detector's task over seeds 0-4 (seed 0 alone for fixed material).
TASKS = {
    "name_mover": (238, 240),
    "successor": (41, 44),
    "function_vector": (182, 240),
    "correct_letter": (51, 240),
    "sentiment_summarizer": (200, 200),
    "truthfulness": (145, 145),
    "memory_head": (145, 145),
    "negative_head": (60, 120),
    "letter_mover": (27, 28),
    "mover_head": (29, 29),
    "iteration": (262, 480),
    "accuracy": (141, 270),
    "consistency": (91, 145),
}
# Tested on SmolLM2 and found nowhere: the strongest head stays below this score.
# Copy suppression: no word lands among the 10 lowest of SmolLM2's 49,152 tokens for more than 24.1% of the words.
ABSENT = {
    "successor": 0.3,
    "relation_head": 0.05,
    "mixed_head": 0.05,
    "summary_reader": 0.05,
    "accuracy": 0.62,
    "copy_suppression": 0.25,
}
# S-inhibition shares of the logit difference: the detector's one-position passes and the whole-prompt re-run by
# hand sum float32 in other orders (they agree to ~1e-5); this leaves room for another machine's kernels.
PATH_ATOL = 1e-3
# Multiple-choice detectors: SmolLM2 answers at chance, so their scores are checked apart from any verdict.
MULTIPLE_CHOICE = ["correct_letter", "single_letter", "constant", "content_gatherer", "amplification"]
CHECKED = sorted(set(GOLDEN) | set(TASKS) | set(ABSENT) | set(MULTIPLE_CHOICE) | {"sentiment_summarizer"})


@pytest.fixture(scope="module")
def results(smollm2):  # type: ignore[no-untyped-def]
    return {name: run_detector(smollm2, detectors(entrypoints=False)[name], seed=0, n_seeds=SEEDS) for name in CHECKED}


def at_seed_0(result):  # type: ignore[no-untyped-def]
    """Seed 0's scores and measured parameters: the S-inhibition checks re-run that seed's prompts by hand."""
    params = result.params.get("by_seed", {}).get("0", result.params)
    return result.evidence.scores[0], result.evidence.baselines[0], params


def test_every_causal_and_task_detector_is_checked_here() -> None:
    others = {n for n, d in detectors(entrypoints=False).items() if not isinstance(d, PatternDetector)}
    assert others == set(CHECKED)


@pytest.mark.parametrize("name", CHECKED)
def test_verdict_is_the_one_recorded_before_the_engine_changed(results, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_verdict_as_before("smollm2", results[name])


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_accuracy_is_recorded(results, name: str) -> None:  # type: ignore[no-untyped-def]
    task = results[name].task
    assert (task.correct, task.total) == TASKS[name]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_best_head_matches_its_golden_score(results, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_golden(results[name], detectors(entrypoints=False)[name], GOLDEN[name])


@pytest.mark.parametrize("name", sorted(set(GOLDEN) - NOT_CONFIRMED))
def test_best_head_shows_the_behaviour_and_its_control_does_not(results, name: str) -> None:  # type: ignore[no-untyped-def]
    layer, head, *_ = GOLDEN[name]
    assert bool(results[name].shows_behaviour[layer, head])
    assert_control_fails(results[name], detectors(entrypoints=False)[name], layer, head)


@pytest.mark.parametrize("name", sorted(NOT_CONFIRMED))
def test_heads_that_ablation_does_not_confirm_are_kept_as_candidates_and_not_found(results, name: str) -> None:  # type: ignore[no-untyped-def]
    result = results[name]
    assert result.confirmation is not None and not result.confirmation.confirmed
    assert result.confirmation.heads and not result.shows_behaviour.any()


@pytest.mark.parametrize("name", sorted(CONFIRMED))
def test_heads_found_are_confirmed_by_ablating_them_together(results, name: str) -> None:  # type: ignore[no-untyped-def]
    confirmation = results[name].confirmation
    assert confirmation is not None and confirmation.confirmed


def random_low_scorers(result, count: int, *, seed: int) -> list[Head]:  # type: ignore[no-untyped-def]
    """`count` heads drawn at random from those scoring below the median: heads the detector sees no sign of."""
    scores = result.scores
    finite = scores[scores.isfinite()]
    low = [tuple(head) for head in (scores < finite.median()).nonzero().tolist()]
    return random.Random(seed).sample(low, count)


@pytest.mark.parametrize("name", sorted(CONFIRMED))
def test_ablating_as_many_random_low_scoring_heads_moves_the_task_less_than_the_heads_found(
    smollm2, results, name: str
) -> None:  # type: ignore[no-untyped-def]
    # Not "the decoys are not confirmed": at p <= 0.05 against 19 random sets, a random set is confirmed one time
    # in twenty by design (three low scorers for name movers, L2H8, L12H1 and L4H8, beat their 19 random sets on
    # this model). The decoys must move the metric less than the set found, in the direction the type predicts.
    detector, lens = detectors(entrypoints=False)[name], ModelLens(smollm2.model, smollm2.tokenizer)
    found = results[name].confirmation
    decoys = detector.confirm(lens, random_low_scorers(results[name], len(found.heads), seed=123), seed=0)
    sign = -1.0 if found.expected == "lowers" else 1.0
    assert sign * decoys.effect < sign * found.effect


@pytest.mark.parametrize("name", [*MULTIPLE_CHOICE, "negative_head", "iteration"])
def test_a_task_at_chance_gives_no_verdict(results, name: str) -> None:  # type: ignore[no-untyped-def]
    result = results[name]
    assert result.status == "not-verifiable"
    assert "at chance" in result.reason
    assert result.scores.isnan().all() and not result.shows_behaviour.any()


@pytest.mark.parametrize("name", sorted(ABSENT))
def test_a_head_type_tested_and_not_found_is_a_complete_run_without_heads(results, name: str) -> None:  # type: ignore[no-untyped-def]
    result = results[name]
    assert result.status == "complete"
    assert not result.shows_behaviour.any()
    assert float(result.scores.max()) < ABSENT[name]


def test_sentiment_summarizer_candidates_beat_the_neutral_word_control(results) -> None:  # type: ignore[no-untyped-def]
    result = results["sentiment_summarizer"]
    candidates = result.confirmation.heads
    assert candidates
    assert all(float(result.scores[h] - result.baselines[h]) >= 0.1 for h in candidates)


def test_ioi_is_at_chance_on_corrupted_prompts(smollm2) -> None:  # type: ignore[no-untyped-def]
    corrupted = ioi_probes(smollm2.tokenizer, seed=0).corrupted
    captured = capture(
        lens_of(smollm2.model), corrupted.input_ids, corrupted.attention_mask, answer_at=corrupted.answer_at
    )
    assert not task_accuracy(captured.logits, corrupted).verifiable


def _s_inhibition_prompts(smollm2) -> PatchingPrompts:  # type: ignore[no-untyped-def]
    """The seed-0 IOI prompts and their ABC twins, reading logit(IO) and logit(S)."""
    probes = ioi_probes(smollm2.tokenizer, seed=0)
    clean, corrupted = probes.clean, probes.corrupted
    return PatchingPrompts(
        clean.input_ids, corrupted.input_ids, clean.attention_mask, clean.answer_at, clean.candidates
    )


def _heads(names: list[str]) -> list[Head]:
    """Heads named as in run params: "L23H0" -> (23, 0)."""
    return [(int(layer), int(head)) for layer, head in (name[1:].split("H") for name in names)]


def _share_removed(patched: torch.Tensor, clean: torch.Tensor) -> float:
    """How much of the mean logit(IO) - logit(S) a patch removes: [batch, 2] logits each."""
    before, after = clean[:, 0] - clean[:, 1], patched[:, 0] - patched[:, 1]
    return float((before - after).mean() / before.mean())


def test_the_best_s_inhibition_score_is_wang_et_al_s_path_patching_run_by_hand(smollm2, results) -> None:  # type: ignore[no-untyped-def]
    layer, head, *_ = GOLDEN["s_inhibition"]
    scores, _, params = at_seed_0(results["s_inhibition"])
    prompts = _s_inhibition_prompts(smollm2)
    patched = by_hand(smollm2.model, "llama", prompts, (layer, head), _heads(params["receivers"]))
    with torch.no_grad():
        logits = smollm2.model(input_ids=prompts.clean_ids, attention_mask=prompts.attention_mask).logits
    clean = logits[torch.arange(len(prompts.end)), prompts.end].gather(1, prompts.read)  # [batch, 2]
    assert abs(_share_removed(patched, clean) - float(scores[layer, head])) < PATH_ATOL


def test_real_activation_patching_of_the_best_s_inhibition_head_lowers_the_logit_difference(smollm2, results) -> None:  # type: ignore[no-untyped-def]
    # Patching its whole output moves the answer through every path, the name movers' queries among them.
    layer, head, *_ = GOLDEN["s_inhibition"]
    scores, _, _ = at_seed_0(results["s_inhibition"])
    patched = activation_patching(lens_of(smollm2.model), _s_inhibition_prompts(smollm2), [(layer, head)])
    real = _share_removed(patched.patched[0], patched.clean)
    assert real >= float(scores[layer, head]) >= detectors(entrypoints=False)["s_inhibition"].threshold


def test_l23h3_a_copy_suppression_head_is_not_taken_for_an_s_inhibition_head(results) -> None:  # type: ignore[no-untyped-def]
    # Version 1 scored its first-order total minus direct effect at 0.19, where an audit measured its real indirect
    # effect at about -0.01. It sits in the name movers' layer, so no path reaches their queries from it.
    result = results["s_inhibition"]
    assert (23, 3) not in [(layer, head) for layer, head in result.shows_behaviour.nonzero().tolist()]
    assert at_seed_0(result)[0][23, 3].isnan()


def test_s_inhibition_senders_drawn_at_random_do_not_pass(results) -> None:  # type: ignore[no-untyped-def]
    # Path-patched beside the senders the first-order estimate ranks highest, to check what that ranking passed over.
    scores, baselines, params = at_seed_0(results["s_inhibition"])
    drawn = _heads(params["random_senders"])
    assert len(drawn) == N_RANDOM and params["random_senders_found"] == []
    for layer, head in drawn:
        assert (
            float(scores[layer, head] - baselines[layer, head]) < detectors(entrypoints=False)["s_inhibition"].threshold
        )


@pytest.mark.parametrize("name", MULTIPLE_CHOICE)
def test_multiple_choice_scores_are_finite_and_within_their_range(smollm2, name: str) -> None:  # type: ignore[no-untyped-def]
    detector = detectors(entrypoints=False)[name]
    lens = ModelLens(smollm2.model, smollm2.tokenizer)
    probe = detector.task_inputs(smollm2.tokenizer, seed=0)
    captured = lens.capture(probe.input_ids, probe.attention_mask, answer_at=probe.answer_at)
    scores, baselines = detector.score_heads(lens, captured, probe, seed=0)
    assert scores.shape == baselines.shape == (smollm2.facts.n_layers, smollm2.facts.n_heads)
    assert scores.isfinite().all() and baselines.isfinite().all()
    if name != "amplification":  # attention shares and evenness lie in [0, 1]
        assert float(scores.min()) >= 0.0 and float(scores.max()) <= 1.0 + 1e-6


def test_label_shares_of_a_head_add_up_to_one(smollm2) -> None:  # type: ignore[no-untyped-def]
    detector = detectors(entrypoints=False)["correct_letter"]
    lens = ModelLens(smollm2.model, smollm2.tokenizer)
    probe = detector.task_inputs(smollm2.tokenizer, seed=0)
    captured = lens.capture(probe.input_ids, probe.attention_mask, answer_at=probe.answer_at)
    shares = label_shares(captured, probe, probe.letters_at)  # [label, layer, head]
    on_labels = attention_from_answer(captured, probe, marked(probe, probe.letters_at))
    looking = on_labels > 0.01  # heads that look at the labels at all
    assert looking.sum() > 10
    assert torch.allclose(shares.sum(dim=0)[looking], torch.ones(int(looking.sum())), atol=1e-4)


def test_a_probe_verdict_needs_an_accuracy_that_guessing_rarely_reaches(results) -> None:  # type: ignore[no-untyped-def]
    # 108 sum statements: guessing gets 67 or more right with probability under 1%, so no head below that is found.
    accuracy = results["accuracy"]
    assert float(accuracy.baselines.min()) == pytest.approx(67 / 108)
