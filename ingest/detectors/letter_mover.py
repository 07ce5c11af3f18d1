"""Letter mover heads (García-Carrasco et al. 2024): in an acronym, attend to the next word and copy its first letter.

García-Carrasco et al. (Section 4) find, in GPT-2 small predicting three-letter
acronyms ("The Central Processing Unit (C P" -> " U"), heads that attend from
the last letter to the word whose initial comes next and move that letter to
the output. We build acronyms from three-word names, ask for the second or the
third letter, and score each head by its attention from the answer position
onto the first token of the word being spelled, against its attention onto a
word of the same name that is not (a margin, as for syntactic heads). The task
check asks the model to pick the right capital letter among six (chance: 1 in
6). Which one should you use? This one finds heads that spell out acronyms.
"""

import random

import torch

from ingest.detectors.base import Detector
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import MarkedAttentionDetector, MarkedProbe, TaskProbe, token_id
from ingest.hookspecs import hookimpl

N_CANDIDATES = 6
# (letters already written, word being spelled, another word of the name) for the two questions per name.
QUESTIONS = ((1, 1, 0), (2, 2, 0))


def acronym_prompts(tokenizer, *, seed: int) -> MarkedProbe:  # type: ignore[no-untyped-def]
    words = task_texts().acronyms["words"]
    generator = random.Random(seed)
    letters = sorted({token_id(tokenizer, " " + chr(c)) for c in range(ord("A"), ord("Z") + 1)})
    rows, candidates, spelled, other = [], [], [], []
    for start in range(0, len(words) - 2, 3):
        name = words[start : start + 3]
        ids = bos_prefix(tokenizer) + tokenizer.encode("The", add_special_tokens=False)
        word_at = []
        for word in name:
            word_at.append(len(ids))
            ids += tokenizer.encode(" " + word, add_special_tokens=False)
        ids += tokenizer.encode(" (", add_special_tokens=False)
        for written, target, control in QUESTIONS:
            shown = [token_id(tokenizer, (" " if i else "") + name[i][0]) for i in range(written)]
            right = token_id(tokenizer, " " + name[target][0])
            rows.append(ids + shown)
            candidates.append([right, *generator.sample([x for x in letters if x != right], N_CANDIDATES - 1)])
            spelled.append(word_at[target])
            other.append(word_at[control])
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    targets, controls = torch.tensor(spelled), torch.tensor(other)
    return MarkedProbe(
        input_ids, mask, mask.sum(1) - 1, torch.tensor(candidates), target_at=targets, control_at=controls
    )


class LetterMoverDetector(MarkedAttentionDetector):
    name = "letter_mover"
    ablation_effect = "lowers"  # they copy the next letter of the acronym
    version = "1"
    head_type = "letter-mover-head"
    method = "scoring"
    threshold_source = (
        "headatlas convention: García-Carrasco et al. identify letter movers by patching and attention, without a "
        "cut-off; 10 points more attention to the word being spelled than to another word of the name"
    )
    baseline_description = "the same attention onto the first word of the name, which is not being spelled"
    seeded_material = False  # the names are fixed; the seed draws only the other candidate answers

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return acronym_prompts(tokenizer, seed=seed)

    def parameters(self) -> dict[str, object]:
        return {"names": len(task_texts().acronyms["words"]) // 3, "questions_per_name": len(QUESTIONS)}


@hookimpl
def register_detectors() -> list[Detector]:
    return [LetterMoverDetector()]
