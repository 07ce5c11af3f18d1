"""Function-vector heads (Todd et al. 2023): heads whose mean output at the last token carries the task itself.

Todd et al. (Section 2.2) average each head's output at the last token over
in-context prompts of a task, patch that mean into prompts whose
demonstrations have shuffled labels, and measure how much the right answer's
probability rises: the head's average indirect effect (AIE). We estimate the
patch for all heads at once by attribution patching (ingest.attribution) on the
answer's log-probability (in nats), over four tasks (antonyms, country to capital, upper
case, English to French). Todd et al. keep GPT-J's 10 heads of highest AIE, 10
of its 448 (2.2%); the rule keeps the top 2%. Which one should you use? This
one finds the heads that encode which task the demonstrations show.
"""

import random

import torch
from torch import Tensor

from ingest.attribution import head_output_gradients, patching_effects
from ingest.capture import Captured
from ingest.detectors.base import Detector
from ingest.detectors.probes import bos_prefix, pad_id, pad_right
from ingest.detectors.task_texts import task_texts
from ingest.detectors.tasks import TaskDetector, TaskProbe, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

# Demonstrations per prompt, prompts per task, candidates per prompt (the answer and other answers of the task).
N_SHOTS, PER_TASK, N_CANDIDATES = 5, 12, 20


def icl_prompts(tokenizer, *, seed: int, shuffled: bool) -> TaskProbe:  # type: ignore[no-untyped-def]
    """`input: output` demonstrations then a query; with `shuffled`, the demonstrations' outputs are permuted."""
    generator = random.Random(seed)
    rows, candidates = [], []
    for pairs in task_texts().icl_tasks.values():
        firsts = {token_id(tokenizer, " " + output) for _, output in pairs}
        for _ in range(PER_TASK):
            chosen = generator.sample(pairs, N_SHOTS + 1)
            demos, (query, answer) = chosen[:-1], chosen[-1]
            outputs = [output for _, output in demos]
            if shuffled:
                outputs = generator.sample(outputs, len(outputs))
            text = "".join(f"{x}: {y}\n" for (x, _), y in zip(demos, outputs, strict=True)) + f"{query}:"
            rows.append(bos_prefix(tokenizer) + tokenizer.encode(text, add_special_tokens=False))
            right = token_id(tokenizer, " " + answer)
            others = generator.sample(sorted(firsts - {right}), min(N_CANDIDATES - 1, len(firsts) - 1))
            candidates.append([right, *others[: N_CANDIDATES - 1]])
    width = min(map(len, candidates))
    input_ids, mask = pad_right(rows, pad_id(tokenizer))
    return TaskProbe(input_ids, mask, mask.sum(1) - 1, torch.tensor([row[:width] for row in candidates]))


class FunctionVectorDetector(TaskDetector):
    name = "function_vector"
    version = "2"  # 2: tasks.yaml without the identity pair [Mexico, Mexico]
    head_type = "function-vector-head"
    method = "attribution-patching"  # a first-order estimate of patching each head, from one backward pass
    ablation_effect = "lowers"  # the task they carry is what the in-context prompts ask for
    rule = "top-fraction"
    threshold = 0.02
    threshold_source = "FunctionVector_24_ICLR_NEU (Todd et al.) Section 2.3: the 10 heads of highest AIE in GPT-J"
    baseline_description = "the same estimated effect of patching the head's mean output from another task's prompts"

    def task_inputs(self, tokenizer, *, seed: int) -> TaskProbe:  # type: ignore[no-untyped-def]
        return icl_prompts(tokenizer, seed=seed, shuffled=False)

    def score_heads(self, lens: ModelLens, captured: Captured, probe: TaskProbe, *, seed: int) -> tuple[Tensor, Tensor]:
        corrupted = icl_prompts(lens.tokenizer, seed=seed, shuffled=True)
        rows = torch.arange(len(probe.answer_at))
        task_of = rows // PER_TASK  # [batch]: prompts come task by task
        at_last = captured.outputs_at(probe.answer_at)  # [layer, batch, head, d_head]
        task_means = torch.stack([at_last[:, task_of == t].mean(dim=1) for t in range(int(task_of.max()) + 1)])
        # task_means: [task, layer, head, d_head]

        def answer_log_prob(logits: Tensor) -> Tensor:
            return logits.log_softmax(-1).gather(1, corrupted.answers[:, None])[:, 0]  # [batch]

        z, grad, _ = head_output_gradients(
            lens, corrupted.input_ids, corrupted.attention_mask, corrupted.answer_at, answer_log_prob
        )
        last = torch.zeros(corrupted.input_ids.shape, dtype=torch.bool)
        last[rows, corrupted.answer_at] = True  # [batch, pos]
        other_task = (task_of + 1) % len(task_means)  # [batch]

        def aie(means: Tensor) -> Tensor:  # means: [batch, layer, head, d_head], one per prompt
            patched = means.transpose(0, 1)[:, :, None]  # [layer, batch, 1, head, d_head]
            return patching_effects(z, grad, patched, last).mean(dim=1)  # [layer, head]

        return aie(task_means[task_of]), aie(task_means[other_task])

    def parameters(self) -> dict[str, object]:
        return {"tasks": sorted(task_texts().icl_tasks), "shots": N_SHOTS, "prompts_per_task": PER_TASK}


@hookimpl
def register_detectors() -> list[Detector]:
    return [FunctionVectorDetector()]
