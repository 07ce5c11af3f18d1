"""Head lists out of the catalog, in the formats the tools that consume them read.

Two kinds of list: a published dataset's list for one model, as it was
imported; and our own verdicts for one head type on one model, from the newest
run that tested it. Each is written by a format of catalog.head_list_formats,
in that format's unit: a per-KV-head format (DuoAttention's gates) gets each
KV head at the largest value of the query heads it serves, since a KV head
whose cache a retrieval head reads cannot be dropped.
"""

import csv
import io
import json
from dataclasses import asdict, dataclass

from sqlmodel import Session, select

from catalog import models as m
from catalog.crud import require_known
from catalog.datasets import list_dataset_heads
from catalog.errors import InvalidParameterError, NotFoundError
from catalog.head_list_formats import (
    FormatError,
    Grid,
    HeadListFormat,
    ListedHead,
    Unit,
    registered,
    to_kv_heads,
    to_query_heads,
)
from catalog.verification import list_verdicts

# Formats for any list, beside the published ones: every field of every head.
TABLE_FORMATS = ("csv", "jsonl")
# Every format `export` writes, and the media type it is served with.
MEDIA_TYPES = {
    "retrieval-head-json": "application/json",
    "duo-attention-tsv": "text/tab-separated-values",
    "qrhead-yaml": "application/yaml",
    "function-vector-triples": "application/json",
    "circuit-classes-json": "application/json",
    "csv": "text/csv",
    "jsonl": "application/jsonl",
}
EXPORT_FORMATS = list(MEDIA_TYPES)


@dataclass(frozen=True)
class HeadList:
    """A list to export: its heads in `unit`, and the model's shape."""

    heads: list[ListedHead]
    unit: Unit
    n_layers: int
    n_heads: int
    n_kv_heads: int
    hub_id: str | None


def dataset_list(*, session: Session, slug: str, model: str) -> HeadList:
    """A published dataset's list for `model`, as imported."""
    heads = list_dataset_heads(session=session, slug=slug, model=model)
    if not heads:
        raise NotFoundError("model", f"Dataset {slug!r} has no list for model {model!r}")
    listed = [ListedHead(h.layer, h.head, h.score, h.label) for h in heads]
    return _with_shape(session, model, listed, heads[0].unit)  # type: ignore[arg-type]


def verified_list(*, session: Session, model: str, head_type: str) -> HeadList:
    """Our newest run's verdicts for `head_type` on `model`: every head it scored, labelled found or not."""
    verdicts = list_verdicts(session=session, model=model, head_type=head_type, found_only=False)
    if not verdicts:
        raise NotFoundError("head_type", f"No run has tested {head_type!r} on {model!r}")
    newest = max(v.run_id for v in verdicts)
    listed = [
        ListedHead(v.layer, v.head, v.score, "found" if v.shows_behaviour else "not found")
        for v in sorted(verdicts, key=lambda v: -v.score)
        if v.run_id == newest
    ]
    return _with_shape(session, model, listed, "query-head")


def _with_shape(session: Session, model: str, heads: list[ListedHead], unit: Unit) -> HeadList:
    known = require_known(session, m.Model.slug, model, "slug", what="model")
    row = session.exec(select(m.Model).where(m.Model.slug == known)).one()
    return HeadList(heads, unit, row.n_layers, row.n_heads, row.n_kv_heads, row.hub_id)


def export(head_list: HeadList, format_name: str, *, verified: bool) -> str:
    """The list as `format_name` writes it; a ValueError naming the formats when it is not one."""
    if format_name in TABLE_FORMATS:
        return _table(head_list, format_name)
    formats = registered()
    if format_name not in formats:
        choices = ", ".join(EXPORT_FORMATS)
        raise InvalidParameterError("format", f"Unknown format {format_name!r}; choose one of: {choices}")
    head_format = formats[format_name]
    heads = _for_format(head_list, head_format, verified=verified)
    per_layer = head_list.n_kv_heads if head_format.unit == "kv-head" else head_list.n_heads
    try:
        return head_format.write(heads, Grid(head_list.n_layers, per_layer, head_list.hub_id))
    except FormatError as error:  # the list does not fit the format: the caller picked it
        raise InvalidParameterError("format", f"This list cannot be written as {format_name}: {error}") from None


def _for_format(head_list: HeadList, head_format: HeadListFormat, *, verified: bool) -> list[ListedHead]:
    """The heads as the format means them: our verdicts as gates or a head set, in the format's unit."""
    heads = head_list.heads
    if verified and head_format.labelled:
        refusal = f"{head_format.name} lists a circuit's classes; our verdicts are found or not"
        raise InvalidParameterError("format", refusal)
    if verified and head_format.name == "duo-attention-tsv":
        heads = [ListedHead(h.layer, h.head, 1.0 if h.label == "found" else 0.0) for h in heads]
    elif verified:
        found = [h for h in heads if h.label == "found"] if not head_format.scored else heads
        heads = [ListedHead(h.layer, h.head, h.score) for h in found]
    if head_list.unit == head_format.unit:
        return heads
    if head_format.unit == "kv-head":
        return to_kv_heads(heads, head_list.n_heads, head_list.n_kv_heads)
    return to_query_heads(heads, head_list.n_heads, head_list.n_kv_heads)


def _table(head_list: HeadList, format_name: str) -> str:
    rows = [{"unit": head_list.unit, **asdict(h)} for h in head_list.heads]
    if format_name == "jsonl":
        return "".join(json.dumps(row) + "\n" for row in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["unit", "layer", "head", "score", "label"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
