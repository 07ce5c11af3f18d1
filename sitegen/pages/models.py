"""A page per model, and the index of models.

A model page gives the exact checkpoint, where papers report heads in it, the
heads our runs found, and its runs stage by stage, each with a layer × head
heatmap whose cells open the heads' pages, and with the rule, its source, the
probe and the baseline, so a reader can judge each verdict. Tests that do not
apply to the model are folded into one list.
"""

from catalog.models import RunStatus
from catalog.schemas import HeadPublic, ModelPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import ModelData, RunGrid, SiteData
from sitegen.figures import Figures
from sitegen.figures.heatmaps import rule_text
from sitegen.figures.run_heatmap import run_heatmap
from sitegen.pages.common import Page, evidence, head_label, head_link, head_type_link, paper_cite_link

# Above this many rows, a table is folded away in a details block.
FOLD_ROWS = 40
# How many of a run's best heads its table row names.
BEST_IN_ROW = 3


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [Page(links.MODELS, render_index(data))] + [
        Page(links.model_page(m.model.slug), render_model_page(m, data, figures)) for m in data.models
    ]


def render_index(data: SiteData) -> str:
    here = links.MODELS
    rows = [
        [
            md.page_link(m.model.name, here, links.model_page(m.model.slug)),
            md.escape(m.model.family),
            md.escape(m.model.kind),
            f"{m.model.n_layers} × {m.model.n_heads}",
            str(len(m.reported)) if m.reported else "–",
            str(len(m.runs)) if m.runs else "–",
            str(len(m.verified_heads)) if m.runs else "–",
        ]
        for m in data.models
    ]
    headers = ["Model", "Family", "Kind", "Layers × heads", "Reported heads", "Runs", "Heads found"]
    return md.page(
        md.front_matter(title="Models", api=links.api_path("/models")),
        "# Models",
        md.json_twin(links.api_path("/models")),
        "Exact checkpoints: those papers report heads in, and those our runs verified.",
        md.table(headers, rows),
    )


def render_model_page(model: ModelData, data: SiteData, figures: Figures) -> str:
    """One model: its facts, reported heads, the heads our runs found, and every run with its heatmap."""
    facts = model.model
    here = links.model_page(facts.slug)
    api = links.api("model", facts.slug)
    return md.page(
        md.front_matter(title=facts.name, api=api, description=f"{facts.name}: heads reported and verified."),
        f"# {md.escape(facts.name)}",
        md.json_twin(api, links.api_model_heads(facts.slug)),
        _facts(facts),
        "## Heads papers report",
        _reported(model, data, figures, here),
        "## Heads our runs found",
        _verified(model, data, here),
        *_runs(model, data, here),
    )


def _facts(model: ModelPublic) -> str:
    rows = [
        ["Slug", md.code(model.slug)],
        ["Hub id", md.code(model.hub_id) if model.hub_id else "–"],
        ["Revision", md.code(model.revision) if model.revision else "not pinned"],
        ["Family", md.escape(model.family)],
        ["Kind", md.escape(model.kind)],
        ["Layers", str(model.n_layers)],
        ["Query heads per layer", str(model.n_heads)],
        ["Key/value heads per layer", str(model.n_kv_heads)],
        ["Model width", str(model.d_model) if model.d_model else "–"],
        ["Positions", md.escape(model.positional)],
        ["Quantization", md.escape(model.quantization) if model.quantization else "none"],
        ["Licence", md.escape(model.license) if model.license else "–"],
        ["File SHA-256", md.code(model.file_sha256) if model.file_sha256 else "–"],
        ["Checkpoint verified", md.code(model.identity) if model.identity else "not verified here"],
    ]
    return md.table(["Fact", "Value"], rows)


def _reported(model: ModelData, data: SiteData, figures: Figures, here: str) -> str:
    if not model.reported:
        return "No paper in the catalog reports exact heads in this model."
    rows = [
        [
            head_link(r.model, r.layer, r.head, here),
            head_type_link(data, r.head_type, here),
            paper_cite_link(data, r.paper, here),
            md.code(r.paper_index),
            md.escape(r.location),
        ]
        for r in model.reported
    ]
    table = md.table(["Head", "Head type", "Paper", "Paper's index", "Where"], rows)
    figure = md.figure(figures.reported[model.model.slug], here) if model.model.slug in figures.reported else ""
    shown = md.collapsed("What the papers show", evidence(model.reported, data, here))
    return md.page(figure, _fold(table, len(rows), f"All {len(rows)} reported heads"), shown).strip()


def _verified(model: ModelData, data: SiteData, here: str) -> str:
    if not model.runs:
        return "No run in this catalog has verified this model yet."
    if not model.verified_heads:
        return f"None of this model's heads showed a behaviour in its {len(model.runs)} runs."
    rows = [
        [head_link(model.model.slug, h.layer, h.head, here), _behaviours(h, data, here)] for h in model.verified_heads
    ]
    intro = (
        f"{len(model.verified_heads)} of {model.model.n_layers * model.model.n_heads} heads show at least one "
        "behaviour; each with the head types it shows, its mean score over the seeds with its 95% interval, "
        "and the threshold in brackets."
    )
    table = md.table(["Head", "Shows"], rows)
    return md.page(intro, _fold(table, len(rows), f"All {len(rows)} heads found")).strip()


def _behaviours(head: HeadPublic, data: SiteData, here: str) -> str:
    return "; ".join(
        f"{head_type_link(data, s.head_type, here) if s.head_type else md.code(s.detector)} "
        f"{md.estimate(s.score, s.score_low, s.score_high, s.pass_rate)} ({md.score(s.threshold)})"
        for s in head.scores
    )


def _runs(model: ModelData, data: SiteData, here: str) -> list[str]:
    """The runs stage by stage, each stage's table then its runs; the tests that do not apply, folded, last."""
    if not model.runs:
        return ["## Runs", "None yet."]
    applying = [grid for grid in model.runs if grid.run.status != "not-applicable"]
    blocks = []
    for stage, name in [(s.code, s.name) for s in data.stages] + [(None, "Other runs")]:
        grids = [grid for grid in applying if _stage_of(grid, data) == stage]
        if grids:
            heading = f"## {md.escape(name)} ({stage})" if stage else f"## {name}"
            blocks += [heading, _runs_table(grids, data, here), *(_run_section(g, model, data, here) for g in grids)]
    if skipped := [grid for grid in model.runs if grid.run.status == "not-applicable"]:
        listed = md.bullets(
            f"{md.code(g.run.detector)}: {md.escape(g.run.error or 'no reason recorded')}" for g in skipped
        )
        blocks += [
            "## Tests that do not apply",
            md.collapsed(f"{md.count(len(skipped), 'test')} cannot run on this model", listed),
        ]
    return blocks


def _stage_of(grid: RunGrid, data: SiteData) -> str | None:
    return data.head_type(grid.head_type).stage if grid.head_type else None


def _runs_table(grids: list[RunGrid], data: SiteData, here: str) -> str:
    rows = [
        [
            md.page_link(grid.run.detector, here, f"{here}#{_run_anchor(grid)}"),
            head_type_link(data, grid.head_type, here) if grid.head_type else "–",
            md.escape(grid.run.status),
            _found_count(grid) if grid.run.status == RunStatus.COMPLETE else "no verdicts",
            ", ".join(f"{head_label(la, he)} {md.score(s)}" for la, he, s in grid.strongest(BEST_IN_ROW)) or "–",
        ]
        for grid in grids
    ]
    return md.table(["Detector", "Head type", "Status", "Heads found", "Strongest"], rows)


def _found_count(grid: RunGrid) -> str:
    """How many heads the run found, saying so when its rule caps the count."""
    cap = f" (its rule keeps at most the top {grid.capped_at:.0%})" if grid.capped_at is not None else ""
    return f"{len(grid.found)} of {grid.scored}{cap}"


def _run_anchor(grid: RunGrid) -> str:
    return f"run-{grid.run.id}"


def _run_section(grid: RunGrid, model: ModelData, data: SiteData, here: str) -> str:
    """One run: its heatmap, why it failed if it did, and how it decided, folded."""
    run, params = grid.run, grid.run.params
    name = data.head_type(grid.head_type).name if grid.head_type else run.detector
    rows = [
        ["Detector", f"{md.code(run.detector)} version {md.code(run.detector_version)}"],
        ["Method", _method(run.method, data, here)],
        [
            "Rule",
            md.escape(rule_text(grid)) + " on the mean over the seeds" if run.status == RunStatus.COMPLETE else "–",
        ],
        ["Test", md.escape(_test_text(run.evidence)) if run.evidence else "not recorded"],
        ["Where the rule comes from", md.escape(str(params.get("threshold_source", "not recorded")))],
        ["Probe", md.escape(str(params.get("probe", "not recorded")))],
        ["Baseline", md.escape(str(params.get("baseline", "not recorded")))],
        ["Seeds, code", f"{', '.join(map(str, run.seeds or [run.seed]))}; {md.code(run.code_version)}"],
        ["Time", f"{run.timings['total']:.1f} s" if "total" in run.timings else "–"],
        ["Run", f"[`{links.api_run(run.id)}`]({links.api_run(run.id)})"],
    ]
    if run.task:
        rows.append(["Task accuracy", f"{run.task.correct} of {run.task.total}, chance {run.task.chance:.0%}"])
    if run.confirmation:
        rows.append(["Causal confirmation", md.escape(_confirmation_text(run.confirmation))])
    blocks = [f"### {md.escape(name)} · {md.code(run.detector)} {{ #{_run_anchor(grid)} }}"]
    if run.error:
        title = "Not verifiable on this model" if run.status == RunStatus.NOT_VERIFIABLE else f"Run {run.status}"
        blocks.append(md.admonition("warning", title, md.escape(run.error)))
    blocks.append(run_heatmap(grid, model.model, name, here) if grid.scored else "The run scored no head.")
    blocks.append(md.collapsed("How this run decided", md.table(["Fact", "Value"], rows)))
    return md.page(*blocks).strip()


def _test_text(evidence: dict[str, object]) -> str:
    share = float(evidence["min_pass_rate"])  # type: ignore[arg-type]
    return (
        f"{evidence['test']}; found when q < {evidence['alpha']} and the rule passes in at least {share:.0%} "
        f"of the seeds ({evidence['min_pass_rate_source']}); {evidence['interval']}"
    )


def _confirmation_text(confirmation: dict[str, object]) -> str:
    low, high = confirmation["interval"]  # type: ignore[misc]
    return (
        f"{confirmation['status']}: {confirmation['method']}; the metric ({confirmation['metric']}) should be "
        f"{confirmation['expected']} by it; change {float(confirmation['effect']):+.3f} "  # type: ignore[arg-type]
        f"[{low:+.3f}, {high:+.3f}], against {confirmation['random_sets']} random sets of as many heads "
        f"from the same layers, p = {float(confirmation['p_value']):.2f}"  # type: ignore[arg-type]
    )


def _method(slug: str | None, data: SiteData, here: str) -> str:
    """The survey method a run's detector is, linked to its entry in the methods taxonomy."""
    names = {m.slug: m.name for m in data.methods}
    if slug is None:
        return "–"
    return md.page_link(names.get(slug, slug), here, f"{links.METHODS}#{slug}")


def _fold(table: str, rows: int, title: str) -> str:
    return md.collapsed(title, table) if rows > FOLD_ROWS else table
