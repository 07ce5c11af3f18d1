"""The transferability matrix as a picture: head types down, models across, each cell what our runs found.

A found cell is coloured by the share of the model's scored heads that show the
behaviour (log scale), reads its count, and draws the relative depths of the
layers found along its foot (0, the first layer, at the left). A count that a
top-fraction rule caps is marked †, since it measures the rule as much as the
model. Not found, not verifiable, does not apply and no run each look
different. Every cell links to the head type's section on that model, and
tells what it holds on hover; the survey's family marks stand beside the name.
"""

import math

from catalog.models import RunStatus
from catalog.schemas import MatrixRow, ModelVerification
from sitegen import links
from sitegen.data import SiteData
from sitegen.figures.svg import Scale, attributes, element, empty_cell, svg
from sitegen.links import head_label
from sitegen.markdown import count

# Columns and rows, in pixels: the head type's name, the survey's marks, a cell; a row; a stage's heading row.
NAME_WIDTH, MARKS_WIDTH, CELL_WIDTH, ROW_HEIGHT, STAGE_HEIGHT, HEADER_HEIGHT = 250, 170, 150, 34, 28, 48
# The share of heads found that the colours span, log scale: 0.3% (palest) to 30% (darkest).
SHARE_SCALE = Scale(math.log10(0.003), math.log10(0.3), "YlGnBu", "#000000", "black")
# Cells without a colour: not found, a test that does not apply to the model, a run without verdicts.
NOT_FOUND_FILL, NOT_APPLICABLE_FILL, NO_VERDICT_FILL, NO_VERDICT_STROKE = "#ffffff", "#fafafa", "#fff8e1", "#ffb300"
# A cell's words by the status of its run, where nothing was found or tested.
STATUS_WORDS = {
    RunStatus.NOT_VERIFIABLE: "not verifiable",
    RunStatus.NOT_APPLICABLE: "does not apply",
    RunStatus.EXPLORATORY: "exploratory",
    RunStatus.FAILED: "run failed",
}
# The mark of a count a top-fraction rule caps.
CAPPED = "†"


def matrix_chart(data: SiteData, here: str) -> str:
    """The matrix of tested head types as an SVG figure for the page at `here`."""
    models = data.matrix.models
    rows = [row for row in data.matrix.rows if row.cells]
    body, y = _header(data, here), HEADER_HEIGHT
    for stage in data.stages:
        mine = [row for row in rows if row.stage == stage.code]
        if not mine:
            continue
        body.append(element("text", f"{stage.name} ({stage.code})", x=4, y=y + 16, class_="title"))
        y += STAGE_HEIGHT
        for row in mine:
            body += _row(row, data, here, y)
            y += ROW_HEIGHT
    width = NAME_WIDTH + MARKS_WIDTH + CELL_WIDTH * len(models) + 8
    title = (
        f"Transferability matrix: {count(len(rows), 'head type')} tested on {count(len(models), 'model')}; each cell "
        "gives the heads "
        "found, the share of the model's heads they are, and the relative depths of their layers."
    )
    return "\n".join([
        '<figure class="atlas-figure atlas-interactive atlas-matrix">',
        svg(width, y + 8, title, body, class_="atlas-matrix-chart"),
        f"<figcaption>{_caption()}</figcaption>",
        '<p class="atlas-readout" aria-live="polite">Point at a cell for what it holds; click it for the runs.</p>',
        "</figure>",
    ])  # fmt: skip


def _header(data: SiteData, here: str) -> list[str]:
    parts = [
        element("text", "head type", x=4, y=HEADER_HEIGHT - 10, class_="tick"),
        element("text", "survey marks", x=NAME_WIDTH, y=HEADER_HEIGHT - 10, class_="tick"),
    ]
    for i, model in enumerate(data.matrix.models):
        x = NAME_WIDTH + MARKS_WIDTH + i * CELL_WIDTH + CELL_WIDTH / 2
        name = data.model(model.slug).model.name
        text = element("text", name, x=x, y=HEADER_HEIGHT - 10, class_="subtitle", text_anchor="middle")
        parts.append(f"<a {attributes(href=links.built(here, links.model_page(model.slug)))}>{text}</a>")
    return parts


def _row(row: MatrixRow, data: SiteData, here: str, y: float) -> list[str]:
    name = element("text", _shorten(row.name, 34), x=12, y=y + 21, class_="subtitle")
    parts = [
        f"<a {attributes(href=links.built(here, links.head_type_page(row.head_type)))}>{name}</a>",
        element("text", _shorten(", ".join(row.survey_families) or "–", 26), x=NAME_WIDTH, y=y + 21, class_="tick"),
    ]
    cells = {cell.model: cell for cell in row.cells}
    for i, model in enumerate(data.matrix.models):
        x = NAME_WIDTH + MARKS_WIDTH + i * CELL_WIDTH
        if model.slug in cells:
            parts.append(_cell(row, cells[model.slug], data, here, x, y))
    return parts


def _cell(row: MatrixRow, cell: ModelVerification, data: SiteData, here: str, x: float, y: float) -> str:
    """One head type on one model: a link to its section on the head type's page, with a readout."""
    width, height = CELL_WIDTH - 4, ROW_HEIGHT - 4
    capped = _capped(cell, data)
    if cell.status != "tested":
        words = STATUS_WORDS[cell.status]
        shapes = [_untested_box(cell.status, x, y, width, height), _label(words, x, y, width, dark=False)]
    elif not cell.found:
        box = element("rect", x=x, y=y, width=width, height=height, fill=NOT_FOUND_FILL, stroke="#9e9e9e")
        shapes = [box, _label(f"0 / {cell.heads_scored}", x, y, width, dark=False)]
    else:
        share = cell.heads_found / max(cell.heads_scored, 1)
        position = SHARE_SCALE.position(math.log10(share))
        box = element("rect", x=x, y=y, width=width, height=height, fill=SHARE_SCALE.colour(math.log10(share)))
        count = f"{cell.heads_found} / {cell.heads_scored}{CAPPED if capped else ''}"
        shapes = [box, _label(count, x, y, width, dark=position > 0.55), *_depths(cell, x, y, width, height)]
    readout = f"{row.name} on {data.model(cell.model).model.name}: {_words(cell, capped)}"
    href = links.built(here, f"{links.head_type_page(row.head_type)}#{cell.model}")
    return f"<a {attributes(href=href, data_readout=readout)}>" + "".join(shapes) + "</a>"


def _untested_box(status: str, x: float, y: float, width: float, height: float) -> str:
    """Not verifiable struck through; does not apply dashed; a failed or exploratory run amber."""
    if status == RunStatus.NOT_VERIFIABLE:
        return empty_cell(x, y, width, height)
    if status == "not-applicable":
        return element("rect", x=x, y=y, width=width, height=height, fill=NOT_APPLICABLE_FILL, stroke="#bdbdbd",
                       stroke_dasharray="3 2")  # fmt: skip
    return element("rect", x=x, y=y, width=width, height=height, fill=NO_VERDICT_FILL, stroke=NO_VERDICT_STROKE)


def _label(text: str, x: float, y: float, width: float, *, dark: bool) -> str:
    return element("text", text, x=x + width / 2, y=y + 16, class_="cell-text", text_anchor="middle",
                   fill="#ffffff" if dark else "#212121")  # fmt: skip


def _depths(cell: ModelVerification, x: float, y: float, width: float, height: float) -> list[str]:
    """The found layers' relative depths as ticks along the cell's foot, on a line from the first layer to the last."""
    foot = y + height - 5
    line = element("line", x1=x + 6, x2=x + width - 6, y1=foot, y2=foot, stroke="#757575", stroke_width=0.8)
    ticks = [
        element("line", x1=round(at, 1), x2=round(at, 1), y1=foot - 4, y2=foot + 3, stroke="#d50000", stroke_width=1.4)
        for at in (x + 6 + depth * (width - 12) for depth in sorted(set(cell.found_relative_depths)))
    ]
    return [line, *ticks]


def _capped(cell: ModelVerification, data: SiteData) -> bool:
    """Whether a top-fraction rule decided this cell's count: then it says as much about the rule as the model."""
    return any(data.run(run)[1].capped_at is not None for run in cell.runs)


def _words(cell: ModelVerification, capped: bool) -> str:
    """What the cell holds, in words, for its readout."""
    if cell.status != "tested":
        return STATUS_WORDS[cell.status] + (f" ({cell.reason})" if cell.reason else "")
    if not cell.found:
        return f"not found: none of {cell.heads_scored} scored heads shows the behaviour"
    cap = ", a count capped by a top-fraction rule" if capped else ""
    best = f"; best {head_label(cell.best.layer, cell.best.head)} {cell.best.score:.3g}" if cell.best else ""
    depths = sorted(set(cell.found_relative_depths))
    return (
        f"found {cell.heads_found} of {cell.heads_scored} heads{cap}{best}; "
        f"relative depths {depths[0]:.2f}–{depths[-1]:.2f}"
    )


def _caption() -> str:
    return (
        "Colour: the share of the model's scored heads that show the behaviour (log scale, 0.3% to 30%). "
        "Red ticks on a cell's foot: the relative depths of the layers found, first layer at the left. "
        f"{CAPPED}: a count capped by a top-fraction rule (the detector keeps at most a fixed share of heads). "
        "White: tested, not found. Struck through: not verifiable on the model (it does not do the task). "
        "Dashed: the test does not apply to the model. Amber: the run failed, or is exploratory (scored with the "
        "model at chance on the task, so without verdicts). Blank: no run."
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
