"""The probes' text material: reviewed word lists and sentences in data/, validated on load."""

from functools import cache
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import PreTrainedTokenizerBase

from catalog.strict_parsing import load_yaml, read_text
from ingest.detectors.base import Probe
from ingest.detectors.probes import bos_prefix, pad_id, pad_right, word_tokens

# Where the probe texts live.
DATA_DIR = Path(__file__).parent / "data"


class Sentences(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sentences: list[str] = Field(min_length=8)
    rare_words: list[str] = Field(min_length=4)


class SyntaxWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    adjectives: list[str] = Field(min_length=2)
    nouns: list[str] = Field(min_length=2)
    places: list[str] = Field(min_length=1)
    prepositions: list[str] = Field(min_length=1)
    verbs: list[str] = Field(min_length=2)
    objects: list[str] = Field(min_length=2)
    adverbs: list[str] = Field(min_length=1)


@cache
def sentences() -> Sentences:
    return Sentences.model_validate(load_yaml(read_text(DATA_DIR / "sentences.yaml")))


@cache
def syntax_words() -> SyntaxWords:
    return SyntaxWords.model_validate(load_yaml(read_text(DATA_DIR / "syntax.yaml")))


def words_of(sentence: str) -> list[str]:
    return sentence.split()


def sentence_batch(tokenizer: PreTrainedTokenizerBase, rows: list[list[str]]) -> tuple[Probe, list[list[int]]]:
    """Tokenize sentences given as word lists; returns a probe with no targets yet and each token's word.

    Word indices are -1 for the BOS prefix and for padding.
    """
    prefix = bos_prefix(tokenizer)
    token_rows, owner_rows = [], []
    for words in rows:
        ids, owners = word_tokens(tokenizer, words)
        token_rows.append(prefix + ids)
        owner_rows.append([-1] * len(prefix) + owners)
    input_ids, mask = pad_right(token_rows, pad_id(tokenizer))
    width = input_ids.shape[1]
    owner_rows = [owners + [-1] * (width - len(owners)) for owners in owner_rows]
    empty = Probe(
        input_ids=input_ids,
        attention_mask=mask,
        queries=torch.zeros(input_ids.shape, dtype=torch.bool),
        targets=torch.zeros((*input_ids.shape, width), dtype=torch.bool),
    )
    return empty, owner_rows
