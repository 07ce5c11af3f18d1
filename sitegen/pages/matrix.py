"""The transferability matrix: each head type across the models our runs tested, beside the survey's marks.

A picture first (sitegen.figures.matrix_chart), then the same cells in words, folded, stage by stage.
"""

from catalog.schemas import MatrixRow
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.figures import Figures
from sitegen.figures.matrix_chart import matrix_chart
from sitegen.pages.common import Page, head_type_link, model_link, verification_cell


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.MATRIX, render_matrix_page(data))]


def render_matrix_page(data: SiteData) -> str:
    """Tested head types × tested models, stage by stage; the untested head types listed after."""
    here = links.MATRIX
    matrix = data.matrix
    tested = [row for row in matrix.rows if row.cells]
    untested = [row for row in matrix.rows if not row.cells]
    blocks = [
        md.front_matter(title="Transferability matrix", api=links.api_path("/matrix"), wide=True),
        "# Transferability matrix",
        md.json_twin(links.api_path("/matrix")),
        f"Does a head type found in one model show up in another? {len(tested)} of "
        f"{md.count(len(matrix.rows), 'head type')} have been tested on {md.count(len(matrix.models), 'model')}. "
        "The survey's marks give the model families its figure marks the head type with: what papers saw, beside "
        "what we measured.",
    ]
    if not tested:
        blocks.append("No run in this catalog has tested a head type yet.")
        return md.page(*blocks, _untested(untested, data, here))
    blocks.append(matrix_chart(data, here))
    headers = ["Head type", "Survey marks", *(model_link(data, m.slug, here) for m in matrix.models)]
    blocks.append("## The matrix in words")
    blocks.append(
        "A cell reads *found* when at least one head shows the behaviour (how many of the scored heads, and the "
        "strongest), *not found* when none does, and *not verifiable* when the model cannot do the task the test needs."
    )
    for stage in data.stages:
        rows = [_row(row, data, here) for row in tested if row.stage == stage.code]
        if rows:
            blocks.append(md.collapsed(f"{stage.name} ({stage.code})", md.table(headers, rows)))
    return md.page(*blocks, _untested(untested, data, here))


def _untested(untested: list[MatrixRow], data: SiteData, here: str) -> str:
    if not untested:
        return ""
    listed = ", ".join(head_type_link(data, row.head_type, here) for row in untested)
    return md.page("## Not tested yet", listed + ".")


def _row(row: MatrixRow, data: SiteData, here: str) -> list[str]:
    cells = {cell.model: cell for cell in row.cells}
    return [
        head_type_link(data, row.head_type, here),
        ", ".join(row.survey_families) or "–",
        *(verification_cell(cells[m.slug]) if m.slug in cells else "–" for m in data.matrix.models),
    ]
