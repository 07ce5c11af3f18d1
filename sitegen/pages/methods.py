"""The survey's taxonomy of methods, with the detectors of this catalog that implement each method.

Which detector implements which method is read from the stored runs (each run
names its method), so a detector shows here once it has run on some model.
"""

from catalog.schemas import MethodPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.figures import Figures
from sitegen.pages.common import Page, head_type_link, model_link, paper_link


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.METHODS, render_methods_page(data))]


def detectors_by_method(data: SiteData) -> dict[str, dict[str, tuple[str | None, set[str]]]]:
    """method slug → detector → (head type slug, slugs of the models it ran on), from the runs."""
    found: dict[str, dict[str, tuple[str | None, set[str]]]] = {}
    for model, grid in data.runs():
        if grid.run.method is None:
            continue
        detectors = found.setdefault(grid.run.method, {})
        head_type, models = detectors.setdefault(grid.run.detector, (grid.head_type, set()))
        models.add(model.model.slug)
    return found


def render_methods_page(data: SiteData) -> str:
    """Families, then kinds, then methods, each method with its papers and its detectors here."""
    here = links.METHODS
    implemented = detectors_by_method(data)
    summary = [
        [
            md.page_link(m.name, here, f"{here}#{m.slug}"),
            md.escape(m.kind_name),
            ", ".join(md.code(d) for d in sorted(implemented.get(m.slug, {}))) or "–",
        ]
        for m in data.methods
    ]
    blocks = [
        md.front_matter(title="Methods", api=links.api_path("/methods")),
        "# Methods",
        md.json_twin(links.api_path("/methods")),
        "How papers find out what a head does, in the survey's taxonomy: two families, each split into two kinds. "
        "Beside each method are the detectors of this catalog that implement it, as their stored runs record.",
        md.table(["Method", "Kind", "Detectors here"], summary),
    ]
    for family in data.method_families:
        blocks += [f"## {md.escape(family.name)} {{ #{family.slug} }}", md.escape(family.summary)]
        methods = [m for m in data.methods if m.family == family.slug]
        for kind in dict.fromkeys(m.kind_name for m in methods):
            blocks.append(f"### {md.escape(kind)}")
            blocks += [_method(m, implemented.get(m.slug, {}), data, here) for m in methods if m.kind_name == kind]
    return md.page(*blocks)


def _method(method: MethodPublic, detectors: dict[str, tuple[str | None, set[str]]], data: SiteData, here: str) -> str:
    papers = ", ".join(paper_link(data, p.key, p.title, here) for p in method.papers) or "none cited"
    if detectors:
        lines = [
            f"{md.code(name)}"
            + (f" tests {head_type_link(data, head_type, here)}" if head_type else "")
            + " on "
            + ", ".join(model_link(data, slug, here) for slug in sorted(models))
            for name, (head_type, models) in sorted(detectors.items())
        ]
        implemented = "Detectors in this catalog:\n\n" + md.bullets(lines)
    else:
        implemented = "No detector in this catalog has run with this method."
    return md.page(
        f"#### {md.escape(method.name)} {{ #{method.slug} }}",
        md.json_twin(links.api("method", method.slug)),
        md.escape(method.core_operation),
        md.admonition("info", "Added by headatlas, beside the survey tables", md.escape(method.extension_note))
        if method.extension_note
        else "",
        f"Representative papers: {papers}.",
        implemented,
    ).strip()
