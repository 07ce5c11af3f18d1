"""The site builds strictly from a catalog: a page for everything, every link resolving, nothing from elsewhere."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from catalog.settings import Settings
from sitegen.build import HAND_WRITTEN, STEPS, SiteBuild, SiteBuildError, build_site, run_mkdocs
from sitegen.data import SiteData
from tests.utils.site import built_pages

# The hand-written pages (site/pages/), which the build copies and does not generate: the guide, the Python page.
HAND_WRITTEN_PAGES = tuple(page.stem for page in HAND_WRITTEN.glob("*.md"))

pytestmark = pytest.mark.model  # the test catalog holds real runs on SmolLM2


class Links(HTMLParser):
    """Every href and src of one page, every id it defines, and its images with their alt text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.images: list[dict[str, str | None]] = []
        self.twins: list[str] = []
        self.external_resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])  # type: ignore[arg-type]
        for name in ("href", "src"):
            if values.get(name):
                self.urls.append(values[name])  # type: ignore[arg-type]
        if tag == "img":
            self.images.append(values)
        if tag == "link" and values.get("rel") == "describedby" and values.get("type") == "application/json":
            self.twins.append(values.get("href") or "")
        # What a browser loads by itself (not what a reader clicks): scripts, stylesheets, fonts, images.
        loaded = values.get("src") if tag in ("script", "img") else values.get("href") if tag == "link" else None
        if loaded and loaded.startswith(("http:", "https:", "//")):
            self.external_resources.append(loaded)


def parse(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def target_file(site: Path, page: Path, url: str) -> Path:
    """The file a relative URL on `page` points to (a folder means its index.html)."""
    target = (page.parent / unquote(urlsplit(url).path)).resolve()
    return target / "index.html" if target.is_dir() else target


def site_path(site: Path, page: Path, url: str) -> str:
    """Where a relative URL on `page` leads, from the site's root: "/api/v1/…" for the API's JSON."""
    return "/" + target_file(site, page, url).relative_to(site.resolve()).as_posix()


def local(url: str) -> bool:
    """A link to this site or the API beside it: not another host, not a mail or script link, not on the page."""
    return not urlsplit(url).scheme and not url.startswith(("#", "//"))


def internal(site: Path, page: Path, url: str) -> bool:
    """A link into the built site itself, not to the API served beside it."""
    return local(url) and not site_path(site, page, url).startswith("/api/")


def api_links(site: Path) -> set[str]:
    """Every link of the site into the API, from the API's root, query kept."""
    return {
        site_path(site, page, url) + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        for page in built_pages(site)
        for url in [*parse(page).urls]
        if local(url) and site_path(site, page, url).startswith("/api/")
    }


def test_the_site_builds_in_strict_mode_into_the_output_folder(built_site: SiteBuild) -> None:
    assert (built_site.output / "index.html").is_file()
    assert (built_site.output / "sitemap.xml").is_file()
    assert built_site.pages == len(list(built_site.docs_dir.rglob("*.md"))) - len(HAND_WRITTEN_PAGES)
    assert built_site.seconds > 0


def test_a_build_reports_each_step_with_its_time(built_site: SiteBuild) -> None:
    assert list(built_site.steps) == list(STEPS) and all(seconds > 0 for seconds in built_site.steps.values())


def test_every_head_type_has_a_page_titled_with_its_name(built_site: SiteBuild, site_data: SiteData) -> None:
    assert len(site_data.head_types) == 84
    for head_type in site_data.head_types:
        page = built_site.output / "head-types" / f"{head_type.slug}.html"
        assert re.search(rf"<h1[^>]*>{re.escape(head_type.name)}", page.read_text(encoding="utf-8")), head_type.slug


def test_every_stage_model_paper_and_dataset_has_a_page(built_site: SiteBuild, site_data: SiteData) -> None:
    expected = [f"stages/{s.code.lower()}" for s in site_data.stages]
    expected += [f"models/{m.model.slug}" for m in site_data.models]
    expected += [f"papers/{p.key}" for p in site_data.papers]
    expected += ["datasets/index", *(f"datasets/{d.dataset.slug}" for d in site_data.datasets)]
    missing = [path for path in expected if not (built_site.output / f"{path}.html").is_file()]
    assert not missing
    assert len(site_data.papers) > 100


def test_every_internal_link_and_anchor_resolves(built_site: SiteBuild) -> None:
    site = built_site.output
    parsed = {page: parse(page) for page in built_pages(site)}
    broken = []
    for page, links in parsed.items():
        for url in (u for u in links.urls if internal(site, page, u)):
            target = target_file(site, page, url)
            anchor = urlsplit(url).fragment
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {url}")
            elif anchor and target.suffix == ".html" and anchor not in parsed.get(target, parse(target)).ids:
                broken.append(f"{page.relative_to(site)} -> {url} (no anchor)")
    assert not broken, "\n".join(broken[:20])
    assert sum(len(links.urls) for links in parsed.values()) > 5000  # the check saw the whole site


def test_every_generated_page_names_its_json_twin_and_the_api_serves_it(
    built_site: SiteBuild, site_catalog: str, tmp_path: Path
) -> None:
    pages = [p for p in built_pages(built_site.output) if p.stem not in HAND_WRITTEN_PAGES and p.name != "404.html"]
    twins = {page: parse(page).twins for page in pages}
    assert all(len(urls) == 1 for urls in twins.values()), [p for p, urls in twins.items() if len(urls) != 1][:5]
    paths = {site_path(built_site.output, page, url) for page, urls in twins.items() for url in urls}
    with TestClient(create_app(ApiSettings(database_url=site_catalog, site_dir=tmp_path))) as client:
        failing = {path for path in paths if client.get(path).status_code != 200}
    assert not failing


def test_every_api_link_on_the_site_answers(built_site: SiteBuild, site_catalog: str, tmp_path: Path) -> None:
    urls = api_links(built_site.output)
    assert any("/attention" in url for url in urls) and any("/runs/" in url for url in urls)
    with TestClient(create_app(ApiSettings(database_url=site_catalog, site_dir=tmp_path))) as client:
        failing = sorted(url for url in urls if client.get(url).status_code != 200)
    assert not failing


def test_every_figure_is_shown_with_alt_text_and_every_shown_figure_is_a_png(built_site: SiteBuild) -> None:
    images = [(page, image) for page in built_pages(built_site.output) for image in parse(page).images]
    figures = [(page, image) for page, image in images if "figures/" in (image.get("src") or "")]
    assert all(len(image.get("alt") or "") > 40 for _, image in figures)
    shown = {target_file(built_site.output, page, image["src"] or "") for page, image in figures}
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in shown)
    assert shown == set((built_site.output / "figures").rglob("*.png"))
    assert len(shown) == built_site.figures


def test_no_link_on_the_site_starts_from_a_hosts_root(built_site: SiteBuild) -> None:
    rooted = [
        f"{page.relative_to(built_site.output)} -> {url}"
        for page in built_pages(built_site.output)
        for url in parse(page).urls
        if url.startswith("/") and not url.startswith("//")
    ]
    assert not rooted, rooted[:5]  # the folder works under any path and from file://


def test_every_head_of_a_verified_model_has_a_page_its_heatmap_cells_open(
    built_site: SiteBuild, site_data: SiteData
) -> None:
    model = site_data.model("smollm2-135m-instruct")
    heads = built_site.output / "models" / "smollm2-135m-instruct" / "heads"
    assert len(list(heads.glob("L*H*.html"))) == model.model.n_layers * model.model.n_heads
    page = built_site.output / "models" / "smollm2-135m-instruct.html"
    cells = {url for url in parse(page).urls if "/heads/" in url}
    assert {target_file(built_site.output, page, url) for url in cells} == {p.resolve() for p in heads.glob("*.html")}


def test_the_built_site_loads_nothing_from_other_hosts(built_site: SiteBuild) -> None:
    external = {url for page in built_pages(built_site.output) for url in parse(page).external_resources}
    assert not external
    styles = " ".join(p.read_text(encoding="utf-8") for p in built_site.output.rglob("*.css"))
    assert "fonts.googleapis" not in styles and "fonts.gstatic" not in styles
    assert not re.search(r"https?://[^\"' ]*cdn", " ".join(p.read_text() for p in built_pages(built_site.output)))


def test_the_offline_search_index_holds_every_head_type(built_site: SiteBuild, site_data: SiteData) -> None:
    index = (built_site.output / "search" / "search_index.json").read_text(encoding="utf-8")
    missing = [h.name for h in site_data.head_types if f'"title":"{h.name}"' not in index.replace(": ", ":")]
    assert not missing


def test_a_broken_link_fails_the_build_and_is_named(built_site: SiteBuild, site_data: SiteData, tmp_path: Path) -> None:
    docs = Path(shutil.copytree(built_site.docs_dir, tmp_path / "docs"))
    with (docs / "head-types" / "induction-head.md").open("a") as page:
        page.write("\n[a broken link](../no-such-page.md)\n")
    with pytest.raises(SiteBuildError, match="no-such-page.md"):
        run_mkdocs(docs, tmp_path / "build", site_data)


def test_a_build_never_wipes_a_folder_it_did_not_make(site_catalog: str, tmp_path: Path) -> None:
    docs = tmp_path / "mine"
    docs.mkdir()
    (docs / "notes.md").write_text("keep me")
    with pytest.raises(ValueError, match="did not write"):
        build_site(Settings(database_url=site_catalog), output=tmp_path / "build", docs_dir=docs)
    assert (docs / "notes.md").read_text() == "keep me"
