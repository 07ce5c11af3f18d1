"""The site's pictures, drawn with matplotlib from the catalog's numbers into the docs folder.

Run heatmaps and the matrix are not among them: they are SVG written into
their pages (sitegen.figures.run_heatmap, sitegen.figures.matrix_chart), so
that each cell links and tells its value.

Figures are generated files, never committed: every build draws them again
from the snapshot it read, so they cannot drift from the pages beside them.
"""

from dataclasses import dataclass
from pathlib import Path

from sitegen import links
from sitegen.data import SiteData
from sitegen.figures.depth import depth_rows, draw_depth
from sitegen.figures.framework import draw_framework, stage_counts
from sitegen.figures.heatmaps import draw_reported_map
from sitegen.markdown import Figure


@dataclass(frozen=True)
class Figures:
    """Every figure of a build, by what it shows, for the pages to embed."""

    framework: Figure
    depth: dict[str, Figure]  # by stage code
    reported: dict[str, Figure]  # by model slug; only models with reported heads

    def __len__(self) -> int:
        return 1 + len(self.depth) + len(self.reported)


def draw_all(data: SiteData, docs_dir: Path) -> Figures:
    """Draw every figure of the site into `docs_dir`."""
    names = {h.slug: h.name for h in data.head_types}
    reported = {
        model.model.slug: draw_reported_map(
            model.model, model.reported, names, docs_dir, links.reported_figure(model.model.slug)
        )
        for model in data.models
        if model.reported
    }
    depth = {
        stage.code: draw_depth(stage, depth_rows(data, stage), docs_dir, links.depth_figure(stage.code))
        for stage in data.stages
    }
    framework = draw_framework(stage_counts(data), docs_dir, links.FRAMEWORK_FIGURE)
    return Figures(framework=framework, depth=depth, reported=reported)
