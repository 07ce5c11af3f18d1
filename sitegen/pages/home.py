"""The home page: what the atlas is, the survey's framework, what the catalog holds, and how to cite it."""

from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.figures import Figures
from sitegen.pages.common import Page, model_link, paper_link

# The survey whose taxonomy the catalog follows, by its key in the catalog.
SURVEY_KEY = "Survey_24_arXiv_IAAR"
# The catalog's tables as the home page counts them: (table, what a reader calls a row, page that lists them).
COUNTED = [
    ("stage", "stages", links.STAGES),
    ("mechanism", "mechanisms", links.STAGES),
    ("head_type", "head types", links.HEAD_TYPES),
    ("paper", "papers", links.PAPERS),
    ("method", "methods", links.METHODS),
    ("benchmark", "benchmarks", links.BENCHMARKS),
    ("model", "models", links.MODELS),
    ("reported_head", "heads reported by papers", links.HEAD_TYPES),
    ("run", "verification runs", links.MATRIX),
    ("verdict", "per-head verdicts", links.MATRIX),
]

INTRO = """\
A reference catalog of attention heads in large language models. It holds what
the survey *Attention Heads of Large Language Models* and its primary papers say
about special heads: the survey's four-stage taxonomy, every head type with what
its QK circuit attends to and what its OV circuit writes, the papers, methods
and benchmarks, and the exact heads papers report. It also **verifies** head
types on real models: detectors re-implement the papers' tests, score every head
against a baseline and a cited threshold, and store every score and verdict.
What papers report and what our runs verified are always kept apart."""


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.HOME, render_home(data, figures))]


def render_home(data: SiteData, figures: Figures) -> str:
    here = links.HOME
    return md.page(
        md.front_matter(title="Home", api=links.api_path("/")),
        "# headatlas",
        md.json_twin(links.api_path("/")),
        INTRO,
        _first_steps(data),
        f"New here? {md.page_link('How to read the atlas', here, links.GUIDE)} explains layers, heads, scores and "
        "verdicts.",
        "## The four-stage framework",
        md.figure(figures.framework, here),
        _stages(data, here),
        "## What the catalog holds",
        _counts(data, here),
        "## Verified so far",
        _verified(data, here),
        "## How to cite",
        _citing(data, here),
    )


def _stages(data: SiteData, here: str) -> str:
    rows = [
        [
            md.page_link(f"{s.name} ({s.code})", here, links.stage_page(s.code)),
            md.escape(s.summary),
            ", ".join(md.page_link(m.name, here, f"{links.stage_page(s.code)}#{m.slug}") for m in s.mechanisms),
        ]
        for s in data.stages
    ]
    return md.table(["Stage", "What its heads do", "Mechanisms"], rows)


def _counts(data: SiteData, here: str) -> str:
    counts = data.summary.counts
    rows = [[md.page_link(label, here, page), str(counts[table])] for table, label, page in COUNTED if table in counts]
    return md.table(["In the catalog", "Count"], rows)


def _first_steps(data: SiteData) -> str:
    """What to run, on a site built from a catalog that holds no knowledge or no run yet; nothing otherwise."""
    if not data.head_types:
        steps = "`headatlas ingest knowledge`, then `headatlas verify --model smollm2`, then `headatlas site build`"
        return md.admonition("warning", "This catalog is empty", f"It holds no knowledge yet. Run {steps}.")
    if not any(model.runs for model in data.models):
        steps = "`headatlas verify --model smollm2` (or another model), then `headatlas site build`"
        return md.admonition("info", "Nothing verified yet", f"The catalog holds no run. Run {steps}.")
    return ""


def _verified(data: SiteData, here: str) -> str:
    """One line per model with runs: how many runs, how many head types tested, and how many found."""
    lines = []
    for model in data.models:
        if not model.runs:
            continue
        cells = [c for h in data.head_types for c in h.verification if c.model == model.model.slug]
        found = sum(c.found for c in cells)
        lines.append(
            f"{model_link(data, model.model.slug, here)}: {md.count(len(model.runs), 'run')} tested "
            f"{md.count(len(cells), 'head type')}; {found} found, in {md.count(len(model.verified_heads), 'head')}."
        )
    if not lines:
        return "No model has been verified in this catalog yet."
    matrix = md.page_link("transferability matrix", here, links.MATRIX)
    return md.bullets(lines) + f"\n\nThe {matrix} puts every tested head type beside every tested model."


def _citing(data: SiteData, here: str) -> str:
    text = (
        "Cite the survey for the taxonomy, and the primary papers for the heads they report: every paper's page "
        f"has its BibTeX ({md.page_link('all papers', here, links.PAPERS)})."
    )
    if not data.has_paper(SURVEY_KEY):
        return text
    survey = next(p for p in data.papers if p.key == SURVEY_KEY)
    return md.page(
        text, f"The survey: {paper_link(data, survey.key, survey.title, here)}", md.fenced("bibtex", survey.bibtex)
    ).strip()
