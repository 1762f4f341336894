"""source_freshness: per source and dataset, the last success, the last failure and today's rows.

Written by ingestion (and by every fetch-through load), read by the freshness rule and by
`quality_status`. A source is stale when its last success is more than STALE_AFTER old *and*
a trading day's bar has become final since then: over a weekend or a holiday nothing new
was due, so nothing is stale (freshness as of the trading calendar).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from providers.models import SHANGHAI
from warehouse.batch import Batch
from warehouse.store import Warehouse, utc_naive

STALE_AFTER = dt.timedelta(hours=24)


def update(cur: duckdb.DuckDBPyConnection, source: str, dataset: str, at: dt.datetime, *, rows: int = 0,
           error: str | None = None) -> Iterable[str]:  # fmt: skip
    """A success (with its row count) or a failure (with its error) of `source` for `dataset`,
    inside the caller's transaction (a load records its source's success in the same commit)."""
    day = at.astimezone(SHANGHAI).date()
    when = utc_naive(at)
    added = rows if error is None else 0
    reason = error[:500] if error is not None else None
    # One statement in the usual case (the pair's row exists); today's count restarts on a new day.
    counts = "rows_today = CASE WHEN rows_day = ? THEN rows_today + ? ELSE ? END, rows_day = ?"
    outcome = "last_success = ?" if error is None else "last_failure = ?, last_error = ?"
    values: list[Any] = [when] if error is None else [when, reason]
    updated = cur.execute(
        f"UPDATE source_freshness SET {outcome}, {counts} WHERE source = ? AND dataset = ?",
        [*values, day, added, added, day, source, dataset],
    ).fetchone()
    if not updated or not updated[0]:
        success, failure = (when, None) if error is None else (None, when)
        cur.execute("INSERT INTO source_freshness VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [source, dataset, success, failure, reason, day, added])  # fmt: skip
    return ("source_freshness",)


@dataclass
class _Tally:
    at: dt.datetime
    rows: int = 0


def stage(batch: Batch, source: str, dataset: str, at: dt.datetime, *, rows: int) -> Iterable[str]:
    """`update` for a success, once for all the loads of `batch` by that source and dataset: their
    rows summed, the latest time kept (one statement where each load had one)."""
    key = ("source_freshness", source, dataset, at.astimezone(SHANGHAI).date())
    fresh = _Tally(at)

    def write(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
        return update(cur, source, dataset, tally.at, rows=tally.rows)

    tally = batch.shared(key, lambda: fresh)
    if tally is fresh:
        batch.last(write)
    tally.at, tally.rows = max(tally.at, at), tally.rows + rows
    return ("source_freshness",)


def record_failures(store: Warehouse, dataset: str, attempts: Iterable[dict[str, Any]], at: dt.datetime) -> None:
    """Each failed try of an attempt log as that source's last failure (an empty answer is not one)."""
    failed = [entry for entry in attempts if entry["outcome"] not in ("ok", "empty")]

    def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
        for entry in failed:
            update(cur, entry["provider"], dataset, at, error=f"{entry['outcome']}: {entry.get('detail') or ''}")
        return ("source_freshness",)

    if failed:
        store.write(work)


def is_stale(last_success: dt.datetime | None, now: dt.datetime, latest_final: dt.datetime) -> bool | None:
    """None when the source never succeeded; else whether it missed a bar that became final."""
    if last_success is None:
        return None
    return now - last_success > STALE_AFTER and last_success < latest_final
