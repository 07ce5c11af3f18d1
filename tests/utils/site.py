"""Fixtures shared by the site's tests and its browser test: a test catalog with real runs, and the site built on it.

The catalog holds the shipped knowledge, two real verification runs on the
bundled SmolLM2 (previous_token and induction), and one hand-made run on
GPT-2 small (tests/api/factories.py), so that reported heads are confirmed
and contradicted and the matrix has two models. The site is built once, in
strict mode, into a temporary folder.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session

from catalog.db import make_engine
from catalog.settings import KNOWLEDGE_DIR, Settings
from ingest.write_knowledge import ingest_knowledge
from tests.api.factories import add_run

if TYPE_CHECKING:  # imported where used: every test session loads this plugin, few need the site
    from sitegen.build import SiteBuild
    from sitegen.data import SiteData

# The detectors really run on SmolLM2 for the site's test catalog: the two cheapest, sharing one forward pass.
REAL_DETECTORS = ("previous_token", "induction")


@pytest.fixture(scope="session")
def site_catalog(smollm2, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    """The URL of the test catalog; shared, so tests must only read it."""
    from ingest.verify import VerifyOptions, verify_model

    folder = tmp_path_factory.mktemp("site-catalog")
    url = f"sqlite:///{folder / 'catalog.db'}"
    engine = make_engine(url)
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ingest.verify.load_model", lambda name, cache_dir, **_placement: smollm2)
        verify_model(engine, VerifyOptions(model="smollm2", detectors=REAL_DETECTORS), cache_dir=folder)
    # GPT-2 small, induction (0.4): reported L5H5 and L5H8 found, reported L6H9 not found, L1H4 found.
    add_run(
        engine,
        model="gpt2-small",
        detector="induction",
        head_type="induction-head",
        threshold=0.4,
        scores={(5, 5): 0.9, (5, 8): 0.5, (6, 9): 0.3, (1, 4): 0.7},
        default=0.05,
    )
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def site_data(site_catalog: str) -> "SiteData":
    from sitegen.data import read_site_data

    engine = make_engine(site_catalog)
    with Session(engine) as session:
        data = read_site_data(session)
    engine.dispose()
    return data


@pytest.fixture(scope="session")
def built_site(site_catalog: str, tmp_path_factory: pytest.TempPathFactory) -> "SiteBuild":
    """The site built from the test catalog, strictly, into a folder of its own."""
    from sitegen.build import build_site

    folder = tmp_path_factory.mktemp("site")
    return build_site(Settings(database_url=site_catalog), output=folder / "build", docs_dir=folder / "docs")


def built_pages(site: Path) -> list[Path]:
    """Every HTML page of a built site."""
    return sorted(site.rglob("*.html"))
