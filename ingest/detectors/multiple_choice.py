"""Multiple-choice heads (Lieberum et al. 2023): how a model turns knowing the answer into saying its letter.

Lieberum et al. (Section 4) sort the heads of Chinchilla 70B that act at the
answer position of a four-option question into kinds by where they attend
and what they write: correct-letter heads attend to the right option's label,
single-letter heads to one fixed label whatever the answer, constant heads
evenly to all labels, content gatherers to the right option's text, and
amplification heads raise the right letter's logit late. We ask four-option
questions ("Which of these is a colour?", options labelled A-D) and score each
kind from the attention at the answer position (or, for amplification, the
direct logit attribution). The task check asks the model to pick the letter
(chance: 25%); a model at chance gets no verdict. Which one should you use?
correct_letter for the deciding heads, the others for the circuit around them.
"""

import dataclasses
import random
from dataclasses import dataclass

import torch
from torch import Tensor

from ingest.attribution import direct_effects
from ingest.capture import Captured
from ingest.detectors.base import Detector, Measurement
from ingest.detectors.probes import chat_frame, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, attention_from_answer, marked, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

LETTERS = "ABCD"
N_QUESTIONS = 48
# What the answer position says before the letter; the letter itself is predicted after it.
ANSWER_PREFIX = "Answer:"


def mcq_prompts(tokenizer, *, seed: int) -> "ChoiceProbe":  # type: ignore[no-untyped-def]
    """Questions with options tokenized piece by piece, so that each label's position is known.

    With a chat template the question and its options are the user's message
    and "Answer:" opens the assistant's turn; without one, "Answer:" follows
    the options on a new line. The answer is read after "Answer:" either way.
    """
    mcq = task_texts().mcq
    generator = random.Random(seed)
    categories = sorted(mcq.categories)
    frame = chat_frame(tokenizer)
    answer = frame.after + tokenizer.encode(("" if frame.templated else "\n") + ANSWER_PREFIX, add_special_tokens=False)
    rows, candidates, labels, letters_at, content = [], [], [], [], []
    for index in range(N_QUESTIONS):
        category = categories[index % len(categories)]
        right = generator.choice(mcq.categories[category])
        wrong = [
            generator.choice(mcq.categories[c]) for c in generator.sample([c for c in categories if c != category], 3)
        ]
        options = [right, *wrong]
        generator.shuffle(options)
        correct = options.index(right)
        ids = frame.before + tokenizer.encode(mcq.question.format(CATEGORY=category), add_special_tokens=False)
        label_at, option_at = [], []
        for letter, option in zip(LETTERS, options, strict=True):
            ids += tokenizer.encode("\n", add_special_tokens=False)
            label_at.append(len(ids))
            ids += tokenizer.encode(letter, add_special_tokens=False) + tokenizer.encode(".", add_special_tokens=False)
            option_at.append(len(ids))
            ids += tokenizer.encode(f" {option}", add_special_tokens=False)
        letters_at.append(label_at)
        content.append([option_at[correct], option_at[(correct + 1) % 4]])
        rows.append(ids + answer)
        letter_ids = [token_id(tokenizer, " " + letter) for letter in LETTERS]
        candidates.append([letter_ids[correct], *(letter_ids[i] for i in range(4) if i != correct)])
        labels.append([label_at[correct], *(label_at[i] for i in range(4) if i != correct)])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    answer_at, letters = mask.sum(1) - 1, torch.tensor(candidates)
    return ChoiceProbe(
        input_ids, mask, answer_at, letters, torch.tensor(labels), torch.tensor(letters_at), torch.tensor(content)
    )


@dataclass(frozen=True)
class ChoiceProbe(TaskProbe):
    """Four-option questions, with where each option's label and text stand."""

    labels_at: Tensor  # [batch, 4]: the labels' positions, the correct label's first
    letters_at: Tensor  # [batch, 4]: the labels' positions in A-D order
    content_at: Tensor  # [batch, 2]: the first token of the right option's text and of one wrong option's


def label_shares(captured: Captured, probe: TaskProbe, labels_at: Tensor) -> Tensor:
    """Each of four labels' share of the attention on all of them, from the answer position: [label, layer, head].

    `labels_at` [batch, 4] says where the labels stand in each row.
    """
    on_labels = attention_from_answer(captured, probe, marked(probe, labels_at)).clamp(min=1e-6)
    each = [attention_from_answer(captured, probe, marked(probe, labels_at[:, [i]])) for i in range(4)]
    return torch.stack(each) / on_labels


class MultipleChoiceDetector(TaskDetector):
    """Four-option questions; subclasses say what of the answer position's attention or output they score."""

    method = "scoring"

    def task_inputs(self, tokenizer, *, seed: int) -> ChoiceProbe:  # type: ignore[no-untyped-def]
        return mcq_prompts(tokenizer, seed=seed)

    def parameters(self) -> dict[str, object]:
        return {"questions": N_QUESTIONS, "options": len(LETTERS)}

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        """The task detectors' measurement, recording whether the questions were asked in a chat template."""
        measured = super().measure(lens, seed=seed, score_at_chance=score_at_chance)
        templated = chat_frame(lens.tokenizer).templated
        return dataclasses.replace(measured, params={**measured.params, "chat_template": templated})


class CorrectLetterDetector(MultipleChoiceDetector):
    name = "correct_letter"
    version = "2"
    head_type = "correct-letter-head"
    ablation_effect = "lowers"  # they pick the right option's letter
    threshold = 0.5
    threshold_source = (
        "headatlas convention: Lieberum et al. show attention to the correct label without a cut-off; half of the "
        "head's attention on the four labels, twice what an even spread gives"
    )
    baseline_description = "the same share on one wrong label"

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, ChoiceProbe)
        shares = label_shares(captured, probe, probe.labels_at)  # correct label first
        return shares[0], shares[1]


class SingleLetterDetector(MultipleChoiceDetector):
    name = "single_letter"
    version = "1"
    head_type = "single-letter-head"
    threshold = 0.5
    threshold_source = (
        "headatlas convention: Lieberum et al. describe heads fixed on one label without a cut-off; half of the "
        "head's label attention on the same letter, whichever option is right"
    )
    baseline_description = "the same share on the letter that is right, which a single-letter head ignores"

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, ChoiceProbe)
        by_letter = label_shares(captured, probe, probe.letters_at)  # [letter, layer, head]
        return by_letter.max(dim=0).values, label_shares(captured, probe, probe.labels_at)[0]


class ConstantDetector(MultipleChoiceDetector):
    name = "constant"
    version = "1"
    head_type = "constant-head"
    threshold = 0.8
    threshold_source = (
        "headatlas convention: Lieberum et al. describe an even spread without a cut-off; evenness (1 minus the "
        "largest gap between two labels' shares) of at least 0.8, and 5% of the attention on the labels"
    )
    baseline_description = "the evenness of the same head's attention over four other tokens: the options' full stops"

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, ChoiceProbe)
        on_labels = attention_from_answer(captured, probe, marked(probe, probe.letters_at))
        score = _evenness(label_shares(captured, probe, probe.letters_at)).masked_fill(on_labels < 0.05, 0.0)
        return score, _evenness(label_shares(captured, probe, probe.letters_at + 1))  # the full stops after labels


def _evenness(shares: Tensor) -> Tensor:
    """1 - (largest share - smallest share) over the four labels: [label, layer, head] -> [layer, head]."""
    return 1 - (shares.max(dim=0).values - shares.min(dim=0).values)


class ContentGathererDetector(MultipleChoiceDetector):
    name = "content_gatherer"
    version = "1"
    head_type = "content-gatherer-head"
    rule = "margin"
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Lieberum et al. show attention to the answer's text without a cut-off; 10 points "
        "more attention to the right option's text than to a wrong option's"
    )
    baseline_description = "the same head's attention to the text of a wrong option"

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        assert isinstance(probe, ChoiceProbe)
        right = attention_from_answer(captured, probe, marked(probe, probe.content_at[:, [0]]))
        wrong = attention_from_answer(captured, probe, marked(probe, probe.content_at[:, [1]]))
        return right, wrong


class AmplificationDetector(MultipleChoiceDetector):
    name = "amplification"
    version = "1"
    head_type = "amplification-head"
    ablation_effect = "lowers"  # they amplify the chosen letter's logit
    threshold = 0.1
    threshold_source = (
        "headatlas convention: Lieberum et al. find amplification heads by their direct effect without a cut-off; "
        "10% of the model's mean margin of the right letter over the mean wrong letter from one head"
    )
    baseline_description = "the same head's direct effect on one wrong letter over the others"

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        letters = lens.unembedding[probe.candidates]  # [batch, 4, d_model], right letter first
        right = direct_effects(lens, captured, probe.answer_at, letters[:, 0] - letters[:, 1:].mean(dim=1))
        wrong = direct_effects(lens, captured, probe.answer_at, letters[:, 1] - letters[:, [0, 2, 3]].mean(dim=1))
        logits = captured.logits.gather(1, probe.candidates)  # type: ignore[union-attr]  # [batch, 4]
        margin = (logits[:, 0] - logits[:, 1:].mean(dim=1)).mean().clamp(min=1e-6)
        return right.mean(dim=1) / margin, wrong.mean(dim=1).abs() / margin


@hookimpl
def register_detectors() -> list[Detector]:
    return [
        CorrectLetterDetector(),
        SingleLetterDetector(),
        ConstantDetector(),
        ContentGathererDetector(),
        AmplificationDetector(),
    ]
