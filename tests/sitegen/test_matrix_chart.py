"""The transferability matrix as an SVG figure: what each cell shows of one head type on one model, and where it links.

Specified on a minimal hand-built SiteData (one stage, a head type or two, one
or two models whose runs are one-head grids), with no model and no catalog.
"""

import xml.etree.ElementTree as ET

import pytest

from catalog.schemas import (
    BestHead,
    CatalogSummary,
    MatrixModel,
    MatrixRow,
    ModelVerification,
    StagePublic,
    TransferabilityMatrix,
)
from sitegen.data import ModelData, RunGrid, SiteData
from sitegen.figures.matrix_chart import (
    CAPPED,
    NO_VERDICT_FILL,
    NO_VERDICT_STROKE,
    NOT_APPLICABLE_FILL,
    NOT_FOUND_FILL,
    matrix_chart,
)
from sitegen.figures.svg import EMPTY_FILL, EMPTY_STRIKE
from tests.utils.site_objects import a_model, a_run

NS = "{http://www.w3.org/2000/svg}"
# The red of the depth ticks on a found cell's foot.
TICK_RED = "#d50000"


# --- Helpers ------------------------------------------------------------------------------------------------------


def a_grid(run_id: int, model: str, rule: str) -> RunGrid:
    run = a_run(run_id, model=model, rule=rule)
    return RunGrid(run, "induction-head", 1, 1, [[0.5]], 0.5, frozenset(), frozenset())


def model_data(slug: str, rules: dict[int, str] | None = None) -> ModelData:
    """A model whose runs (by id) used these rules; by default one run, id 1, under an at-least rule."""
    runs = [a_grid(run_id, slug, rule) for run_id, rule in (rules or {1: "at-least"}).items()]
    return ModelData(model=a_model(slug, n_layers=5, n_heads=1), runs=runs, heads=[], reported=[])


def a_cell(
    model: str = "a",
    *,
    status: str = "tested",
    scored: int = 90,
    found: int = 0,
    layers: tuple[int, ...] = (),
    runs: tuple[int, ...] = (1,),
    best: BestHead | None = None,
    reason: str | None = None,
) -> ModelVerification:
    return ModelVerification(
        model=model,
        family="toy",
        n_layers=5,
        detectors=["induction"],
        runs=list(runs),
        heads_scored=scored,
        heads_found=found,
        found_layers=list(layers),
        best=best,
        reported_confirmed=0,
        reported_contradicted=0,
        status=status,
        reason=reason,
    )


def found_cell(
    model: str = "a", *, layers: tuple[int, ...] = (0, 2, 4, 4), runs: tuple[int, ...] = (1,)
) -> ModelVerification:
    """A head found in each of these layers, of 90 scored; by default four, at relative depths 0, 0.5, 1 and 1."""
    best = BestHead(layer=4, head=0, score=0.9)
    return a_cell(model, found=len(layers), layers=layers, runs=runs, best=best)


def a_row(*cells: ModelVerification, slug: str = "induction-head", name: str = "Induction Head") -> MatrixRow:
    return MatrixRow(head_type=slug, name=name, stage="LR", survey_families=["middle"], cells=list(cells))


def site(rows: list[MatrixRow], models: list[ModelData] | None = None) -> SiteData:
    models = models if models is not None else [model_data("a")]
    stages = [
        StagePublic(code="KR", name="Knowledge Recalling", position=1, summary="", survey_section="", mechanisms=[]),
        StagePublic(code="LR", name="Latent Reasoning", position=2, summary="", survey_section="", mechanisms=[]),
    ]
    columns = [MatrixModel(slug=m.model.slug, family=m.model.family, n_layers=m.model.n_layers) for m in models]
    return SiteData(
        summary=CatalogSummary(counts={}),
        stages=stages,
        head_types=[],
        models=models,
        papers=[],
        method_families=[],
        methods=[],
        benchmarks=[],
        datasets=[],
        matrix=TransferabilityMatrix(models=columns, rows=rows),
    )


def chart(data: SiteData, here: str = "matrix.md") -> ET.Element:
    figure = matrix_chart(data, here)
    start, end = figure.index("<svg"), figure.index("</svg>") + len("</svg>")
    return ET.fromstring(figure[start:end])


def cells(picture: ET.Element) -> dict[str, ET.Element]:
    """The chart's cells (its links with a readout), by the model their link's anchor names."""
    return {a.get("href").partition("#")[2]: a for a in picture.iter(f"{NS}a") if a.get("data-readout")}


def only_cell(data: SiteData) -> ET.Element:
    (cell,) = cells(chart(data)).values()
    return cell


def box(cell: ET.Element) -> ET.Element:
    return cell.find(f"{NS}rect")


def words(cell: ET.Element) -> str:
    return cell.find(f"{NS}text").text


def ticks(cell: ET.Element) -> list[float]:
    """The x of each red depth tick on a cell's foot, left to right."""
    return sorted(float(line.get("x1")) for line in cell.iter(f"{NS}line") if line.get("stroke") == TICK_RED)


def look(cell: ET.Element) -> tuple[str | None, str | None, str | None, bool]:
    """What sets a cell apart at a glance: its fill, its stroke, whether dashed, whether struck through."""
    rect = box(cell)
    struck = any(line.get("stroke") == EMPTY_STRIKE for line in cell.iter(f"{NS}line"))
    return rect.get("fill"), rect.get("stroke"), rect.get("stroke-dasharray"), struck


def luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


# --- Cells --------------------------------------------------------------------------------------------------------


def test_a_found_cell_reads_the_heads_found_over_the_heads_scored() -> None:
    assert words(only_cell(site([a_row(found_cell())]))) == "4 / 90"


def test_a_found_cell_draws_a_red_tick_per_found_layer_at_its_relative_depth_the_first_layer_at_the_left() -> None:
    cell = only_cell(site([a_row(found_cell())]))
    x, width = float(box(cell).get("x")), float(box(cell).get("width"))
    assert ticks(cell) == [x + 6, x + width / 2, x + width - 6]  # layers 0, 2 and 4 (twice) of 5


def test_a_count_capped_by_a_top_fraction_rule_is_marked_with_a_dagger() -> None:
    cell = only_cell(site([a_row(found_cell())], [model_data("a", {1: "top-fraction"})]))
    assert words(cell) == f"4 / 90{CAPPED}" == "4 / 90†"
    assert "a count capped by a top-fraction rule" in cell.get("data-readout")


def test_a_count_found_under_another_rule_carries_no_dagger() -> None:
    cell = only_cell(site([a_row(found_cell())], [model_data("a", {1: "at-least"})]))
    assert CAPPED not in words(cell) and "capped" not in cell.get("data-readout")


def test_a_count_is_capped_when_any_one_of_the_cells_runs_used_a_top_fraction_rule() -> None:
    data = site([a_row(found_cell(runs=(1, 2)))], [model_data("a", {1: "at-least", 2: "top-fraction"})])
    assert words(only_cell(data)).endswith(CAPPED)


def test_a_found_cells_readout_gives_the_count_the_best_head_and_the_span_of_depths() -> None:
    cell = only_cell(site([a_row(found_cell())]))
    assert cell.get("data-readout") == (
        "Induction Head on Model A: found 4 of 90 heads; best L4H0 0.9; relative depths 0.00–1.00"
    )


def test_a_found_cell_is_coloured_darker_the_larger_the_share_of_heads_found() -> None:
    few, many = (only_cell(site([a_row(found_cell(layers=(2,) * n))])) for n in (1, 27))
    assert luminance(box(many).get("fill")) < luminance(box(few).get("fill"))


def test_the_count_on_a_dark_cell_is_written_in_white() -> None:
    assert only_cell(site([a_row(found_cell(layers=(2,) * 27))])).find(f"{NS}text").get("fill") == "#ffffff"


def test_a_cell_where_nothing_was_found_is_white_reads_none_of_the_heads_scored_and_has_no_ticks() -> None:
    cell = only_cell(site([a_row(a_cell(scored=90))]))
    assert box(cell).get("fill") == NOT_FOUND_FILL
    assert words(cell) == "0 / 90"
    assert ticks(cell) == []
    assert cell.get("data-readout").endswith("not found: none of 90 scored heads shows the behaviour")


def test_a_cell_not_verifiable_on_its_model_is_struck_through_and_says_why_on_hover() -> None:
    cell = only_cell(site([a_row(a_cell(status="not-verifiable", reason="task at chance"))]))
    assert box(cell).get("fill") == EMPTY_FILL
    assert look(cell)[3]
    assert words(cell) == "not verifiable"
    assert cell.get("data-readout") == "Induction Head on Model A: not verifiable (task at chance)"


def test_a_cell_whose_test_does_not_apply_to_its_model_is_dashed_and_says_so() -> None:
    cell = only_cell(site([a_row(a_cell(status="not-applicable"))]))
    assert box(cell).get("fill") == NOT_APPLICABLE_FILL
    assert box(cell).get("stroke-dasharray")
    assert words(cell) == "does not apply"


@pytest.mark.parametrize(("status", "said"), [("failed", "run failed"), ("exploratory", "exploratory")])
def test_a_cell_whose_run_gave_no_verdicts_is_amber_and_says_why(status: str, said: str) -> None:
    cell = only_cell(site([a_row(a_cell(status=status))]))
    assert (box(cell).get("fill"), box(cell).get("stroke")) == (NO_VERDICT_FILL, NO_VERDICT_STROKE)
    assert words(cell) == said


def test_found_not_found_not_verifiable_and_not_applicable_cells_each_look_different() -> None:
    kinds = [found_cell(), a_cell(), a_cell(status="not-verifiable"), a_cell(status="not-applicable")]
    kinds.append(a_cell(status="failed"))
    looks = {look(only_cell(site([a_row(kind)]))) for kind in kinds}
    assert len(looks) == len(kinds)


# --- Links and layout ---------------------------------------------------------------------------------------------


def test_each_cell_links_the_head_type_pages_section_on_its_model() -> None:
    assert only_cell(site([a_row(found_cell())])).get("href") == "head-types/induction-head.html#a"


def test_a_cell_on_a_page_in_another_folder_links_from_there() -> None:
    cell = next(iter(cells(chart(site([a_row(found_cell())]), here="stages/lr.md")).values()))
    assert cell.get("href") == "../head-types/induction-head.html#a"


def test_a_model_with_no_cell_for_a_head_type_draws_nothing_in_its_column() -> None:
    data = site([a_row(found_cell("a"))], [model_data("a"), model_data("b", {2: "at-least"})])
    assert list(cells(chart(data))) == ["a"]


def test_each_models_column_is_headed_by_a_link_to_its_page() -> None:
    picture = chart(site([a_row(found_cell("a"))], [model_data("a"), model_data("b", {2: "at-least"})]))
    headings = {a.find(f"{NS}text").text: a.get("href") for a in picture.iter(f"{NS}a") if not a.get("data-readout")}
    assert headings["Model A"] == "models/a.html" and headings["Model B"] == "models/b.html"


def test_a_head_type_without_any_cell_gets_no_row() -> None:
    picture = chart(site([a_row(found_cell()), a_row(slug="copy-head", name="Copy Head")]))
    texts = [e.text for e in picture.iter(f"{NS}text")]
    assert "Induction Head" in texts and "Copy Head" not in texts


def test_head_types_are_drawn_under_their_stages_heading_and_a_stage_with_none_gets_no_heading() -> None:
    texts = [e.text for e in chart(site([a_row(found_cell())])).iter(f"{NS}text")]
    assert "Latent Reasoning (LR)" in texts
    assert "Knowledge Recalling (KR)" not in texts
