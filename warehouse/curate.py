"""The curated and feature layers, derived in SQL from the normalized rows inside a load's transaction.

Curated (`cur_daily`): one row per code and day, the raw bar of the most preferred source (the
composer's order) and the adjustment factor of one factor source per code across all its days:
the source with factors for the most of them, the most preferred on a tie. Two sources' factors
differ by a scale (tushare's accumulate since listing, akshare's are relative to the day it was
asked), so a series that mixed them would jump; days the chosen source has no factor for get
none. When more factors arrive and another source becomes the code's, all its rows are redone.
Rows whose close is not positive never reach curated (the quality rules report them).

Feature (`feat_daily`), from curated and valuation rows:
- close_qfq = close x adj_factor / adj_base, adj_base being the code's newest curated factor;
  ma_N: the mean of the last N qfq closes (null until N bars with factors exist);
- momentum_Nd: the adjusted return over N bars, in percent;
- volatility_20d: the sample standard deviation of the last 20 daily adjusted returns, in
  percent, not annualised;
- pe_ttm, pb: the day's valuation (most preferred source);
- PE bands: the 20th, 50th and 80th percentiles of pe_ttm over the trailing PE_BAND_YEARS
  (loss-making days, whose pe_ttm is null, left out), and where today's pe_ttm ranks in them.
MAs are on the qfq base of the moment they were computed; when a code's newest factor changes
(a dividend or split), `rebase` rescales its stored MAs exactly (they are linear in 1 / base).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import duckdb

from warehouse.batch import Batch

if TYPE_CHECKING:
    from warehouse.store import Warehouse

ALL = "*"
PE_BAND_YEARS = 3
_HISTORY_BARS = 61  # ma_60 needs 60 closes; returns need one more
_HISTORY_DAYS = 130  # calendar days that hold at least _HISTORY_BARS bars, holidays included

Order = Callable[[str], Sequence[str]]  # dataset -> providers, most preferred first
EVER = (dt.date(1990, 1, 1), dt.date(2100, 1, 1))  # every day a code can have
# ma_N: the mean of the last N qfq closes, null until N closes with factors exist.
_MOVING_AVERAGES = ",\n".join(
    f"CASE WHEN count(qfq) OVER (w ROWS {n - 1} PRECEDING) = {n} THEN avg(qfq) OVER (w ROWS {n - 1} PRECEDING) END"
    f" AS ma_{n}"
    for n in (5, 10, 20, 60)
)


def rank_sql(column: str, names: Sequence[str]) -> str:
    """SQL ranking `column` by its place in `names` (unlisted last): lower is preferred."""
    if not names:
        return "0"
    cases = " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(names))
    return f"CASE {column} {cases} ELSE {len(names)} END"


def _scope(codes: Sequence[str] | str, alias: str = "") -> tuple[str, list[object]]:
    column = f"{alias}ts_code"
    if codes == ALL:
        return "TRUE", []
    return f"list_contains(?, {column})", [list(codes)]


def _latest_factors(where: str) -> str:
    """Each code's newest curated factor: the qfq base of its features."""
    return (
        "SELECT ts_code, arg_max(adj_factor, trade_date) AS adj_base FROM cur_daily"
        f" WHERE {where} AND adj_factor IS NOT NULL GROUP BY ts_code"
    )


class Curator:
    def __init__(self, order: Order) -> None:
        self._order = order
        self._pending = True  # a store may hold codes left pending before a restart
        self._catching_up = threading.Lock()

    def defer(self, batch: Batch, codes: Sequence[str], start: dt.date, end: dt.date) -> Iterable[str]:
        """Inside a question's load: leave its codes to `catch_up`, which derives many questions' in one batch.

        Deriving in every load cost a question most of its time, and 30 questions at once 30 derivations
        in a row under the one writer; the rows wait in `curation_pending`, durable with the load.
        """
        batch.add("curation_pending", ("ts_code", "start_date", "end_date"), [[code, start, end] for code in codes])
        self._pending = True
        return ("curation_pending",)

    def attach(self, store: Warehouse) -> None:
        """Have `store` catch up before reading the curated and feature layers."""
        store.catch_up = lambda: self.catch_up(store)

    def catch_up(self, store: Warehouse) -> None:
        """Derive every pending code's rows in one transaction (a no-op when none are pending)."""
        if not self._pending:
            return
        with self._catching_up:
            if not self._pending:
                return  # another reader caught up meanwhile
            self._pending = False  # a load landing from now on sets it again
            try:
                store.write(self._derive_pending)
            except BaseException:
                self._pending = True
                raise

    def _derive_pending(self, cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
        rows = cur.execute("SELECT ts_code, min(start_date), max(end_date) FROM curation_pending GROUP BY ts_code")
        pending = rows.fetchall()
        if not pending:
            return ()
        cur.execute("DELETE FROM curation_pending")
        codes = sorted(code for code, _, _ in pending)
        start, end = min(first for _, first, _ in pending), max(last for _, _, last in pending)
        return ("curation_pending", *self.refresh(cur, codes, start, end))

    def refresh(
        self, cur: duckdb.DuckDBPyConnection, codes: Sequence[str] | str, start: dt.date, end: dt.date
    ) -> Iterable[str]:
        """Rebuild curated and feature rows of `codes` (or ALL) for start..end; the tables written."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self._curate(cur, codes, start, end, now)
        moved = self._factor_source_moved(cur, codes)
        if moved:
            self._curate(cur, moved, *EVER, now)
        self._features(cur, codes, start, end, now)
        if moved:
            self._features(cur, moved, *EVER, now)
        return ("cur_daily", "feat_daily")

    def _factor_sources(self, where: str) -> str:
        """SQL: per code, the one source of its adjustment factors (see the module's docstring)."""
        rank = rank_sql("source", self._order("adj_factor"))
        return f"""SELECT ts_code, source FROM (
                SELECT ts_code, source, count(*) AS days FROM norm_adj_factor WHERE {where} GROUP BY ts_code, source)
            QUALIFY row_number() OVER (PARTITION BY ts_code ORDER BY days DESC, {rank}) = 1"""

    def _factor_source_moved(self, cur: duckdb.DuckDBPyConnection, codes: Sequence[str] | str) -> list[str]:
        """Codes with curated rows whose factors came from another source than the code's now."""
        where, args = _scope(codes)
        rows = cur.execute(
            f"""SELECT DISTINCT c.ts_code FROM cur_daily c JOIN ({self._factor_sources(where)}) fs USING (ts_code)
            WHERE {_scope(codes, "c.")[0]} AND c.factor_source IS DISTINCT FROM fs.source""",
            [*args, *args],
        ).fetchall()
        return sorted(code for (code,) in rows)

    def _curate(
        self, cur: duckdb.DuckDBPyConnection, codes: Sequence[str] | str, start: dt.date, end: dt.date, now: dt.datetime
    ) -> None:
        where, args = _scope(codes)
        bar_rank = rank_sql("source", self._order("daily"))
        cur.execute(f"DELETE FROM cur_daily WHERE {where} AND trade_date BETWEEN ? AND ?", [*args, start, end])
        cur.execute(
            f"""INSERT INTO cur_daily
            WITH bars AS (
                SELECT * FROM norm_daily WHERE {where} AND trade_date BETWEEN ? AND ? AND close > 0
                QUALIFY row_number() OVER (
                    PARTITION BY ts_code, trade_date ORDER BY {bar_rank}, fetched_at DESC) = 1
            ), factor_source AS ({self._factor_sources(where)}
            )
            SELECT b.ts_code, b.trade_date, b.open, b.high, b.low, b.close, b.pre_close, b.vol, b.amount,
                   b.currency, f.adj_factor, b.source, fs.source, b.fetched_at, ?
            FROM bars b
            LEFT JOIN factor_source fs ON fs.ts_code = b.ts_code
            LEFT JOIN norm_adj_factor f
              ON f.ts_code = b.ts_code AND f.trade_date = b.trade_date AND f.source = fs.source
            ORDER BY b.ts_code, b.trade_date""",
            [*args, start, end, *args, now],
        )

    def _features(
        self, cur: duckdb.DuckDBPyConnection, codes: Sequence[str] | str, start: dt.date, end: dt.date, now: dt.datetime
    ) -> None:
        where, args = _scope(codes)
        where_c, _ = _scope(codes, "c.")
        valuation_rank = rank_sql("source", self._order("daily_basic"))
        history = start - dt.timedelta(days=_HISTORY_DAYS)
        band_from = start - dt.timedelta(days=366 * PE_BAND_YEARS)
        cur.execute(f"DELETE FROM feat_daily WHERE {where} AND trade_date BETWEEN ? AND ?", [*args, start, end])
        cur.execute(
            f"""INSERT INTO feat_daily
            WITH base AS ({_latest_factors(where)}), series AS (
                SELECT c.ts_code, c.trade_date, c.close * c.adj_factor AS hfq,
                       c.close * c.adj_factor / b.adj_base AS qfq, b.adj_base
                FROM cur_daily c LEFT JOIN base b USING (ts_code)
                WHERE {where_c} AND c.trade_date BETWEEN ? AND ?
            ), windows AS (
                SELECT *,
                    hfq / lag(hfq) OVER w - 1 AS ret,
                    {_MOVING_AVERAGES},
                    (hfq / lag(hfq, 5) OVER w - 1) * 100 AS momentum_5d,
                    (hfq / lag(hfq, 20) OVER w - 1) * 100 AS momentum_20d
                FROM series WINDOW w AS (PARTITION BY ts_code ORDER BY trade_date)
            ), vol AS (
                SELECT *,
                    CASE WHEN count(ret) OVER (PARTITION BY ts_code ORDER BY trade_date ROWS 19 PRECEDING) = 20
                         THEN stddev_samp(ret) OVER (PARTITION BY ts_code ORDER BY trade_date ROWS 19 PRECEDING) * 100
                    END AS volatility_20d
                FROM windows
            ), valuation AS (
                SELECT ts_code, trade_date, pe_ttm, pb FROM norm_daily_basic
                WHERE {where} AND trade_date BETWEEN ? AND ?
                QUALIFY row_number() OVER (
                    PARTITION BY ts_code, trade_date ORDER BY {valuation_rank}, fetched_at DESC) = 1
            ), bands AS (
                SELECT t.ts_code, t.trade_date,
                       quantile_cont(h.pe_ttm, 0.2) AS low, quantile_cont(h.pe_ttm, 0.5) AS mid,
                       quantile_cont(h.pe_ttm, 0.8) AS high,
                       avg(CASE WHEN h.pe_ttm <= t.pe_ttm THEN 1.0 ELSE 0.0 END) * 100 AS pct,
                       count(h.pe_ttm) AS days
                FROM valuation t JOIN valuation h
                  ON h.ts_code = t.ts_code AND h.trade_date > t.trade_date - INTERVAL {PE_BAND_YEARS} YEAR
                 AND h.trade_date <= t.trade_date AND h.pe_ttm IS NOT NULL
                WHERE t.trade_date BETWEEN ? AND ? AND t.pe_ttm IS NOT NULL
                GROUP BY t.ts_code, t.trade_date
            )
            SELECT v.ts_code, v.trade_date, v.qfq, v.ma_5, v.ma_10, v.ma_20, v.ma_60, v.momentum_5d,
                   v.momentum_20d, v.volatility_20d, p.pe_ttm, p.pb, bands.low, bands.mid, bands.high,
                   bands.pct, bands.days, v.adj_base, ?
            FROM vol v
            LEFT JOIN valuation p ON p.ts_code = v.ts_code AND p.trade_date = v.trade_date
            LEFT JOIN bands ON bands.ts_code = v.ts_code AND bands.trade_date = v.trade_date
            WHERE v.trade_date BETWEEN ? AND ?
            ORDER BY v.ts_code, v.trade_date""",
            [*args, *args, history, end, *args, band_from, end, start, end, now, start, end],
        )
        self._rebase(cur, codes)

    @staticmethod
    def _rebase(cur: duckdb.DuckDBPyConnection, codes: Sequence[str] | str) -> None:
        """Stored MAs of codes whose newest factor changed, rescaled onto the new base."""
        where, args = _scope(codes)
        cur.execute(
            f"""UPDATE feat_daily f SET
                close_qfq = close_qfq * f.adj_base / b.adj_base, ma_5 = ma_5 * f.adj_base / b.adj_base,
                ma_10 = ma_10 * f.adj_base / b.adj_base, ma_20 = ma_20 * f.adj_base / b.adj_base,
                ma_60 = ma_60 * f.adj_base / b.adj_base, adj_base = b.adj_base
            FROM ({_latest_factors(where)}) b
            WHERE f.ts_code = b.ts_code AND f.adj_base <> b.adj_base""",
            args,
        )
