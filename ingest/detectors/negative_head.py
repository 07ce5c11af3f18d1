"""Negative heads (Yu et al. 2024): on yes/no questions, heads that attend to "No" far more than to "Yes".

Yu et al. (Section 3) trace the negative bias of models on binary decisions to
a few heads and find them with a negative attention score (NAS): from the
answer position, the attention a head pays to the two option words of the
instruction ("Answer with Yes or No"), weighted by how lopsided it is towards
"No": (a_yes + a_no) * log(a_no / a_yes), averaged over questions. The task
check asks the model to answer the questions (chance: 50%). Which one should
you use? This one finds heads that lean the answer towards "No" whatever the
question.
"""

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.capture import Captured
from ingest.detectors.base import Detector, Measurement
from ingest.detectors.probes import chat_frame, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, attention_from_answer, marked, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

EPSILON = 1e-4  # keeps the log ratio finite where a head ignores a word


def yes_no_prompts(tokenizer) -> "YesNoProbe":  # type: ignore[no-untyped-def]
    """Questions whose instruction names the options, and where the words "Yes", "No", "Answer" and "with" stand.

    The template's text after {QUESTION} is the answer prefix (" Answer:"). With
    a chat template the instruction and question are the user's message and the
    prefix opens the assistant's turn; without one the prefix follows the question.
    """
    texts = task_texts().yes_no
    before, after = texts.template.split("{QUESTION}")
    frame = chat_frame(tokenizer)
    instruction = tokenizer.encode(before, add_special_tokens=False)
    marks = [len(frame.before) + _first(instruction, tokenizer, word) for word in ("Yes", "No", "Answer", "with")]
    head = frame.before + instruction
    answer = frame.after + tokenizer.encode(after.lstrip(), add_special_tokens=False)
    yes, no = token_id(tokenizer, " Yes"), token_id(tokenizer, " No")
    rows, candidates = [], []
    for question, truth in texts.questions:
        if frame.templated:
            rows.append(head + tokenizer.encode(question, add_special_tokens=False) + answer)
        else:
            rows.append(head + tokenizer.encode(question + after, add_special_tokens=False))
        candidates.append([yes, no] if truth == "Yes" else [no, yes])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    words_at = torch.tensor(marks).expand(len(rows), -1)  # [batch, 4]: the same instruction in every row
    return YesNoProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates), *words_at.T)


@dataclass(frozen=True)
class YesNoProbe(TaskProbe):
    """Yes/no questions, with where the instruction's words stand: [batch] positions each."""

    yes_at: Tensor
    no_at: Tensor
    answer_word_at: Tensor  # the instruction's word "Answer", not the answer position
    with_at: Tensor


def _first(ids: list[int], tokenizer, word: str) -> int:  # type: ignore[no-untyped-def]
    """The position of the token that begins `word` in the instruction, with or without a leading space."""
    for text in (" " + word, word):
        token = token_id(tokenizer, text)
        if token in ids:
            return ids.index(token)
    raise ValueError(f"The yes/no instruction does not hold {word!r} as a token of its own")


def negative_attention_score(captured: Captured, probe: TaskProbe, positive: Tensor, negative: Tensor) -> Tensor:
    """(a_pos + a_neg) * log(a_neg / a_pos) per head, attention from the answer to two words at [batch] positions."""

    def attention_to(at: Tensor) -> Tensor:
        return attention_from_answer(captured, probe, marked(probe, at[:, None])) + EPSILON

    a_pos, a_neg = attention_to(positive), attention_to(negative)
    return (a_pos + a_neg) * (a_neg / a_pos).log()


class NegativeHeadDetector(TaskDetector):
    name = "negative_head"
    version = "1"
    head_type = "negative-head"
    method = "scoring"
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Yu et al. rank heads by NAS without a fixed cut-off; NAS of 0.1, e.g. 20% of the "
        "attention on the two options at 1.65 to 1 towards No"
    )
    baseline_description = "the same score between two neutral instruction words, 'Answer' and 'with'"

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return yes_no_prompts(tokenizer)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, YesNoProbe)
        scores = negative_attention_score(captured, probe, probe.yes_at, probe.no_at)
        return scores, negative_attention_score(captured, probe, probe.answer_word_at, probe.with_at).abs()

    def parameters(self) -> dict[str, object]:
        return {"questions": len(task_texts().yes_no.questions), "template": task_texts().yes_no.template}

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        """The task detectors' measurement, recording whether the questions were asked in a chat template."""
        measured = super().measure(lens, seed=seed, score_at_chance=score_at_chance)
        templated = chat_frame(lens.tokenizer).templated
        return dataclasses.replace(measured, params={**measured.params, "chat_template": templated})


@hookimpl
def register_detectors() -> list[Detector]:
    return [NegativeHeadDetector()]
