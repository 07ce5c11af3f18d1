"""Catalog reads: a head type in full, and filtered lists whose bad filters name the options."""

import pytest
from sqlmodel import Session

from catalog import crud
from catalog.errors import NotFoundError


def test_head_type_in_full_has_its_papers_relations_and_reported_heads(loaded: Session) -> None:
    induction = crud.get_head_type(session=loaded, slug="induction-head")
    assert induction.stage == "LR" and induction.mechanism == "lr-in-context-learning"
    assert induction.papers[0].key == "InductionHeads_22_TCT_Anthropic"
    assert {"gpt", "llama"} <= set(induction.survey_families)
    assert ("previous-token-head", "depends-on") in [(r.slug, r.relation) for r in induction.related]
    assert {"L5H5", "L6H9"} <= {h.label for h in induction.reported_heads if h.model == "gpt2-small"}


def test_unknown_head_type_is_not_found(loaded: Session) -> None:
    with pytest.raises(NotFoundError, match="No head type 'ghost-head'"):
        crud.get_head_type(session=loaded, slug="ghost-head")


def test_head_types_filter_by_stage_mechanism_and_family(loaded: Session) -> None:
    kr = crud.list_head_types(session=loaded, stage="kr")
    assert kr and {h.stage for h in kr} == {"KR"}
    syntactic = crud.list_head_types(session=loaded, mechanism="ici-syntactic-information")
    assert "name-mover-head" in {h.slug for h in syntactic}
    gemma = crud.list_head_types(session=loaded, family="gemma")
    assert "correct-letter-head" in {h.slug for h in gemma}


def test_reported_heads_filter_by_model_and_stage(loaded: Session) -> None:
    heads = crud.list_reported_heads(session=loaded, model="gpt2-small", stage="ICI")
    assert heads and {h.model for h in heads} == {"gpt2-small"}
    assert "name-mover-head" in {h.head_type for h in heads}


def test_unknown_filter_value_lists_the_valid_ones(loaded: Session) -> None:
    with pytest.raises(ValueError, match="Unknown model 'gpt3'; choose one of: .*gpt2-small"):
        crud.list_reported_heads(session=loaded, model="gpt3")


def test_paper_in_full_has_bibtex_and_head_types(loaded: Session) -> None:
    paper = crud.get_paper(session=loaded, key="IOI_23_ICLR_Redwood")
    assert paper.bibtex.startswith("@inproceedings{IOI_23_ICLR_Redwood")
    assert "name-mover-head" in paper.head_types


def test_stages_hold_their_mechanisms_in_survey_order(loaded: Session) -> None:
    stages = crud.list_stages(session=loaded)
    assert [s.code for s in stages] == ["KR", "ICI", "LR", "EP"]
    assert [len(s.mechanisms) for s in stages] == [2, 3, 3, 3]


def test_summary_counts_every_table(loaded: Session) -> None:
    counts = crud.catalog_summary(session=loaded).counts
    assert counts["stage"] == 4 and counts["run"] == 0
