"""Successor heads (Gould et al. 2023): heads whose OV circuit maps an ordinal token to the next one.

Gould et al. (Section 3) score a head by its OV circuit on effective
embeddings: for each ordinal token (number words, ordinals, days, months,
letters), does the head's readout rank the token's successor first among the
members of its sequence? The succession score is the share of tokens for which it
does (ingest.circuits). The task check asks the model to continue each
sequence from three members, written as a comma-separated list. Which one should you use? This one finds
incrementing heads from the weights alone, whatever the prompt.
"""

import random

import torch
from torch import Tensor

from ingest.capture import Captured
from ingest.circuits import RelationTable, relation_hit_rates
from ingest.detectors.base import Detector
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, single_token_words, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

# Members shown before the one to predict, and candidates per prompt (the answer and others of its sequence).
SHOWN, N_CANDIDATES = 3, 7


def ordinal_sequences(tokenizer) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Each sequence as token ids, in order, when every member is one token with a leading space."""
    sequences = {}
    for name, members in task_texts().sequences.items():
        if len(single_token_words(tokenizer, members)) == len(members):
            sequences[name] = [token_id(tokenizer, " " + member) for member in members]
    return sequences


class SuccessorDetector(TaskDetector):
    name = "successor"
    version = "1"
    head_type = "successor-head"
    method = "scoring"  # an OV-circuit score on the weights
    threshold = 0.5
    threshold_source = (
        "headatlas convention: Gould et al. report succession scores without a cut-off; the successor must rank "
        "first for at least half of the ordinal tokens"
    )
    baseline_description = "the same score with each token's successor replaced by a random member of its sequence"
    seeded_material = False  # the score reads fixed word pairs from the weights; the seed moves only the control

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        generator = random.Random(seed)
        comma = token_id(tokenizer, ",")
        rows, candidates = [], []
        for members in ordinal_sequences(tokenizer).values():
            for start in range(len(members) - SHOWN):
                answer = members[start + SHOWN]
                others = generator.sample([m for m in members if m != answer], N_CANDIDATES - 1)
                shown = [[member, comma] for member in members[start : start + SHOWN]]  # "Monday, Tuesday, Wednesday,"
                rows.append(bos_prefix(tokenizer) + [t for pair in shown for t in pair])
                candidates.append([answer, *others])
        input_ids, mask = pad_right(rows, pad_id(tokenizer))
        return TaskProbe(input_ids, mask, answer_at=mask.sum(1) - 1, candidates=torch.tensor(candidates))

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        tables = [
            RelationTable(torch.tensor(members[:-1]), torch.tensor(members[1:]), torch.tensor(members))
            for members in ordinal_sequences(lens.tokenizer).values()
        ]
        return relation_hit_rates(lens, tables, seed=seed)


@hookimpl
def register_detectors() -> list[Detector]:
    return [SuccessorDetector()]
