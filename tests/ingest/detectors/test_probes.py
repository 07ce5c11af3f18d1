"""The document-start token (BOS policy), the switch that leaves it out, and the chat frame questions are asked in.

Each rule of `document_start` is pinned on a hand-built word-level tokenizer
that has exactly the features the rule reads; the bundled SmolLM2 pins the
real case the rules were written for.
"""

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from ingest.detectors.probes import (
    BOS_RULES,
    bos_policy,
    bos_prefix,
    chat_frame,
    document_start,
    encoded_texts,
    repeated_random_probe,
    without_bos,
)
from ingest.toy_models import toy_tokenizer

VOCABULARY = ["<|endoftext|>", "<s>", "<|im_start|>", "<|im_end|>", "a", "b"]
# A ChatML-like template: <|im_start|> before every message, as SmolLM2-Instruct's template writes it.
CHATML = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"


def word_tokenizer(*, prepends: bool = False, end_of_text: bool = True, **special: str) -> PreTrainedTokenizerFast:
    """A tokenizer over VOCABULARY; `prepends` adds <s> to every text, `special` names bos_token and the like."""
    words = VOCABULARY if end_of_text else VOCABULARY[1:]
    core = Tokenizer(models.WordLevel(vocab={word: i for i, word in enumerate(words)}, unk_token="a"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    if prepends:
        bos = [("<s>", words.index("<s>"))]
        core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=bos)
    extra = ["<|endoftext|>"] if end_of_text else []
    return PreTrainedTokenizerFast(tokenizer_object=core, additional_special_tokens=extra, **special)


def test_a_bos_the_tokenizer_prepends_is_the_document_start() -> None:
    start = document_start(word_tokenizer(prepends=True, bos_token="<s>"))
    assert (start.token, start.rule) == ("<s>", "prepended-by-tokenizer")


def test_a_named_bos_that_is_no_turn_marker_is_the_document_start() -> None:
    start = document_start(word_tokenizer(bos_token="<s>"))
    assert (start.token, start.rule) == ("<s>", "tokenizer-bos")


def test_a_bos_that_opens_every_chat_turn_gives_way_to_the_end_of_text_token() -> None:
    tokenizer = word_tokenizer(bos_token="<|im_start|>")
    tokenizer.chat_template = CHATML
    start = document_start(tokenizer)
    assert (start.token, start.token_id, start.rule) == ("<|endoftext|>", 0, "end-of-text")
    assert "<|im_start|>" in start.why


def test_without_any_bos_the_end_of_text_token_is_the_document_start() -> None:
    start = document_start(word_tokenizer())
    assert (start.token, start.rule) == ("<|endoftext|>", "end-of-text")


def test_a_named_bos_that_is_also_the_padding_token_is_no_document_start() -> None:
    # Qwen2.5-Instruct from GGUF: <|endoftext|> is both its named BOS and its padding.
    start = document_start(word_tokenizer(bos_token="<|endoftext|>", pad_token="<|endoftext|>"))
    assert (start.token, start.rule) == (None, "none")


def test_an_end_of_text_token_used_for_padding_is_no_document_start() -> None:
    assert document_start(word_tokenizer(pad_token="<|endoftext|>")).rule == "none"


def test_an_end_of_text_word_that_is_not_a_special_token_is_not_used() -> None:
    tokenizer = word_tokenizer(end_of_text=False)
    tokenizer.add_tokens(["<|endoftext|>"])  # an ordinary added word, not a special token
    assert document_start(tokenizer).rule == "none"


def test_a_tokenizer_with_no_candidate_gets_no_prefix() -> None:
    tokenizer = toy_tokenizer()
    assert document_start(tokenizer).rule == "none"
    assert bos_prefix(tokenizer) == []


def test_the_policy_record_names_token_id_rule_reason_and_whether_it_was_prepended() -> None:
    policy = bos_policy(word_tokenizer(bos_token="<s>"))
    assert policy == {
        "bos": "<s>",
        "bos_id": 1,
        "rule": "tokenizer-bos",
        "why": policy["why"],
        "prepended": True,
    }
    assert policy["rule"] in BOS_RULES and "<s>" in str(policy["why"])


def test_without_bos_leaves_the_document_start_out_and_says_so() -> None:
    tokenizer = word_tokenizer(bos_token="<s>", pad_token="<|im_end|>")
    with without_bos():
        assert bos_prefix(tokenizer) == []
        assert bos_policy(tokenizer)["prepended"] is False
        ids, _ = encoded_texts(tokenizer, ["a b"])
    assert ids.tolist() == [[4, 5]]
    assert bos_prefix(tokenizer) == [1]  # restored on leaving the block


def test_without_bos_is_restored_after_an_error() -> None:
    tokenizer = word_tokenizer(bos_token="<s>")
    with pytest.raises(RuntimeError), without_bos():
        raise RuntimeError("inside")
    assert bos_prefix(tokenizer) == [1]


def test_a_plain_tokenizer_asks_questions_after_the_document_start_only() -> None:
    frame = chat_frame(word_tokenizer(bos_token="<s>"))
    assert (frame.before, frame.after, frame.templated) == ([1], [], False)


def test_a_chat_template_that_writes_the_bos_itself_does_not_get_it_twice() -> None:
    tokenizer = word_tokenizer(prepends=True, bos_token="<s>")
    tokenizer.chat_template = "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['content'] }}{% endfor %}"
    frame = chat_frame(tokenizer)
    assert frame.before == [1, 2]  # <s> <|im_start|>
    with without_bos():
        assert chat_frame(tokenizer).before == [2]


@pytest.mark.model
def test_smollm2_starts_documents_with_endoftext_not_its_named_bos(smollm2) -> None:  # type: ignore[no-untyped-def]
    tokenizer = smollm2.tokenizer
    assert tokenizer.bos_token == "<|im_start|>"  # what the instruct tokenizer config names
    policy = bos_policy(tokenizer)
    assert (policy["bos"], policy["bos_id"], policy["rule"]) == ("<|endoftext|>", 0, "end-of-text")


@pytest.mark.model
def test_random_token_probes_start_with_the_document_start_unless_switched_off(smollm2) -> None:  # type: ignore[no-untyped-def]
    with_bos = repeated_random_probe(smollm2.tokenizer, seed=0, batch=2, n_tokens=8, lag=1)
    with without_bos():
        bare = repeated_random_probe(smollm2.tokenizer, seed=0, batch=2, n_tokens=8, lag=1)
    assert with_bos.input_ids[:, 0].tolist() == [0, 0]
    assert with_bos.input_ids[:, 1:].tolist() == bare.input_ids.tolist()
    assert with_bos.queries[:, 1:].tolist() == bare.queries.tolist()


@pytest.mark.model
def test_smollm2_frames_a_question_in_its_chat_template(smollm2) -> None:  # type: ignore[no-untyped-def]
    tokenizer = smollm2.tokenizer
    frame = chat_frame(tokenizer)
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Q?"}], tokenize=False, add_generation_prompt=True
    )
    question = tokenizer.encode("Q?", add_special_tokens=False)
    assert frame.templated
    assert tokenizer.decode(frame.before + question + frame.after) == "<|endoftext|>" + rendered


@pytest.mark.model
def test_a_long_retrieval_probe_holds_at_least_the_haystack_asked_for(smollm2) -> None:  # type: ignore[no-untyped-def]
    from ingest.detectors.retrieval import RetrievalDetector

    probe = RetrievalDetector(haystack_tokens=2000).inputs(smollm2.tokenizer, seed=0)
    needle = probe.needle_spans[:, 1] - probe.needle_spans[:, 0]  # [batch]
    assert (probe.haystack_ends - needle >= 2000).all()  # the haystack before the question, less the needle
    assert probe.targets[0, :, probe.needle_spans[0, 0] : probe.needle_spans[0, 1]].any()
