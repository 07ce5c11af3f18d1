"""A served site's folder-style addresses (/models/x/) lead to the page file the site is built as (/models/x.html).

The site is a temporary folder of a few hand-written pages; serving files needs no
catalog, so the app is given a database that is never opened.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client

PAGES = {
    "index.html": "<h1>headatlas</h1>",
    "models/x.html": "<h1>Model x</h1>",
    "head-types/index.html": "<h1>Head types</h1>",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("served")
    for name, html in PAGES.items():
        (folder / "site" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "site" / name).write_text(html)
    with make_client(f"sqlite:///{folder / 'unused.db'}", folder, site_dir=folder / "site") as client:
        yield client


def get(site: TestClient, address: str):  # type: ignore[no-untyped-def]
    return site.get(address, follow_redirects=False)


def test_a_pages_folder_address_is_moved_permanently_to_its_file(site: TestClient) -> None:
    response = get(site, "/models/x/")
    assert response.status_code == 301
    assert response.headers["location"] == "/models/x.html"


def test_following_the_folder_address_reaches_the_page(site: TestClient) -> None:
    assert "Model x" in site.get("/models/x/").text


def test_a_pages_file_address_is_served(site: TestClient) -> None:
    response = get(site, "/models/x.html")
    assert response.status_code == 200 and "Model x" in response.text


def test_a_folder_address_without_a_page_file_is_not_found(site: TestClient) -> None:
    assert get(site, "/nothing/").status_code == 404


def test_a_folder_with_an_index_page_is_still_served_as_a_folder(site: TestClient) -> None:
    response = get(site, "/head-types/")
    assert response.status_code == 200 and "Head types" in response.text


def test_the_root_still_serves_the_index_page(site: TestClient) -> None:
    response = get(site, "/")
    assert response.status_code == 200 and "headatlas" in response.text
