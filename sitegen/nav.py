"""The site's navigation, built from the catalog: a tab per part, head types grouped by stage.

Paper pages stay out of the sidebar (over a hundred would bury everything else);
the papers index and every head type page link them, and search finds them.
"""

from sitegen import links
from sitegen.data import SiteData

# mkdocs' nav: a list of pages or {title: page or nested list}.
Nav = list[str | dict[str, "str | Nav"]]


def site_nav(data: SiteData) -> Nav:
    """The nav mkdocs builds the tabs and the sidebar from."""
    return [
        {"Home": [links.HOME, {"How to read the atlas": links.GUIDE}]},
        {"Stages": [links.STAGES, *({f"{s.name} ({s.code})": links.stage_page(s.code)} for s in data.stages)]},
        {"Head types": [links.HEAD_TYPES, *_head_types_by_stage(data)]},
        {"Models": [links.MODELS, *({m.model.name: links.model_page(m.model.slug)} for m in data.models)]},
        {"Transferability": links.MATRIX},
        {
            "Literature": [
                {"Papers": links.PAPERS},
                {"Methods": links.METHODS},
                {"Benchmarks": links.BENCHMARKS},
                {"Head lists": _datasets(data)},
            ]
        },
        {"API": [links.API_REFERENCE, {"From Python": links.PYTHON}]},
    ]


def _datasets(data: SiteData) -> Nav:
    return [links.DATASETS, *({d.dataset.name: links.dataset_page(d.dataset.slug)} for d in data.datasets)]


def _head_types_by_stage(data: SiteData) -> Nav:
    return [
        {
            f"{stage.name} ({stage.code})": [
                {h.name: links.head_type_page(h.slug)} for h in data.head_types if h.stage == stage.code
            ]
        }
        for stage in data.stages
    ]
