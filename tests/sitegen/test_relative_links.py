"""The built site's links from its root (the API's JSON twins, /api/v1/…) are rewritten relative to each page.

Specified on a temporary folder of hand-written HTML pages, as mkdocs would leave them.
"""

from pathlib import Path

import pytest

from sitegen.build import relative_root_links


def page(root: Path, path: str, body: str) -> Path:
    """A built page at `path` under `root`, holding `body`."""
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    return file


def body_of(file: Path) -> str:
    return file.read_text(encoding="utf-8").removeprefix("<html><body>").removesuffix("</body></html>")


@pytest.mark.parametrize(
    ("path", "rewritten"),
    [("index.html", "./api/v1/x"), ("models/m.html", "../api/v1/x"), ("models/m/heads/L1H2.html", "../../../api/v1/x")],
    ids=["at the root", "one folder down", "three folders down"],
)
def test_a_link_from_the_root_is_rewritten_relative_to_the_depth_of_its_page(
    tmp_path: Path, path: str, rewritten: str
) -> None:
    file = page(tmp_path, path, '<a href="/api/v1/x">JSON</a>')
    relative_root_links(tmp_path)
    assert body_of(file) == f'<a href="{rewritten}">JSON</a>'


def test_a_source_from_the_root_is_rewritten_too(tmp_path: Path) -> None:
    file = page(tmp_path, "models/m.html", '<img src="/figures/x.png">')
    relative_root_links(tmp_path)
    assert body_of(file) == '<img src="../figures/x.png">'


def test_every_link_from_the_root_on_a_page_is_rewritten(tmp_path: Path) -> None:
    file = page(tmp_path, "models/m.html", '<link href="/api/v1/m"><a href="/api/v1/n">n</a><script src="/s.js">')
    relative_root_links(tmp_path)
    assert body_of(file) == '<link href="../api/v1/m"><a href="../api/v1/n">n</a><script src="../s.js">'


@pytest.mark.parametrize(
    "link",
    ['href="//cdn.example.org/x.js"', 'href="https://example.org/x"', 'href="../index.html"', 'src="x.png"'],
    ids=["another host", "absolute url", "relative up", "relative here"],
)
def test_links_to_another_host_absolute_urls_and_relative_links_are_left_alone(tmp_path: Path, link: str) -> None:
    file = page(tmp_path, "models/m.html", f"<a {link}>x</a>")
    relative_root_links(tmp_path)
    assert body_of(file) == f"<a {link}>x</a>"


def test_files_other_than_html_pages_are_left_alone(tmp_path: Path) -> None:
    sitemap = tmp_path / "sitemap.xml"
    sitemap.write_text('<url href="/api/v1/x"/>', encoding="utf-8")
    relative_root_links(tmp_path)
    assert sitemap.read_text(encoding="utf-8") == '<url href="/api/v1/x"/>'
