"""Mover heads (Yao et al. 2024): in factual recall, attend from the last token to the subject and carry it there.

Yao et al. (Section 4) read knowledge circuits out of GPT-2 and TinyLlama and
name "mover heads" the heads that, at the last position, attend to the subject
and move its information forward, where relation heads and MLPs complete the
fact. We keep the subject away from the last position ("The capital of France
is the city of"), so that no previous-token head reaches it, check that the model
recalls the capital (the right one among 20; chance 1 in 20), and score each
head by its mean attention from the last position onto the subject's last
token, against its attention onto the relation word "capital" (a margin, as
for letter movers). Which one should you use? This finds where the subject is
fetched; subject_head says whose output raises the answer.
"""

import random

import torch

from ingest.detectors.base import Detector
from ingest.detectors.facts import N_CANDIDATES, capital_candidates, capital_token_ids, capitals
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.tasks import MarkedAttentionDetector, MarkedProbe, TaskProbe, token_id
from ingest.hookspecs import hookimpl

PROMPT = "The capital of {X} is the city of"
RELATION_WORD = " capital"


def subject_apart_prompts(tokenizer, *, seed: int) -> MarkedProbe:  # type: ignore[no-untyped-def]
    """PROMPT for each country, the right capital among N_CANDIDATES, and where subject and relation sit."""
    pairs = capitals()
    generator = random.Random(seed)
    pool = capital_token_ids(tokenizer)
    relation = token_id(tokenizer, RELATION_WORD)
    before, after = PROMPT.split(" {X}")
    rows, candidates, subject_at, relation_at = [], [], [], []
    for country, capital in pairs:
        ids = bos_prefix(tokenizer) + tokenizer.encode(before + " " + country, add_special_tokens=False)
        subject_at.append(len(ids) - 1)
        ids += tokenizer.encode(after, add_special_tokens=False)
        relation_at.append(ids.index(relation))
        rows.append(ids)
        candidates.append(capital_candidates([token_id(tokenizer, " " + capital)], pool, generator))
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    targets, controls = torch.tensor(subject_at), torch.tensor(relation_at)
    return MarkedProbe(
        input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates), target_at=targets, control_at=controls
    )


class MoverHeadDetector(MarkedAttentionDetector):
    name = "mover_head"
    version = "1"
    head_type = "mover-head"
    method = "scoring"
    ablation_effect = "lowers"  # they bring the subject to the position that names the answer
    threshold_source = (
        "headatlas convention: Yao et al. name mover heads from their attention in the knowledge circuit, without a "
        "cut-off; 10 points more attention to the subject than to the relation word"
    )
    baseline_description = "the same attention onto the relation word 'capital'"
    seeded_material = False  # the names are fixed; the seed draws only the other candidate answers

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return subject_apart_prompts(tokenizer, seed=seed)

    def parameters(self) -> dict[str, object]:
        return {"prompt": PROMPT, "facts": len(capitals()), "candidates": N_CANDIDATES}


@hookimpl
def register_detectors() -> list[Detector]:
    return [MoverHeadDetector()]
