"""`import headatlas`: the catalog read from Python, as objects and as DataFrames, and the docs' example run."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import headatlas
from tests.api.conftest import filled_catalog
from tests.conftest import BACKENDS, _empty_database

EXAMPLE = Path(__file__).parents[2] / "site" / "pages" / "python.md"


@pytest.fixture(scope="module", params=BACKENDS)
def atlas(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[headatlas.Atlas]:
    with _empty_database(request.param, tmp_path_factory.mktemp("atlas")) as url:
        filled_catalog(url)
        yield headatlas.connect(url)


def test_a_head_type_is_read_by_any_spelling_of_its_name(atlas: headatlas.Atlas) -> None:
    assert atlas.head_type("Induction-Head").slug == "induction-head"


def test_an_unknown_name_is_a_value_error_naming_the_nearest(atlas: headatlas.Atlas) -> None:
    with pytest.raises(ValueError, match="did you mean 'induction-head'"):
        atlas.head_type("induktion-head")


def test_a_list_becomes_a_dataframe_with_a_row_per_item(atlas: headatlas.Atlas) -> None:
    reported = atlas.reported_heads(model="gpt2-small")
    frame = reported.to_pandas()
    assert len(frame) == len(reported) > 0 and {"label", "head_type", "paper"} <= set(frame.columns)


def test_scores_are_one_flat_row_per_head_and_run(atlas: headatlas.Atlas) -> None:
    slug = atlas.runs()[0].model
    scores = atlas.scores(slug)
    model = atlas.model(slug)
    runs = [run for run in atlas.runs(model=slug)]
    assert len(scores) == model.n_layers * model.n_heads * len(runs)
    assert scores.to_pandas()["relative_depth"].between(0, 1).all()


def test_the_python_page_runs_as_written(atlas: headatlas.Atlas, capsys: pytest.CaptureFixture[str]) -> None:
    url = atlas.engine.url.render_as_string(hide_password=False)
    cells = re.findall(r"```python\n(.*?)```", EXAMPLE.read_text(encoding="utf-8"), flags=re.DOTALL)
    namespace: dict[str, object] = {}  # one notebook: each cell sees what the ones before it defined
    for cell in cells:
        exec(cell.replace("sqlite:///headatlas.db", url), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert len(cells) == 5 and "Induction Head - Latent Reasoning" in printed and "scores" in printed
