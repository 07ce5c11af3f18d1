"""A reader in a real browser: search, head type page, model page with its heatmap, all served offline."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.model]  # the site's test catalog holds real runs on SmolLM2

# How long to wait for something to appear, in milliseconds.
TIMEOUT = 15_000


def search_for(page: Page, words: str) -> None:
    """Type into the header's search box, as a reader does, once the index has loaded, and wait for the results."""
    page.locator("input.md-search__input").click()
    expect(page.locator(".md-search-result__meta")).to_have_text("Type to start searching", timeout=TIMEOUT)
    page.keyboard.type(words, delay=20)
    expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=TIMEOUT)


def test_a_reader_searches_induction_and_reaches_the_induction_head_page(page: Page, screenshots: Path) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text(re.compile(r"^headatlas"))  # then the heading's permalink
    search_for(page, "induction")
    page.screenshot(path=screenshots / "search-induction.png")
    result = page.locator(".md-search-result__link").filter(
        has=page.locator("h1", has_text=re.compile(r"^\s*Induction Head\s*$"))
    )
    result.first.click()
    expect(page).to_have_url(re.compile(r"/head-types/induction-head\.html(\?h=induction)?$"))  # ?h= highlights words
    expect(page.locator("h1")).to_have_text(re.compile(r"^Induction Head"))
    page.screenshot(path=screenshots / "induction-head.png")


def test_a_model_page_opened_from_the_head_type_shows_its_heatmap(page: Page, screenshots: Path) -> None:
    page.goto("/head-types/induction-head/")  # the folder-style address cited elsewhere leads to the page
    verification = page.locator("h3#smollm2-135m-instruct ~ p").first
    verification.get_by_role("link", name="SmolLM2-135M-Instruct").click()
    expect(page).to_have_url(re.compile(r"/models/smollm2-135m-instruct\.html$"))
    heatmap = page.locator("svg.atlas-heatmap").filter(has=page.locator("text", has_text="detector induction"))
    heatmap.scroll_into_view_if_needed()
    assert "SmolLM2-135M-Instruct" in (heatmap.locator("title").first.text_content() or "")
    heatmap.screenshot(path=screenshots / "smollm2-induction-heatmap.png")
    page.screenshot(path=screenshots / "smollm2-model-page.png")


def test_the_site_requests_nothing_from_other_hosts(page: Page, site_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("/", "/head-types/induction-head.html", "/models/smollm2-135m-instruct.html"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    search_for(page, "previous token")
    assert len(requested) > 10
    assert [url for url in requested if not url.startswith((site_url, "data:"))] == []
