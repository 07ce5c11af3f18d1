"""What several kinds of page write alike: links to entries by name, head labels, verification in words."""

from dataclasses import dataclass

from catalog.models import RunStatus
from catalog.schemas import ModelVerification, ReportedHeadPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.links import head_label


@dataclass(frozen=True)
class Page:
    """One generated page: its path in the docs folder and its markdown."""

    path: str
    markdown: str


def head_type_link(data: SiteData, slug: str, from_page: str) -> str:
    return md.page_link(data.head_type(slug).name, from_page, links.head_type_page(slug))


def model_link(data: SiteData, slug: str, from_page: str) -> str:
    return md.page_link(data.model(slug).model.name, from_page, links.model_page(slug))


def paper_link(data: SiteData, key: str, title: str, from_page: str) -> str:
    """A paper's page where the catalog has the paper; its key as text otherwise."""
    return md.page_link(title, from_page, links.paper_page(key)) if data.has_paper(key) else md.code(key)


def paper_cite_link(data: SiteData, key: str, from_page: str) -> str:
    """A paper as a short citation, "Wang et al. 2023", linking its page: what a table cell has room for."""
    if not data.has_paper(key):
        return md.code(key)
    paper = data.paper(key)
    surname = paper.authors[0].split()[-1] if paper.authors else key
    others = " et al." if len(paper.authors) > 1 or not paper.authors_complete else ""
    return md.page_link(f"{surname}{others} {paper.year}", from_page, links.paper_page(key))


def head_link(model: str, layer: int, head: int, from_page: str) -> str:
    """A head's label, linking its page (every score, verdict and report of that head)."""
    return f"[`{head_label(layer, head)}`]({links.relative(from_page, links.head_page(model, layer, head))})"


# How a cell without verdicts reads, by the status of its run.
UNTESTED_WORDS = {
    RunStatus.NOT_VERIFIABLE: "not verifiable",
    RunStatus.NOT_APPLICABLE: "does not apply",
    RunStatus.EXPLORATORY: "exploratory: scored at chance, no verdicts",
    RunStatus.FAILED: "the run failed",
}


def verification_cell(cell: ModelVerification) -> str:
    """A head type on a model in a few words: found (how many, best), not found, or not verifiable."""
    if cell.status != "tested":
        return UNTESTED_WORDS[cell.status]
    if not cell.found:
        unconfirmed = f"; {cell.candidates} candidates not confirmed by ablation" if cell.candidates else ""
        return f"not found (0 of {cell.heads_scored}{unconfirmed})"
    best = f", best {head_label(cell.best.layer, cell.best.head)} {best_estimate(cell)}" if cell.best else ""
    confirmed = ", confirmed by ablation" if cell.confirmation == "confirmed" else ""
    return f"**found**: {cell.heads_found} of {cell.heads_scored}{best}{confirmed}"


def best_estimate(cell: ModelVerification) -> str:
    best = cell.best
    return "–" if best is None else md.estimate(best.score, best.score_low, best.score_high, best.pass_rate)


def depth_span(depths: list[float]) -> str:
    """Relative depths as a range, e.g. 0.59–0.79."""
    if not depths:
        return "–"
    low, high = min(depths), max(depths)
    return f"{low:.2f}" if low == high else f"{low:.2f}–{high:.2f}"


def survey_depth(words: list[str]) -> str:
    return ", ".join(words) if words else "not given"


def evidence(reported: list[ReportedHeadPublic], data: SiteData, here: str) -> str:
    """Each paper's evidence once, with the heads it covers, in the order the heads are listed."""
    heads: dict[tuple[str, str, str], list[str]] = {}
    for r in reported:
        heads.setdefault((r.paper, r.model, r.evidence), []).append(head_label(r.layer, r.head))
    return md.bullets(
        f"{paper_cite_link(data, paper, here)} on {data.model(model).model.name}, "
        f"{', '.join(labels)}: {md.escape(text)}"
        for (paper, model, text), labels in heads.items()
    )
