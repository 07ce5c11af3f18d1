"""What the shipped catalog holds: the survey's whole taxonomy and primary papers' exact heads."""

import pytest
from sqlmodel import Session

from catalog import crud, datasets

# The survey's taxonomy figure: every head type it draws, by our slug.
SURVEY_FIGURE_HEAD_TYPES = {
    "associative-memory",
    "memory-head",
    "constant-head",
    "single-letter-head",
    "negative-head",
    "previous-token-head",
    "positional-head",
    "rare-words-head",
    "duplicate-token-head",
    "retrieval-head",
    "global-retrieval-head",
    "subword-merge-head",
    "syntactic-head",
    "negative-name-mover-head",
    "mover-head",
    "name-mover-head",
    "backup-name-mover-head",
    "letter-mover-head",
    "context-head",
    "content-gatherer-head",
    "sentiment-summarizer",
    "semantic-induction-head",
    "subject-head",
    "relation-head",
    "summary-reader",
    "function-vector-head",
    "induction-head",
    "truthfulness-head",
    "accuracy-head",
    "consistency-head",
    "vulnerable-head",
    "correct-letter-head",
    "iteration-head",
    "successor-head",
    "inhibition-head",
    "mixed-head",
    "amplification-head",
    "correct-head",
    "coherence-head",
    "faithfulness-head",
}

# The IOI circuit in GPT-2 small (Wang et al. 2022), 0-based layer.head.
IOI_CIRCUIT = {
    "name-mover-head": {"9.6", "9.9", "10.0"},
    "backup-name-mover-head": {"9.0", "9.7", "10.1", "10.2", "10.6", "10.10", "11.2", "11.9"},
    "negative-name-mover-head": {"10.7", "11.10"},
    "s-inhibition-head": {"7.3", "7.9", "8.6", "8.10"},
    "induction-head": {"5.5", "5.8", "5.9", "6.9"},
    "duplicate-token-head": {"0.1", "0.10", "3.0"},
    "previous-token-head": {"2.2", "4.11"},
}


def test_every_survey_figure_head_type_is_present(loaded: Session) -> None:
    figure = {h.slug for h in crud.list_head_types(session=loaded) if h.source == "survey-figure"}
    assert figure == SURVEY_FIGURE_HEAD_TYPES


def test_sixty_or_more_head_types(loaded: Session) -> None:
    assert len(crud.list_head_types(session=loaded)) >= 60


def test_extensions_are_marked_and_explained(loaded: Session) -> None:
    extensions = [h for h in crud.list_head_types(session=loaded) if h.source == "extension"]
    assert len(extensions) >= 20
    assert all(crud.get_head_type(session=loaded, slug=h.slug).extension_note for h in extensions)


def test_eighty_or_more_papers_with_bibtex(loaded: Session) -> None:
    assert crud.catalog_summary(session=loaded).counts["paper"] >= 80


def test_eleven_mechanisms(loaded: Session) -> None:
    assert len(crud.list_mechanisms(session=loaded)) == 11


@pytest.mark.parametrize("head_type", sorted(IOI_CIRCUIT))
def test_ioi_circuit_heads_are_exact(loaded: Session, head_type: str) -> None:
    heads = crud.list_reported_heads(session=loaded, paper="IOI_23_ICLR_Redwood", head_type=head_type)
    assert {f"{h.layer}.{h.head}" for h in heads} == IOI_CIRCUIT[head_type]
    assert all(h.model == "gpt2-small" and h.location for h in heads)


def test_copy_suppression_head_is_l10h7_of_gpt2_small(loaded: Session) -> None:
    heads = crud.list_reported_heads(session=loaded, head_type="copy-suppression-head", model="gpt2-small")
    assert "L10H7" in {h.label for h in heads}


def test_acdc_ioi_circuit_is_wang_et_als(loaded: Session) -> None:
    found: dict[str, set[str]] = {}
    for head in datasets.list_dataset_heads(session=loaded, slug="acdc-ioi-circuit"):
        found.setdefault(head.head_type, set()).add(f"{head.layer}.{head.head}")
    assert found == IOI_CIRCUIT


def test_2000_or_more_reported_heads_from_8_or_more_sources(loaded: Session) -> None:
    listed = datasets.list_datasets(session=loaded)
    reported = crud.list_reported_heads(session=loaded)
    assert sum(d.n_heads for d in listed) + len(reported) >= 2000
    assert len({d.paper.key for d in listed} | {r.paper for r in reported}) >= 8
