"""A reader in a real browser: heatmap cells tell their score and open the head's page; the matrix opens the runs."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sitegen.data import SiteData

pytestmark = [pytest.mark.browser, pytest.mark.model]  # the site's test catalog holds real runs on SmolLM2

SMOLLM2 = "smollm2-135m-instruct"
TIMEOUT = 15_000


def best_induction_head(site_data: SiteData) -> tuple[int, int]:
    grid = next(g for g in site_data.model(SMOLLM2).runs if g.run.detector == "induction")
    layer, head, _ = grid.strongest(1)[0]
    return layer, head


def test_pointing_at_a_heatmap_cell_reads_its_score_under_the_figure(page: Page, site_data: SiteData) -> None:
    layer, head = best_induction_head(site_data)
    page.goto(f"/models/{SMOLLM2}.html")
    figure = page.locator("figure").filter(has=page.locator("svg.atlas-heatmap text", has_text="detector induction"))
    cell = figure.locator(f"a[href$='heads/L{layer}H{head}.html']")
    cell.scroll_into_view_if_needed()
    cell.hover()
    expect(figure.locator(".atlas-readout")).to_have_text(
        re.compile(rf"^L{layer}H{head}: \d\.\d+; shows the behaviour")
    )


def test_a_heatmap_cell_opens_its_heads_page(page: Page, site_data: SiteData, screenshots: Path) -> None:
    layer, head = best_induction_head(site_data)
    page.goto(f"/models/{SMOLLM2}.html")
    page.locator(f"svg.atlas-heatmap a[href$='heads/L{layer}H{head}.html']").first.click()
    expect(page).to_have_url(re.compile(rf"/models/{SMOLLM2}/heads/L{layer}H{head}\.html$"))
    expect(page.locator("h1")).to_have_text(re.compile(rf"^L{layer}H{head} of SmolLM2-135M-Instruct"))
    induction = page.locator("tr").filter(has=page.get_by_role("link", name="induction", exact=True))
    expect(induction).to_contain_text("shows the behaviour")
    expect(induction).to_contain_text("1 of 270")  # its rank in the run
    page.screenshot(path=screenshots / "head-page.png", full_page=True)


def test_a_head_pages_attention_map_reads_query_key_and_weight(
    page: Page, site_data: SiteData, screenshots: Path
) -> None:
    layer, head = best_induction_head(site_data)
    page.goto(f"/models/{SMOLLM2}/heads/L{layer}H{head}.html")
    weights = page.locator("svg.atlas-attention image.atlas-weights").first
    weights.scroll_into_view_if_needed()
    box = weights.bounding_box()
    assert box is not None and box["width"] > 300
    weights.hover(position={"x": box["width"] * 0.2, "y": box["height"] * 0.9})  # a key well before its query
    readout = page.locator("svg.atlas-attention").first.locator("xpath=ancestor::figure").locator(".atlas-readout")
    expect(readout).to_have_text(re.compile(r"^.+ \(\d+\) → .+ \(\d+\): [01]\.\d\d$"))
    page.locator("svg.atlas-attention").first.screenshot(path=screenshots / "head-attention.png")


def test_a_matrix_cell_opens_its_head_type_on_that_model(page: Page, screenshots: Path) -> None:
    page.goto("/matrix.html")
    chart = page.locator("svg.atlas-matrix-chart")
    expect(chart).to_be_visible()
    page.screenshot(path=screenshots / "matrix.png", full_page=True)
    cell = chart.locator(f"a[href$='head-types/induction-head.html#{SMOLLM2}']")
    cell.hover()
    expect(page.locator(".atlas-matrix .atlas-readout")).to_have_text(
        re.compile(r"^Induction Head on SmolLM2-135M-Instruct: found \d+ of 270 heads")
    )
    cell.click()
    expect(page).to_have_url(re.compile(rf"/head-types/induction-head\.html#{SMOLLM2}$"))
    expect(page.locator(f"h3#{SMOLLM2}")).to_be_in_viewport()
