"""The built site served by the real application, and headless Chromium to read it.

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run); Playwright
drives it and never downloads a browser of its own. Without it the browser
tests skip, except in CI, where they fail. Screenshots go to artifacts/screenshots
(never committed), or to HEADATLAS_SCREENSHOTS.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from api.main import create_app
from api.settings import ApiSettings
from sitegen.build import SiteBuild

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Debian's Chromium, which .ci/run installs.
CHROMIUM = Path("/usr/bin/chromium")
# Where screenshots go: a folder git ignores.
SCREENSHOTS = Path(os.environ.get("HEADATLAS_SCREENSHOTS", Path(__file__).parents[2] / "artifacts" / "screenshots"))
# How long the server may take to start, in seconds.
STARTUP_SECONDS = 20


@pytest.fixture(scope="session")
def site_url(built_site: SiteBuild, site_catalog: str) -> Iterator[str]:
    """The base URL of `headatlas serve`'s application serving the built site, on a free local port."""
    app = create_app(ApiSettings(database_url=site_catalog, site_dir=built_site.output))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"The site's server did not start on port {port}")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=STARTUP_SECONDS)


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: "Browser", site_url: str) -> Iterator["Page"]:
    """A fresh tab at a desktop size, so that the header's search box is shown."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site_url)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
