"""DuckDB tables of the warehouse, their layer and the load rule of each (dlt's way of declaring).

raw: raw_payloads holds exact upstream payloads with their request, append-only (the audit
  trail); fetch_log says what was asked upstream and when, so that "no row" can mean "no bar".
normalized (norm_*): typed rows, one per (key, source); a reload of the same key replaces it
  (merge). A "replace" table's whole-market load replaces every row of that source. Their DDL,
  key and rule are derived from the dataset declarations in `providers.models`.
curated (cur_daily): one row per code and day: the preferred source's raw bar and the factor.
feature (feat_daily): derived per code and day from curated and valuation rows.
quality: quality_log (findings, append-only), source_freshness (per source and dataset, merge),
  quarantine (rows rejected by validation with the reason, never loaded elsewhere; append-only).
The ledger of answers is not here: it is its own SQLite file (warehouse/ledger.py).
Timestamps are naive UTC (TIMESTAMP), so that reads need no time-zone package.

Rows are kept in (ts_code, trade_date) order by the loader; there are no composite primary
keys (they make bulk loads several times slower and do not speed up point lookups).
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.declaration import Dataset
from providers.models import DATASETS


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    rule: str  # "append", "merge" (on key) or "replace" (a whole-market load replaces the source's rows)
    key: tuple[str, ...]
    ddl: str
    layer: str = "normalized"
    date_column: str | None = None  # what `stats` reports the range of


_NUM = "DOUBLE"


def normalized(spec: Dataset) -> Table:
    """A dataset's `norm_*` table, from its declaration: the only place its columns are typed."""
    return Table(spec.table, spec.rule, (*spec.key, "source"), spec.ddl(), date_column=spec.date or "fetched_at")


NORMALIZED = tuple(normalized(spec) for spec in DATASETS.values() if spec.stored)
TABLES: tuple[Table, ...] = (
    Table(
        "raw_payloads",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS raw_payloads (
            id BIGINT DEFAULT nextval('raw_payload_ids'), source VARCHAR, api_name VARCHAR,
            params JSON, item_count INTEGER, payload JSON, fetched_at TIMESTAMP, request_id VARCHAR)""",
        "raw",
        "fetched_at",
    ),
    Table(
        "fetch_log",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS fetch_log (
            dataset VARCHAR, source VARCHAR, scope VARCHAR, start_date DATE, end_date DATE,
            row_count INTEGER, fetched_at TIMESTAMP, raw_id BIGINT)""",
        "raw",
        "end_date",
    ),
    *NORMALIZED,
    Table(
        "cur_daily",
        "merge",
        ("ts_code", "trade_date"),
        f"""CREATE TABLE IF NOT EXISTS cur_daily (
            ts_code VARCHAR, trade_date DATE, open {_NUM}, high {_NUM}, low {_NUM}, close {_NUM},
            pre_close {_NUM}, vol {_NUM}, amount {_NUM}, currency VARCHAR, adj_factor {_NUM}, source VARCHAR,
            factor_source VARCHAR, fetched_at TIMESTAMP, curated_at TIMESTAMP)""",
        "curated",
        "trade_date",
    ),
    Table(
        "feat_daily",
        "merge",
        ("ts_code", "trade_date"),
        f"""CREATE TABLE IF NOT EXISTS feat_daily (
            ts_code VARCHAR, trade_date DATE, close_qfq {_NUM}, ma_5 {_NUM}, ma_10 {_NUM}, ma_20 {_NUM},
            ma_60 {_NUM}, momentum_5d {_NUM}, momentum_20d {_NUM}, volatility_20d {_NUM}, pe_ttm {_NUM},
            pb {_NUM}, pe_band_low {_NUM}, pe_band_mid {_NUM}, pe_band_high {_NUM}, pe_percentile {_NUM},
            pe_band_days INTEGER, adj_base {_NUM}, computed_at TIMESTAMP)""",
        "feature",
        "trade_date",
    ),
    # Codes whose curated and feature rows a question's load left to be derived (one batch for many
    # questions); written in the load's own transaction, so a crash loses none of them.
    Table(
        "curation_pending",
        "append",
        (),
        "CREATE TABLE IF NOT EXISTS curation_pending (ts_code VARCHAR, start_date DATE, end_date DATE)",
        "curated",
        "end_date",
    ),
    # Web search answers by question, normalized, for search_cache_ttl_seconds: upstream material
    # as fetched (no typing, no curation), so "raw". `since` and `categories` are "" when not given.
    Table(
        "search_cache",
        "merge",
        ("query", "language", "since", "max_results", "categories"),
        """CREATE TABLE IF NOT EXISTS search_cache (
            query VARCHAR, language VARCHAR, since VARCHAR, max_results INTEGER, categories VARCHAR,
            results JSON, provider VARCHAR, fetched_at TIMESTAMP)""",
        "raw",
        "fetched_at",
    ),
    Table(
        "quality_log",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS quality_log (
            logged_at TIMESTAMP, rule VARCHAR, severity VARCHAR, ts_code VARCHAR, trade_date DATE, sources VARCHAR,
            detail JSON)""",
        "quality",
        "logged_at",
    ),
    Table(
        "source_freshness",
        "merge",
        ("source", "dataset"),
        """CREATE TABLE IF NOT EXISTS source_freshness (
            source VARCHAR, dataset VARCHAR, last_success TIMESTAMP, last_failure TIMESTAMP, last_error VARCHAR,
            rows_day DATE, rows_today BIGINT)""",
        "quality",
        "last_success",
    ),
    Table(
        "quarantine",
        "append",
        (),
        """CREATE TABLE IF NOT EXISTS quarantine (
            quarantined_at TIMESTAMP, dataset VARCHAR, source VARCHAR, ts_code VARCHAR, trade_date DATE,
            reason VARCHAR, row_data JSON, raw_id BIGINT)""",
        "quality",
        "quarantined_at",
    ),
)
BY_NAME = {t.name: t for t in TABLES}
DERIVED = frozenset({"cur_daily", "feat_daily"})  # what a read brings up to date first (`Warehouse.derive_pending`)
SETUP = ("CREATE SEQUENCE IF NOT EXISTS raw_payload_ids",)
# Changes to tables that earlier versions created, applied on open (DuckDB has no migrations), after
# `added_columns` has brought every declared column into the normalized tables.
MIGRATIONS = (
    "UPDATE norm_daily SET currency = 'CNY' WHERE currency IS NULL AND regexp_matches(ts_code, '[.](SH|SZ|BJ)$')",
    "ALTER TABLE quality_log ADD COLUMN IF NOT EXISTS message VARCHAR",
)


def added_columns(present: set[tuple[str, str]]) -> list[str]:
    """ALTERs for the declared columns a file made by an earlier version lacks ((table, column) present).

    A column added to a declaration reaches existing warehouses this way, with no hand-written
    migration; loads and reads name their columns, so one appended at the end is read as well.
    """
    tables = {table for table, _ in present}
    return [
        f"ALTER TABLE {spec.table} ADD COLUMN {column.name} {column.sql_type}"
        for spec in DATASETS.values()
        if spec.table in tables
        for column in spec.fields
        if (spec.table, column.name) not in present
    ]


LAYERS = ("raw", "normalized", "curated", "feature", "quality")
