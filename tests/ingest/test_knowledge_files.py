"""Each kind of bad knowledge file is rejected, naming the file, the entry and the field."""

from pathlib import Path

import pytest

from ingest.knowledge import load_knowledge
from ingest.knowledge_files import KnowledgeError, parse_head_index
from tests.utils.knowledge import edit_yaml, head_type


def rejected(knowledge_dir: Path, *fragments: str) -> None:
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(knowledge_dir)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_shipped_knowledge_loads(knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    assert {stage.code for stage in knowledge.stages.stages} == {"KR", "ICI", "LR", "EP"}


def test_invalid_yaml_is_rejected(knowledge_dir: Path) -> None:
    (knowledge_dir / "models.yaml").write_text("models: [unclosed\n")
    rejected(knowledge_dir, "models.yaml: not valid YAML")


def test_missing_file_is_rejected(knowledge_dir: Path) -> None:
    (knowledge_dir / "benchmarks.yaml").unlink()
    rejected(knowledge_dir, "benchmarks.yaml: missing")


def test_top_level_list_is_rejected(knowledge_dir: Path) -> None:
    (knowledge_dir / "papers.yaml").write_text("- a\n- b\n")
    rejected(knowledge_dir, "papers.yaml: expected a mapping at the top")


def test_unknown_field_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(colour="red"),
    )
    rejected(
        knowledge_dir,
        "head_types/lr.yaml",
        "slug 'induction-head'",
        "field 'colour'",
        "Extra inputs",
    )


def test_missing_field_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(knowledge_dir / "head_types/lr.yaml", lambda d: head_type(d, "induction-head").pop("qk"))
    rejected(knowledge_dir, "slug 'induction-head'", "field 'qk'", "Field required")


def test_unknown_stage_code_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(stage="XX"),
    )
    rejected(knowledge_dir, "slug 'induction-head'", "field 'stage'", "'KR', 'ICI', 'LR' or 'EP'")


def test_bad_slug_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(slug="Induction_Head"),
    )
    rejected(knowledge_dir, "head_types/lr.yaml", "field 'slug'", "pattern")


def test_unknown_survey_family_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(survey_families=["gpt5"]),
    )
    rejected(knowledge_dir, "field 'survey_families'", "'llama'")


def test_head_type_in_another_stage_file_is_rejected(knowledge_dir: Path) -> None:
    def move(data: dict) -> None:  # type: ignore[type-arg]
        head_type(data, "induction-head").update(stage="ICI", mechanism="ici-overall-structure")

    edit_yaml(knowledge_dir / "head_types/lr.yaml", move)
    rejected(knowledge_dir, "head_types/lr.yaml", "'induction-head'", "belong in head_types/ici.yaml")


def test_mechanism_of_another_stage_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head").update(mechanism="ici-overall-structure"),
    )
    rejected(
        knowledge_dir,
        "'induction-head'",
        "field 'mechanism'",
        "not a mechanism of stage LR",
        "lr-in-context-learning",
    )


def test_unknown_paper_key_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head")["papers"].append("Nobody_99"),
    )
    rejected(knowledge_dir, "'induction-head'", "field 'papers'", "'Nobody_99'", "papers.yaml")


def test_unknown_related_head_type_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head")["related"].append({"slug": "ghost-head", "relation": "feeds"}),
    )
    rejected(knowledge_dir, "field 'related'", "'ghost-head'")


def test_unknown_relation_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head")["related"].append(
            {"slug": "previous-token-head", "relation": "likes"}
        ),
    )
    rejected(knowledge_dir, "field 'relation'", "'depends-on'")


def test_duplicate_head_type_slug_is_rejected(knowledge_dir: Path) -> None:
    def duplicate(data: dict) -> None:  # type: ignore[type-arg]
        copy = dict(head_type(data, "induction-head"), name="Another Name", aliases=[])
        data["head_types"].append(copy)

    edit_yaml(knowledge_dir / "head_types/lr.yaml", duplicate)
    rejected(knowledge_dir, "head type slug given more than once: induction-head")


def test_alias_equal_to_another_name_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "induction-head")["aliases"].append("Name Mover Head"),
    )
    rejected(knowledge_dir, "name or alias given more than once: name mover head")


def test_extension_without_note_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "head_types/lr.yaml",
        lambda d: head_type(d, "s-inhibition-head").pop("extension_note"),
    )
    rejected(knowledge_dir, "'s-inhibition-head'", "field 'extension_note'")


def test_bibtex_key_differing_from_paper_key_is_rejected(knowledge_dir: Path) -> None:
    def rekey(data: dict) -> None:  # type: ignore[type-arg]
        paper = next(p for p in data["papers"] if p["key"] == "IOI_23_ICLR_Redwood")
        paper["bibtex"] = paper["bibtex"].replace("IOI_23_ICLR_Redwood", "Wang2022", 1)

    edit_yaml(knowledge_dir / "papers.yaml", rekey)
    rejected(knowledge_dir, "papers.yaml", "'IOI_23_ICLR_Redwood'", "field 'bibtex'", "'Wang2022'")


def edit_paper(knowledge_dir: Path, key: str, field: str, change) -> None:  # type: ignore[no-untyped-def]
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        paper = next(p for p in data["papers"] if p["key"] == key)
        paper[field] = change(paper[field])

    edit_yaml(knowledge_dir / "papers.yaml", edit)


def test_unbalanced_bibtex_is_rejected(knowledge_dir: Path) -> None:
    edit_paper(knowledge_dir, "IOI_23_ICLR_Redwood", "bibtex", lambda bibtex: bibtex.rstrip().rstrip("}"))
    rejected(knowledge_dir, "key 'IOI_23_ICLR_Redwood'", "field 'bibtex'", "ends before its closing '}'")


def test_bibtex_that_closes_early_is_rejected_where_it_goes_wrong(knowledge_dir: Path) -> None:
    edit_paper(
        knowledge_dir,
        "InductionHeads_22_TCT_Anthropic",
        "bibtex",
        lambda bibtex: bibtex.replace("induction heads}", "induction} heads}{"),
    )
    rejected(knowledge_dir, "key 'InductionHeads_22_TCT_Anthropic'", "field 'bibtex'", "line 2", "(at 'heads}{")


def test_a_duplicate_yaml_key_is_rejected_with_its_line(knowledge_dir: Path) -> None:
    path = knowledge_dir / "models.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    n_layers: 12\n", "    n_layers: 12\n    n_layers: 2\n", 1), encoding="utf-8")
    rejected(knowledge_dir, "models.yaml", "key 'n_layers' is given twice (first on line")


def test_a_control_character_in_a_title_is_rejected_naming_the_entry(knowledge_dir: Path) -> None:
    edit_paper(knowledge_dir, "IOI_23_ICLR_Redwood", "title", lambda title: title + "\x00")
    rejected(knowledge_dir, "papers.yaml", "key 'IOI_23_ICLR_Redwood'", "field 'title'", "control character")


def test_invalid_utf8_is_rejected_naming_the_file_and_line(knowledge_dir: Path) -> None:
    path = knowledge_dir / "head_types/lr.yaml"
    path.write_bytes(path.read_bytes().replace(b"induction", b"induc\xe9tion", 1))
    rejected(knowledge_dir, "head_types/lr.yaml: not UTF-8", "(line ")


def test_a_file_renamed_yml_is_rejected_not_skipped(knowledge_dir: Path) -> None:
    source = knowledge_dir / "reported_heads/ioi-gpt2-small.yaml"
    source.rename(source.with_suffix(".yml"))
    rejected(knowledge_dir, "reported_heads/ioi-gpt2-small.yml: not a knowledge file", "only .yaml files")


@pytest.mark.parametrize("stray", ["notes.txt", "models.yml", "head_types/misc.yaml", "datasets/list.json"])
def test_a_file_the_loader_would_not_read_is_rejected(knowledge_dir: Path, stray: str) -> None:
    (knowledge_dir / stray).write_text("a: 1\n", encoding="utf-8")
    rejected(knowledge_dir, f"{stray}: not a knowledge file")


def test_a_head_reported_in_two_files_is_rejected_naming_both(knowledge_dir: Path) -> None:
    original = knowledge_dir / "reported_heads/copy-suppression-gpt2-small.yaml"
    copy = knowledge_dir / "reported_heads/copy-suppression-again.yaml"
    copy.write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(copy, lambda d: d.update(groups=d["groups"][:1]))
    rejected(
        knowledge_dir,
        "reported_heads/copy-suppression-gpt2-small.yaml",
        "'L10H7' of gpt2-small is already reported for CopySupression_23_arXiv_Google in "
        "reported_heads/copy-suppression-again.yaml",
    )


@pytest.mark.parametrize("n_kv_heads", [5, 24])
def test_kv_heads_that_do_not_share_the_heads_evenly_are_rejected(knowledge_dir: Path, n_kv_heads: int) -> None:
    edit_yaml(knowledge_dir / "models.yaml", lambda d: d["models"][0].update(n_kv_heads=n_kv_heads))
    rejected(knowledge_dir, "models.yaml", "slug 'gpt2-small'", f"{n_kv_heads} KV heads cannot be shared evenly")


def test_a_published_list_with_a_key_given_twice_is_rejected(knowledge_dir: Path) -> None:
    path = knowledge_dir / "datasets/retrieval-head-scores/Yi-6B-200K.json"
    text = path.read_text(encoding="utf-8")
    first_key = text[: text.index(":")]
    path.write_text(text.replace("{", "{" + first_key.lstrip("{") + ": [], ", 1), encoding="utf-8")
    rejected(knowledge_dir, "datasets/retrieval-head-scores/dataset.yaml: list 'Yi-6B-200K.json'", "given twice")


def test_reported_head_outside_the_model_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "reported_heads/ioi-gpt2-small.yaml",
        lambda d: d["groups"][0]["heads"].append("12.0"),
    )
    rejected(
        knowledge_dir,
        "reported_heads/ioi-gpt2-small.yaml",
        "'12.0'",
        "outside gpt2-small's 12 layers × 12 heads",
    )


def test_unreadable_head_index_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(
        knowledge_dir / "reported_heads/ioi-gpt2-small.yaml",
        lambda d: d["groups"][0]["heads"].append("nine.nine"),
    )
    rejected(knowledge_dir, "reported_heads/ioi-gpt2-small.yaml", "'nine.nine' is not of the form")


def test_reported_head_of_unknown_model_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(knowledge_dir / "reported_heads/ioi-gpt2-small.yaml", lambda d: d.update(model="gpt-5"))
    rejected(knowledge_dir, "field 'model'", "'gpt-5'", "models.yaml")


def test_same_head_reported_twice_for_a_type_is_rejected(knowledge_dir: Path) -> None:
    def repeat(data: dict) -> None:  # type: ignore[type-arg]
        group = data["groups"][0]
        group["heads"].append(group["heads"][0])

    edit_yaml(knowledge_dir / "reported_heads/ioi-gpt2-small.yaml", repeat)
    rejected(knowledge_dir, "reported_heads/ioi-gpt2-small.yaml", "reported more than once")


@pytest.mark.parametrize(
    ("printed", "expected"),
    [("9.9", (9, 9)), ("L10H7", (10, 7)), ("L3.H0", (3, 0)), ("(11, 10)", (11, 10))],
)
def test_head_index_notations_are_read(printed: str, expected: tuple[int, int]) -> None:
    assert parse_head_index(printed) == expected


def test_index_zero_is_rejected_when_the_paper_counts_from_one(knowledge_dir: Path) -> None:
    def one_based(data: dict) -> None:  # type: ignore[type-arg]
        data["index_base"] = 1
        data["groups"] = [{**data["groups"][0], "heads": ["1.1", "0.0"]}]

    edit_yaml(knowledge_dir / "reported_heads/ioi-gpt2-small.yaml", one_based)
    rejected(knowledge_dir, "'0.0' (base 1) is outside")


def _method(data: dict, slug: str) -> dict:  # type: ignore[type-arg]
    methods = (m for family in data["families"] for kind in family["kinds"] for m in kind["methods"])
    return next(m for m in methods if m["slug"] == slug)


def test_method_extension_without_note_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(knowledge_dir / "methods.yaml", lambda d: _method(d, "attribution-patching").pop("extension_note"))
    rejected(knowledge_dir, "methods.yaml", "slug 'attribution-patching'", "field 'extension_note'")


def test_extension_note_on_a_survey_method_is_rejected(knowledge_dir: Path) -> None:
    edit_yaml(knowledge_dir / "methods.yaml", lambda d: _method(d, "mean-ablation").update(extension_note="ours"))
    rejected(knowledge_dir, "slug 'mean-ablation'", "only an extension has one")


def test_attribution_patching_is_a_method_of_our_own_that_cites_its_sources(knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    methods = {m.slug: m for f in knowledge.methods.families for k in f.kinds for m in k.methods}
    added = methods["attribution-patching"]
    assert added.source == "extension" and added.extension_note is not None
    assert "Nanda" in added.extension_note and "2310.10348" in added.extension_note
    assert {m.source for slug, m in methods.items() if slug != "attribution-patching"} == {"survey-table"}
