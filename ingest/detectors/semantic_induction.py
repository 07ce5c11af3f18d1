"""Semantic induction heads (Ren et al. 2024): attending to the head word of a relation raises its tail word.

Ren et al. (Section 3) test whether a head, while it attends to the head token
of a relation (part-of, used-for, a country and its capital), raises the
logits of the tail token. We read that from the weights, as for successor
heads (ingest.circuits): for each pair of three relation tables (country to
capital, antonyms, English to French), does the head's OV readout of the head
word put the tail first among all the table's tails? The task check is the
function-vector probe: the model must complete these relations in context
(chance: 1 in 20). Which one should you use? This one finds heads that carry
relational knowledge from the word attended to; induction finds exact copying.
"""

import torch
from torch import Tensor

from ingest.capture import Captured
from ingest.circuits import RelationTable, relation_hit_rates
from ingest.detectors.base import Detector
from ingest.detectors.function_vector import icl_prompts
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, single_token_words, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

TABLES = ("country_capital", "antonym", "english_french")


def relation_tables(tokenizer) -> list[RelationTable]:  # type: ignore[no-untyped-def]
    """Each table's pairs whose two words are single tokens (with a leading space), head -> tail."""
    tables = []
    for name in TABLES:
        pairs = [
            (head, tail)
            for head, tail in task_texts().icl_tasks[name]
            if head != tail and len(single_token_words(tokenizer, [head, tail])) == 2
        ]
        heads = torch.tensor([token_id(tokenizer, " " + head) for head, _ in pairs])
        tails = torch.tensor([token_id(tokenizer, " " + tail) for _, tail in pairs])
        tables.append(RelationTable(heads, tails, tails.unique()))
    return tables


class SemanticInductionDetector(TaskDetector):
    name = "semantic_induction"
    version = "1"
    head_type = "semantic-induction-head"
    method = "scoring"  # an OV-circuit score on the weights
    threshold = 0.3
    threshold_source = (
        "headatlas convention: Ren et al. report relation indices without a cut-off; the tail must top its table's "
        "tails (20 to 30 words) for 30% of the pairs"
    )
    baseline_description = "the same share with each tail replaced by a random tail of its table"
    seeded_material = False  # the score reads fixed word pairs from the weights; the seed moves only the control

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return icl_prompts(tokenizer, seed=seed, shuffled=False)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        return relation_hit_rates(lens, relation_tables(lens.tokenizer), seed=seed)

    def parameters(self) -> dict[str, object]:
        return {"tables": list(TABLES)}


@hookimpl
def register_detectors() -> list[Detector]:
    return [SemanticInductionDetector()]
