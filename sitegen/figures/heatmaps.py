"""Where papers report heads in a model, as a picture; and a run's rule and scores in words.

The run's own heatmap is interactive SVG (sitegen.figures.run_heatmap); the
words here are its alt text and caption.
"""

from pathlib import Path

from catalog.models import RunStatus
from catalog.schemas import ModelPublic, ReportedHeadPublic
from sitegen.data import RunGrid
from sitegen.figures.canvas import grid_figure, label_grid, marker_area, save
from sitegen.markdown import Figure

# How many of the best heads the alt text names.
NAMED_IN_ALT = 5
# On the map of reported heads: a marker's side as a share of a cell, and its size in the legend (points).
REPORTED_MARKER, LEGEND_MARKER_POINTS = 0.6, 7.0


def rule_text(grid: RunGrid) -> str:
    """The run's rule in words, with the threshold its verdicts used."""
    rule, value = grid.run.params.get("rule"), grid.run.params.get("rule_value")
    threshold = f"{grid.threshold:.3g}" if grid.threshold is not None else "none"
    if rule == "at-least":
        return f"score ≥ {threshold}"
    if rule == "margin":
        return f"score − baseline ≥ {threshold}"
    if rule == "top-fraction" and isinstance(value, int | float):
        return f"the top {value:.0%} of heads by score (score ≥ {threshold})"
    return f"threshold {threshold}"


def run_alt_text(grid: RunGrid, model: ModelPublic, head_type_name: str) -> str:
    """Alt text naming the model, the detector, the grid's shape, the verdicts and the strongest heads."""
    best = ", ".join(f"L{layer}H{head} ({score:.2f})" for layer, head, score in grid.strongest(NAMED_IN_ALT))
    verdicts = (
        f"{len(grid.found)} of {grid.scored} scored heads show the behaviour ({rule_text(grid)})"
        if grid.run.status == RunStatus.COMPLETE
        else f"no verdicts: the run is {grid.run.status}"
    )
    return (
        f"Heatmap of {head_type_name} scores from detector {grid.run.detector} on {model.name}, "
        f"{grid.n_layers} layers by {grid.n_heads} heads; {verdicts}; strongest heads: {best or 'none'}."
    )


def draw_reported_map(
    model: ModelPublic, reported: list[ReportedHeadPublic], names: dict[str, str], docs_dir: Path, path: str
) -> Figure:
    """Where papers report heads in a model, one colour and marker per head type.

    Args:
        model: the model.
        reported: the heads papers report in it.
        names: head type names by slug, for the legend.
        docs_dir: the docs folder; the PNG goes to `path` inside it.
    """
    figure, cell = grid_figure(model.n_layers, model.n_heads)
    axes = figure.add_subplot()
    axes.imshow([[0.0] * model.n_heads] * model.n_layers, cmap="Greys", vmin=0, vmax=8, aspect="equal")
    label_grid(axes, model.n_layers, model.n_heads)
    axes.set_title(f"{model.name}\nheads reported by papers", fontsize=9)
    types = sorted({r.head_type for r in reported}, key=lambda slug: names[slug])
    markers = "osD^v<>pPX*h"
    for i, slug in enumerate(types):
        mine = sorted({(r.layer, r.head) for r in reported if r.head_type == slug})
        axes.scatter([h for _, h in mine], [layer for layer, _ in mine], s=marker_area(cell, REPORTED_MARKER),
                     marker=markers[i % len(markers)], color=f"C{i % 10}", label=names[slug])  # fmt: skip
    axes.set_xticks([h - 0.5 for h in range(1, model.n_heads)], minor=True)
    axes.set_yticks([layer - 0.5 for layer in range(1, model.n_layers)], minor=True)
    axes.grid(which="minor", color="#e0e0e0", linewidth=0.5)
    axes.tick_params(which="minor", length=0)
    # Legend markers at a fixed, small size, whatever the cells' size on the grid.
    scale = min(1.0, LEGEND_MARKER_POINTS / (cell * 72 * REPORTED_MARKER))
    figure.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=min(2, len(types)), markerscale=scale)
    save(figure, docs_dir, path)
    counts = ", ".join(f"{names[slug]} ({sum(r.head_type == slug for r in reported)})" for slug in types)
    alt = (
        f"Grid of {model.name}'s {model.n_layers} layers by {model.n_heads} heads marking the "
        f"{len({(r.layer, r.head) for r in reported})} heads papers report: {counts}."
    )
    return Figure(path=path, alt=alt, caption="One marker per head type; a head reported for two types shows both.")
