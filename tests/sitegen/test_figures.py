"""Figures are drawn from the catalog's numbers and describe themselves in their alt text."""

import re

import pytest

from catalog.schemas import relative_depth
from sitegen.data import SiteData
from sitegen.figures.depth import depth_rows
from sitegen.figures.run_heatmap import run_heatmap

pytestmark = pytest.mark.model  # the test catalog holds real runs on SmolLM2

SMOLLM2 = "smollm2-135m-instruct"


def test_a_run_grid_holds_every_heads_score_from_the_catalog(site_data: SiteData) -> None:
    model = site_data.model(SMOLLM2)
    grid = next(g for g in model.runs if g.run.detector == "induction")
    assert (len(grid.scores), len(grid.scores[0])) == (30, 9)
    assert grid.scored == 270
    assert grid.found == {(v.layer, v.head) for v in grid.run.found} and grid.found
    best = max(grid.run.found, key=lambda v: v.score)
    assert grid.strongest(1) == [(best.layer, best.head, best.score)]


def test_a_run_heatmap_is_an_svg_whose_title_names_model_detector_and_strongest_heads(site_data: SiteData) -> None:
    model = site_data.model(SMOLLM2)
    grid = next(g for g in model.runs if g.run.detector == "induction")
    figure = run_heatmap(grid, model.model, "Induction Head", f"models/{SMOLLM2}.md")
    width, height = map(int, re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', figure).groups())  # type: ignore[union-attr]
    assert height > width > 200  # 30 layers down, 9 heads across
    title = re.search(r"<title>(.*?)</title>", figure).group(1)  # type: ignore[union-attr]
    layer, head, score = grid.strongest(1)[0]
    assert "SmolLM2-135M-Instruct" in title and "induction" in title
    assert f"L{layer}H{head} ({score:.2f})" in title
    assert f"{len(grid.found)} of 270 scored heads show the behaviour" in title
    assert figure.count("<a href=") == 270  # every head's cell opens its page


def test_heads_papers_report_are_marked_on_the_run_of_their_head_type(site_data: SiteData) -> None:
    grid = next(g for g in site_data.model("gpt2-small").runs if g.run.detector == "induction")
    assert {(5, 5), (5, 8), (6, 9)} <= grid.reported
    assert (1, 4) in grid.found and (1, 4) not in grid.reported


def test_the_depth_picture_places_reported_and_found_heads_at_their_relative_depth(site_data: SiteData) -> None:
    stage = next(s for s in site_data.stages if s.code == "LR")
    row = next(r for r in depth_rows(site_data, stage) if r.name == "Induction Head")
    assert relative_depth(5, 12) in row.reported
    found = [v for m, v in site_data.found_verdicts("induction-head") if m.model.slug == SMOLLM2]
    assert sorted(row.verified["SmolLM2-135M-Instruct"]) == sorted(relative_depth(v.layer, 30) for v in found)
    assert row.survey == ["middle", "deep"]
