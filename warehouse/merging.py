"""How an upstream answer's rows enter their table, by the table's declared load rule, and where
the rows that failed validation go (quarantine, with the reason): inside a load's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from warehouse.schema import BY_NAME

if TYPE_CHECKING:
    import pandas as pd

Rejected = Sequence[tuple[dict[str, Any], str]]  # rows that failed validation, and why
# Loads of at most this many rows bind their values (a fetch-through's bar or factor); larger ones scan the frame.
_SMALL_LOAD = 32
_STAMPS = ("source", "fetched_at")  # what every stored row carries beside the upstream's columns


def merge(
    cur: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame, source: str, fetched: dt.datetime,
    *, whole: bool,
) -> None:  # fmt: skip
    spec = BY_NAME[table]
    if spec.rule == "replace" and whole:
        cur.execute(f"DELETE FROM {table} WHERE source = ?", [source])
    if not len(rows):
        return
    order = [k for k in spec.key if k != "source"]
    merged = () if spec.rule == "append" else spec.key  # an "append" dataset keeps every row it was sent
    if len(rows) <= _SMALL_LOAD:
        stamped = [c for c in _STAMPS if c in rows.columns]
        given = rows.drop(columns=stamped) if stamped else rows
        columns = [*given.columns, *_STAMPS]
        values = [[*map(cell, row), source, fetched] for row in given.itertuples(index=False, name=None)]
        at = [columns.index(k) for k in order]
        values.sort(key=lambda row: [(row[i] is None, row[i] if row[i] is not None else 0) for i in at])
        _merge_values(cur, table, merged, columns, values)
        return
    incoming = rows.assign(source=source, fetched_at=fetched).sort_values(order, kind="stable")
    cur.register("incoming", incoming)
    try:
        if merged:
            match = " AND ".join(f"{table}.{k} = incoming.{k}" for k in merged)
            cur.execute(f"DELETE FROM {table} USING incoming WHERE {match}")
        columns = ", ".join(incoming.columns)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming")
    finally:
        cur.unregister("incoming")


def cell(value: Any) -> Any:
    """A frame's cell as the store holds it (a frame scan's reading): NaN, NaT and NA are NULL, numpy
    scalars are Python's."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def _merge_values(
    cur: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], columns: list[str], rows: list[list[Any]]
) -> None:
    """`merge` of a few rows as bound values: registering a frame (or building one) costs more than the
    rows do. Rows of the same `key` are replaced; with no key, nothing is."""
    if key:
        at = [columns.index(k) for k in key]
        match = " OR ".join("(" + " AND ".join(f"{k} = ?" for k in key) + ")" for _ in rows)
        cur.execute(f"DELETE FROM {table} WHERE {match}", [row[i] for row in rows for i in at])
    marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
    cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {marks}", [v for row in rows for v in row])


def quarantine(
    cur: duckdb.DuckDBPyConnection, dataset: str, source: str, rejected: Rejected,
    at: dt.datetime, raw_id: int | None,
) -> None:  # fmt: skip
    def day(value: Any) -> dt.date | None:
        text = str(value or "").replace("-", "")[:8]
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            return None

    cur.executemany(
        "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [at, dataset, source, row.get("ts_code"), day(row.get("trade_date")), reason,
             json.dumps(row, ensure_ascii=False, default=str), raw_id]
            for row, reason in rejected
        ],
    )  # fmt: skip
