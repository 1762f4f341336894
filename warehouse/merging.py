"""How an upstream answer's rows enter their table, by the table's declared load rule, and where
the rows that failed validation go (quarantine, with the reason): inside a load's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from warehouse.batch import Batch
from warehouse.schema import BY_NAME

if TYPE_CHECKING:
    import pandas as pd

Rejected = Sequence[tuple[dict[str, Any], str]]  # rows that failed validation, and why
# Loads of at most this many rows bind their values (a fetch-through's bar or factor); larger ones scan the frame.
_SMALL_LOAD = 32
_STAMPS = ("source", "fetched_at")  # what every stored row carries beside the upstream's columns


def merge(batch: Batch, table: str, rows: pd.DataFrame, source: str, fetched: dt.datetime, *, whole: bool) -> None:
    """A few rows are staged in `batch` with the other loads' (bound values: registering a frame, or
    even building one, costs more than the rows do); a whole frame is written at once."""
    spec = BY_NAME[table]
    merged = () if spec.rule == "append" else spec.key  # an "append" dataset keeps every row it was sent
    order = [k for k in spec.key if k != "source"]
    if len(rows) <= _SMALL_LOAD and not (spec.rule == "replace" and whole):
        stamped = [c for c in _STAMPS if c in rows.columns]
        given = rows.drop(columns=stamped) if stamped else rows
        columns = [*given.columns, *_STAMPS]
        values = [[*map(cell, row), source, fetched] for row in given.itertuples(index=False, name=None)]
        at = [columns.index(k) for k in order]
        values.sort(key=lambda row: [(row[i] is None, row[i] if row[i] is not None else 0) for i in at])
        if merged:
            batch.replace(table, merged, columns, values)
        else:
            batch.add(table, columns, values)
        return
    batch.flush(table)  # the loads staged before this one come first
    cur = batch.cur
    if spec.rule == "replace" and whole:
        cur.execute(f"DELETE FROM {table} WHERE source = ?", [source])
    if not len(rows):
        return
    incoming = rows.assign(source=source, fetched_at=fetched).sort_values(order, kind="stable")
    cur.register("incoming", incoming)
    try:
        if merged:
            match = " AND ".join(f"{table}.{k} = incoming.{k}" for k in merged)
            cur.execute(f"DELETE FROM {table} USING incoming WHERE {match}")
        names = ", ".join(incoming.columns)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming")
    finally:
        cur.unregister("incoming")


def cell(value: Any) -> Any:
    """A frame's cell as the store holds it (a frame scan's reading): NaN, NaT and NA are NULL, numpy
    scalars are Python's."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def quarantine(
    batch: Batch, dataset: str, source: str, rejected: Rejected, at: dt.datetime, raw_id: int | None
) -> None:
    def day(value: Any) -> dt.date | None:
        text = str(value or "").replace("-", "")[:8]
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            return None

    batch.add(
        "quarantine",
        ("quarantined_at", "dataset", "source", "ts_code", "trade_date", "reason", "row_data", "raw_id"),
        [
            [at, dataset, source, row.get("ts_code"), day(row.get("trade_date")), reason,
             json.dumps(row, ensure_ascii=False, default=str), raw_id]
            for row, reason in rejected
        ],
    )  # fmt: skip
