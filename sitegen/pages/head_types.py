"""A page per head type, and the index of all of them in the survey's order.

A head type page says what the head does (QK and OV), who reports such heads
and where, and what our runs measured, model by model, with the heatmap of
every run that tested it, all on one colour scale so that colours compare
across models. "Reported" and "verified" stay in separate sections.
"""

from catalog.schemas import HeadTypeDetail, ModelVerification, ReportedHeadPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import SiteData
from sitegen.figures import Figures
from sitegen.figures.run_heatmap import grid_scale, run_heatmap
from sitegen.figures.svg import Scale
from sitegen.pages.common import (
    Page,
    best_estimate,
    depth_span,
    evidence,
    head_label,
    head_link,
    head_type_link,
    model_link,
    paper_cite_link,
    paper_link,
    survey_depth,
)

# Head type pages rank above the papers that mention them in the site's search.
SEARCH_BOOST = 2.0
# What the knowledge files' `source` says about where a head type comes from.
SOURCES = {
    "survey-figure": "the survey's taxonomy figure",
    "survey-text": "the survey's text",
    "extension": "an extension: tagged in the survey's paper list, placed by this catalog",
}


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.HEAD_TYPES, render_index(data))] + [
        Page(links.head_type_page(h.slug), render_head_type_page(h, data, figures)) for h in data.head_types
    ]


def render_index(data: SiteData) -> str:
    """All head types, stage by stage and mechanism by mechanism, with what is known of each."""
    here = links.HEAD_TYPES
    blocks = [
        md.front_matter(title="Head types", api=links.api_path("/head-types")),
        "# Head types",
        md.json_twin(links.api_path("/head-types")),
        f"The catalog's {len(data.head_types)} head types, in the survey's order. *Reported*: heads papers name; "
        "*verified*: models on which our runs found heads showing the behaviour.",
    ]
    for stage in data.stages:
        blocks.append(f"## {md.escape(stage.name)} ({stage.code})")
        rows = []
        for mechanism in stage.mechanisms:
            for slug in mechanism.head_types:
                head_type = data.head_type(slug)
                found_on = [model_link(data, v.model, here) for v in head_type.verification if v.found]
                rows.append([
                    head_type_link(data, slug, here),
                    md.escape(mechanism.name),
                    md.escape(head_type.summary),
                    str(len(head_type.reported_heads)) if head_type.reported_heads else "–",
                    ", ".join(found_on) or "–",
                ])  # fmt: skip
        blocks.append(md.table(["Head type", "Mechanism", "What it does", "Reported", "Verified on"], rows))
    return md.page(*blocks)


def render_head_type_page(head_type: HeadTypeDetail, data: SiteData, figures: Figures) -> str:
    """One head type in full: what it computes, reported heads, verification per model, related types, papers."""
    here = links.head_type_page(head_type.slug)
    api = links.api("head_type", head_type.slug)
    return md.page(
        md.front_matter(title=head_type.name, api=api, description=head_type.summary, boost=SEARCH_BOOST),
        f"# {md.escape(head_type.name)}",
        md.json_twin(api),
        _placement(head_type, here),
        f"**{md.escape(head_type.summary)}**",
        md.escape(head_type.description),
        _mechanics(head_type),
        md.admonition("info", "Why it is placed here", md.escape(head_type.extension_note))
        if head_type.extension_note
        else "",
        "## Reported heads",
        _reported(head_type.reported_heads, data, here),
        "## Verification",
        _verification(head_type, data, here),
        "## Related head types",
        _related(head_type, data, here),
        "## Papers",
        _papers(head_type, data, here),
    )


def _placement(head_type: HeadTypeDetail, here: str) -> str:
    stage = links.stage_page(head_type.stage)
    parts = [
        f"**Stage:** {md.page_link(f'{head_type.stage_name} ({head_type.stage})', here, stage)}",
        f"**Mechanism:** {md.page_link(head_type.mechanism_name, here, f'{stage}#{head_type.mechanism}')}",
        f"**Source:** {SOURCES.get(head_type.source, md.escape(head_type.source))}",
    ]
    if head_type.aliases:
        parts.append("**Also called:** " + ", ".join(md.escape(a) for a in head_type.aliases))
    return " · ".join(parts)


def _mechanics(head_type: HeadTypeDetail) -> str:
    rows = [
        ["QK: where it attends", md.escape(head_type.qk)],
        ["OV: what it writes", md.escape(head_type.ov)],
        ["Reads", md.escape(head_type.input_feature)],
        ["Writes", md.escape(head_type.output_feature)],
        ["Typical depth (survey)", survey_depth(head_type.layer_distribution)],
        ["Model families the survey marks", ", ".join(head_type.survey_families) or "none"],
    ]
    return "## What it computes\n\n" + md.table(["", "From the papers and the survey"], rows)


def _reported(reported: list[ReportedHeadPublic], data: SiteData, here: str) -> str:
    """A table of the heads papers name, then each paper's evidence once for the heads it covers."""
    if not reported:
        return "No paper in the catalog reports exact heads of this type (layer and head in a named model)."
    rows = [
        [
            model_link(data, r.model, here),
            head_link(r.model, r.layer, r.head, here),
            paper_cite_link(data, r.paper, here),
            f"{md.code(r.paper_index)} ({r.index_base}-based)",
            md.escape(r.location) + (f"; {md.escape(r.score_name or 'score')} {md.score(r.score)}" if r.score else ""),
        ]
        for r in reported
    ]
    intro = f"{len(reported)} heads that papers name, 0-based here; the paper's own index is beside each."
    table = md.table(["Model", "Head", "Paper", "Paper's index", "Where"], rows)
    return md.page(intro, table, md.collapsed("What the papers show", evidence(reported, data, here))).strip()


def _verification(head_type: HeadTypeDetail, data: SiteData, here: str) -> str:
    if not head_type.verification:
        return md.admonition(
            "note",
            "Not verified",
            "No run in this catalog tests this head type yet: what this page says comes from the papers.",
        )
    tested = [cell for cell in head_type.verification if cell.status == "tested"]
    scale = grid_scale([data.run(run)[1] for cell in tested for run in cell.runs])
    intro = (
        "Every heatmap below shares one colour scale, so a colour is the same score on every model; "
        "heads struck through in grey were not scored."
    )
    cells = [_model_verification(v, head_type, data, scale, here) for v in head_type.verification]
    return "\n\n".join([intro, *cells])


def _model_verification(
    cell: ModelVerification, head_type: HeadTypeDetail, data: SiteData, scale: Scale, here: str
) -> str:
    """What the runs on one model say about the head type, with each run's heatmap."""
    model = data.model(cell.model).model
    heading = f"### {md.escape(model.name)} {{ #{cell.model} }}"  # the matrix's cells link this anchor
    detectors = ", ".join(md.code(d) for d in cell.detectors)
    task = (
        f" The model answers the task {cell.task.correct} of {cell.task.total} times "
        f"({cell.task.accuracy:.0%}, chance {cell.task.chance:.0%})."
        if cell.task
        else ""
    )
    if cell.status != "tested":
        reason = md.escape(cell.reason or "the run records no reason")
        return md.page(
            heading,
            f"Detector {detectors} on {model_link(data, cell.model, here)}.{task}",
            md.admonition("warning", "Not verifiable on this model", reason),
        ).strip()
    if cell.found:
        best = f"; the strongest is {head_label(cell.best.layer, cell.best.head)} ({best_estimate(cell)})"
        caps = [grid.capped_at for grid in (data.run(run)[1] for run in cell.runs) if grid.capped_at is not None]
        cap = f" (a count its rule caps: at most the top {max(caps):.0%} of heads)" if caps else ""
        outcome = (
            f"{cell.heads_found} of {cell.heads_scored} scored heads show the behaviour{cap}{best if cell.best else ''}"
        )
    else:
        outcome = f"none of the {cell.heads_scored} scored heads shows the behaviour"
        if cell.confirmation == "not confirmed":
            outcome += (
                f" ({cell.candidates} passed the per-head test, but ablating them together did not move the task "
                "the way this head type predicts, beyond random sets of heads)"
            )
    lines = [f"Detector {detectors} on {model_link(data, cell.model, here)}: {outcome}.{task}"]
    if cell.confirmation == "confirmed":
        lines.append("Ablating the heads found together moves the task the predicted way, beyond random head sets.")
    if cell.found:
        layers = ", ".join(map(str, cell.found_layers))
        lines.append(f"Found at layers {layers} (relative depth {depth_span(cell.found_relative_depths)}).")
    if cell.reported_confirmed or cell.reported_contradicted:
        lines.append(
            f"Heads papers report on this model: {cell.reported_confirmed} confirmed, "
            f"{cell.reported_contradicted} contradicted."
        )
    found = [(m, v) for m, v in data.found_verdicts(head_type.slug) if m.model.slug == cell.model]
    if found:
        estimates = [md.estimate(v.score, v.score_low, v.score_high, v.pass_rate) for _, v in found]
        heads = ", ".join(
            f"{head_link(cell.model, v.layer, v.head, here)} {estimate}"
            for (_, v), estimate in zip(found, estimates, strict=True)
        )
        lines.append(f"Heads found, best first (mean score, 95% interval, seeds passed): {heads}.")
    grids = [data.run(run)[1] for run in cell.runs]
    shown = [run_heatmap(grid, model, head_type.name, here, scale) for grid in grids if grid.scored]
    return md.page(heading, " ".join(lines), *shown).strip()


def _related(head_type: HeadTypeDetail, data: SiteData, here: str) -> str:
    """Links to other head types, read as sentences: "Induction Head *depends on* Previous Head"."""
    if not head_type.related:
        return "The catalog links no other head type to this one."
    name = md.escape(head_type.name)
    return md.bullets(
        f"{name} *{md.escape(r.relation.replace('-', ' '))}* {head_type_link(data, r.slug, here)}"
        for r in head_type.related
    )


def _papers(head_type: HeadTypeDetail, data: SiteData, here: str) -> str:
    if not head_type.papers:
        return "The catalog cites no paper for this head type."
    items = [
        f"{paper_link(data, p.key, p.title, here)} ({p.year}, {md.escape(p.venue)})"
        + (" — primary paper" if i == 0 else "")
        for i, p in enumerate(head_type.papers)
    ]
    return md.bullets(items)
