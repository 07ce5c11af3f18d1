"""Copy suppression heads (McDougall et al. 2023): attend to a token the model is about to predict, and push it down.

McDougall et al. (Section 3.1) read the OV circuit on effective embeddings:
for GPT-2 small's L10H7, a token is among the 10 most suppressed of its own
readout for 84.7% of tokens, the readout covering GPT-2's whole vocabulary
(50,257 tokens). We score every head the same way, with the same cut-off: on
the 1,000 commonest English words that are one token, the share of words that
land among the 10 lowest logits of the model's whole vocabulary in their own
readout (ingest.circuits). The cut-off is the paper's count of tokens; on a
larger vocabulary (SmolLM2's 49,152, Qwen's 151,665, Gemma's 262,144) the same
count is a smaller share of it, so the test is as strict or stricter. Which
one should you use? This one finds self-suppressing heads from the weights;
the negative_name_mover detector finds heads that act against the answer on
IOI.
"""

import time
from weakref import WeakKeyDictionary

import torch
from torch import Tensor, nn
from wordfreq import top_n_list

from ingest.circuits import effective_embeddings, in_vocabulary_extremes, vocabulary_size
from ingest.detectors.base import Detector, Measurement
from ingest.detectors.tasks import single_token_words, token_id
from ingest.hookspecs import hookimpl
from ingest.lens import ModelLens

# Common words read, and how far down the whole vocabulary its own logit must land: McDougall's 10 lowest.
N_WORDS, BOTTOM = 1000, 10

# Per-word scores and baselines per model and seed: the test reads weights only, and backup_name_mover reuses it.
_MEASURED: WeakKeyDictionary[nn.Module, dict[int, tuple[Tensor, Tensor]]] = WeakKeyDictionary()


def common_word_tokens(tokenizer) -> Tensor:  # type: ignore[no-untyped-def]
    """[N_WORDS] ids of the commonest English words that are one token with a leading space."""
    words = [word for word in top_n_list("en", 5 * N_WORDS) if word.isalpha()]
    return torch.tensor([token_id(tokenizer, " " + word) for word in single_token_words(tokenizer, words)[:N_WORDS]])


class CopySuppressionDetector(Detector):
    name = "copy_suppression"
    version = "2"
    head_type = "copy-suppression-head"
    method = "scoring"  # an OV-circuit score on the weights
    threshold = 0.5
    threshold_source = (
        "headatlas convention on McDougall et al.'s test (CopySupression_23_arXiv_Google, Section 3.1: a token "
        "among the 10 lowest of its own OV readout over the whole vocabulary; L10H7 of GPT-2 small: 84.7% of "
        "tokens, reported without a cut-off): at least half of the words among the 10 lowest logits of the whole "
        "vocabulary"
    )
    baseline_description = "the same share for a different, randomly paired word"
    seeded_material = False  # the words are fixed; the seed moves only the pairing of the control

    def measure(self, lens: ModelLens, *, seed: int, score_at_chance: bool = False) -> Measurement:
        clock = time.perf_counter()
        known = _MEASURED.setdefault(lens.model, {})
        if seed not in known:
            known[seed] = _suppression_shares(lens, seed=seed)
        scores, baselines = known[seed]
        timings = {"score": time.perf_counter() - clock}  # near zero when backup_name_mover measured it first
        params = {"words": len(common_word_tokens(lens.tokenizer)), "vocabulary": vocabulary_size(lens)}
        return Measurement.of(scores.clone(), baselines.clone(), timings, params=params)

    def parameters(self) -> dict[str, object]:
        return {
            "words": f"{N_WORDS} commonest English words (wordfreq)",
            "bottom": BOTTOM,
            "ranked_among": "the whole vocabulary of the tokenizer",
        }


def copy_suppression_heads(lens: ModelLens) -> Tensor:
    """[layer, head] bool: the heads passing this detector's rule on the model, at seed 0 as its runs use by default.

    The words are the same at every seed (only the control's pairing moves), so one measurement serves every caller.
    """
    detector = CopySuppressionDetector()
    if detector.applies_to(lens) is not None:
        return torch.zeros(lens.n_layers, lens.n_heads, dtype=torch.bool)
    measured = detector.measure(lens, seed=0)
    return detector.decide(measured.scores, measured.baselines)[1]


def _suppression_shares(lens: ModelLens, *, seed: int) -> tuple[Tensor, Tensor]:
    """Per word, [word, layer, head] each: whether the word (and its paired word) is among the BOTTOM of its readout."""
    tokens = common_word_tokens(lens.tokenizer)  # [n]
    sources = effective_embeddings(lens, tokens)  # [n, d_model]
    pairing = torch.randperm(len(tokens), generator=torch.Generator().manual_seed(seed))  # [n]
    columns = torch.stack([tokens, tokens[pairing]], dim=1)  # [n, 2]: each word, and the word it is paired with

    def in_bottom(layer: int) -> Tensor:  # [head, n, 2]
        return in_vocabulary_extremes(lens, layer, sources, columns, k=BOTTOM, sides=("lowest",))["lowest"]

    hits = torch.stack([in_bottom(layer).float() for layer in range(lens.n_layers)])  # [layer, head, n, 2]
    return hits[..., 0].permute(2, 0, 1), hits[..., 1].permute(2, 0, 1)


@hookimpl
def register_detectors() -> list[Detector]:
    return [CopySuppressionDetector()]
