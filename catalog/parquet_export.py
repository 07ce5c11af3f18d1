"""The whole catalog as Parquet: one file per table and a data card, for pandas, DuckDB and `datasets`.

Every table SQLModel defines is written whole, column types kept (JSON
columns as their JSON text), so that a reader can join them on their ids as
the catalog does. The card says what each table holds, how many rows, the
schema revision, and each published dataset's licence: a list's licence
travels with its heads.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, Table, select
from sqlmodel import Session, SQLModel
from sqlmodel import select as model_select

from catalog import models as m
from catalog.crud import schema_revision

CARD = "README.md"


@dataclass(frozen=True)
class CatalogExport:
    folder: Path
    rows: dict[str, int]  # table -> rows written


def export_catalog(session: Session, folder: Path) -> CatalogExport:
    """Write every table to `folder`/<table>.parquet and the data card; refuses a folder that holds other files."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = [table for table in SQLModel.metadata.sorted_tables if table.name != m.SearchDocument.__tablename__]
    expected = {f"{table.name}.parquet" for table in tables} | {CARD}
    strangers = sorted(p.name for p in folder.iterdir() if p.name not in expected)
    if strangers:
        raise ValueError(
            f"{folder} holds files this export did not write ({', '.join(strangers[:5])}); use an empty folder"
        )
    rows = {table.name: _write_table(session, table, folder / f"{table.name}.parquet") for table in tables}
    (folder / CARD).write_text(_card(session, tables, rows), encoding="utf-8")
    return CatalogExport(folder, rows)


def _write_table(session: Session, table: Table, path: Path) -> int:
    records = [dict(row._mapping) for row in session.execute(select(table).order_by(*table.primary_key.columns))]
    columns = {column.name: [_cell(column, record[column.name]) for record in records] for column in table.columns}
    schema = pa.schema([(column.name, _arrow_type(column)) for column in table.columns])
    pq.write_table(pa.table(columns, schema=schema), path)
    return len(records)


def _arrow_type(column) -> pa.DataType:  # type: ignore[no-untyped-def]
    kind = getattr(column.type, "impl", column.type)  # a decorated type stores as its implementation
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _cell(column, value: object) -> object:  # type: ignore[no-untyped-def]
    if value is not None and isinstance(getattr(column.type, "impl", column.type), JSON):
        return json.dumps(value)
    return value


def _card(session: Session, tables: list[Table], rows: dict[str, int]) -> str:
    lines = [
        "# headatlas catalog export",
        "",
        f"Written {datetime.now(UTC).isoformat(timespec='seconds')}, schema {schema_revision(session=session)}.",
        "One Parquet file per table; ids join the tables as in the catalog (`head.model_id` is `model.id`).",
        "Read with `pandas.read_parquet`, DuckDB (`SELECT * FROM 'model.parquet'`) or",
        '`datasets.load_dataset("parquet", data_files="dataset_head.parquet")`.',
        "",
        "| table | rows | columns |",
        "|---|---|---|",
        *(f"| {t.name} | {rows[t.name]} | {', '.join(c.name for c in t.columns)} |" for t in tables),
        "",
        "## Licences of the published head lists",
        "",
        "The `dataset_head` rows of each dataset carry its source's terms:",
        "",
        *(_licence_line(d) for d in session.exec(model_select(m.Dataset).order_by(m.Dataset.slug))),
        "",
    ]
    return "\n".join(lines)


def _licence_line(dataset: m.Dataset) -> str:
    licence = dataset.licence_spdx or "none stated"
    return f"- {dataset.slug}: {dataset.repository} at {dataset.source_commit}, {licence} ({dataset.licence_note})"
