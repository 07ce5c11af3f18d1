"""A page per head: every score our runs gave it, with intervals, verdicts and ranks, what papers report, its attention.

Heads get pages where a heatmap can point at them: every head of a model a run
scored, and every head a paper reports. The pages are reached from heatmap
cells and head labels, not from the sidebar, and left out of search, where
thousands of near-alike pages would bury the rest.
"""

from catalog.schemas import HeadPublic, HeadScorePublic, ModelPublic
from sitegen import links
from sitegen import markdown as md
from sitegen.data import ModelData, RunGrid, SiteData
from sitegen.figures import Figures
from sitegen.figures.attention_map import attention_map
from sitegen.links import head_label
from sitegen.pages.common import Page, evidence, head_type_link, model_link, paper_cite_link

# The most attention pictures a head's page draws.
DRAWN = 3
# How a score's verdict reads.
VERDICT_WORDS = {True: "**shows the behaviour**", False: "does not", None: "no verdict"}


def pages(data: SiteData, figures: Figures) -> list[Page]:
    return [
        Page(links.head_page(model.model.slug, layer, head), render_head_page(model, layer, head, data))
        for model in data.models
        for layer, head in model.head_positions
    ]


def render_head_page(model: ModelData, layer: int, head: int, data: SiteData) -> str:
    """One head: where it sits, every score with its verdict and rank, and what papers report about it."""
    facts, label = model.model, head_label(layer, head)
    here = links.head_page(facts.slug, layer, head)
    api = links.api_head(facts.slug, layer, head)
    found = model.head(layer, head)
    return md.page(
        md.front_matter(
            title=f"{label} · {facts.name}", api=api, description=f"Head {label} of {facts.name}.", searched=False
        ),
        f"# {label} of {md.escape(facts.name)}",
        md.json_twin(api, f"{api}/attention"),
        _place(facts, layer, head, data, here),
        "## What our runs measured",
        _scores(model, found, layer, head, data, here),
        "## Its attention",
        _attention(model, found, layer, head),
        "## What papers report",
        _reports(found, data, here),
        _neighbours(model, layer, head, here),
    )


def _place(model: ModelPublic, layer: int, head: int, data: SiteData, here: str) -> str:
    group = head // (model.n_heads // model.n_kv_heads)
    depth = layer / (model.n_layers - 1) if model.n_layers > 1 else 0.0
    return (
        f"Head {head} of {model.n_heads} in layer {layer} of {model.n_layers} (relative depth {depth:.2f}) of "
        f"{model_link(data, model.slug, here)}; it reads key/value group {group} of {model.n_kv_heads}. "
        "Layers and heads count from 0."
    )


def _scores(model: ModelData, head: HeadPublic | None, layer: int, index: int, data: SiteData, here: str) -> str:
    if not model.runs:
        return "No run in this catalog has verified this model yet."
    grids = {grid.run.id: grid for grid in model.runs if grid.run.status != "not-applicable"}
    scores = sorted(
        (score for score in (head.scores if head else []) if score.run_id in grids),
        key=lambda s: (not s.shows_behaviour, s.detector),
    )  # a test that does not apply to the model says nothing of its heads
    if not scores:
        return "No run scored this head."
    rows = [_score_row(score, grids[score.run_id], layer, index, data, here) for score in scores]
    shown = sum(bool(score.shows_behaviour) for score in scores)
    intro = (
        f"{md.count(len(scores), 'run')} scored this head; it shows the behaviour in {shown} of them. "
        "Each score is the mean over the run's seeds with its 95% interval and the share of seeds that passed; "
        "the rank is its place among the model's scored heads in that run."
    )
    table = md.table(["Detector", "Head type", "Score", "Threshold", "Verdict", "Rank"], rows)
    return md.page(intro, table).strip()


def _score_row(score: HeadScorePublic, grid: RunGrid, layer: int, head: int, data: SiteData, here: str) -> list[str]:
    run_section = f"{links.model_page(grid.run.model)}#run-{grid.run.id}"
    rank = grid.rank(layer, head)
    return [
        md.page_link(score.detector, here, run_section),
        head_type_link(data, score.head_type, here) if score.head_type else "–",
        md.estimate(score.score, score.score_low, score.score_high, score.pass_rate),
        md.score(score.threshold),
        VERDICT_WORDS[score.shows_behaviour],
        f"{rank} of {grid.scored}" if rank else "–",
    ]


def _attention(model: ModelData, found: HeadPublic | None, layer: int, head: int) -> str:
    """The head's attention on the probes of the runs it passes (or, passing none, of its best-ranked run)."""
    runs = _runs_to_draw(model, found, layer, head)
    if not runs:
        return (
            "No run of this model kept an example of its attention: the runs were stored before the catalog kept "
            "them, or test the weights alone."
        )
    label = head_label(layer, head)
    return md.page(*(_attention_figure(model, grid, label, layer, head) for grid in runs)).strip()


def _runs_to_draw(model: ModelData, found: HeadPublic | None, layer: int, head: int) -> list[RunGrid]:
    """Up to DRAWN runs with an attention example, one per prompt: those the head passes, best placed first.

    A head that passes none gets the run where it places best, by its rank as a share of the heads scored.
    """
    ranked = {
        grid.run.id: (rank / grid.scored, grid)
        for grid in model.runs
        if grid.run.id in model.attention and (rank := grid.rank(layer, head))
    }
    passed = {s.run_id for s in (found.scores if found else []) if s.shows_behaviour and s.run_id in ranked}

    def placed(pair: tuple[float, RunGrid]) -> float:
        return pair[0]

    chosen = sorted((ranked[run] for run in passed), key=placed) or sorted(ranked.values(), key=placed)[:1]
    drawn: list[RunGrid] = []
    for _, grid in chosen:
        if len(drawn) < DRAWN and all(model.attention[g.run.id] is not model.attention[grid.run.id] for g in drawn):
            drawn.append(grid)
    return drawn


def _attention_figure(model: ModelData, grid: RunGrid, label: str, layer: int, head: int) -> str:
    attention = model.attention[grid.run.id]
    kept = len(attention.tokens)
    window = f", its last {kept} of {attention.prompt_length} tokens" if attention.start else ""
    caption = (
        f"{label} on a prompt built as the {grid.run.detector} probe builds them, at seed {grid.run.seed}{window}. "
        "Rows: queries; columns: keys; darker: more weight, from 0 to 1 on a square-root scale. "
        "Pale grey: later tokens, which the model cannot see."
    )
    title = f"Attention of {label} of {model.model.name} on the {grid.run.detector} probe"
    heading = f"### On the {md.code(grid.run.detector)} probe"
    return md.page(heading, attention_map(model.attention[grid.run.id], layer, head, title=title, caption=caption))


def _reports(head: HeadPublic | None, data: SiteData, here: str) -> str:
    reported = head.reported if head else []
    if not reported:
        return "No paper in the catalog reports this head."
    rows = [
        [
            head_type_link(data, r.head_type, here),
            paper_cite_link(data, r.paper, here),
            f"{md.code(r.paper_index)} ({r.index_base}-based)",
            md.escape(r.location),
        ]
        for r in reported
    ]
    table = md.table(["Head type", "Paper", "Paper's index", "Where"], rows)
    return md.page(table, md.collapsed("What the papers show", evidence(reported, data, here))).strip()


def _neighbours(data: ModelData, layer: int, head: int, here: str) -> str:
    """Links to the heads beside this one in the layer and above and below it, on a model whose heads all have pages."""
    model = data.model
    if not data.runs:
        return ""
    beside = [
        (name, la, he)
        for name, la, he in (
            ("previous head", layer, head - 1),
            ("next head", layer, head + 1),
            ("layer above", layer - 1, head),
            ("layer below", layer + 1, head),
        )
        if 0 <= la < model.n_layers and 0 <= he < model.n_heads
    ]
    items = [
        f"{name}: {md.page_link(head_label(la, he), here, links.head_page(model.slug, la, he))}"
        for name, la, he in beside
    ]
    return "Around it: " + " · ".join(items) if items else ""
