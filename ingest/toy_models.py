"""Toy models for the survey's simplified-model method: small transformers trained here on one synthetic task.

Cabannes et al. (2024, "Iteration Head") train a two-layer transformer to
compute parity with a chain of thought: bits x_1..x_n, an end-of-input token,
then y_1..y_n with y_t = y_{t-1} XOR x_t (y_0 = 0). Its second layer learns an
iteration head: at the position that predicts y_t it attends to x_t, the bit
being iterated over. We train such a model on the CPU (seeded, about two
minutes on two cores), save it as an ordinary checkpoint folder with a
word-level tokenizer, and load it like any other model; its config marks it
as a toy, so the catalog records it as a model of kind "toy".
"""

import logging
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PretrainedConfig, PreTrainedTokenizerFast

from ingest.checkpoint_folders import save_checkpoint
from ingest.toy_checkpoint import (
    BATCH,
    CHECK_EVERY,
    LEARNING_RATE,
    MAX_STEPS,
    STEPS,
    TARGET_ACCURACY,
    VALIDATION_SEED,
    trained_toy_folder,
)

logger = logging.getLogger(__name__)

VOCABULARY = ["[PAD]", "[EOS]", "0", "1", "="]  # "=" ends the input bits
# Sequence lengths trained on, and the model (the schedule is in ingest.toy_checkpoint; a few minutes of CPU).
MIN_BITS, MAX_BITS = 4, 12
# Lengths are mixed within each batch: with one length per batch the model stays at chance.
LAYERS, HEADS, WIDTH = 2, 1, 128
TOY_TASK = "parity with a chain of thought (Cabannes et al. 2024)"
TOY_MARK = "headatlas_toy"  # the config attribute that names a toy's task


def parity_sequences(generator: torch.Generator, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows 'x_1 .. x_n = y_1 .. y_n [EOS]' of random lengths n, right-padded: ids and labels, [batch, 2 MAX_BITS + 2].

    Labels keep the chain of thought only (y_1 .. y_n and [EOS]): the input bits are random.
    """
    pad, eos, zero, eoi = (VOCABULARY.index(token) for token in ("[PAD]", "[EOS]", "0", "="))
    lengths = torch.randint(MIN_BITS, MAX_BITS + 1, (batch,), generator=generator)  # [batch]
    bits = torch.randint(0, 2, (batch, MAX_BITS), generator=generator)  # [batch, MAX_BITS]
    ids = torch.full((batch, 2 * MAX_BITS + 2), pad)
    labels = torch.full_like(ids, -100)
    for row, n in enumerate(lengths.tolist()):
        x = bits[row, :n]
        sequence = torch.cat([x + zero, torch.tensor([eoi]), x.cumsum(0) % 2 + zero, torch.tensor([eos])])
        ids[row, : len(sequence)] = sequence
        labels[row, n + 1 : len(sequence)] = sequence[n + 1 :]
    return ids, labels


def train_iteration_toy(output_dir: Path, *, seed: int = 0) -> Path:
    """Train the parity model and save it (model and tokenizer) into `output_dir`, atomically."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(VOCABULARY),
        n_positions=2 * MAX_BITS + 2,
        n_layer=LAYERS,
        n_head=HEADS,
        n_embd=WIDTH,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=VOCABULARY.index("[EOS]"),
        eos_token_id=VOCABULARY.index("[EOS]"),
        pad_token_id=VOCABULARY.index("[PAD]"),
    )
    setattr(config, TOY_MARK, TOY_TASK)  # marks the checkpoint as a toy: the catalog records kind "toy"
    model = GPT2LMHeadModel(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    _train(model, optimiser, generator, STEPS)
    steps = STEPS
    while steps < MAX_STEPS and parity_accuracy(model, seed=VALIDATION_SEED) < TARGET_ACCURACY:
        _train(model, optimiser, generator, CHECK_EVERY)
        steps += CHECK_EVERY
    model.eval()
    logger.info("Iteration toy trained for %d steps", steps)
    save_checkpoint(model, toy_tokenizer(), output_dir)
    return output_dir


def _train(model: GPT2LMHeadModel, optimiser: torch.optim.Optimizer, generator: torch.Generator, steps: int) -> None:
    for _ in range(steps):
        ids, labels = parity_sequences(generator, BATCH)
        loss = model(input_ids=ids, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


@torch.no_grad()
def parity_accuracy(model: GPT2LMHeadModel, *, seed: int, batch: int = 512) -> float:
    """Share of the running parities y_t predicted right, teacher-forced, on fresh sequences of every trained length."""
    ids, labels = parity_sequences(torch.Generator().manual_seed(seed), batch)
    predicted = model(input_ids=ids).logits.argmax(-1)[:, :-1]  # [batch, pos - 1]: position p predicts token p + 1
    targets = labels[:, 1:]
    scored = (targets != -100) & (targets != VOCABULARY.index("[EOS]"))
    return float((predicted == targets)[scored].float().mean())


def toy_tokenizer() -> PreTrainedTokenizerFast:
    vocabulary = {token: index for index, token in enumerate(VOCABULARY)}
    core = Tokenizer(models.WordLevel(vocab=vocabulary, unk_token="[PAD]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="[PAD]", eos_token="[EOS]")


def toy_task(config: PretrainedConfig) -> str | None:
    """The synthetic task a toy was trained on, None for any other model."""
    return getattr(config, TOY_MARK, None)


def iteration_toy_folder(cache_dir: Path, *, seed: int = 0) -> Path:
    """The trained toy's folder, training it on first use."""
    folder = trained_toy_folder(cache_dir, seed=seed)
    if not (folder / "config.json").is_file():
        logger.warning("Training the iteration toy model once (about two minutes); later loads use %s", folder)
        train_iteration_toy(folder, seed=seed)
    return folder
