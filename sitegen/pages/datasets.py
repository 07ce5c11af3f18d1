"""Published head lists: an index of the datasets, and a page per dataset with its source, convention and lists."""

from catalog.schemas import DatasetListPublic, DatasetPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import TOP_HEADS, DatasetData, SiteData
from sitegen.figures import Figures
from sitegen.pages.common import Page, head_label, head_type_link, model_link, paper_cite_link

UNITS = {"query-head": "query heads", "kv-head": "KV heads (each stands for every query head of its group)"}


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [
        Page(links.DATASETS, render_index(data)),
        *(Page(links.dataset_page(d.dataset.slug), render_dataset(d, data)) for d in data.datasets),
    ]


def render_index(data: SiteData) -> str:
    here = links.DATASETS
    rows = [
        [
            md.page_link(d.dataset.name, here, links.dataset_page(d.dataset.slug)),
            paper_cite_link(data, d.dataset.paper.key, here),
            ", ".join(head_type_link(data, slug, here) for slug in d.dataset.head_types),
            str(len(d.dataset.models)),
            str(d.dataset.n_heads),
            UNITS[d.dataset.index_unit].split(" (")[0],
            md.escape(d.dataset.licence_spdx or "none stated"),
        ]
        for d in data.datasets
    ]
    total = sum(d.dataset.n_heads for d in data.datasets)
    return md.page(
        md.front_matter(title="Head lists", api=links.api_path("/datasets")),
        "# Published head lists",
        md.json_twin(links.api_path("/datasets")),
        f"Head lists that papers and tools publish as data: {md.count(total, 'head')} in "
        f"{md.count(len(data.datasets), 'dataset')}, each kept in its source's own format and index convention, "
        "with the commit it was read at. A listed head is reported, not verified.",
        md.table(["Dataset", "Paper", "Head types", "Models", "Heads", "Unit", "Licence"], rows),
    )


def render_dataset(entry: DatasetData, data: SiteData) -> str:
    dataset = entry.dataset
    here = links.dataset_page(dataset.slug)
    source = md.link(f"{dataset.repository} @ {dataset.commit[:8]}", dataset.source_url)
    facts = [
        ["Paper", paper_cite_link(data, dataset.paper.key, here)],
        ["Source", source],
        ["Licence", md.escape(f"{dataset.licence_spdx or 'none stated'}: {dataset.licence_note}")],
        ["Format", md.code(dataset.format)],
        ["Index", md.escape(f"{dataset.index_base}-based {UNITS[dataset.index_unit]}")],
        ["How we know", md.escape(dataset.index_evidence)],
        ["Score", md.escape(dataset.score_meaning)],
        ["Kept", md.escape(dataset.reduced or "the source's files, verbatim")],
    ]
    blocks = [
        md.front_matter(title=dataset.name, api=links.api("dataset", dataset.slug)),
        f"# {md.escape(dataset.name)}",
        md.json_twin(links.api("dataset", dataset.slug), links.api("dataset", dataset.slug) + "/heads"),
        md.definitions(facts),
        "## Lists",
        md.table(
            ["Model", "File", "In the source", "Heads", "Scored"],
            [_list_row(e, dataset, data, here) for e in dataset.lists],
        ),
    ]
    blocks += ["## Reproduction", REPRODUCTION_INTRO, _reproduction(dataset, data, here)]
    if dataset.verified_profiles:
        blocks += ["### The same head types in models we verified", _verified_profiles(dataset, data, here)]
    for listed in dataset.lists:
        blocks += [f"### {md.escape(listed.file)}", _top_heads(entry, listed)]
    return md.page(*blocks)


REPRODUCTION_INTRO = (
    "Each list's heads (those its source counts, else its first 20 by score or order; a per-KV-head list through "
    "the query heads each KV head serves) against our newest run of the same head type on the same model: how many "
    "are in our run's top as many, the Spearman correlation of the scores both give, and which heads our run finds. "
    "Where no run could be made, the profile (relative depth 0 = first layer, 1 = last; quartiles) can still be set "
    "beside the type's profile in the models we verified."
)


def _reproduction(dataset: DatasetPublic, data: SiteData, here: str) -> str:
    rows = [
        [
            md.code(r.file),
            model_link(data, r.model, here),
            head_type_link(data, r.head_type, here),
            md.escape(r.status) + (f"<br>{md.code(r.command)}" if r.command else ""),
            str(r.top_k),
            "–" if r.overlap is None else str(r.overlap),
            md.score(r.rank_correlation),
            ", ".join(r.confirmed) or "–",
            ", ".join(r.contradicted) or "–",
            _quartiles(r.profile.depth_quartiles),
        ]
        for r in dataset.reproduction
    ]
    headers = ["List", "Model", "Type", "Status", "Compared", "Overlap", "Spearman", "We find", "We do not", "Depths"]
    return md.table(headers, rows)


def _verified_profiles(dataset: DatasetPublic, data: SiteData, here: str) -> str:
    rows = [
        [
            model_link(data, v.model, here),
            head_type_link(data, v.head_type, here),
            str(v.profile.heads),
            f"{v.profile.share:.1%}",
            _quartiles(v.profile.depth_quartiles),
            _quartiles(v.profile.score_quartiles),
        ]
        for v in dataset.verified_profiles
    ]
    return md.table(["Model", "Type", "Found", "Share of heads", "Depths", "Scores"], rows)


def _quartiles(values: list[float] | None) -> str:
    return "–" if not values else " / ".join(f"{v:.2f}" for v in values)


def _list_row(listed: DatasetListPublic, dataset: DatasetPublic, data: SiteData, here: str) -> list[str]:
    in_source = md.link(
        listed.source_path, f"https://github.com/{dataset.repository}/blob/{dataset.commit}/{listed.source_path}"
    )
    note = f" {md.escape(listed.note)}" if listed.note else ""
    return [
        model_link(data, listed.model, here),
        md.code(listed.file),
        in_source + note,
        str(listed.heads),
        str(listed.scored),
    ]


def _top_heads(entry: DatasetData, listed: DatasetListPublic) -> str:
    heads = entry.top.get(listed.file, [])
    ordered = "by score" if listed.scored else "in the file's order"
    rows = [[head_label(h.layer, h.head), h.head_type, md.score(h.score), md.escape(h.label or "–")] for h in heads]
    return f"The first {min(TOP_HEADS, listed.heads)} of {listed.heads}, {ordered}:\n\n" + md.table(
        ["Head", "Type", "Score", "Class"], rows
    )
