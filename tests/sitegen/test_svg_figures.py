"""The site's interactive figures as inline SVG: colour scales, shapes, a run's heatmap, an attention map, and links.

Each is specified on small hand-built inputs (a run grid, a model, a prompt's
weights), with no model and no catalog: the SVG is parsed and its cells read.
"""

import base64
import io
import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.image import imread

from catalog.attention import LEVELS, StoredAttention
from sitegen import links
from sitegen.data import RunGrid
from sitegen.figures.attention_map import FUTURE_RGBA, LABEL_CHARACTERS, attention_map, token_text, weights_png
from sitegen.figures.run_heatmap import grid_scale, run_heatmap
from sitegen.figures.svg import (
    BAR_STEPS,
    EMPTY_FILL,
    EMPTY_STRIKE,
    Scale,
    attributes,
    colour_bar,
    diamond,
    element,
    empty_cell,
    scale_of,
    svg,
)
from tests.utils.site_objects import a_model, a_run

NS = "{http://www.w3.org/2000/svg}"


# --- Helpers ------------------------------------------------------------------------------------------------------


def parsed(figure: str) -> ET.Element:
    """The SVG element of a figure (or an SVG on its own), parsed."""
    start, end = figure.index("<svg"), figure.index("</svg>") + len("</svg>")
    return ET.fromstring(figure[start:end])


def fragment(*parts: str) -> ET.Element:
    """SVG parts (elements as text) under one root, parsed."""
    return ET.fromstring(f'<g xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</g>')


def linear(low: float = 0.0, high: float = 1.0) -> Scale:
    return Scale(low, high, "viridis", "#ff1744", "red")


def a_grid(
    scores: list[list[float | None]],
    *,
    found: tuple[tuple[int, int], ...] = (),
    reported: tuple[tuple[int, int], ...] = (),
    threshold: float | None = 0.5,
    rule: str = "at-least",
    status: str = "complete",
) -> RunGrid:
    return RunGrid(
        run=a_run(rule=rule, status=status),
        head_type="induction-head",
        n_layers=len(scores),
        n_heads=len(scores[0]),
        scores=scores,
        threshold=threshold,
        found=frozenset(found),
        reported=frozenset(reported),
    )


def heatmap(grid: RunGrid, here: str = "models/m.md", scale: Scale | None = None) -> str:
    return run_heatmap(grid, a_model(n_layers=grid.n_layers, n_heads=grid.n_heads), "Induction Head", here, scale)


def cells(figure: str) -> dict[str, ET.Element]:
    """A heatmap's cells (its links with a readout), by the head label their readout starts with."""
    anchors = parsed(figure).iter(f"{NS}a")
    return {a.get("data-readout").split(":")[0]: a for a in anchors if a.get("data-readout")}


def box(cell: ET.Element) -> ET.Element:
    """A cell's rectangle."""
    return cell.find(f"{NS}rect")


def small_grid() -> RunGrid:
    """Two layers of three heads, one not scored, L1H2 found and reported, L0H1 reported only."""
    return a_grid([[None, 0.25, 0.1], [0.5, 0.0, 0.75]], found=((1, 2),), reported=((1, 2), (0, 1)))


def an_attention(tokens: list[str], n_layers: int = 2, n_heads: int = 2) -> StoredAttention:
    """Every head's weights distinct, and non-zero above the diagonal too (which a figure must still mask)."""
    n = len(tokens)
    weights = np.random.default_rng(0).integers(1, 256, size=(n_layers, n_heads, n, n), dtype=np.uint8)
    return StoredAttention(tokens=tokens, start=7, prompt_length=7 + n, weights=weights)


def png_of(figure: str) -> np.ndarray:
    """The attention map's weights image, decoded: [query, key, RGBA] in [0, 1]."""
    href = parsed(figure).find(f"{NS}image").get("href")
    prefix = "data:image/png;base64,"
    assert href.startswith(prefix)
    return imread(io.BytesIO(base64.b64decode(href.removeprefix(prefix))), format="png")


# --- Colour scales ------------------------------------------------------------------------------------------------


def test_a_linear_scale_puts_its_low_end_at_0_its_high_end_at_1_and_values_in_between_in_proportion() -> None:
    scale = linear(2.0, 6.0)
    assert (scale.position(2.0), scale.position(3.0), scale.position(6.0)) == (0.0, 0.25, 1.0)


def test_a_value_beyond_a_scales_ends_is_placed_at_the_nearer_end() -> None:
    scale = linear(2.0, 6.0)
    assert (scale.position(-10.0), scale.position(60.0)) == (0.0, 1.0)


def test_a_diverging_scale_puts_zero_at_the_middle_and_each_sign_on_its_own_half() -> None:
    scale = Scale(-2.0, 4.0, "RdBu_r", "#00c853", "green")
    assert scale.diverging
    assert scale.position(0.0) == 0.5
    assert (scale.position(-2.0), scale.position(-1.0)) == (0.0, 0.25)
    assert (scale.position(2.0), scale.position(4.0)) == (0.75, 1.0)
    assert (scale.position(-20.0), scale.position(40.0)) == (0.0, 1.0)


def test_a_scale_of_one_sign_does_not_diverge() -> None:
    assert not linear(0.0, 5.0).diverging and not linear(-5.0, 0.0).diverging


def test_a_scale_colours_a_value_as_its_colour_map_does_at_the_values_position() -> None:
    scale = linear(0.0, 10.0)
    assert scale.colour(0.0) == to_hex(colormaps["viridis"](0.0))
    assert scale.colour(10.0) == to_hex(colormaps["viridis"](1.0))
    assert scale.colour(5.0) == to_hex(colormaps["viridis"](0.5))


def test_scores_within_0_and_1_share_the_scale_from_0_to_1() -> None:
    assert scale_of([0.2, 0.3]) == scale_of([0.0, 1.0]) == Scale(0.0, 1.0, "viridis", "#ff1744", "red")


def test_scores_of_one_sign_beyond_1_span_their_own_range() -> None:
    scale = scale_of([2.0, 7.0, 4.0])
    assert (scale.low, scale.high, scale.colour_map) == (2.0, 7.0, "viridis")


def test_scores_of_both_signs_diverge_around_0_outlined_in_green_not_red() -> None:
    scale = scale_of([-1.0, 3.0])
    assert (scale.low, scale.high) == (-1.0, 3.0)
    assert scale.diverging and scale.position(0.0) == 0.5
    assert (scale.colour_map, scale.outline_name) == ("RdBu_r", "green")


def test_one_score_repeated_beyond_1_still_gets_a_scale_that_places_it() -> None:
    scale = scale_of([5.0, 5.0])
    assert scale.high > scale.low == 5.0
    assert scale.position(5.0) == 0.0


def test_no_score_or_only_nan_gets_the_scale_from_0_to_1() -> None:
    assert (scale_of([]).low, scale_of([]).high) == (0.0, 1.0)
    assert (scale_of([math.nan]).low, scale_of([math.nan]).high) == (0.0, 1.0)


def test_nan_scores_are_left_out_of_a_scales_range() -> None:
    scale = scale_of([2.0, math.nan, 4.0])
    assert (scale.low, scale.high) == (2.0, 4.0)


@pytest.mark.parametrize("scores", [[0.0, 1.0], [-1.0, 1.0]], ids=["linear", "diverging"])
def test_the_outline_of_a_passing_cell_is_a_colour_its_scales_map_never_draws(scores: list[float]) -> None:
    scale = scale_of(scores)
    drawn = {to_hex(colour) for colour in colormaps[scale.colour_map](np.linspace(0.0, 1.0, 256))}
    assert scale.outline not in drawn


# --- SVG text -----------------------------------------------------------------------------------------------------


def test_attributes_write_underscores_as_hyphens_and_drop_a_trailing_underscore() -> None:
    written = attributes(class_="tick", data_readout="x", stroke_width=2)
    assert written == 'class="tick" data-readout="x" stroke-width="2"'


def test_attributes_escape_quotes_ampersands_and_angle_brackets() -> None:
    assert attributes(title='a "b" & <c>') == 'title="a &quot;b&quot; &amp; &lt;c&gt;"'


def test_attributes_set_to_none_are_left_out() -> None:
    assert attributes(x=1, stroke=None, y=0) == 'x="1" y="0"'


def test_an_element_without_text_closes_itself() -> None:
    assert element("rect", x=1, fill="#fff") == '<rect x="1" fill="#fff"/>'


def test_an_elements_text_is_escaped() -> None:
    assert element("text", "L1 < L2 & more", x=0) == '<text x="0">L1 &lt; L2 &amp; more</text>'


def test_an_svg_is_named_by_its_title_and_carries_its_size_class_and_data() -> None:
    picture = parsed(svg(100.4, 50.6, "A <title>", [element("rect", x=0)], class_="atlas-x", data_start=3))
    assert picture.get("role") == "img" and picture.get("class") == "atlas-x"
    assert (picture.get("width"), picture.get("height"), picture.get("viewBox")) == ("100", "51", "0 0 100 51")
    assert picture.get("data-start") == "3"
    assert picture[0].tag == f"{NS}title" and picture[0].text == "A <title>"


def test_an_svg_puts_every_element_on_a_line_of_its_own_and_no_line_is_blank() -> None:
    text = svg(10, 10, "t", [element("rect", x=0), element("line", x1=0)], class_="c")
    lines = text.split("\n")
    assert len(lines) == 5 and all(line.strip() for line in lines)
    assert lines[0].startswith("<svg") and lines[-1] == "</svg>"


def test_an_empty_cell_is_pale_grey_struck_through_from_its_lower_left_to_its_upper_right_corner() -> None:
    rect, line = fragment(empty_cell(10, 20, 8, 6))
    assert rect.get("fill") == EMPTY_FILL
    assert (line.get("x1"), line.get("y1"), line.get("x2"), line.get("y2")) == ("10", "26", "18", "20")
    assert line.get("stroke") == EMPTY_STRIKE


def test_a_colour_bar_runs_from_its_high_colour_at_the_top_to_its_low_colour_at_the_foot() -> None:
    scale = linear(0.0, 10.0)
    rects = [e for e in fragment(*colour_bar(scale, 0, 0, 64, label="score")) if e.tag == f"{NS}rect"]
    assert len(rects) == BAR_STEPS
    assert [float(r.get("y")) for r in rects] == sorted(float(r.get("y")) for r in rects)
    assert rects[0].get("fill") == scale.colour(10.0 - 10.0 / BAR_STEPS / 2)
    assert rects[-1].get("fill") == scale.colour(10.0 / BAR_STEPS / 2)


def test_a_colour_bar_labels_its_ends_and_its_name() -> None:
    texts = [e.text for e in fragment(*colour_bar(linear(0.0, 12.5), 0, 0, 64, label="score")) if e.text]
    assert texts == ["12.5", "0", "score"]


def test_on_a_lopsided_diverging_scale_the_bar_shows_zeros_colour_where_it_marks_zero() -> None:
    scale = scale_of([-1.0, 4.0])
    parts = fragment(*colour_bar(scale, 0, 0, 320, label="score", mark=0.0))
    (mark,) = [e for e in parts if e.tag == f"{NS}line"]
    at = float(mark.get("y1"))
    (step,) = [e for e in parts if e.tag == f"{NS}rect" and float(e.get("y")) <= at < float(e.get("y")) + 10]
    assert step.get("fill") in {scale.colour_at(0.5 - 0.5 / BAR_STEPS), scale.colour_at(0.5 + 0.5 / BAR_STEPS)}
    assert "0" in [e.text for e in parts if e.tag == f"{NS}text"]


def test_a_colour_bar_marks_a_threshold_at_its_height_on_the_bar_in_the_outline_colour() -> None:
    scale = linear(0.0, 10.0)
    (mark,) = [e for e in fragment(*colour_bar(scale, 0, 100, 200, label="score", mark=2.5)) if e.tag == f"{NS}line"]
    assert float(mark.get("y1")) == float(mark.get("y2")) == 100 + 200 * (10.0 - 2.5) / 10.0
    assert mark.get("stroke") == scale.outline


@pytest.mark.parametrize("mark", [None, 11.0, -1.0], ids=["none", "above", "below"])
def test_a_colour_bar_draws_no_mark_without_a_threshold_or_one_outside_its_range(mark: float | None) -> None:
    parts = fragment(*colour_bar(linear(0.0, 10.0), 0, 0, 64, label="score", mark=mark))
    assert not [e for e in parts if e.tag == f"{NS}line"]


def test_a_diamond_has_its_four_corners_a_radius_above_right_below_and_left_of_its_centre() -> None:
    (polygon,) = fragment(diamond(10, 20, 3))
    assert polygon.get("points") == "10,17 13,20 10,23 7,20"
    assert polygon.get("pointer-events") == "none"  # pointing at it points at its cell


# --- A run's heatmap ----------------------------------------------------------------------------------------------


def test_a_heatmap_draws_one_cell_per_head() -> None:
    assert sorted(cells(heatmap(small_grid()))) == ["L0H0", "L0H1", "L0H2", "L1H0", "L1H1", "L1H2"]


def test_every_cell_links_its_heads_page_relative_to_the_page_the_heatmap_is_on() -> None:
    drawn = cells(heatmap(small_grid(), here="models/m.md"))
    assert drawn["L1H2"].get("href") == "m/heads/L1H2.html"
    assert {label: a.get("href") for label, a in drawn.items()} == {
        f"L{layer}H{head}": links.built("models/m.md", links.head_page("m", layer, head))
        for layer in range(2)
        for head in range(3)
    }


def test_a_heatmap_on_a_page_in_another_folder_links_the_heads_pages_from_there() -> None:
    drawn = cells(heatmap(small_grid(), here="head-types/induction-head.md"))
    assert drawn["L1H2"].get("href") == "../models/m/heads/L1H2.html"


def test_a_cells_readout_names_its_head_and_its_score() -> None:
    assert cells(heatmap(small_grid()))["L1H0"].get("data-readout") == "L1H0: 0.5"


def test_a_readout_marks_a_head_that_shows_the_behaviour_and_one_a_paper_reports() -> None:
    drawn = cells(heatmap(small_grid()))
    assert drawn["L1H2"].get("data-readout") == "L1H2: 0.75; shows the behaviour, reported by a paper"
    assert drawn["L0H1"].get("data-readout") == "L0H1: 0.25; reported by a paper"


def test_an_unscored_head_is_struck_through_in_pale_grey_never_in_a_colour_of_the_scale() -> None:
    grid = small_grid()
    cell = cells(heatmap(grid))["L0H0"]
    assert cell.get("data-readout") == "L0H0: not scored"
    assert box(cell).get("fill") == EMPTY_FILL
    assert cell.find(f"{NS}line").get("stroke") == EMPTY_STRIKE
    scale = grid_scale([grid])
    assert EMPTY_FILL not in {scale.colour(v) for v in np.linspace(scale.low, scale.high, 256)}


def test_a_nan_score_is_drawn_as_not_scored() -> None:
    cell = cells(heatmap(a_grid([[math.nan, 0.5]])))["L0H0"]
    assert cell.get("data-readout") == "L0H0: not scored"
    assert box(cell).get("fill") == EMPTY_FILL


def test_a_scored_cell_is_filled_with_its_scores_colour_on_the_runs_own_scale() -> None:
    grid = small_grid()
    drawn = cells(heatmap(grid))
    assert box(drawn["L1H2"]).get("fill") == grid_scale([grid]).colour(0.75)
    assert box(drawn["L1H1"]).get("fill") == grid_scale([grid]).colour(0.0)


def test_heads_that_show_the_behaviour_are_outlined_in_the_scales_outline_colour_and_others_are_not() -> None:
    grid = small_grid()
    drawn = cells(heatmap(grid))
    assert box(drawn["L1H2"]).get("stroke") == grid_scale([grid]).outline
    assert all(box(cell).get("stroke") is None for label, cell in drawn.items() if label != "L1H2")


def test_heads_a_paper_reports_carry_a_diamond_and_no_other_head_does() -> None:
    drawn = cells(heatmap(small_grid()))
    with_diamond = {label for label, cell in drawn.items() if cell.find(f"{NS}polygon") is not None}
    assert with_diamond == {"L1H2", "L0H1"}


def test_grids_drawn_on_one_shared_scale_give_the_same_score_the_same_colour() -> None:
    five, ten = a_grid([[0.0, 5.0]], threshold=None), a_grid([[0.0, 5.0, 10.0]], threshold=None)
    shared = grid_scale([five, ten])
    assert box(cells(heatmap(five, scale=shared))["L0H1"]).get("fill") == shared.colour(5.0)
    assert box(cells(heatmap(ten, scale=shared))["L0H1"]).get("fill") == shared.colour(5.0)


def test_grids_drawn_on_their_own_scales_colour_the_same_score_differently_when_their_ranges_differ() -> None:
    five, ten = a_grid([[0.0, 5.0]], threshold=None), a_grid([[0.0, 5.0, 10.0]], threshold=None)
    assert box(cells(heatmap(five))["L0H1"]).get("fill") != box(cells(heatmap(ten))["L0H1"]).get("fill")


def test_one_scale_for_several_grids_spans_all_their_scores_and_skips_unscored_heads() -> None:
    scale = grid_scale([a_grid([[None, 2.0]]), a_grid([[7.0, None], [3.0, 4.0]])])
    assert (scale.low, scale.high) == (2.0, 7.0)


def test_scores_of_both_signs_are_drawn_on_a_diverging_scale_with_zero_in_its_middle_colour() -> None:
    grid = a_grid([[-2.0, 0.0, 4.0]], found=((0, 2),), threshold=None)
    scale = grid_scale([grid])
    assert scale.diverging and scale.position(0.0) == 0.5
    drawn = cells(heatmap(grid))
    assert box(drawn["L0H1"]).get("fill") == to_hex(colormaps[scale.colour_map](0.5))
    assert box(drawn["L0H2"]).get("stroke") == scale.outline != "#ff1744"


@pytest.mark.parametrize(("rule", "marked"), [("at-least", True), ("top-fraction", True), ("margin", False)])
def test_the_colour_bar_marks_the_threshold_of_a_rule_on_the_score_itself_only(rule: str, marked: bool) -> None:
    grid = a_grid([[0.0, 0.5, 1.0]], rule=rule, threshold=0.5)
    lines = [e for e in parsed(heatmap(grid)) if e.tag == f"{NS}line"]  # cells' strikes sit inside their links
    assert bool([line for line in lines if line.get("stroke") == grid_scale([grid]).outline]) is marked


def test_a_run_that_is_not_complete_is_captioned_as_scores_without_verdicts() -> None:
    figure = heatmap(a_grid([[0.2, 0.4]], status="exploratory"))
    assert "Scores only: the run is exploratory, so no head gets a verdict." in figure
    assert "Rule:" not in figure


# --- An attention map ---------------------------------------------------------------------------------------------


def test_a_token_label_shows_a_space_as_a_middle_dot_and_a_line_break_as_a_return_sign() -> None:
    assert token_text(" the\n") == "·the⏎"


def test_a_token_longer_than_a_label_is_cut_with_an_ellipsis_to_the_labels_length() -> None:
    label = token_text("Supercalifragilistic")
    assert label == "Supercali…" and len(label) == LABEL_CHARACTERS


def test_a_token_as_long_as_a_label_is_kept_whole() -> None:
    assert token_text("a" * LABEL_CHARACTERS) == "a" * LABEL_CHARACTERS


def test_an_empty_token_is_labelled_with_the_empty_set_sign() -> None:
    assert token_text("") == "∅"


def test_a_weights_image_has_one_pixel_per_query_and_key() -> None:
    assert imread(io.BytesIO(weights_png(np.zeros((3, 3)))), format="png").shape == (3, 3, 4)


def test_a_weights_image_draws_weights_beyond_1_as_1() -> None:
    over, one = (imread(io.BytesIO(weights_png(np.full((2, 2), w))), format="png") for w in (2.0, 1.0))
    assert np.array_equal(over, one)


def test_an_attention_maps_image_has_one_pixel_per_query_and_key_of_the_kept_tokens() -> None:
    attention = an_attention(["a", "b", "c", "d", "e"])
    assert png_of(attention_map(attention, 0, 0, title="t", caption="c")).shape == (5, 5, 4)


def test_cells_above_the_diagonal_are_pale_grey_whatever_weight_is_stored_there() -> None:
    attention = an_attention(["a", "b", "c", "d"])
    image = png_of(attention_map(attention, 1, 0, title="t", caption="c"))
    future = np.triu(np.ones((4, 4), dtype=bool), k=1)
    assert np.allclose(image[future], FUTURE_RGBA, atol=1 / 255)
    assert not np.allclose(image[~future], FUTURE_RGBA, atol=1 / 255)


def test_a_weight_on_or_below_the_diagonal_is_drawn_in_the_colour_of_its_square_root() -> None:
    attention = an_attention(["a", "b", "c"])
    image = png_of(attention_map(attention, 1, 1, title="t", caption="c"))
    expected = colormaps["Blues"](np.sqrt(attention.of_head(1, 1)))
    past = np.tril(np.ones((3, 3), dtype=bool))
    assert np.allclose(image[past], expected[past], atol=1.5 / 255)


def test_more_weight_is_drawn_darker() -> None:
    weights = np.array([[0.0, 0.0], [1.0, 0.1]])
    image = imread(io.BytesIO(weights_png(weights)), format="png")
    assert image[1, 0, :3].sum() < image[1, 1, :3].sum() < image[0, 0, :3].sum()


def test_the_maps_weights_data_holds_two_hex_digits_per_weight_row_by_row_and_decodes_to_the_heads_weights() -> None:
    attention = an_attention(["a", "b", "c", "d"])
    data = parsed(attention_map(attention, 1, 0, title="t", caption="c")).get("data-weights")
    assert len(data) == 2 * 4 * 4
    decoded = np.frombuffer(bytes.fromhex(data), dtype=np.uint8).reshape(4, 4)
    assert np.array_equal(decoded, attention.weights[1, 0])
    assert not np.array_equal(decoded, attention.weights[0, 1])


def test_the_maps_token_data_lists_the_tokens_as_their_labels_show_them() -> None:
    tokens = [" the", "\n", "Supercalifragilistic", "x"]
    picture = parsed(attention_map(an_attention(tokens), 0, 0, title="t", caption="c"))
    assert json.loads(picture.get("data-tokens")) == ["·the", "⏎", "Supercali…", "x"]


def test_the_map_carries_the_first_tokens_prompt_position_and_the_weights_steps() -> None:
    picture = parsed(attention_map(an_attention(["a", "b"]), 0, 0, title="t", caption="c"))
    assert (picture.get("data-start"), picture.get("data-levels")) == ("7", str(LEVELS))


def test_each_token_labels_its_row_as_a_query_and_its_column_as_a_key() -> None:
    picture = parsed(attention_map(an_attention([" a", "b\n"]), 0, 0, title="t", caption="c"))
    assert [e.text for e in picture.iter(f"{NS}text")] == ["·a", "·a", "b⏎", "b⏎"]


def test_an_attention_map_is_named_by_its_title_and_captioned() -> None:
    figure = attention_map(an_attention(["a", "b"]), 0, 0, title="L0H0 on a prompt", caption="What it shows.")
    assert parsed(figure).find(f"{NS}title").text == "L0H0 on a prompt"
    assert "<figcaption>What it shows.</figcaption>" in figure


# --- Links --------------------------------------------------------------------------------------------------------


def test_a_heads_page_lives_under_its_models_folder() -> None:
    assert links.head_page("m", 1, 2) == "models/m/heads/L1H2.md"


def test_a_built_link_points_at_the_html_file_relative_to_the_linking_page() -> None:
    assert links.built("models/m.md", "models/m/heads/L1H2.md") == "m/heads/L1H2.html"
    assert links.built("index.md", "models/m.md") == "models/m.html"
    assert links.built("models/m/heads/L1H2.md", "models/m.md") == "../../m.html"


def test_a_built_link_keeps_its_anchor() -> None:
    assert links.built("matrix.md", "head-types/induction-head.md#m") == "head-types/induction-head.html#m"
