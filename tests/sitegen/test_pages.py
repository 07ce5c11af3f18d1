"""Each page says what the catalog holds, links its JSON twin, and keeps reported and verified apart."""

from pathlib import Path

import pytest
from sqlmodel import Session

from api.main import create_app
from api.settings import ApiSettings
from catalog.db import make_engine, upgrade
from catalog.schemas import ModelVerification
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData, read_site_data
from sitegen.figures import Figures, draw_all
from sitegen.pages.api_reference import render_api_reference, schema_anchor
from sitegen.pages.head_types import render_head_type_page
from sitegen.pages.home import COUNTED, SURVEY_KEY, render_home
from sitegen.pages.matrix import render_matrix_page
from sitegen.pages.methods import render_methods_page
from sitegen.pages.models import render_model_page
from sitegen.pages.papers import render_paper_page
from sitegen.pages.stages import render_stage_page

pytestmark = pytest.mark.model  # the test catalog holds real runs on SmolLM2

SMOLLM2 = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def figures(site_data: SiteData, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    return draw_all(site_data, tmp_path_factory.mktemp("docs"))


def section(page: str, title: str) -> str:
    """The text of one `## title` section of a page."""
    return page.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_a_head_type_page_links_its_json_twin(site_data: SiteData, figures: Figures) -> None:
    page = render_head_type_page(site_data.head_type("induction-head"), site_data, figures)
    assert 'api: "/api/v1/head-types/induction-head"' in page
    assert "JSON: [`/api/v1/head-types/induction-head`](/api/v1/head-types/induction-head)" in page


def test_a_head_type_page_keeps_reported_heads_and_verification_apart(site_data: SiteData, figures: Figures) -> None:
    page = render_head_type_page(site_data.head_type("induction-head"), site_data, figures)
    reported, verified = section(page, "Reported heads"), section(page, "Verification")
    assert "[`L5H5`](../models/gpt2-small/heads/L5H5.md)" in reported and "SmolLM2" not in reported
    assert "### GPT-2 small { #gpt2-small }" in verified and "### SmolLM2-135M-Instruct" in verified
    # Reported on GPT-2 small: L5H5 and L5H8 pass the hand-made run's threshold, L5H9 and L6H9 do not.
    assert "Heads papers report on this model: 2 confirmed, 2 contradicted." in verified


def test_a_head_type_page_shows_the_heatmap_of_every_run_that_tested_it(site_data: SiteData, figures: Figures) -> None:
    head_type = site_data.head_type("induction-head")
    page = render_head_type_page(head_type, site_data, figures)
    runs = [run for cell in head_type.verification for run in cell.runs]
    assert len(runs) == 2
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="atlas-heatmap"') == 2


def test_the_verification_numbers_are_the_catalogs(site_data: SiteData, figures: Figures) -> None:
    head_type = site_data.head_type("induction-head")
    cell = next(c for c in head_type.verification if c.model == SMOLLM2)
    page = render_head_type_page(head_type, site_data, figures)
    assert f"{cell.heads_found} of {cell.heads_scored} scored heads show the behaviour" in page
    assert f"[`{cell.best.label}`]" in section(page, "Verification")  # type: ignore[union-attr]


def test_a_head_type_no_run_tested_says_it_is_not_verified(site_data: SiteData, figures: Figures) -> None:
    page = render_head_type_page(site_data.head_type("name-mover-head"), site_data, figures)
    assert "No run in this catalog tests this head type yet" in section(page, "Verification")
    assert "9.9" in section(page, "Reported heads")  # what papers report is still shown


def test_a_head_type_not_verifiable_on_a_model_gives_the_reason(site_data: SiteData, figures: Figures) -> None:
    reason = "not verifiable on this model: it does the task at chance (12/48 = 25% against 25% by guessing)"
    cell = ModelVerification(
        model=SMOLLM2,
        family="llama",
        n_layers=30,
        detectors=["name_mover"],
        runs=[999],
        heads_scored=0,
        heads_found=0,
        found_layers=[],
        best=None,
        reported_confirmed=0,
        reported_contradicted=0,
        status="not-verifiable",
        reason=reason,
    )
    head_type = site_data.head_type("name-mover-head").model_copy(update={"verification": [cell]})
    verified = section(render_head_type_page(head_type, site_data, figures), "Verification")
    assert '!!! warning "Not verifiable on this model"' in verified
    assert "it does the task at chance (12/48 = 25% against 25% by guessing)" in verified
    assert "not found" not in verified


def test_a_model_page_has_a_heatmap_and_the_rule_for_each_run(site_data: SiteData, figures: Figures) -> None:
    model = site_data.model(SMOLLM2)
    page = render_model_page(model, site_data, figures)
    assert [grid.run.detector for grid in model.runs] == ["induction", "previous_token"]
    assert page.count('class="atlas-heatmap"') == len(model.runs)
    for grid in model.runs:
        assert f"{{ #run-{grid.run.id} }}" in page
        assert md.escape(str(grid.run.params["threshold_source"])) in page


def test_a_model_page_groups_its_runs_by_stage(site_data: SiteData, figures: Figures) -> None:
    page = render_model_page(site_data.model(SMOLLM2), site_data, figures)
    stages = [line for line in page.splitlines() if line.startswith("## ") and line.endswith(")")]
    assert stages == ["## In-Context Identification (ICI)", "## Latent Reasoning (LR)"]  # previous token, induction


def test_a_model_page_lists_the_heads_its_runs_found(site_data: SiteData, figures: Figures) -> None:
    model = site_data.model(SMOLLM2)
    found = {(v.layer, v.head) for grid in model.runs for v in grid.run.found}
    page = section(render_model_page(model, site_data, figures), "Heads our runs found")
    assert len(model.verified_heads) == len(found) > 0
    for layer, head in found:
        assert f"[`L{layer}H{head}`]({SMOLLM2}/heads/L{layer}H{head}.md)" in page


def test_a_model_without_runs_says_so(site_data: SiteData, figures: Figures) -> None:
    page = render_model_page(site_data.model("pythia-1.4b"), site_data, figures)
    assert "No run in this catalog has verified this model yet." in page
    assert "reported-heads.png" in section(page, "Heads papers report")


def test_a_paper_page_has_its_bibtex_and_the_heads_it_reports(site_data: SiteData) -> None:
    paper = next(p for p in site_data.papers if p.key == "IOI_23_ICLR_Redwood")
    page = render_paper_page(paper, site_data)
    assert f"```bibtex\n{paper.bibtex.strip()}\n```" in page
    assert "[Name Mover Head](../head-types/name-mover-head.md)" in section(page, "Cited for")
    assert "`9.9`" in section(page, "Heads it reports")


def test_a_stage_page_anchors_each_mechanism_for_head_type_pages(site_data: SiteData, figures: Figures) -> None:
    for stage in site_data.stages:
        page = render_stage_page(stage, site_data, figures)
        assert all(f"{{ #{m.slug} }}" in page for m in stage.mechanisms)
        assert links.relative(links.stage_page(stage.code), figures.depth[stage.code].path) in page


def test_the_methods_page_names_the_detectors_that_ran_under_their_method(site_data: SiteData) -> None:
    page = render_methods_page(site_data)
    scoring = page.split("{ #scoring }", 1)[1].split("#### ", 1)[0]
    assert "`induction` tests [Induction Head]" in scoring and "`previous_token`" in scoring
    ablation = page.split("{ #zero-ablation }", 1)[1].split("#### ", 1)[0]
    assert "No detector in this catalog has run with this method." in ablation


def test_the_methods_page_marks_a_method_headatlas_adds(site_data: SiteData) -> None:
    page = render_methods_page(site_data)
    attribution = page.split("{ #attribution-patching }", 1)[1].split("#### ", 1)[0]
    assert "Added by headatlas, beside the survey tables" in attribution and "2310.10348" in attribution
    zero = page.split("{ #zero-ablation }", 1)[1].split("#### ", 1)[0]
    assert "Added by headatlas" not in zero


def test_the_matrix_has_a_column_per_tested_model_and_lists_untested_types(site_data: SiteData) -> None:
    page = render_matrix_page(site_data)
    header = next(line for line in page.splitlines() if line.strip().startswith("| Head type |"))
    assert "GPT-2 small" in header and "SmolLM2-135M-Instruct" in header
    untested = section(page, "Not tested yet")
    assert "[Name Mover Head](head-types/name-mover-head.md)" in untested
    assert "(head-types/induction-head.md)" not in untested


def test_the_home_page_counts_are_the_catalogs_and_it_cites_the_survey(site_data: SiteData, figures: Figures) -> None:
    page = render_home(site_data, figures)
    counts = site_data.summary.counts
    for table, label, target in COUNTED:
        assert f"| [{label}]({target}) | {counts[table]} |" in page
    survey = site_data.paper(SURVEY_KEY)
    assert f"```bibtex\n{survey.bibtex.strip()}\n```" in section(page, "How to cite")


def test_a_home_page_built_from_an_empty_catalog_says_what_to_run(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(engine)
    with Session(engine) as session:
        empty = read_site_data(session)
    page = render_home(empty, draw_all(empty, tmp_path / "docs"))
    assert "This catalog is empty" in page and "`headatlas ingest knowledge`" in page


def test_a_verified_catalogs_home_page_gives_no_first_steps(site_data: SiteData, figures: Figures) -> None:
    page = render_home(site_data, figures)
    assert "This catalog is empty" not in page and "Nothing verified yet" not in page


def test_the_api_reference_lists_every_operation_of_the_openapi_document(site_catalog: str, tmp_path: Path) -> None:
    app = create_app(ApiSettings(database_url=site_catalog, site_dir=tmp_path))
    openapi = app.openapi()
    page = render_api_reference(openapi)
    operations = [(method, path) for path, item in openapi["paths"].items() for method in item]
    assert len(operations) > 20
    assert all(f"### `{method.upper()} {path}`" in page for method, path in operations)
    assert all(f"{{ #{schema_anchor(name)} }}" in page for name in openapi["components"]["schemas"])


def test_a_count_that_a_top_fraction_rule_caps_says_so(site_data: SiteData, figures: Figures) -> None:
    model_page = render_model_page(site_data.model(SMOLLM2), site_data, figures)
    induction, previous = (
        next(line for line in model_page.splitlines() if line.startswith(f"| [{name}]"))
        for name in ("induction", "previous\\_token")
    )
    assert "(its rule keeps at most the top 3%)" in induction and "at most" not in previous
    head_type_page = render_head_type_page(site_data.head_type("induction-head"), site_data, figures)
    assert "(a count its rule caps: at most the top 3% of heads)" in section(head_type_page, "Verification")
