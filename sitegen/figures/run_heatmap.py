"""A run's layer × head heatmap as inline SVG: each cell links its head's page and tells its score on hover.

Layers run down (layer 0 at the top, as in most papers' head plots), heads
across. Heads that show the behaviour are outlined, heads papers report for the
run's head type carry a white diamond, and heads the detector could not score
are struck through in pale grey, never a colour a score could have. A page comparing runs passes
one shared `Scale`, so that a colour means the same score in every heatmap.
"""

import math

from catalog.schemas import ModelPublic
from sitegen import links
from sitegen.data import RunGrid
from sitegen.figures.heatmaps import rule_text, run_alt_text
from sitegen.figures.svg import Scale, attributes, colour_bar, diamond, element, empty_cell, scale_of, svg
from sitegen.links import head_label

# A cell's side in pixels, between these bounds; the grid aims at this height.
CELL_MIN, CELL_MAX, GRID_PIXELS = 9, 18, 420
# Room around the grid: layer labels, the title, head labels, the colour bar.
LEFT, TOP, BOTTOM, RIGHT = 34, 40, 34, 70
# A title character's width in pixels, at most, for sizing the figure to its title.
TITLE_CHARACTER = 7


def grid_scale(grids: list[RunGrid]) -> Scale:
    """One colour scale for every score of these runs."""
    return scale_of(s for grid in grids for row in grid.scores for s in row if s is not None)


def run_heatmap(grid: RunGrid, model: ModelPublic, head_type_name: str, here: str, scale: Scale | None = None) -> str:
    """The run's heatmap as a figure for the page at `here`, on `scale` (by default the run's own)."""
    scale = scale or grid_scale([grid])
    cell = max(CELL_MIN, min(CELL_MAX, GRID_PIXELS // max(grid.n_layers, grid.n_heads)))
    titles = [(model.name, "title"), (f"{head_type_name} · detector {grid.run.detector}", "subtitle")]
    # Wide enough for the grid and its colour bar, and for the longer title line (about 7 pixels a character).
    width = max(LEFT + grid.n_heads * cell + RIGHT, LEFT + TITLE_CHARACTER * max(len(text) for text, _ in titles))
    height = TOP + grid.n_layers * cell + BOTTOM
    body = [
        *(element("text", text, x=LEFT, y=14 + 14 * i, class_=kind) for i, (text, kind) in enumerate(titles)),
        *_cells(grid, model.slug, here, scale, cell),
        *_axes(grid, cell),
        *colour_bar(scale, LEFT + grid.n_heads * cell + 16, TOP, min(grid.n_layers * cell, 200), label="score",
                    mark=grid.threshold if grid.run.params.get("rule") in ("at-least", "top-fraction") else None),
    ]  # fmt: skip
    picture = svg(width, height, run_alt_text(grid, model, head_type_name), body, class_="atlas-heatmap")
    return "\n".join([
        '<figure class="atlas-figure atlas-interactive">',
        picture,
        f'<figcaption>{_caption(grid, scale)}</figcaption>',
        '<p class="atlas-readout" aria-live="polite">Point at a head for its score; click it for its page.</p>',
        "</figure>",
    ])  # fmt: skip


def _cells(grid: RunGrid, model: str, here: str, scale: Scale, cell: int) -> list[str]:
    parts = []
    for layer, row in enumerate(grid.scores):
        for head, score in enumerate(row):
            label = head_label(layer, head)
            value = "not scored" if score is None or math.isnan(score) else f"{score:.3g}"
            marks = [" shows the behaviour"] if (layer, head) in grid.found else []
            marks += [" reported by a paper"] if (layer, head) in grid.reported else []
            readout = f"{label}: {value}" + (";" + ",".join(marks) if marks else "")
            x, y = LEFT + head * cell, TOP + layer * cell
            found = (layer, head) in grid.found
            box = (
                empty_cell(x, y, cell, cell)
                if score is None or math.isnan(score)
                else element("rect", x=x, y=y, width=cell, height=cell, fill=scale.colour(score),
                             stroke=scale.outline if found else None, stroke_width=2 if found else None)
            )  # fmt: skip
            shapes = [box]
            if (layer, head) in grid.reported:
                shapes.append(diamond(x + cell / 2, y + cell / 2, cell * 0.22))
            href = links.built(here, links.head_page(model, layer, head))
            parts.append(f"<a {attributes(href=href, data_readout=readout)}>" + "".join(shapes) + "</a>")
    return parts


def _axes(grid: RunGrid, cell: int) -> list[str]:
    """Head numbers under the grid and layer numbers beside it, thinned out on big models."""
    heads = [
        element("text", str(h), x=LEFT + h * cell + cell / 2, y=TOP + grid.n_layers * cell + 12, class_="tick",
                text_anchor="middle")
        for h in range(0, grid.n_heads, _step(grid.n_heads))
    ]  # fmt: skip
    layers = [
        element("text", str(la), x=LEFT - 4, y=TOP + la * cell + cell / 2 + 3, class_="tick", text_anchor="end")
        for la in range(0, grid.n_layers, _step(grid.n_layers))
    ]
    names = [
        element("text", "head", x=LEFT + grid.n_heads * cell / 2, y=TOP + grid.n_layers * cell + 26, class_="tick",
                text_anchor="middle"),
        element("text", "layer", x=10, y=TOP + grid.n_layers * cell / 2, class_="tick", text_anchor="middle",
                transform=f"rotate(-90 10 {TOP + grid.n_layers * cell / 2})"),
    ]  # fmt: skip
    return heads + layers + names


def _step(n: int) -> int:
    return 1 if n <= 16 else 2 if n <= 32 else 5


def _caption(grid: RunGrid, scale: Scale) -> str:
    marks = f"{scale.outline_name.capitalize()} outline: shows the behaviour."
    if grid.reported:
        marks += " White diamond: reported by a paper."
    if grid.run.status != "complete":
        return (
            f"Scores only: the run is {grid.run.status}, so no head gets a verdict. {marks} Struck through: not scored."
        )
    return f"Rule: {rule_text(grid)}, and above the baseline. {marks} Struck through: not scored."
