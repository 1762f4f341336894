"""source_freshness: per source and dataset, the last success, the last failure and today's rows.

Written by ingestion (and by every fetch-through load), read by the freshness rule and by
`quality_status`. A source is stale when its last success is more than STALE_AFTER old *and*
a trading day's bar has become final since then: over a weekend or a holiday nothing new
was due, so nothing is stale (freshness as of the trading calendar).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb

from warehouse.market_clock import SHANGHAI
from warehouse.store import Warehouse, utc_naive

STALE_AFTER = dt.timedelta(hours=24)


def update(cur: duckdb.DuckDBPyConnection, source: str, dataset: str, at: dt.datetime, *, rows: int = 0,
           error: str | None = None) -> Iterable[str]:  # fmt: skip
    """A success (with its row count) or a failure (with its error) of `source` for `dataset`,
    inside the caller's transaction (a load records its source's success in the same commit)."""
    day = at.astimezone(SHANGHAI).date()
    when = utc_naive(at)
    found = cur.execute(
        "SELECT rows_day, rows_today FROM source_freshness WHERE source = ? AND dataset = ?", [source, dataset]
    ).fetchone()
    if found is None:
        cur.execute("INSERT INTO source_freshness VALUES (?, ?, NULL, NULL, NULL, ?, 0)", [source, dataset, day])
        found = (day, 0)
    today = (found[1] if found[0] == day else 0) + (rows if error is None else 0)
    if error is None:
        cur.execute(
            "UPDATE source_freshness SET last_success = ?, rows_day = ?, rows_today = ?"
            " WHERE source = ? AND dataset = ?",
            [when, day, today, source, dataset],
        )
    else:
        cur.execute(
            "UPDATE source_freshness SET last_failure = ?, last_error = ?, rows_day = ?, rows_today = ?"
            " WHERE source = ? AND dataset = ?",
            [when, error[:500], day, today, source, dataset],
        )
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
