"""The built folder opened straight from disk (file://) works as served: pages, figures and links.

Search is the exception: a browser runs no web worker from file:// (site/mkdocs.yml).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sitegen.build import SiteBuild

pytestmark = [pytest.mark.browser, pytest.mark.model]  # the site's test catalog holds real runs on SmolLM2

SMOLLM2 = "smollm2-135m-instruct"


@pytest.fixture
def disk_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    return context.new_page()


def test_a_reader_browses_from_the_home_page_to_a_head_from_disk(
    disk_page: Page, built_site: SiteBuild, screenshots: Path
) -> None:
    failed: list[str] = []
    disk_page.on("requestfailed", lambda request: failed.append(request.url))
    disk_page.goto((built_site.output / "index.html").as_uri())
    disk_page.locator(".md-tabs").get_by_role("link", name="Models").click()
    expect(disk_page).to_have_url(re.compile(r"/models/index\.html$"))
    disk_page.locator("article").get_by_role("link", name="SmolLM2-135M-Instruct").click()
    expect(disk_page).to_have_url(re.compile(rf"/models/{SMOLLM2}\.html$"))
    disk_page.locator("svg.atlas-heatmap a").first.click()
    expect(disk_page).to_have_url(re.compile(rf"/models/{SMOLLM2}/heads/L0H0\.html$"))
    expect(disk_page.locator("h1")).to_have_text(re.compile(r"^L0H0 of SmolLM2-135M-Instruct"))
    disk_page.wait_for_load_state("load")
    assert disk_page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"  # CSS
    disk_page.screenshot(path=screenshots / "file-url-head-page.png")
    assert [url for url in failed if "/search/" not in url] == []  # search alone needs a served site


def test_figures_load_from_disk(disk_page: Page, built_site: SiteBuild) -> None:
    disk_page.goto((built_site.output / "stages" / "lr.html").as_uri())
    image = disk_page.locator("img[src*='figures/stages/lr-depth.png']")
    image.scroll_into_view_if_needed()
    disk_page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
