"""A catalog of the knowledge files alone renders every page, on SQLite and PostgreSQL, and says nothing is verified."""

from pathlib import Path

from sqlmodel import Session

from sitegen import links
from sitegen.build import generated_pages
from sitegen.data import read_site_data
from sitegen.figures import draw_all

# The smallest OpenAPI document the API reference page renders.
NO_API = {"info": {"version": "0"}, "paths": {}, "tags": [], "components": {"schemas": {}}}


def test_a_catalog_without_runs_renders_every_page_and_says_nothing_is_verified(
    loaded: Session, tmp_path: Path
) -> None:
    data = read_site_data(loaded)
    figures = draw_all(data, tmp_path)
    pages = {page.path: page.markdown for page in generated_pages(data, figures, openapi=NO_API)}
    per_entry = len(data.stages) + len(data.head_types) + len(data.models) + len(data.papers) + len(data.datasets)
    indexes = 6  # stages, head types, models, papers, head lists, and the home page
    single = 4  # methods, benchmarks, matrix, API reference
    heads = sum(len({(r.layer, r.head) for r in m.reported}) for m in data.models)  # a page per head papers report
    assert len(pages) == per_entry + indexes + single + heads
    assert len(figures.reported) == sum(bool(m.reported) for m in data.models) > 0
    assert "No model has been verified in this catalog yet." in pages[links.HOME]
    assert "No run in this catalog has tested a head type yet." in pages[links.MATRIX]
    assert "No run in this catalog tests this head type yet" in pages[links.head_type_page("induction-head")]
    assert "No detector in this catalog has run with this method." in pages[links.METHODS]
