"""Reading a dataset by its declaration: column lists, rows by name, and the one point-in-time read.

Point in time: a number is used only from when it was published. For a dataset announced as
reports (`ann_date`) that is the reports announced on or before the day asked: of those, the
newest period (or exactly the period asked for), in its newest announced version, so that a
restatement published later never changes what was known then, and a report without an
announcement date never answers (it is never known to have been public). For any other dataset
it is the newest row of its date column on or before the day. One row per source either way:
the reader picks among sources by the composer's order. A set (a top-10 list, an index's
constituents) is the same question answered with every row of that date (`latest_set`); a history
(a company's dividends) is every row known on the day (`known_rows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from providers.declaration import Dataset
from warehouse.store import Warehouse, utc_aware

Row = dict[str, Any]  # one stored row, column -> value


@dataclass(frozen=True, slots=True)
class Found:
    source: str
    row: Row
    fetched_at: dt.datetime  # aware, UTC


def select_list(spec: Dataset) -> str:
    """The declared columns, as a SELECT names them (never `*`: a migrated table appends columns)."""
    return ", ".join(spec.columns)


def named(spec: Dataset, values: Sequence[Any]) -> Row:
    """A row selected as `select_list(spec)`, by name: constructors never depend on column order."""
    return dict(zip(spec.columns, values, strict=True))


def found_rows(spec: Dataset, rows: Sequence[tuple[Any, ...]]) -> list[Found]:
    """Rows selected as `source, <select_list>, fetched_at`."""
    return [Found(str(source), named(spec, values), utc_aware(fetched)) for source, *values, fetched in rows]


_SQL: dict[str, str] = {}


def latest_sql(spec: Dataset) -> str:
    """$1 the scope (a code), $2 the day, $3 an exact value of the date column or NULL."""
    sql = _SQL.get(spec.name)
    if sql is not None:
        return sql
    known, date = spec.known_by, spec.date
    if known is None or date is None:
        raise ValueError(f"dataset {spec.name} has no date column: nothing is on or before a day")
    where = f"{spec.scope} = $1 AND {known} <= $2"
    sql = (
        f"SELECT source, {select_list(spec)}, fetched_at FROM {spec.table} WHERE {where} AND {date} ="
        f" (SELECT max({date}) FROM {spec.table} WHERE {where} AND ($3::DATE IS NULL OR {date} = $3))"
    )
    if spec.ann_date is not None:
        sql += f" QUALIFY {spec.ann_date} = max({spec.ann_date}) OVER (PARTITION BY source)"
    _SQL[spec.name] = sql
    return sql


def latest(store: Warehouse, spec: Dataset, scope: str, on: dt.date, exact: dt.date | None = None) -> list[Found]:
    """The newest row known on `on` (of `exact`, when given), one per source."""
    return found_rows(spec, store.read((spec.table,), latest_sql(spec), (scope, on, exact)))


def first_known(store: Warehouse, spec: Dataset, scope: str, exact: dt.date) -> dt.date | None:
    """When a row of `exact` first became known (its earliest announcement): why a day before it has none."""
    known = spec.known_by
    sql = f"SELECT min({known}) FROM {spec.table} WHERE {spec.scope} = ? AND {spec.date} = ?"
    found: dt.date | None = store.read((spec.table,), sql, (scope, exact))[0][0]
    return found


def _set_sql(spec: Dataset) -> str:
    """`latest_sql`, every row of the newest date rather than one, in key order."""
    key = f"{spec.name}@set"
    sql = _SQL.get(key)
    if sql is None:
        sql = _SQL[key] = f"{latest_sql(spec)} ORDER BY {', '.join(spec.key)}"
    return sql


def latest_set(store: Warehouse, spec: Dataset, scope: str, on: dt.date, exact: dt.date | None = None) -> list[Found]:
    """Every row of the newest date known on `on` (or of `exact`), in its newest announcement, per source:
    a top-10 list, an index's constituents. `latest` is the one-row case of the same question."""
    return found_rows(spec, store.read((spec.table,), _set_sql(spec), (scope, on, exact)))


def known_rows(store: Warehouse, spec: Dataset, scope: str, on: dt.date) -> list[Found]:
    """Every row of the scope known on `on`, newest date first: a history, such as a company's dividends."""
    known, date = spec.known_by, spec.date
    if known is None or date is None:
        raise ValueError(f"dataset {spec.name} has no date column: nothing is on or before a day")
    sql = (f"SELECT source, {select_list(spec)}, fetched_at FROM {spec.table} WHERE {spec.scope} = ? AND {known} <= ?"
           f" ORDER BY {date} DESC, {known} DESC, {', '.join(spec.key)}")  # fmt: skip
    return found_rows(spec, store.read((spec.table,), sql, (scope, on)))
