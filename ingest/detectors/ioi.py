"""Indirect-object identification prompts (Wang et al. 2022), clean and corrupted.

"When Mary and John went to the store, John gave a drink to" -> " Mary": the
indirect object (IO) is the name that is not repeated; the subject (S) appears
twice (S1, S2). The corrupted twin of each prompt replaces the three name
occurrences by three other names ("ABC" in Wang et al., Section 3), so that no
name is repeated and the IO cannot be told apart. Names are one token for the
tokenizer at hand, so clean and corrupted prompts align position by position.

Prompts come in pairs that share a template, a place, an object and two names
a, b: "a and b ..., b gave ... to" (ABBA, IO a) and "a and b ..., a gave ... to"
(BABA, IO b). Each template is seen in both orders, and each name pair in both
roles, so neither the IO's position nor a model's preference for one name over
the other can pass for solving the task (the corrupted twins stay at chance).
"""

import random
from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskProbe, single_token_words, token_id

# Prompts per probe: every template as often with the IO named first (ABBA) as second (BABA); with the
# eight templates of tasks.yaml, three prompts of each template in each order.
N_PROMPTS = 48


@dataclass(frozen=True)
class IOIProbes:
    clean: "IOIProbe"  # candidates: [IO, S]
    corrupted: TaskProbe  # the same templates with three unrelated names


@dataclass(frozen=True)
class IOIProbe(TaskProbe):
    """IOI prompts, with two names absent from each and where its names stand: [batch] positions."""

    other_names: Tensor  # [batch, 2]: token ids of two names that appear nowhere in the prompt
    io_at: Tensor
    s1_at: Tensor
    s2_at: Tensor


def prompt_plan(n_prompts: int, n_templates: int) -> list[tuple[int, bool]]:
    """Per prompt, its template and whether the IO is named first (ABBA) or second (BABA).

    Prompts 2k and 2k + 1 share a template, in both orders, so each template
    is seen in both orders equally often and no order goes with one wording.
    """
    if n_prompts % 2:
        raise ValueError(f"IOI prompts come in ABBA/BABA pairs; {n_prompts} is odd")
    return [((index // 2) % n_templates, index % 2 == 0) for index in range(n_prompts)]


def ioi_probes(tokenizer: PreTrainedTokenizerBase, *, seed: int) -> IOIProbes:
    texts = task_texts().ioi
    names = single_token_words(tokenizer, texts.names)
    if len(names) < 8:
        raise ValueError(f"Only {len(names)} IOI names are single tokens for this tokenizer; at least 8 are needed")
    generator = random.Random(seed)
    clean_rows, corrupt_rows, roles = [], [], []
    plan = prompt_plan(N_PROMPTS, len(texts.templates))
    for (template_index, _), _ in zip(plan[0::2], plan[1::2], strict=True):  # one ABBA and one BABA prompt
        a, b, other_a, other_b = generator.sample(names, 4)
        fill = {
            "PLACE": generator.choice(texts.places),
            "OBJECT": generator.choice(texts.objects),
        }
        template = texts.templates[template_index]
        unused = [name for name in names if name not in (a, b, other_a, other_b)]
        for io, s in ((a, b), (b, a)):  # a named first: ABBA, then BABA
            x, y, z = generator.sample(unused, 3)
            clean_rows.append(template.format(A=a, B=b, S=s, **fill))
            corrupt_rows.append(template.format(A=x, B=y, S=z, **fill))
            roles.append((io, s, other_a, other_b))
    clean = _probe(tokenizer, clean_rows, roles)
    corrupted = _probe(tokenizer, corrupt_rows, roles)
    return IOIProbes(clean=IOIProbe(**vars(clean), **_names(clean, roles, tokenizer)), corrupted=corrupted)


def _probe(tokenizer: PreTrainedTokenizerBase, texts: list[str], roles: list[tuple[str, ...]]) -> TaskProbe:
    """The prompts, answered at their last token, with [IO, S] as candidates."""
    prefix = bos_prefix(tokenizer)
    rows = [prefix + tokenizer.encode(text, add_special_tokens=False) for text in texts]
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    candidates = torch.tensor([[token_id(tokenizer, " " + name) for name in row[:2]] for row in roles])
    return TaskProbe(input_ids, mask, answer_at=mask.sum(1) - 1, candidates=candidates)


def _names(probe: TaskProbe, roles: list[tuple[str, ...]], tokenizer: PreTrainedTokenizerBase) -> dict[str, Tensor]:
    """The absent names' ids and where the IO, the first S and the second S stand in each row: [batch] each."""
    io_at, s1_at, s2_at = [], [], []
    for row, (io, s) in zip(probe.input_ids.tolist(), probe.candidates.tolist(), strict=True):
        s_positions = [i for i, token in enumerate(row) if token == s]
        io_at.append(row.index(io))
        s1_at.append(s_positions[0])
        s2_at.append(s_positions[1])
    others = torch.tensor([[token_id(tokenizer, " " + name) for name in row[2:]] for row in roles])
    return {
        "other_names": others,
        "io_at": torch.tensor(io_at),
        "s1_at": torch.tensor(s1_at),
        "s2_at": torch.tensor(s2_at),
    }


def logit_difference(logits: Tensor, probe: TaskProbe) -> Tensor:
    """logit(IO) - logit(S) per prompt: [batch, vocab] -> [batch]."""
    chosen = logits.gather(1, probe.candidates)  # [batch, 2]
    return chosen[:, 0] - chosen[:, 1]
