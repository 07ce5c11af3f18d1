"""Multiple-choice and yes/no prompts: asked in the chat template when the tokenizer has one, positions still right.

The detectors score attention from the answer position onto marked tokens
(labels, option texts, the words "Yes" and "No"), so every marked position
must hold its token, in the chat frame and without one.
"""

import copy

import pytest

from ingest.detectors.multiple_choice import LETTERS, N_QUESTIONS, mcq_prompts
from ingest.detectors.negative_head import yes_no_prompts
from ingest.detectors.probes import bos_prefix
from ingest.detectors.task_texts import task_texts
from ingest.lens import ModelLens
from ingest.plugins import detectors

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def plain_tokenizer(smollm2):  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer without its chat template, as a base model's would be."""
    tokenizer = copy.deepcopy(smollm2.tokenizer)
    tokenizer.chat_template = None
    return tokenizer


def user_turn(tokenizer, content: str) -> str:  # type: ignore[no-untyped-def]
    """The chat template around one user message, up to the assistant's turn, after the document start."""
    chat = [{"role": "user", "content": content}]
    return "<|endoftext|>" + tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)


def real_text(tokenizer, probe, row: int) -> str:  # type: ignore[no-untyped-def]
    return tokenizer.decode(probe.input_ids[row, : int(probe.attention_mask[row].sum())])


def test_a_multiple_choice_question_is_the_users_message_and_answer_opens_the_reply(smollm2) -> None:  # type: ignore[no-untyped-def]
    probe = mcq_prompts(smollm2.tokenizer, seed=0)
    for row in range(N_QUESTIONS):
        text = real_text(smollm2.tokenizer, probe, row)
        question = text.split("user\n", 1)[1].split("<|im_end|>", 1)[0]
        assert text == user_turn(smollm2.tokenizer, question) + "Answer:"
        assert question.startswith("Which of these is a ") and question.count("\n") == 4


@pytest.mark.parametrize("framed", ["chat", "plain"])
def test_multiple_choice_marks_hold_the_letters_and_the_options(smollm2, plain_tokenizer, framed: str) -> None:  # type: ignore[no-untyped-def]
    tokenizer = smollm2.tokenizer if framed == "chat" else plain_tokenizer
    probe = mcq_prompts(tokenizer, seed=0)
    for row in range(N_QUESTIONS):
        ids = probe.input_ids[row]
        assert [tokenizer.decode(ids[at]) for at in probe.letters_at[row]] == list(LETTERS)
        right = LETTERS.index(tokenizer.decode(probe.candidates[row, 0]).strip())
        assert int(probe.labels_at[row, 0]) == int(probe.letters_at[row, right])
        text = real_text(tokenizer, probe, row)
        option = tokenizer.decode(ids[probe.content_at[row, 0]])
        assert f"\n{LETTERS[right]}.{option}" in text
        assert int(probe.answer_at[row]) == int(probe.attention_mask[row].sum()) - 1
        assert tokenizer.decode(ids[: probe.answer_at[row] + 1]).endswith("Answer:")


def test_without_a_chat_template_the_options_are_followed_by_answer_on_a_new_line(plain_tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = real_text(plain_tokenizer, mcq_prompts(plain_tokenizer, seed=0), 0)
    start = plain_tokenizer.decode(bos_prefix(plain_tokenizer))
    assert text.startswith(start + "Which of these is a ") and text.endswith("\nAnswer:")
    assert "user" not in text and "assistant" not in text


def test_a_yes_no_question_is_the_users_message_and_answer_opens_the_reply(smollm2) -> None:  # type: ignore[no-untyped-def]
    probe = yes_no_prompts(smollm2.tokenizer)
    before, _ = task_texts().yes_no.template.split("{QUESTION}")
    for row, (question, _) in enumerate(task_texts().yes_no.questions):
        assert real_text(smollm2.tokenizer, probe, row) == user_turn(smollm2.tokenizer, before + question) + "Answer:"


@pytest.mark.parametrize("framed", ["chat", "plain"])
def test_yes_no_marks_hold_the_instruction_words(smollm2, plain_tokenizer, framed: str) -> None:  # type: ignore[no-untyped-def]
    tokenizer = smollm2.tokenizer if framed == "chat" else plain_tokenizer
    probe = yes_no_prompts(tokenizer)
    for row in range(len(probe.answer_at)):
        ids = probe.input_ids[row]
        marks = (probe.yes_at, probe.no_at, probe.answer_word_at, probe.with_at)
        assert [tokenizer.decode(ids[at[row]]).strip() for at in marks] == ["Yes", "No", "Answer", "with"]
        assert tokenizer.decode(ids[: probe.answer_at[row] + 1]).endswith("Answer:")
    marked = int(probe.answer_word_at[0])
    assert tokenizer.decode(probe.input_ids[0, marked : marked + 4]) == "Answer with Yes or"  # the instruction's


@pytest.mark.parametrize("name", ["correct_letter", "negative_head"])
def test_a_run_records_that_the_chat_template_was_used(smollm2, name: str) -> None:  # type: ignore[no-untyped-def]
    measured = detectors(entrypoints=False)[name].measure(ModelLens(smollm2.model, smollm2.tokenizer), seed=0)
    assert measured.params["chat_template"] is True
