"""DuckDB tables of the warehouse and the load rule of each.

raw.*: exact upstream payloads with their request, append-only (the audit trail).
norm_*: typed rows, one per (key, source); a reload of the same key replaces (merge on key).
fetch_log: what was asked upstream and when, so that "no row" can mean "no bar that day".
quality_log: findings of the quality rules (cross-source disagreement, ...), append-only.
Timestamps are naive UTC (TIMESTAMP), so that reads need no time-zone package.

Rows are kept in (ts_code, trade_date) order by the loader; there are no composite primary
keys (they make bulk loads several times slower and do not speed up point lookups).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    rule: str  # "append" or "merge"
    key: tuple[str, ...]
    ddl: str


_NUM = "DOUBLE"
TABLES: tuple[Table, ...] = (
    Table(
        "raw_payloads",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS raw_payloads (
            id BIGINT DEFAULT nextval('raw_payload_ids'), source VARCHAR, api_name VARCHAR,
            params JSON, item_count INTEGER, payload JSON, fetched_at TIMESTAMP, request_id VARCHAR)""",
    ),
    Table(
        "fetch_log",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS fetch_log (
            dataset VARCHAR, source VARCHAR, scope VARCHAR, start_date DATE, end_date DATE,
            row_count INTEGER, fetched_at TIMESTAMP, raw_id BIGINT)""",
    ),
    Table(
        "norm_daily",
        "merge",
        ("ts_code", "trade_date", "source"),
        f"""CREATE TABLE IF NOT EXISTS norm_daily (
            ts_code VARCHAR, trade_date DATE, open {_NUM}, high {_NUM}, low {_NUM}, close {_NUM},
            pre_close {_NUM}, vol {_NUM}, amount {_NUM}, currency VARCHAR, source VARCHAR,
            fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_adj_factor",
        "merge",
        ("ts_code", "trade_date", "source"),
        f"""CREATE TABLE IF NOT EXISTS norm_adj_factor (
            ts_code VARCHAR, trade_date DATE, adj_factor {_NUM}, source VARCHAR, fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_trade_cal",
        "merge",
        ("exchange", "cal_date", "source"),
        """CREATE TABLE IF NOT EXISTS norm_trade_cal (
            exchange VARCHAR, cal_date DATE, is_open BOOLEAN, pretrade_date DATE, source VARCHAR,
            fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_daily_basic",
        "merge",
        ("ts_code", "trade_date", "source"),
        f"""CREATE TABLE IF NOT EXISTS norm_daily_basic (
            ts_code VARCHAR, trade_date DATE, close {_NUM}, pe {_NUM}, pe_ttm {_NUM}, pb {_NUM},
            ps {_NUM}, ps_ttm {_NUM}, dv_ratio {_NUM}, dv_ttm {_NUM}, total_share {_NUM},
            float_share {_NUM}, total_mv {_NUM}, circ_mv {_NUM}, turnover_rate {_NUM}, source VARCHAR,
            fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_fina_indicator",
        "merge",
        ("ts_code", "end_date", "source"),
        f"""CREATE TABLE IF NOT EXISTS norm_fina_indicator (
            ts_code VARCHAR, ann_date DATE, end_date DATE, eps {_NUM}, bps {_NUM}, roe {_NUM},
            roa {_NUM}, grossprofit_margin {_NUM}, netprofit_margin {_NUM}, debt_to_assets {_NUM},
            current_ratio {_NUM}, or_yoy {_NUM}, netprofit_yoy {_NUM}, source VARCHAR,
            fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_stock_basic",
        "merge",
        ("ts_code", "source"),
        """CREATE TABLE IF NOT EXISTS norm_stock_basic (
            ts_code VARCHAR, name VARCHAR, area VARCHAR, industry VARCHAR, market VARCHAR, list_date DATE,
            source VARCHAR, fetched_at TIMESTAMP)""",
    ),
    Table(
        "norm_spot",
        "merge",
        ("ts_code", "source"),
        f"""CREATE TABLE IF NOT EXISTS norm_spot (
            ts_code VARCHAR, name VARCHAR, price {_NUM}, open {_NUM}, high {_NUM}, low {_NUM}, pre_close {_NUM},
            vol {_NUM}, amount {_NUM}, pe_dynamic {_NUM}, pb {_NUM}, total_mv {_NUM}, circ_mv {_NUM},
            source VARCHAR, fetched_at TIMESTAMP)""",
    ),
    Table(
        "quality_log",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS quality_log (
            logged_at TIMESTAMP, rule VARCHAR, severity VARCHAR, ts_code VARCHAR, trade_date DATE, sources VARCHAR,
            detail JSON)""",
    ),
)
BY_NAME = {t.name: t for t in TABLES}
SETUP = ("CREATE SEQUENCE IF NOT EXISTS raw_payload_ids",)
# Changes to tables that earlier versions created, applied on open (DuckDB has no migrations).
MIGRATIONS = (
    "ALTER TABLE norm_daily ADD COLUMN IF NOT EXISTS currency VARCHAR",
    "UPDATE norm_daily SET currency = 'CNY' WHERE currency IS NULL AND regexp_matches(ts_code, '[.](SH|SZ|BJ)$')",
)
