"""The quality rules, each a query over the store for one trading day that returns findings.

- cross_source_agreement: closes of one code and day from two sources differ by more than
  CROSS_CHECK_TOLERANCE_PCT (warning).
- freshness: a source's last success is stale as of the trading calendar (`warehouse.freshness`).
- schema_validation: rows rejected into quarantine that day (error; the rows never loaded).
- anomaly: a close of zero or below (error; kept out of curated), or a day's move beyond the
  board's price limit (warning, for review).
- completeness: a dataset with no rows for a trading day (error), bars without a factor or a
  valuation (warning), listed codes without a bar (info: suspended, or missing upstream).

Price limits (SSE/SZSE rules): main board 10%; ChiNext (300/301) 20% from 2020-08-24, 10%
before; STAR (688/689) 20%; Beijing 30%; main-board risk-warning (ST) names 5% until
2025-07-04 and 10% since. New listings trade without a limit for their first days, so codes
listed within the last NEW_LISTING_DAYS calendar days are not judged. The limit price is
pre_close x (1 +/- limit) rounded to the cent, as the exchanges round it. Names are today's
names from stock_basic, which may carry an ST flag a code did not have on an older day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from warehouse.curate import rank_sql
from warehouse.freshness import is_stale
from warehouse.quality import CROSS_CHECK_TOLERANCE_PCT, Finding, disagreement
from warehouse.store import Warehouse, utc_aware

NEW_LISTING_DAYS = 10
_SAMPLE = 10  # codes named in a completeness finding
_QUARANTINE_ROWS = 20  # quarantined rows reported one by one; beyond that, one summary finding

Order = Callable[[str], Sequence[str]]


def cross_source(store: Warehouse, day: dt.date, order: Order) -> list[Finding]:
    rank = rank_sql("source", order("daily"))
    rows = store.query(
        f"""WITH ranked AS (SELECT ts_code, source, close, {rank} AS r FROM norm_daily WHERE trade_date = ?),
            primary_row AS (SELECT ts_code, arg_min(source, r) AS source, arg_min(close, r) AS close
                            FROM ranked GROUP BY ts_code HAVING count(*) > 1)
        SELECT p.ts_code, list(o.source ORDER BY o.source), list(o.close ORDER BY o.source),
               max(abs(o.close - p.close) / p.close * 100)
        FROM primary_row p JOIN ranked o ON o.ts_code = p.ts_code
        GROUP BY p.ts_code HAVING max(abs(o.close - p.close) / p.close * 100) > ?""",
        (day, CROSS_CHECK_TOLERANCE_PCT),
    )
    return [
        disagreement(code, day, dict(zip(sources, closes, strict=True)), diff) for code, sources, closes, diff in rows
    ]


def freshness(store: Warehouse, now: dt.datetime, latest_final: dt.datetime) -> list[Finding]:
    out = []
    for source, dataset, last_success, last_error in store.query(
        "SELECT source, dataset, last_success, last_error FROM source_freshness ORDER BY source, dataset"
    ):
        success = utc_aware(last_success) if last_success else None
        if is_stale(success, now, latest_final):
            assert success is not None
            age = (now - success).total_seconds() / 3600
            out.append(
                Finding(
                    rule="freshness",
                    severity="warning",
                    message=f"{source} {dataset} is stale: last success {success.isoformat()} ({age:.0f} h ago),"
                    f" before the bar of {latest_final.isoformat()} became final",
                    sources=source,
                    detail={"dataset": dataset, "last_success": success.isoformat(), "last_error": last_error},
                )
            )
    return out


def schema_validation(store: Warehouse, day: dt.date) -> list[Finding]:
    rows = store.query(
        "SELECT dataset, source, ts_code, reason, row_data::VARCHAR FROM quarantine WHERE trade_date = ?"
        " ORDER BY dataset, ts_code",
        (day,),
    )
    out = [
        Finding("schema_validation", "error", f"{source} {dataset} row of {code} rejected: {reason}", code, day,
                source, {"dataset": dataset, "row": row})
        for dataset, source, code, reason, row in rows[:_QUARANTINE_ROWS]
    ]  # fmt: skip
    if len(rows) > _QUARANTINE_ROWS:
        out.append(
            Finding("schema_validation", "error", f"{len(rows)} rows of {day.isoformat()} are in quarantine", None,
                    day, None, {"reasons": sorted({r[3] for r in rows})})
        )  # fmt: skip
    return out


def anomalies(store: Warehouse, day: dt.date) -> list[Finding]:
    out = [
        Finding("anomaly", "error", f"{source} reports a close of {close} for {code} on {day.isoformat()}", code, day,
                source, {"close": close})
        for code, source, close in store.query(
            "SELECT ts_code, source, close FROM norm_daily WHERE trade_date = ? AND close <= 0 ORDER BY ts_code", (day,)
        )
    ]  # fmt: skip
    limit = """CASE
        WHEN c.ts_code LIKE '%.BJ' THEN 0.30
        WHEN c.ts_code LIKE '688%' OR c.ts_code LIKE '689%' THEN 0.20
        WHEN c.ts_code LIKE '300%' OR c.ts_code LIKE '301%' THEN CASE WHEN c.trade_date >= DATE '2020-08-24'
             THEN 0.20 ELSE 0.10 END
        WHEN s.name LIKE '%ST%' AND c.trade_date < DATE '2025-07-07' THEN 0.05
        ELSE 0.10 END"""
    rows = store.query(
        f"""WITH limits AS (
            SELECT c.ts_code, c.pre_close, c.close, c.source, {limit} AS lim, s.name
            FROM cur_daily c
            LEFT JOIN (SELECT ts_code, any_value(name) AS name, any_value(list_date) AS list_date
                       FROM norm_stock_basic GROUP BY ts_code) s ON s.ts_code = c.ts_code
            WHERE c.trade_date = ? AND c.currency = 'CNY' AND c.pre_close > 0
              AND (s.list_date IS NULL OR s.list_date < c.trade_date - INTERVAL {NEW_LISTING_DAYS} DAY))
        SELECT ts_code, pre_close, close, source, lim, name FROM limits
        WHERE close > round(pre_close * (1 + lim) + 1e-9, 2) + 0.005
           OR close < round(pre_close * (1 - lim) + 1e-9, 2) - 0.005
        ORDER BY ts_code""",
        (day,),
    )
    for code, pre, close, source, lim, name in rows:
        move = (close / pre - 1) * 100
        out.append(
            Finding("anomaly", "warning",
                    f"{code} ({name or 'name unknown'}) moved {move:+.2f}% on {day.isoformat()}, beyond its "
                    f"{lim * 100:.0f}% price limit", code, day, source,
                    {"pre_close": pre, "close": close, "limit_pct": lim * 100, "move_pct": round(move, 4)})
        )  # fmt: skip
    return out


def completeness(store: Warehouse, day: dt.date, datasets: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    for dataset, table in (("daily", "norm_daily"), ("adj_factor", "norm_adj_factor"),
                           ("daily_basic", "norm_daily_basic")):  # fmt: skip
        if dataset in datasets and not store.query(f"SELECT count(*) FROM {table} WHERE trade_date = ?", (day,))[0][0]:
            out.append(Finding("completeness", "error", f"no {dataset} rows for {day.isoformat()}", None, day, None,
                               {"dataset": dataset}))  # fmt: skip
    checks = [
        ("norm_adj_factor", "warning", "bars without an adjustment factor (qfq/hfq and features are null)"),
        ("norm_daily_basic", "warning", "bars without a valuation (pe_ttm/pb are null)"),
    ]
    for table, severity, what in checks:
        if table == "norm_daily_basic" and "daily_basic" not in datasets:
            continue
        sql = (
            f"SELECT DISTINCT d.ts_code FROM norm_daily d ANTI JOIN {table} t ON t.ts_code = d.ts_code"
            " AND t.trade_date = d.trade_date WHERE d.trade_date = ? AND d.currency = 'CNY' ORDER BY 1"
        )
        missing = [r[0] for r in store.query(sql, (day,))]
        if missing and len(missing) < _has_bars(store, day):
            out.append(_codes_finding(severity, f"{len(missing)} {what}", day, missing))
    listed = [r[0] for r in store.query(
        "SELECT DISTINCT s.ts_code FROM norm_stock_basic s ANTI JOIN norm_daily d ON d.ts_code = s.ts_code"
        " AND d.trade_date = ? WHERE s.list_date <= ? ORDER BY 1", (day, day))]  # fmt: skip
    if listed and _has_bars(store, day):
        out.append(
            _codes_finding("info", f"{len(listed)} listed codes have no bar (suspended, or missing)", day, listed)
        )
    return out


def _has_bars(store: Warehouse, day: dt.date) -> int:
    return int(store.query("SELECT count(*) FROM norm_daily WHERE trade_date = ?", (day,))[0][0])


def _codes_finding(severity: str, what: str, day: dt.date, codes: list[str]) -> Finding:
    return Finding("completeness", severity, f"{what} on {day.isoformat()}", None, day, None,
                   {"count": len(codes), "sample": codes[:_SAMPLE]})  # fmt: skip
