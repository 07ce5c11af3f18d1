"""Build the documentation site: read the catalog, write pages and figures, run mkdocs strictly.

`build_site` is the one library call; `headatlas site build` wraps it. The
mkdocs project (theme, extensions, hand-written pages) is site/ in the
repository; the generated docs folder and the built site are never committed.
"""

import logging
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError
from sqlmodel import Session

from catalog.db import make_engine
from catalog.settings import Settings
from sitegen.data import SiteData, read_site_data
from sitegen.figures import Figures, draw_all
from sitegen.nav import site_nav
from sitegen.pages import (
    Page,
    api_reference,
    benchmarks,
    datasets,
    head_types,
    heads,
    home,
    matrix,
    methods,
    models,
    papers,
    stages,
)

# The mkdocs project: mkdocs.yml, theme overrides, and hand-written pages copied beside the generated ones.
SITE_PROJECT = Path(__file__).resolve().parent.parent / "site"
HAND_WRITTEN = SITE_PROJECT / "pages"
DEFAULT_DOCS_DIR = SITE_PROJECT / "generated"
# A generated docs folder carries this file, so that a rebuild only ever wipes a folder it made.
MARKER = ".headatlas-generated"
# The kinds of page drawn from the catalog, in the order they are written.
PAGE_KINDS = (home, stages, head_types, models, heads, papers, methods, benchmarks, datasets, matrix)

logger = logging.getLogger(__name__)


class SiteBuildError(RuntimeError):
    """mkdocs refused the generated site (a broken link in strict mode, a bad page); the message lists why."""


@dataclass(frozen=True)
class SiteBuild:
    """What a build made, where, and how long it took."""

    output: Path
    docs_dir: Path
    pages: int
    figures: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # each step's seconds, in the order they ran


# The steps of a build, as progress reports name them.
STEPS = ("reading the catalog", "drawing figures", "writing pages", "building with mkdocs")


def build_site(
    settings: Settings,
    *,
    output: Path | None = None,
    docs_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _step: None,
) -> SiteBuild:
    """Generate every page and figure from the catalog and build the site with mkdocs in strict mode.

    Args:
        settings: the catalog's database URL, and where the site goes by default (`site_dir`).
        output: the folder for the built HTML; by default `settings.site_dir`. mkdocs empties it first.
        docs_dir: the folder for the generated markdown and figures; by default site/generated.
        progress: told each step (one of STEPS) as it starts.

    Returns:
        The output folder, the counts of pages and figures, and the build time, in all and per step.

    Raises:
        SiteBuildError: mkdocs found a problem; the message lists every warning.
        ValueError: a folder holds files this build did not make.
    """
    start = time.perf_counter()
    output = (output or settings.site_dir).resolve()
    docs_dir = (docs_dir or DEFAULT_DOCS_DIR).resolve()
    _check_output(output)
    steps: dict[str, float] = {}
    with _step(STEPS[0], steps, progress):
        data = _read(settings)
    _fresh_docs_dir(docs_dir)
    with _step(STEPS[1], steps, progress):
        figures = draw_all(data, docs_dir)
    with _step(STEPS[2], steps, progress):
        written = write_pages(docs_dir, generated_pages(data, figures, openapi=_openapi(settings)))
    with _step(STEPS[3], steps, progress):
        run_mkdocs(docs_dir, output, data)
    return SiteBuild(output, docs_dir, written, len(figures), time.perf_counter() - start, steps)


@contextmanager
def _step(name: str, steps: dict[str, float], progress: Callable[[str], None]) -> Iterator[None]:
    progress(name)
    start = time.perf_counter()
    yield
    steps[name] = time.perf_counter() - start


def _read(settings: Settings) -> SiteData:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return read_site_data(session)
    finally:
        engine.dispose()


def generated_pages(data: SiteData, figures: Figures, *, openapi: dict[str, Any]) -> list[Page]:
    """Every page drawn from the catalog, and the API reference drawn from the OpenAPI document."""
    return [page for kind in PAGE_KINDS for page in kind.pages(data, figures)] + api_reference.pages(openapi)


def write_pages(docs_dir: Path, pages: list[Page]) -> int:
    """Write the pages into the docs folder; two pages at one path is a bug, not a silent overwrite."""
    paths = [page.path for page in pages]
    if duplicates := sorted({p for p in paths if paths.count(p) > 1}):
        raise ValueError(f"Two generated pages share a path: {duplicates}")
    for page in pages:
        target = docs_dir / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.markdown, encoding="utf-8")
    return len(pages)


def run_mkdocs(docs_dir: Path, output: Path, data: SiteData) -> None:
    """Build site/mkdocs.yml on this docs folder into `output`, strictly, with the catalog's nav."""
    if not (SITE_PROJECT / "mkdocs.yml").is_file():
        raise SiteBuildError(f"No mkdocs project at {SITE_PROJECT}: build the site from a checkout of the repository")
    try:
        config = load_config(
            str(SITE_PROJECT / "mkdocs.yml"),
            docs_dir=str(docs_dir),
            site_dir=str(output),
            nav=site_nav(data),
            strict=True,
        )
    except ConfigurationError as error:
        raise SiteBuildError(f"site/mkdocs.yml is not valid: {error}") from error
    with _mkdocs_warnings() as warnings:
        try:
            mkdocs_build(config)
        except Abort as error:
            listed = "\n".join(f"- {w}" for w in warnings) or str(error)
            raise SiteBuildError(f"mkdocs refused the site ({len(warnings)} problems):\n{listed}") from error
    relative_root_links(output)


# A link or source written from the site's root (/api/v1/…): `//` starts another host's, and is left alone.
ROOT_LINK = re.compile(r'\b(href|src)="/(?!/)')


def relative_root_links(output: Path) -> None:
    """Rewrite every root-relative link of the built pages (the API's JSON twins) relative to its page.

    A root path breaks wherever the site is not at a host's root (a project page, a
    subfolder, `file://`); relative, the JSON twins follow the site wherever the
    API is served beside it, as `headatlas serve` does.
    """
    for page in output.rglob("*.html"):
        up = "../" * (len(page.relative_to(output).parts) - 1) or "./"
        text = page.read_text(encoding="utf-8")
        rewritten = ROOT_LINK.sub(rf'\1="{up}', text)
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")


@contextmanager
def _mkdocs_warnings() -> Iterator[list[str]]:
    """Collect what mkdocs warns about, and keep its progress messages out of the caller's output."""
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    mkdocs_logger = logging.getLogger("mkdocs")
    handler, propagate = Collect(), mkdocs_logger.propagate
    mkdocs_logger.addHandler(handler)
    mkdocs_logger.propagate = False
    try:
        yield warnings
    finally:
        mkdocs_logger.removeHandler(handler)
        mkdocs_logger.propagate = propagate


def _openapi(settings: Settings) -> dict[str, Any]:
    """The API's OpenAPI document, from the application itself (it is built, never served, here)."""
    from api.main import create_app
    from api.settings import ApiSettings

    app = create_app(ApiSettings(**settings.model_dump()))
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


def _fresh_docs_dir(docs_dir: Path) -> None:
    """An empty docs folder holding the hand-written pages; only a folder a build made is ever wiped."""
    if docs_dir.exists() and any(docs_dir.iterdir()):
        if not (docs_dir / MARKER).exists():
            raise ValueError(f"{docs_dir} holds files a site build did not write; choose an empty folder")
        shutil.rmtree(docs_dir)
    shutil.copytree(HAND_WRITTEN, docs_dir, dirs_exist_ok=True)
    (docs_dir / MARKER).write_text("Generated by `headatlas site build`; wiped by the next build.\n")


def _check_output(output: Path) -> None:
    """mkdocs empties its output folder: refuse one that holds something other than a built site."""
    if output.exists() and any(output.iterdir()) and not (output / "sitemap.xml").exists():
        raise ValueError(f"{output} is not empty and holds no built site; choose an empty folder or a built site")
