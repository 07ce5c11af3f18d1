"""The catalog's whole state as data, and the checks that say whether a write was left half done.

`catalog_dump` reads every table into one dictionary in which rows are keyed
by their natural keys and every foreign key is replaced, recursively, by the
natural key of the row it points at: two catalogs that hold the same things
dump the same, whatever ids their rows were given. The full-text index is left
out (SQLite's FTS5 tables and PostgreSQL's tsvector column are not in the
metadata); the search documents it indexes are in.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, UniqueConstraint, select, text
from sqlmodel import SQLModel

import catalog.models  # noqa: F401 - registers the tables in SQLModel.metadata
from catalog.models import RunStatus

# Tables whose natural key the schema does not declare: the key the writer matches rows on (catalog.search).
UNDECLARED_KEYS = {"search_document": ("kind", "slug")}
# Run columns that differ between two runs of the same command: when it ran and how long it took.
RUN_CLOCK = {"run": {"started_at", "finished_at", "timings"}}

Dump = dict[str, dict[str, dict[str, Any]]]


def catalog_dump(engine: Engine, *, leave_out: Mapping[str, set[str]] | None = None) -> Dump:
    """Every table's rows by natural key, foreign keys replaced by the natural keys they point at.

    Args:
        engine: the catalog.
        leave_out: columns to leave out, by table (e.g. RUN_CLOCK).

    Returns:
        {table: {natural key as JSON: {column: value}}}; surrogate ids are left out.
    """
    tables = SQLModel.metadata.sorted_tables
    with engine.connect() as connection:
        rows = {table.name: [dict(row._mapping) for row in connection.execute(select(table))] for table in tables}
    keys = _NaturalKeys({table.name: table for table in tables}, rows)
    dump: Dump = {}
    for table in tables:
        skipped = (leave_out or {}).get(table.name, set())
        by_key: dict[str, dict[str, Any]] = {}
        for row in rows[table.name]:
            key = json.dumps(keys.of_row(table, row))
            if key in by_key:
                raise AssertionError(f"{table.name}: natural key {key} is held by two rows")
            by_key[key] = {
                column.name: keys.value(column.table, column.name, row[column.name])
                for column in table.columns
                if not _surrogate(table, column.name) and column.name not in skipped
            }
        dump[table.name] = dict(sorted(by_key.items()))
    return dump


def dump_text(dump: Dump) -> str:
    """The dump as canonical JSON: equal catalogs give equal bytes."""
    return json.dumps(dump, sort_keys=True, ensure_ascii=False)


def dump_differences(found: Dump, expected: Dump, *, most: int = 5) -> list[str]:
    """What differs between two dumps, table by table, a few natural keys each: for assertion messages."""
    lines = []
    for table in sorted(set(found) | set(expected)):
        mine, theirs = found.get(table, {}), expected.get(table, {})
        if mine == theirs:
            continue
        extra = sorted(set(mine) - set(theirs))
        missing = sorted(set(theirs) - set(mine))
        changed = sorted(key for key in set(mine) & set(theirs) if mine[key] != theirs[key])
        lines.append(
            f"{table}: {len(extra)} rows extra {extra[:most]}, {len(missing)} missing {missing[:most]}, "
            f"{len(changed)} changed {changed[:most]}"
        )
    return lines


def rows_outside(found: Dump, bound: Dump) -> list[str]:
    """Rows of `found` that `bound` does not hold as they are ("table: key"): empty when `found` is part of `bound`."""
    return [
        f"{table}: {key}"
        for table, rows in found.items()
        for key, row in rows.items()
        if bound.get(table, {}).get(key) != row
    ]


def stored_runs(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM run")).scalar_one())


def half_written_runs(engine: Engine) -> list[str]:
    """Every run that is not whole, each in a sentence; an empty list when every run was written whole.

    A run is whole when its status is one of RunStatus, it has finished, it has
    one score row for every head of its model, and verdicts exactly where a
    complete run scored a head (none for any other status); a failed or
    not-applicable run says why. A model a verification registered (its
    identity is set) has at least one run: it enters the catalog with its first.
    """
    problems = []
    with engine.connect() as connection:
        runs = connection.execute(
            text(
                "SELECT run.id, run.detector, run.status, run.finished_at, run.error, model.slug, "
                "(SELECT count(*) FROM head WHERE head.model_id = run.model_id) AS heads, "
                "model.n_layers * model.n_heads AS shape, "
                "(SELECT count(*) FROM head_score s WHERE s.run_id = run.id) AS scores, "
                "(SELECT count(*) FROM head_score s WHERE s.run_id = run.id AND s.score IS NOT NULL) AS scored, "
                "(SELECT count(*) FROM verdict v WHERE v.run_id = run.id) AS verdicts "
                "FROM run JOIN model ON model.id = run.model_id ORDER BY run.id"
            )
        ).all()
        orphans = connection.execute(
            text(
                "SELECT slug FROM model WHERE identity IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM run WHERE run.model_id = model.id)"
            )
        ).all()
    statuses = {str(status) for status in RunStatus}
    for run in runs:
        name = f"run {run.id} ({run.detector} on {run.slug}, {run.status})"
        if run.status not in statuses:
            problems.append(f"{name}: status is not one of {sorted(statuses)}")
        if run.finished_at is None:
            problems.append(f"{name}: has not finished")
        if run.heads != run.shape or run.scores != run.heads:
            problems.append(f"{name}: {run.scores} scores for {run.heads} heads ({run.shape} by the model's shape)")
        wanted = run.scored if run.status == RunStatus.COMPLETE else 0
        if run.verdicts != wanted:
            problems.append(f"{name}: {run.verdicts} verdicts, {wanted} expected")
        if run.status in (RunStatus.FAILED, RunStatus.NOT_APPLICABLE) and not run.error:
            problems.append(f"{name}: does not say why")
    problems += [f"model {slug}: registered by a verification but has no run" for (slug,) in orphans]
    return problems


class _NaturalKeys:
    """Natural keys of rows, foreign keys resolved recursively and remembered."""

    def __init__(self, tables: dict[str, Table], rows: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables
        self.by_id = {
            name: {row["id"]: row for row in table_rows}
            for name, table_rows in rows.items()
            if _surrogate(tables[name], "id")
        }
        self.known: dict[tuple[str, Any], list[Any]] = {}

    def of_row(self, table: Table, row: Mapping[str, Any]) -> list[Any]:
        return [self.value(table, column, row[column]) for column in _natural_key(table)]

    def of_id(self, table_name: str, row_id: Any) -> list[Any]:
        if (table_name, row_id) not in self.known:
            row = self.by_id[table_name].get(row_id)
            if row is None:
                raise AssertionError(f"{table_name} {row_id} is referred to but does not exist")
            self.known[(table_name, row_id)] = self.of_row(self.tables[table_name], row)
        return self.known[(table_name, row_id)]

    def value(self, table: Table, column: str, value: Any) -> Any:
        """A column's value as dumped: a foreign key as the natural key it points at, a time as ISO text."""
        if value is None:
            return None
        foreign = list(table.c[column].foreign_keys)
        if foreign:
            return self.of_id(foreign[0].column.table.name, value)
        return value.isoformat() if isinstance(value, datetime) else value


def _surrogate(table: Table, column: str) -> bool:
    """An autoincrement id that stands for a row: left out, the natural key stands for it instead."""
    return column == "id" and column in table.c and table.c[column].primary_key


def _natural_key(table: Table) -> tuple[str, ...]:
    """The columns a row is known by: its declared unique key, or its primary key when that is not an id."""
    if table.name in UNDECLARED_KEYS:
        return UNDECLARED_KEYS[table.name]
    if not _surrogate(table, "id"):
        return tuple(column.name for column in table.primary_key.columns)
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint):
            return tuple(column.name for column in constraint.columns)
    for column in table.columns:
        if column.unique:
            return (column.name,)
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        if index.unique:
            return tuple(column.name for column in index.columns)
    return tuple(column.name for column in table.columns if column.name != "id")  # no key: the whole row
