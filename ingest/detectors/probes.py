"""Building blocks for seeded probe inputs: the document start, the chat frame, random tokens, padding.

Every probe starts with the token its model saw before each training document
(`document_start`, one decision for all probes, read from the tokenizer):

1. a BOS the tokenizer prepends by itself: its configuration asks for one
   before every text, so training put one there (Gemma 3's `<bos>`, Llama's);
2. else a BOS the tokenizer names without prepending, unless the chat template
   writes it before every turn;
3. else the end-of-text token `<|endoftext|>` of GPT-2's byte-level BPE and the
   vocabularies built after it, if the tokenizer defines it as a special token.
   SmolLM2-Instruct's tokenizer config names `<|im_start|>` its BOS, but its
   chat template opens every turn with it; the SmolLM team use no BOS and
   separate pretraining files with the end-of-text token (huggingface/smollm
   issue 110), which the SmolLM base checkpoints name as BOS and EOS (id 0);
4. else nothing (the parity toy, trained on bare sequences).

Rules 2 and 3 skip the tokenizer's padding token: a model is tuned with
padding masked out, so it never learns to read that token as a start.
Qwen2.5-Instruct pads with `<|endoftext|>`, which its GGUF metadata also names
as BOS; the Qwen maintainers say no BOS is added to inputs (QwenLM/Qwen3 issue
486, QwenLM/Qwen issue 427), and on Qwen2.5-Coder-0.5B-Instruct that token in
front wrecks the tasks (seed 0, with -> without: capital recall 17/29 -> 29/29,
IOI 39/48 -> 48/48, restatement 3/29 -> 28/29), so Qwen's probes start with
nothing. On SmolLM2 the end-of-text token changes no task by more than one
prompt; Gemma 3 needs its `<bos>` (IOI 48/48 -> 4/48 without it).

Attention-sink counts depend on that first token (Xiao et al. 2024), so it is
recorded with every run (`bos_policy`), and `without_bos()` builds the same
probes without it, for measuring how much a detector depends on it
(bench/bos_sensitivity.py).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

import jinja2
import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from ingest.detectors.base import Probe

# Lowest token id sampled for random sequences: skips bytes and special tokens at the start of most vocabularies.
FIRST_ORDINARY_TOKEN = 256
# The end-of-text token of GPT-2's byte-level BPE and its successors (GPT-NeoX, StarCoder and SmolLM, Qwen2),
# whose pretraining puts it between documents.
END_OF_TEXT = "<|endoftext|>"
# Stands in for a question while the chat template is rendered, then split on.
CHAT_SLOT = "{QUESTION}"

# Which rule of `document_start` chose the token.
BosRule = Literal["prepended-by-tokenizer", "tokenizer-bos", "end-of-text", "none"]
BOS_RULES: list[BosRule] = ["prepended-by-tokenizer", "tokenizer-bos", "end-of-text", "none"]

# Off inside `without_bos()`: probes then start with their first real token.
_PREPEND_BOS: ContextVar[bool] = ContextVar("prepend_bos", default=True)


@dataclass(frozen=True)
class DocumentStart:
    """The token a model saw before every training document, and why we think so."""

    token: str | None
    token_id: int | None
    rule: BosRule
    why: str


def document_start(tokenizer: PreTrainedTokenizerBase) -> DocumentStart:
    """The document-start token of the model behind `tokenizer` (see the module docstring for the rules)."""
    bos, bos_id = tokenizer.bos_token, tokenizer.bos_token_id
    if bos is not None and bos_id is not None:
        ids = tokenizer("a").input_ids
        if ids and ids[0] == bos_id:
            why = f"the tokenizer prepends its BOS {bos} to every text, so training saw it before each document"
            return DocumentStart(bos, bos_id, "prepended-by-tokenizer", why)
        if not _opens_every_turn(tokenizer, bos) and bos_id != tokenizer.pad_token_id:
            why = (
                f"the tokenizer names {bos} its BOS without prepending it, and the chat template does not open "
                "every turn with it, so it is taken as the document start"
            )
            return DocumentStart(bos, bos_id, "tokenizer-bos", why)
    end_id = _special_token_id(tokenizer, END_OF_TEXT)
    if end_id is not None and end_id != tokenizer.pad_token_id:
        named = f"its BOS {bos} opens every chat turn" if bos is not None else "it names no BOS"
        why = (
            f"the tokenizer does not prepend a BOS and {named}; it defines {END_OF_TEXT}, the end-of-text token "
            "that GPT-2-style pretraining puts between documents, so that token stands before each one"
        )
        return DocumentStart(END_OF_TEXT, end_id, "end-of-text", why)
    why = (
        "the tokenizer prepends no BOS, names none that starts documents (a token it pads with does not), and has no "
        "end-of-text token other than its padding"
    )
    return DocumentStart(None, None, "none", why)


def _opens_every_turn(tokenizer: PreTrainedTokenizerBase, token: str) -> bool:
    """Whether the chat template writes `token` before each message (ChatML's <|im_start|>): a turn marker."""
    if not tokenizer.chat_template:
        return False
    chat = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    try:
        rendered = tokenizer.apply_chat_template(chat, tokenize=False)
    except (jinja2.TemplateError, ValueError):  # a template that refuses this chat says nothing about the token
        return False
    return isinstance(rendered, str) and rendered.count(token) >= len(chat)


def _special_token_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int | None:
    """The id of `token` if the tokenizer defines it as a special token of its own (not as an unknown word)."""
    for token_id, added in tokenizer.added_tokens_decoder.items():
        if added.content == token and added.special:
            return token_id
    return None


def bos_prefix(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The document-start token every probe begins with, or nothing inside `without_bos()` or when there is none."""
    start = document_start(tokenizer)
    return [start.token_id] if _PREPEND_BOS.get() and start.token_id is not None else []


def bos_policy(tokenizer: PreTrainedTokenizerBase) -> dict[str, object]:
    """What a run records about its probes' first token: which, its id, the rule, why, and whether it was prepended."""
    start = document_start(tokenizer)
    return {
        "bos": start.token,
        "bos_id": start.token_id,
        "rule": start.rule,
        "why": start.why,
        "prepended": _PREPEND_BOS.get() and start.token_id is not None,
    }


@contextmanager
def without_bos() -> Iterator[None]:
    """Build probes without the document-start token inside this block (a sensitivity measurement, not a default)."""
    reset = _PREPEND_BOS.set(False)
    try:
        yield
    finally:
        _PREPEND_BOS.reset(reset)


@dataclass(frozen=True)
class ChatFrame:
    """The tokens around a question: before it, and between it and the answer prefix the detector writes.

    With a chat template, `before` is the document start and the template's
    header up to the user's message, `after` closes the user turn and opens the
    assistant's (add_generation_prompt); without one, `before` is the document
    start and `after` is empty.
    """

    before: list[int]
    after: list[int]
    templated: bool


def chat_frame(tokenizer: PreTrainedTokenizerBase) -> ChatFrame:
    """The frame a question is asked in: the tokenizer's chat template when it has one, else plain text.

    Instruct models are trained to answer inside their chat template; asked a
    question as bare text, a small one may end the turn instead of answering.
    """
    if not tokenizer.chat_template:
        return ChatFrame(bos_prefix(tokenizer), [], templated=False)
    chat = [{"role": "user", "content": CHAT_SLOT}]
    rendered = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    if not isinstance(rendered, str) or rendered.count(CHAT_SLOT) != 1:
        raise ValueError(f"The chat template does not hold the user's message once: {rendered!r}")
    header, footer = rendered.split(CHAT_SLOT)
    before = tokenizer.encode(header, add_special_tokens=False)
    start = document_start(tokenizer).token_id
    if start is not None and before[:1] == [start]:  # templates that write the BOS themselves (Gemma, Llama 3)
        before = before[1:]
    return ChatFrame(bos_prefix(tokenizer) + before, tokenizer.encode(footer, add_special_tokens=False), templated=True)


def random_tokens(tokenizer: PreTrainedTokenizerBase, shape: tuple[int, int], *, seed: int) -> Tensor:
    """Uniform random ordinary tokens, [batch, pos], no special token among them."""
    generator = torch.Generator().manual_seed(seed)
    high = len(tokenizer)
    tokens = torch.randint(FIRST_ORDINARY_TOKEN, high, shape, generator=generator)  # [batch, pos]
    special = torch.tensor(sorted(set(tokenizer.all_special_ids)))
    while (clash := torch.isin(tokens, special)).any():
        tokens[clash] = torch.randint(FIRST_ORDINARY_TOKEN, high, (int(clash.sum()),), generator=generator)
    return tokens


def with_prefix(tokens: Tensor, prefix: list[int]) -> Tensor:
    """Prepend the same prefix to every row: [batch, pos] -> [batch, len(prefix) + pos]."""
    if not prefix:
        return tokens
    return torch.cat([torch.tensor(prefix).expand(tokens.shape[0], -1), tokens], dim=1)


def word_tokens(tokenizer: PreTrainedTokenizerBase, words: Sequence[str]) -> tuple[list[int], list[int]]:
    """Tokenize a sentence word by word, so that each token knows its word.

    Returns the token ids and, per token, the index of its word.
    """
    ids: list[int] = []
    owners: list[int] = []
    for index, word in enumerate(words):
        pieces = tokenizer.encode(word if index == 0 else " " + word, add_special_tokens=False)
        ids += pieces
        owners += [index] * len(pieces)
    return ids, owners


def pad_right(rows: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """Stack rows of unequal length: ids [batch, pos] and attention mask [batch, pos]."""
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad_id)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, tokens in enumerate(rows):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    return ids, mask


def encoded_texts(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
    """Each text after the document start (bos_prefix), right-padded: ids [batch, pos] and mask [batch, pos]."""
    rows = [bos_prefix(tokenizer) + tokenizer.encode(text, add_special_tokens=False) for text in texts]
    return pad_right(rows, pad_id(tokenizer))


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def repeated_random_probe(
    tokenizer: PreTrainedTokenizerBase,
    *,
    seed: int,
    batch: int,
    n_tokens: int,
    lag: int,
    repeat: bool = True,
) -> Probe:
    """Random tokens written twice: [BOS] x_1..x_n x_1..x_n.

    Queries are the second copy; each targets the key `lag` positions back
    (lag n: the same token's first occurrence; lag n-1: the token after it).
    With repeat=False the second half is fresh random tokens: the same
    positions, but no reason to attend there.
    """
    first = random_tokens(tokenizer, (batch, n_tokens), seed=seed)  # [batch, n]
    second = first if repeat else random_tokens(tokenizer, (batch, n_tokens), seed=seed + 1)
    prefix = bos_prefix(tokenizer)
    input_ids = with_prefix(torch.cat([first, second], dim=1), prefix)  # [batch, len(prefix) + 2n]
    n_pos = input_ids.shape[1]
    queries = torch.zeros((batch, n_pos), dtype=torch.bool)
    targets = torch.zeros((batch, n_pos, n_pos), dtype=torch.bool)
    start = len(prefix) + n_tokens  # first position of the second copy
    for q in range(start, n_pos):
        if q - lag >= len(prefix):
            queries[:, q] = True
            targets[:, q, q - lag] = True
    return Probe(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        queries=queries,
        targets=targets,
    )
