"""Heads whose output tells a true statement from a false one: a linear probe per head (Li et al. 2023).

Li et al. (inference-time intervention, Section 3.1) fit a linear probe on each
head's output at the last token of true and false statements and rank heads by
held-out accuracy; the heads kept for intervention are the top 48 of
LLaMA-7B's 1,024 (4.7%). The same probe serves three head types of the
survey's effective-reasoning mechanism, which differ in what makes a
statement true:

- truthfulness heads (Li et al.): a fact about the world (capitals,
  antonyms); a false statement swaps in another fact's object;
- accuracy heads (Guo et al. 2024 and Yin et al. 2024 select heads by their
  effect on task accuracy): a computed answer, a one-digit sum after two
  worked sums (small models do not add zero-shot); a false one is off by one
  to three;
- consistency heads (Yang et al. 2024, semantic consistency): "The capital
  of X is A, not B. In short, the capital of X is A." restated with A
  (consistent) or B (inconsistent). Both capitals are in the context, so a
  head that merely notices a repeated token cannot tell them apart, and A is
  the true capital for only half of the countries, so consistency is not
  truth in disguise.

We fit a ridge classifier per head with two-fold cross-validation. The
baseline is the larger of the same probe's accuracy with the labels shuffled
and the accuracy that guessing reaches with probability 1% (one-sided
binomial over the statements): ITI's top 4.7% are then kept only where the
probe beats chance. Each detector first
checks that the model can do what its statements test (recall the capitals,
add, carry a stated fact over); probing statements a model cannot judge would
measure nothing. The accuracy and consistency readings are ours: their papers
select heads by steering or editing on benchmarks we cannot run here.
"""

import random
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor

from ingest.capture import Captured
from ingest.detectors.base import Detector, TaskAccuracy
from ingest.detectors.facts import capital_candidates, capital_token_ids, capitals, recall_prompts
from ingest.detectors.probes import encoded_texts
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

# Statement templates per fact table; {X} is the subject, {Y} the object.
FACTS = {"country_capital": "The capital of {X} is {Y}.", "antonym": "The opposite of {X} is {Y}."}
SUM = "{A}+{B}={C}"  # digits only: each is one token for every tokenizer here
WORKED_SUMS = 2  # worked sums before each one asked or stated
RESTATED = "The capital of {X} is {Y}, not {Z}. In short, the capital of {X} is"
RIDGE = 1.0  # the probe's L2 penalty

Statements = tuple[Tensor, Tensor, Tensor]  # token ids [batch, pos], mask [batch, pos], labels [batch] (1 = true)


def statements_of(tokenizer, texts: list[str], labels: list[int]) -> Statements:  # type: ignore[no-untyped-def]
    return (*encoded_texts(tokenizer, texts), torch.tensor(labels))


def fact_statements(tokenizer, *, seed: int) -> Statements:  # type: ignore[no-untyped-def]
    """Each fact stated right and with another fact's object."""
    generator = random.Random(seed)
    texts, labels = [], []
    for table, template in FACTS.items():
        pairs = task_texts().icl_tasks[table]
        for subject, right in pairs:
            wrong = generator.choice([y for _, y in pairs if y != right])
            for obj, label in ((right, 1), (wrong, 0)):
                texts.append(template.format(X=subject, Y=obj))
                labels.append(label)
    return statements_of(tokenizer, texts, labels)


def one_digit_sums() -> list[tuple[int, int]]:
    """Every sum of two digits that is itself one digit, 0+0 excepted."""
    return [(a, b) for a in range(10) for b in range(10) if 0 < a + b < 10]


def with_worked_sums(a: int, b: int, result: int | str, generator: random.Random) -> str:
    """'1+5=6, 2+2=4, 3+4=' + result: WORKED_SUMS other sums, then this one."""
    others = generator.sample([pair for pair in one_digit_sums() if pair != (a, b)], WORKED_SUMS)
    worked = [SUM.format(A=x, B=y, C=x + y) for x, y in others]
    return ", ".join([*worked, SUM.format(A=a, B=b, C=result)])


def sum_prompts(tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
    """'1+5=6, 2+2=4, 3+4=' with the right digit among all ten (chance: 1 in 10)."""
    generator = random.Random(seed)
    digits = [token_id(tokenizer, str(d)) for d in range(10)]
    sums = one_digit_sums()
    input_ids, mask = encoded_texts(tokenizer, [with_worked_sums(a, b, "", generator) for a, b in sums])
    candidates = [[digits[a + b], *(digits[d] for d in range(10) if d != a + b)] for a, b in sums]
    return TaskProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates))


def sum_statements(tokenizer, *, seed: int) -> Statements:  # type: ignore[no-untyped-def]
    """Each one-digit sum written with its result, and with a result off by one to three."""
    generator = random.Random(seed)
    texts, labels = [], []
    for a, b in one_digit_sums():
        wrong = generator.choice([c for c in range(10) if 0 < abs(c - (a + b)) <= 3])
        for result, label in ((a + b, 1), (wrong, 0)):
            texts.append(with_worked_sums(a, b, result, generator) + ".")
            labels.append(label)
    return statements_of(tokenizer, texts, labels)


def stated_capitals(seed: int) -> list[tuple[str, str, str]]:
    """(country, capital stated, capital denied): the stated one is the true capital for every other country."""
    pairs = capitals()
    generator = random.Random(seed)
    rows = []
    for index, (country, right) in enumerate(pairs):
        others = [capital for _, capital in pairs if capital != right]
        stated, denied = (right, generator.choice(others)) if index % 2 == 0 else generator.sample(others, 2)
        rows.append((country, stated, denied))
    return rows


def restatement_prompts(tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
    """'The capital of X is A, not B. In short, the capital of X is' -> A, among B and other capitals."""
    generator = random.Random(seed)
    pool = capital_token_ids(tokenizer)
    stated = stated_capitals(seed)
    input_ids, mask = encoded_texts(tokenizer, [RESTATED.format(X=x, Y=y, Z=z) for x, y, z in stated])
    candidates = [
        capital_candidates([token_id(tokenizer, " " + y), token_id(tokenizer, " " + z)], pool, generator)
        for _, y, z in stated
    ]
    return TaskProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates))


def restatements(tokenizer, *, seed: int) -> Statements:  # type: ignore[no-untyped-def]
    """Each statement restated with the capital it states (consistent) and with the one it denies (inconsistent)."""
    texts, labels = [], []
    for country, stated, denied in stated_capitals(seed):
        for restated, label in ((stated, 1), (denied, 0)):
            texts.append(RESTATED.format(X=country, Y=stated, Z=denied) + f" {restated}.")
            labels.append(label)
    return statements_of(tokenizer, texts, labels)


def chance_floor(n: int) -> float:
    """The accuracy that guessing true or false reaches on n statements with probability below 1%."""
    return next(k / n for k in range(n // 2, n + 1) if TaskAccuracy(k, n, 0.5).verifiable)


def probe_accuracy(features: Tensor, labels: Tensor, *, seed: int) -> Tensor:
    """Two-fold cross-validated accuracy of a ridge classifier per head.

    features [layer, batch, head, d], labels [batch] -> [layer, head].
    """
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    folds = order[: len(order) // 2], order[len(order) // 2 :]
    x = features.permute(0, 2, 1, 3)  # [layer, head, batch, d]
    x = torch.cat([x, torch.ones(*x.shape[:-1], 1)], dim=-1)  # [layer, head, batch, d + 1]: a bias column
    y = labels.float() * 2 - 1  # [batch]: +1 true, -1 false
    correct = torch.zeros(x.shape[:2])
    for train, test in (folds, folds[::-1]):
        xt = x[:, :, train]  # [layer, head, n, d + 1]
        gram = xt.transpose(-1, -2) @ xt + RIDGE * torch.eye(x.shape[-1])  # [layer, head, d + 1, d + 1]
        weights = torch.linalg.solve(gram, xt.transpose(-1, -2) @ y[train])  # [layer, head, d + 1]
        predicted = (x[:, :, test] @ weights[..., None])[..., 0].sign()  # [layer, head, n_test]
        correct += (predicted == y[test]).float().sum(-1)
    return correct / len(labels)


class StatementProbeDetector(TaskDetector):
    """Probe every head's output at the last token of true and false statements."""

    method = "probing"
    rule = "top-fraction"
    threshold = 0.047
    threshold_source = (
        "ITI_23_NIPS_harvard (Li et al.) Section 3.2: the top 48 of LLaMA-7B's 1,024 heads by probe accuracy"
    )
    baseline_description = (
        "the larger of the same probe's accuracy with the statements' labels shuffled and the accuracy guessing "
        "reaches with probability 1% (one-sided binomial)"
    )

    prompts: ClassVar[Callable[..., TaskProbe]]  # the task check: can the model do what the statements test?
    statements: ClassVar[Callable[..., Statements]]  # true and false statements of the kind the head tells apart

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return self.prompts(tokenizer, seed=seed)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        input_ids, mask, labels = self.statements(lens.tokenizer, seed=seed)
        last = mask.sum(1) - 1  # [batch]
        captured = lens.capture(input_ids, mask, queries_at=last[:, None])
        features = captured.outputs_at(last)  # [layer, batch, head, d_head]
        shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed + 1))]
        control = probe_accuracy(features, shuffled, seed=seed).clamp(min=chance_floor(len(labels)))
        return probe_accuracy(features, labels, seed=seed), control

    def parameters(self) -> dict[str, object]:
        return {"folds": 2, "ridge": RIDGE}


class TruthfulnessDetector(StatementProbeDetector):
    name = "truthfulness"
    version = "2"
    head_type = "truthfulness-head"

    prompts = staticmethod(recall_prompts)
    statements = staticmethod(fact_statements)

    def parameters(self) -> dict[str, object]:
        return {**super().parameters(), "statements": sorted(FACTS)}


class AccuracyDetector(StatementProbeDetector):
    name = "accuracy"
    version = "1"
    head_type = "accuracy-head"

    prompts = staticmethod(sum_prompts)
    statements = staticmethod(sum_statements)

    def parameters(self) -> dict[str, object]:
        return {**super().parameters(), "statements": SUM, "sums": len(one_digit_sums()), "worked_sums": WORKED_SUMS}


class ConsistencyDetector(StatementProbeDetector):
    name = "consistency"
    version = "1"
    head_type = "consistency-head"

    prompts = staticmethod(restatement_prompts)
    statements = staticmethod(restatements)

    def parameters(self) -> dict[str, object]:
        return {**super().parameters(), "statements": RESTATED + " {Y or Z}."}


@hookimpl
def register_detectors() -> list[Detector]:
    return [TruthfulnessDetector(), AccuracyDetector(), ConsistencyDetector()]
