"""Where in depth a stage's head types sit: the survey's words, the heads papers report, the heads our runs found.

Depth is relative, layer / (n_layers - 1), so that models of different depths
share one axis. The survey says only "shallow", "middle" or "deep"; those words
are drawn as thirds of depth and the caption says so, since the survey gives no
boundaries.
"""

from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from catalog.schemas import StagePublic, relative_depth
from sitegen.data import SiteData
from sitegen.figures.canvas import new_figure, save
from sitegen.markdown import Figure, count

# The survey's depth words, drawn as these spans of relative depth.
SURVEY_SPANS = {"shallow": (0.0, 1 / 3), "middle": (1 / 3, 2 / 3), "deep": (2 / 3, 1.0)}
SURVEY_COLOUR = "#c5cae9"
REPORTED_STYLE = {"marker": "D", "facecolors": "none", "edgecolors": "black", "s": 22, "linewidths": 0.8}
# Height of one head type's row, in inches.
ROW_INCHES = 0.28


@dataclass(frozen=True)
class DepthRow:
    """One head type's row: the survey's words, and relative depths of reported and of verified heads."""

    name: str
    survey: list[str]
    reported: list[float]
    verified: dict[str, list[float]] = field(default_factory=dict)  # by model name


def depth_rows(data: SiteData, stage: StagePublic) -> list[DepthRow]:
    """The stage's head types in the survey's order, each with every depth the catalog knows for it."""
    rows = []
    for head_type in (h for h in data.head_types if h.stage == stage.code):
        verified: dict[str, list[float]] = {}
        for model, verdict in data.found_verdicts(head_type.slug):
            depth = relative_depth(verdict.layer, model.model.n_layers)
            verified.setdefault(model.model.name, []).append(depth)
        reported = [relative_depth(r.layer, data.model(r.model).model.n_layers) for r in head_type.reported_heads]
        rows.append(DepthRow(head_type.name, head_type.layer_distribution, reported, verified))
    return rows


def draw_depth(stage: StagePublic, rows: list[DepthRow], docs_dir: Path, path: str) -> Figure:
    """One row per head type: shaded survey depth, hollow diamonds for reported heads, dots for verified ones."""
    figure = new_figure(7.5, 1.4 + ROW_INCHES * len(rows))
    axes = figure.add_subplot()
    models = sorted({name for row in rows for name in row.verified})
    for y, row in enumerate(rows):
        for word in row.survey:
            low, high = SURVEY_SPANS[word]
            axes.fill_between([low, high], y - 0.4, y + 0.4, color=SURVEY_COLOUR, linewidth=0)
        if row.reported:
            axes.scatter(row.reported, [y - 0.12] * len(row.reported), **REPORTED_STYLE)
        for i, model in enumerate(models):
            depths = row.verified.get(model, [])
            axes.scatter(depths, [y + 0.15] * len(depths), s=14, color=f"C{i}", alpha=0.7, linewidths=0)
    axes.set_yticks(range(len(rows)), [row.name for row in rows], fontsize=7)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(-0.02, 1.02)
    axes.set_xlabel("relative depth: layer / (layers − 1)", fontsize=8)
    axes.tick_params(axis="x", labelsize=7)
    axes.set_title(f"{stage.name} ({stage.code}): where its head types sit", fontsize=9)
    handles = [Patch(color=SURVEY_COLOUR, label="survey: typical depth")]
    handles.append(_marker_handle("D", "none", "black", "reported by a paper"))
    handles += [_marker_handle("o", f"C{i}", f"C{i}", f"found on {model}") for i, model in enumerate(models)]
    figure.legend(handles=handles, loc="outside lower center", fontsize=7, frameon=False, ncols=min(3, len(handles)))
    save(figure, docs_dir, path)
    return Figure(path=path, alt=depth_alt_text(stage, rows), caption=DEPTH_CAPTION)


# What the depth figure's shading and marks mean.
DEPTH_CAPTION = (
    "Shaded: the survey's typical depth (shallow, middle, deep), drawn as thirds of depth; the survey gives no "
    "boundaries. Hollow diamonds: heads papers report, each at its layer in its own model. Dots: heads our runs "
    "found showing the behaviour."
)


def _marker_handle(marker: str, face: str, edge: str, label: str) -> Line2D:
    return Line2D([], [], linestyle="none", marker=marker, markerfacecolor=face, markeredgecolor=edge, label=label)


def depth_alt_text(stage: StagePublic, rows: list[DepthRow]) -> str:
    """The figure in words: how many head types have each kind of evidence, and the survey's words for each."""
    reported = sum(len(row.reported) for row in rows)
    verified = sum(len(depths) for row in rows for depths in row.verified.values())
    words = "; ".join(f"{row.name}: {', '.join(row.survey)}" for row in rows if row.survey)
    return (
        f"Relative depth of the {count(len(rows), 'head type')} of {stage.name}. {count(reported, 'head')} reported "
        f"by papers and {count(verified, 'head')} found by our runs are marked. "
        f"Survey's typical depth: {words or 'not given'}."
    )
