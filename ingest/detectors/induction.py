"""Induction heads: attend to the token that followed the current token's earlier occurrence.

Olsson et al. (2022) define the prefix-matching score on repeated random
tokens: attention from each token of the second copy to the token after its
first occurrence (TransformerLens's `induction_head`); Crosbie & Shutova (2024)
call the top 3% of heads by that score induction heads. The heads found are
then confirmed as a set: Olsson et al. tie induction heads to in-context
learning through the loss on the repeated half, so mean-ablating them must
raise that loss more than ablating random heads of the same layers does.
Which one should you use? This one finds the heads that complete [A][B] … [A] → [B];
`duplicate_token` finds those attending to [A] itself.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from ingest.capture import final_hidden, logits_of
from ingest.confirmation import Confirmation, Head, confirm_by_ablation
from ingest.detectors.base import Detector, Probe
from ingest.detectors.repeated_tokens import RepeatedTokensDetector
from ingest.hookspecs import hookimpl
from ingest.interventions import replaced_head_outputs
from ingest.lens import ModelLens


class InductionDetector(RepeatedTokensDetector):
    name = "induction"
    version = "1"
    head_type = "induction-head"
    step_past_copy = 1
    rule = "top-fraction"
    threshold = 0.03
    threshold_source = (
        "InductionHead_24_arXiv_UoA (Crosbie & Shutova): induction heads are the top 3% of heads by "
        "prefix-matching score (their code, activation/mean_input.py; 1% in evaluator.py)"
    )

    def confirm(self, lens: ModelLens, heads: list[Head], *, seed: int) -> Confirmation:
        probe = self.inputs(lens.tokenizer, seed=seed)
        captured = lens.capture(probe.input_ids, probe.attention_mask)
        repeated = probe.queries  # [batch, pos] bool: the second copy
        means = captured.head_outputs[:, repeated].mean(dim=1)  # [layer, head, d_head]: over the repeated half

        def loss_with(sets: list[list[Head]]) -> Tensor:
            """[set, batch]: a pass per set, since the ablation spans the whole repeated half."""
            losses = []
            for ablated in sets:
                with replaced_head_outputs(lens, [list(head) for head in ablated], means, repeated):
                    losses.append(repeated_half_loss(lens, probe))  # [batch]
            return torch.stack(losses)

        return confirm_by_ablation(
            heads,
            loss_with,
            expected="raises",
            metric="mean next-token loss over the repeated half of each row of repeated random tokens",
            shape=(lens.n_layers, lens.n_heads),
            seed=seed,
        )


@torch.no_grad()
def repeated_half_loss(lens: ModelLens, probe: Probe) -> Tensor:
    """[batch]: each row's mean cross-entropy predicting the next token from the second copy's positions."""
    predicting = probe.queries.clone()  # [batch, pos]
    predicting[:, -1] = False  # the last token predicts nothing in the row
    positions = predicting.any(dim=0).nonzero().squeeze(1)  # [n_positions], sorted
    hidden = final_hidden(lens, input_ids=probe.input_ids, attention_mask=probe.attention_mask, use_cache=False)
    logits = logits_of(lens, hidden[:, positions.to(hidden.device)])  # [batch, n_positions, vocab]
    targets = probe.input_ids[:, positions + 1]  # [batch, n_positions]
    losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # [batch, n_positions]
    kept = predicting[:, positions].float()  # [batch, n_positions]
    return (losses * kept).sum(dim=1) / kept.sum(dim=1).clamp(min=1)


@hookimpl
def register_detectors() -> list[Detector]:
    return [InductionDetector()]
