"""Plain-text renderings of catalog results for the terminal."""

import os
import shutil
import sys
import textwrap

from pydantic import BaseModel

from catalog.models import RunStatus
from catalog.schemas import (
    CatalogSummary,
    DatasetPublic,
    DatasetSummary,
    HeadTypePublic,
    ModelVerification,
    PaperPublic,
    ReportedHeadPublic,
    RunPublic,
    SearchHit,
    TransferabilityMatrix,
    VerdictPublic,
)
from catalog.sync import TableCount

COLUMN_GAP = 2  # spaces between columns
MIN_COLUMN = 8  # narrowest a folded column gets (or its header's width, if wider)


def ingest_report(counts: dict[str, TableCount]) -> str:
    rows = [(table, c.inserted, c.updated, c.deleted, c.unchanged) for table, c in counts.items()]
    changed = sum(c.changed for c in counts.values())
    verdict = "Knowledge loaded." if changed else "Knowledge loaded: the catalog already held exactly this."
    return verdict + "\n" + table(["table", "inserted", "updated", "deleted", "unchanged"], rows)


def summary(data: CatalogSummary) -> str:
    statuses = table(["run status", "runs"], [(str(status), n) for status, n in data.runs_by_status.items()])
    return table(["table", "rows"], list(data.counts.items())) + "\n\n" + statuses


def search_hits(hits: list[SearchHit]) -> str:
    if not hits:
        return "No match."
    return table(["kind", "name", "title"], [(h.kind, h.slug, h.title) for h in hits])


def reported_heads(heads: list[ReportedHeadPublic]) -> str:
    if not heads:
        return "No reported head matches."
    rows = [(h.model, h.label, h.paper_index, h.head_type, h.paper, h.location) for h in heads]
    return table(["model", "head", "as printed", "head type", "paper", "where"], rows) + f"\n{len(heads)} heads"


def datasets(found: list[DatasetSummary]) -> str:
    if not found:
        return "No dataset: run `headatlas ingest knowledge`."
    rows = [
        (d.slug, d.repository, d.commit[:8], d.licence_spdx or "none stated", d.index_unit, len(d.models), d.n_heads)
        for d in found
    ]
    total = sum(d.n_heads for d in found)
    return table(["dataset", "source", "commit", "licence", "unit", "models", "heads"], rows) + f"\n{total} heads"


def dataset(d: DatasetPublic) -> str:
    lines = [
        f"{d.name}  [{d.slug}]",
        f"Paper: {d.paper.key}   Source: {d.source_url}",
        f"Licence: {d.licence_spdx or 'none stated'}: {d.licence_note}",
        f"Format: {d.format}   Index: {d.index_base}-based, per {d.index_unit} ({d.index_evidence})",
        f"Score: {d.score_meaning}",
        f"Kept: {d.reduced or 'the source files, verbatim'}",
        "",
        table(["model", "file", "heads", "scored"], [(e.model, e.file, e.heads, e.scored) for e in d.lists]),
        "",
        "Reproduction (the list's heads compared against our newest run of the type on the same model):",
        table(
            ["file", "head type", "status", "compared", "overlap", "Spearman", "found", "not found"],
            [
                (
                    r.file,
                    r.head_type,
                    r.status + (f" ({r.command})" if r.command else ""),
                    r.top_k,
                    _or_dash(r.overlap),
                    _or_dash(r.rank_correlation),
                    " ".join(r.confirmed) or "-",
                    " ".join(r.contradicted) or "-",
                )
                for r in d.reproduction
            ],
        ),  # fmt: skip
    ]
    return "\n".join(lines)


def _or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def entry(data: BaseModel) -> str:
    if isinstance(data, HeadTypePublic):
        return head_type(data)
    if isinstance(data, DatasetPublic):
        return dataset(data)
    if isinstance(data, PaperPublic):
        return paper(data)
    return sections(data)


def sections(data: BaseModel) -> str:
    """Any entry as lines a reader scans: `Field: value`, then lists of entries as tables; empty fields left out."""
    lines, blocks = [], []
    for key, value in data.model_dump(mode="json").items():
        label = key.replace("_", " ").capitalize()
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            columns = [column for column, cell in value[0].items() if not isinstance(cell, list | dict)]
            blocks.append(f"{label}:\n" + table(columns, [tuple(item.get(c) for c in columns) for item in value]))
        elif isinstance(value, dict):
            blocks.append(f"{label}:\n" + "\n".join(f"  {k}: {_flat(v)}" for k, v in value.items()))
        else:
            lines.append(f"{label}: {_flat(value)}")
    return "\n\n".join(["\n".join(lines), *blocks])


def head_type(h: HeadTypePublic) -> str:
    lines = [
        f"{h.name}  [{h.slug}]",
        f"Stage: {h.stage} {h.stage_name} / {h.mechanism_name}   Source: {h.source}",
    ]
    if h.aliases:
        lines.append("Also called: " + ", ".join(h.aliases))
    if h.survey_families:
        lines.append("Survey marks it in: " + ", ".join(h.survey_families))
    lines += [
        "",
        h.description,
        "",
        f"QK (where it attends): {h.qk}",
        f"OV (what it writes):   {h.ov}",
        f"Reads: {h.input_feature}",
        f"Produces: {h.output_feature}",
        f"Depth: {', '.join(h.layer_distribution) or 'not stated'}",
    ]
    if h.extension_note:
        lines.append(f"Extension of the survey: {h.extension_note}")
    lines += ["", "Papers:"] + [f"  {p.key}: {p.title} ({p.venue}, {p.year})" for p in h.papers]
    if h.related:
        lines += ["", "Related:"] + [f"  {r.relation} {r.slug}" for r in h.related]
    if h.reported_heads:
        lines += ["", "Reported heads:", reported_heads(h.reported_heads)]
    return "\n".join(lines)


def paper(p: PaperPublic) -> str:
    authors = ", ".join(p.authors) + ("" if p.authors_complete else ", et al.")
    lines = [p.title, authors, f"{p.venue}, {p.year}", p.url or ""]
    if p.head_types:
        lines.append("Head types: " + ", ".join(p.head_types))
    return "\n".join(lines + ["", p.bibtex])


def table(header: list[str], rows: list[tuple], width: int | None = None) -> str:  # type: ignore[type-arg]
    """Columns padded to line up, and folded to fit `width` (by default the terminal's) when too wide."""
    cells = [[str(c) for c in header]] + [[_flat(c) for c in row] for row in rows]
    natural = [max(len(row[i]) for row in cells) for i in range(len(header))]
    room = width or terminal_width()
    widths = natural
    if room is not None:
        widths = fitted_widths(natural, [len(name) for name in header], room - COLUMN_GAP * (len(header) - 1))
    lines = [line for row in cells for line in _folded(row, widths)]
    lines.insert(1, (" " * COLUMN_GAP).join("-" * w for w in widths))
    return "\n".join(lines)


def terminal_width() -> int | None:
    """$COLUMNS, else the terminal's width; None when printing to a file or pipe, which get whole lines."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def fitted_widths(natural: list[int], headers: list[int], room: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until the widths fit `room` or no column can give."""
    widths = list(natural)
    floors = [min(n, max(h, MIN_COLUMN)) for n, h in zip(natural, headers, strict=True)]
    while sum(widths) > room:
        giving = [i for i, w in enumerate(widths) if w > floors[i]]
        if not giving:
            break
        widest = max(giving, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _folded(row: list[str], widths: list[int]) -> list[str]:
    """One table row as lines: each cell wrapped to its column's width."""
    wrapped = [textwrap.wrap(cell, w, break_long_words=True) or [""] for cell, w in zip(row, widths, strict=True)]
    height = max(len(cell) for cell in wrapped)
    return [
        (" " * COLUMN_GAP)
        .join((cell[i] if i < len(cell) else "").ljust(w) for cell, w in zip(wrapped, widths, strict=True))
        .rstrip()
        for i in range(height)
    ]


def _flat(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(_flat, value))
    return "" if value is None else str(value)


def verify_report(report) -> str:  # type: ignore[no-untyped-def]
    rows = []
    for outcome in report.outcomes:
        heads = ", ".join(f"L{layer}H{head} {score:.2f}" for layer, head, score in outcome.heads_found[:8])
        more = len(outcome.heads_found) - 8
        rows.append(
            (
                outcome.detector,
                outcome.status,
                outcome.run_id,
                len(outcome.heads_found) if outcome.status == RunStatus.COMPLETE else "",
                f"{outcome.seconds:.1f}" if outcome.status != "skipped" else "",
                outcome.reason if outcome.status == RunStatus.FAILED else heads + (f", +{more}" if more > 0 else ""),
            )
        )
    return f"Model {report.model}\n" + table(["detector", "status", "run", "found", "seconds", "heads (score)"], rows)


def verdicts(items: list[VerdictPublic]) -> str:
    if not items:
        return "No verdict matches."
    rows = [
        (
            v.model,
            v.detector,
            v.label,
            f"{v.score:.3f}",
            interval(v.score_low, v.score_high),
            "" if v.pass_rate is None else f"{v.pass_rate:.0%}",
            "" if v.q_value is None else f"{v.q_value:.2g}",
            "" if v.baseline is None else f"{v.baseline:.3f}",
            f"{v.threshold:.3f}",
            "yes" if v.shows_behaviour else "no",
            "reported" if v.reported else "",
        )
        for v in items
    ]
    header = ["model", "detector", "head", "mean", "95% interval", "passed", "q", "baseline", "threshold", "found", ""]
    legend = (
        "\nmean and interval over the run's seeds; passed = share of seeds at which the rule held; "
        "q = the test against the control, corrected for every head (`headatlas runs --json` has the test)"
    )
    return table(header, rows) + f"\n{len(items)} heads" + legend


def interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def confirmation(run: RunPublic) -> str:
    """The causal test of a run's found set in a few words: its effect against the random sets."""
    c = run.confirmation
    if c is None:
        return ""
    low, high = c["interval"]  # type: ignore[misc]
    return f"{c['status']}: {c['effect']:+.2f} [{low:+.2f}, {high:+.2f}], p={c['p_value']:.2f}"


def runs(items: list[RunPublic]) -> str:
    if not items:
        return "No run yet; try `headatlas verify --model smollm2`."
    rows = [
        (
            r.id,
            r.model,
            r.detector,
            r.detector_version,
            seed_range(r.seeds or [r.seed]),
            r.status,
            "" if r.task is None else f"{r.task.correct}/{r.task.total} (chance {r.task.chance:.0%})",
            r.heads_found,
            confirmation(r),
            f"{r.timings.get('total', 0):.1f}",
        )
        for r in items
    ]
    header = ["run", "model", "detector", "version", "seeds", "status", "task", "found", "confirmation", "seconds"]
    return table(header, rows)


def seed_range(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def matrix(data: TransferabilityMatrix) -> str:
    """Head types down, models across; a cell says where the heads are found, or why there is no verdict."""
    if not data.rows:
        return "No head type has been verified yet; try `headatlas verify --model smollm2`."
    header = ["stage", "head type", "survey marks"] + [model.slug for model in data.models]
    rows = []
    for row in data.rows:
        cells = {cell.model: matrix_cell(cell) for cell in row.cells}
        marks = ", ".join(row.survey_families)
        rows.append((row.stage, row.head_type, marks, *(cells.get(model.slug, "") for model in data.models)))
    legend = (
        "\nA cell: heads found / scored, their layers (relative depth), the best head's mean score, 95% interval "
        "and share of seeds passed, and whether ablating the found heads together confirmed them; "
        "'none' = tested, not found; 'n/v' = not verifiable (the model does the task at chance, or the test "
        "does not apply); blank = not tested."
    )
    return table(header, rows) + legend


def confirmed(cell: ModelVerification) -> str:
    return "" if cell.confirmation is None else f", {cell.confirmation}"


def matrix_cell(cell: ModelVerification) -> str:
    if cell.status != "tested":
        task = cell.task
        if cell.status not in (RunStatus.NOT_VERIFIABLE, RunStatus.EXPLORATORY):
            return "n/a (does not apply)" if cell.status == "not-applicable" else str(cell.status)
        label = "n/v" if cell.status == RunStatus.NOT_VERIFIABLE else "exploratory"
        return label + (f" (task {task.accuracy:.0%}, chance {task.chance:.0%})" if task else "")
    if not cell.found:
        unconfirmed = f" ({cell.candidates} candidates not confirmed)" if cell.confirmation == "not confirmed" else ""
        return f"none/{cell.heads_scored}{unconfirmed}"
    layers = sorted(set(cell.found_layers))
    depths = [round(depth, 2) for depth in cell.found_relative_depths]
    if len(layers) > 1:
        where = f"L{layers[0]}-{layers[-1]} ({min(depths):.2f}-{max(depths):.2f})"
    else:
        where = f"L{layers[0]} ({depths[0]:.2f})"
    best = ""
    if cell.best:
        best = f" best {cell.best.label} {cell.best.score:.2f} {interval(cell.best.score_low, cell.best.score_high)}"
        if cell.best.pass_rate is not None:
            best += f" passed {cell.best.pass_rate:.0%}"
    return f"{cell.heads_found}/{cell.heads_scored} {where}{best.rstrip()}{confirmed(cell)}"


def detectors(rows: list[dict]) -> str:  # type: ignore[type-arg]
    return table(
        ["detector", "head type", "rule", "threshold", "source"],
        [(r["name"], r["head_type"], r["rule"], r["threshold"], r["threshold_source"]) for r in rows],
    )


def bundled_models(rows: list[dict]) -> str:  # type: ignore[type-arg]
    return table(
        ["name", "slug", "quantization", "installed", "install with"],
        [
            (
                r["name"],
                r["slug"],
                r["quantization"],
                "yes" if r["installed"] else "no",
                r["install"],
            )
            for r in rows
        ],
    )
