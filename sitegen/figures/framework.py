"""The survey's four-stage framework as a picture, each stage with what the catalog holds for it."""

from dataclasses import dataclass
from pathlib import Path

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from sitegen.data import SiteData
from sitegen.figures.canvas import new_figure, save
from sitegen.markdown import Figure, count

# One colour per stage, in the survey's order.
STAGE_COLOURS = ("#e3f2fd", "#e8f5e9", "#fff3e0", "#fce4ec")


@dataclass(frozen=True)
class StageCounts:
    """What the catalog holds for one stage."""

    code: str
    name: str
    mechanisms: int
    head_types: int
    reported_heads: int
    found_types: int  # head types that at least one run found on at least one model


def stage_counts(data: SiteData) -> list[StageCounts]:
    counts = []
    for stage in data.stages:
        types = [h for h in data.head_types if h.stage == stage.code]
        counts.append(
            StageCounts(
                code=stage.code,
                name=stage.name,
                mechanisms=len(stage.mechanisms),
                head_types=len(types),
                reported_heads=sum(len(h.reported_heads) for h in types),
                found_types=sum(any(v.found for v in h.verification) for h in types),
            )
        )
    return counts


def draw_framework(counts: list[StageCounts], docs_dir: Path, path: str) -> Figure:
    """Four boxes, left to right in the survey's order, with the catalog's counts."""
    figure = new_figure(10, 2.3)
    axes = figure.add_subplot()
    axes.set_xlim(0, max(len(counts), 1))  # an empty catalog draws an empty frame
    axes.set_ylim(0, 1)
    axes.axis("off")
    for i, stage in enumerate(counts):
        colour = STAGE_COLOURS[i % len(STAGE_COLOURS)]
        box = FancyBboxPatch((i + 0.08, 0.08), 0.72, 0.84, boxstyle="round,pad=0.02", fc=colour, ec="#455a64")
        axes.add_patch(box)
        axes.text(i + 0.44, 0.78, stage.code, ha="center", fontsize=13, weight="bold")
        axes.text(i + 0.44, 0.62, stage.name, ha="center", fontsize=9)
        lines = [
            count(stage.mechanisms, "mechanism"),
            count(stage.head_types, "head type"),
            count(stage.reported_heads, "reported head"),
            f"{count(stage.found_types, 'head type')} found by our runs",
        ]
        axes.text(i + 0.44, 0.16, "\n".join(lines), ha="center", fontsize=7.5, linespacing=1.5)
        if i + 1 < len(counts):
            arrow = FancyArrowPatch((i + 0.82, 0.5), (i + 1.06, 0.5), arrowstyle="-|>", mutation_scale=14)
            axes.add_patch(arrow)
    save(figure, docs_dir, path)
    alt = "The survey's four stages, in order: " + "; ".join(
        f"{s.code} ({s.name}): {s.mechanisms} mechanisms, {s.head_types} head types, {s.reported_heads} reported "
        f"heads, {s.found_types} head types found by our runs"
        for s in counts
    )
    caption = "The survey's four stages in its order; the counts are this catalog's."
    return Figure(path=path, alt=alt + ".", caption=caption)
