"""A page per paper (citation, BibTeX, what the catalog cites it for) and the index of papers by year."""

from catalog.schemas import PaperPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.figures import Figures
from sitegen.pages.common import Page, head_link, head_type_link, model_link


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.PAPERS, render_index(data))] + [
        Page(links.paper_page(p.key), render_paper_page(p, data)) for p in data.papers
    ]


def render_index(data: SiteData) -> str:
    """Every paper, newest first."""
    here = links.PAPERS
    rows = [
        [
            str(p.year),
            md.page_link(p.title, here, links.paper_page(p.key)),
            authors(p, limit=3),
            md.escape(p.venue),
            ", ".join(head_type_link(data, slug, here) for slug in p.head_types) or "–",
        ]
        for p in data.papers
    ]
    return md.page(
        md.front_matter(title="Papers", api=links.api_path("/papers")),
        "# Papers",
        md.json_twin(links.api_path("/papers")),
        f"The {len(data.papers)} papers the catalog cites, newest first: the survey's references and the primary "
        "papers of reported heads. Each page has the BibTeX entry.",
        md.table(["Year", "Title", "Authors", "Venue", "Cited for"], rows),
    )


def authors(paper: PaperPublic, *, limit: int | None = None) -> str:
    """The author list as the catalog has it; "et al." where it is cut short here or in the catalog."""
    names = paper.authors[:limit] if limit else paper.authors
    cut = len(names) < len(paper.authors) or not paper.authors_complete
    return md.escape(", ".join(names) + (" et al." if cut else "")) if names else "–"


def render_paper_page(paper: PaperPublic, data: SiteData) -> str:
    """One paper: its citation, the head types, methods and benchmarks it is cited for, its heads, its BibTeX."""
    here = links.paper_page(paper.key)
    api = links.api("paper", paper.key)
    return md.page(
        md.front_matter(title=paper.title, api=api, description=f"{paper.title} ({paper.year})"),
        f"# {md.escape(paper.title)}",
        md.json_twin(api),
        _citation(paper),
        "## Cited for",
        _cited_for(paper, data, here),
        "## Heads it reports",
        _reported(paper, data, here),
        "## BibTeX",
        md.fenced("bibtex", paper.bibtex),
        f"Plain text: [`{api}/bibtex`]({api}/bibtex)",
    )


def _citation(paper: PaperPublic) -> str:
    rows = [
        ["Authors", authors(paper)],
        ["Year", str(paper.year)],
        ["Venue", md.escape(paper.venue)],
        ["Key", md.code(paper.key)],
    ]
    if paper.url:
        rows.append(["Link", md.link(paper.url, paper.url)])
    if paper.arxiv_id:
        rows.append(["arXiv", md.code(paper.arxiv_id)])
    return md.definitions(rows)


def _cited_for(paper: PaperPublic, data: SiteData, here: str) -> str:
    """Head types, methods and benchmarks that cite this paper."""
    items = [f"Head type: {head_type_link(data, slug, here)}" for slug in paper.head_types]
    items += [
        f"Method: {md.page_link(m.name, here, f'{links.METHODS}#{m.slug}')}"
        for m in data.methods
        if any(p.key == paper.key for p in m.papers)
    ]
    items += [
        f"Benchmark: {md.page_link(b.name, here, f'{links.BENCHMARKS}#{b.slug}')}"
        for b in data.benchmarks
        if any(p.key == paper.key for p in b.papers)
    ]
    return md.bullets(items) or "Nothing in the catalog cites this paper for a head type, method or benchmark."


def _reported(paper: PaperPublic, data: SiteData, here: str) -> str:
    reported = [r for h in data.head_types for r in h.reported_heads if r.paper == paper.key]
    if not reported:
        return "The catalog records no exact head (layer and head in a named model) from this paper."
    rows = [
        [
            model_link(data, r.model, here),
            head_link(r.model, r.layer, r.head, here),
            md.code(r.paper_index),
            head_type_link(data, r.head_type, here),
            md.escape(r.location),
        ]
        for r in reported
    ]
    return md.table(["Model", "Head (0-based)", "As printed", "Head type", "Where"], rows)
