"""Quality findings and how they are recorded in `quality_log`.

A finding is recorded once per (rule, code, day, message), however many runs or questions
run into it, so that the log counts problems rather than checks. Severities: `info`
(worth knowing: a suspended code), `warning` (served, but look: sources disagree, a source
is stale, a move beyond the price limit), `error` (not served as is: a zero close, a row
rejected into quarantine, a dataset missing for a trading day).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from warehouse.store import Warehouse, utc_naive

CROSS_CHECK_TOLERANCE_PCT = 0.01  # percent; tushare and Eastmoney agree to the cent on real data
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    ts_code: str | None = None
    trade_date: dt.date | None = None
    sources: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record(store: Warehouse, findings: Iterable[Finding]) -> int:
    """Append the findings not already logged; how many were new."""
    batch = list(findings)
    if not batch:
        return 0
    import pandas as pd  # here, not at module level: an idle server needs none (see providers/__init__)

    now = utc_naive(dt.datetime.now(dt.UTC))
    frame = pd.DataFrame(
        {
            "logged_at": [now] * len(batch),
            "rule": [f.rule for f in batch],
            "severity": [f.severity for f in batch],
            "ts_code": [f.ts_code for f in batch],
            "trade_date": pd.Series([f.trade_date for f in batch], dtype=object),
            "sources": [f.sources for f in batch],
            "detail": [json.dumps(f.detail, ensure_ascii=False, sort_keys=True, default=str) for f in batch],
            "message": [f.message for f in batch],
        }
    ).drop_duplicates(["rule", "ts_code", "trade_date", "message"])
    added = 0

    def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
        nonlocal added
        cur.register("findings", frame)
        try:
            inserted = cur.execute(
                "INSERT INTO quality_log (logged_at, rule, severity, ts_code, trade_date, sources, detail, message)"
                " SELECT logged_at, rule, severity, ts_code, CAST(trade_date AS DATE), sources, detail, message"
                " FROM findings f WHERE NOT EXISTS (SELECT 1 FROM quality_log q WHERE q.rule = f.rule"
                " AND q.ts_code IS NOT DISTINCT FROM f.ts_code"
                " AND q.trade_date IS NOT DISTINCT FROM CAST(f.trade_date AS DATE) AND q.message = f.message)"
            ).fetchone()
            added = int(inserted[0]) if inserted else 0
        finally:
            cur.unregister("findings")
        return ("quality_log",)

    store.write(work)
    return added


def disagreement(ts_code: str, day: dt.date, values: dict[str, float], diff_pct: float) -> Finding:
    """Sources disagree on a close by more than the tolerance (the primary's number is still served)."""
    ordered = dict(sorted(values.items()))
    return Finding(
        rule="cross_source_agreement",
        severity="warning",
        message=f"sources disagree on the close of {ts_code} {day.isoformat()} by {diff_pct:.4f}%: {ordered}",
        ts_code=ts_code,
        trade_date=day,
        sources=",".join(ordered),
        detail={"field": "close", "values": ordered, "diff_pct": round(diff_pct, 6)},
    )


def record_disagreement(
    store: Warehouse, ts_code: str, day: dt.date, values: dict[str, float], diff_pct: float
) -> bool:
    """Log a close on which sources disagree; False if this exact finding is already logged."""
    return record(store, [disagreement(ts_code, day, values, diff_pct)]) > 0
