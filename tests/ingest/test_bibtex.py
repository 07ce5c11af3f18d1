"""A BibTeX entry is parsed, not brace-counted: one that closes early, runs on or repeats a field is refused."""

import pytest

from ingest.bibtex import BibtexError, parse_bibtex

ENTRY = """@article{InductionHeads_22_TCT_Anthropic,
  title={In-context learning and {Induction} heads},
  author = "Olsson, Catherine and Elhage, Nelson",
  journal=jan # " 2022",
  year = 2022,
}
"""


def test_an_entry_gives_its_type_key_and_fields() -> None:
    entry = parse_bibtex(ENTRY)
    assert (entry.entry_type, entry.key) == ("article", "InductionHeads_22_TCT_Anthropic")
    assert entry.fields == {
        "title": "In-context learning and {Induction} heads",
        "author": "Olsson, Catherine and Elhage, Nelson",
        "journal": "jan 2022",
        "year": "2022",
    }


def test_a_last_field_without_a_trailing_comma_is_accepted() -> None:
    assert parse_bibtex("@misc{k, year = {2021}}").fields == {"year": "2021"}


def test_a_title_that_closes_early_is_refused_where_it_goes_wrong() -> None:
    with pytest.raises(BibtexError, match=r"line 2, column 45 \(at 'heads}"):
        parse_bibtex("@article{k,\n  title={In-context learning and induction} heads},\n  year={2022}\n}")


def test_a_missing_closing_brace_is_refused() -> None:
    with pytest.raises(BibtexError, match="ends before its closing"):
        parse_bibtex(ENTRY.rstrip().rstrip("}"))


def test_an_unclosed_value_is_refused() -> None:
    with pytest.raises(BibtexError, match="never closed"):
        parse_bibtex("@article{k, title={In-context {learning}")


def test_text_after_the_entry_is_refused() -> None:
    with pytest.raises(BibtexError, match="nothing may follow"):
        parse_bibtex(ENTRY + "}\n")


def test_a_field_given_twice_is_refused_whatever_its_case() -> None:
    with pytest.raises(BibtexError, match="field 'title' is given twice"):
        parse_bibtex("@article{k, title={a}, Title={b}}")


def test_a_field_without_a_value_is_refused() -> None:
    with pytest.raises(BibtexError, match="expected a value"):
        parse_bibtex("@article{k, title=, year={2022}}")
