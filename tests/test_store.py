"""The warehouse file: load rules, coverage, remembered reads that never go stale, one owner."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from providers.contract import RawPayload
from warehouse.batch import Batch
from warehouse.store import Coverage, Landing, Warehouse

DAY = dt.date(2024, 6, 20)


def _raw(close: float) -> RawPayload:
    fields = ["ts_code", "trade_date", "adj_factor"]
    fetched = dt.datetime(2024, 6, 20, 12, tzinfo=dt.UTC)
    return RawPayload("tushare", "adj_factor", {"ts_code": "600519.SH"}, fields, [["600519.SH", "20240620", close]],
                      fetched, "tc_1")  # fmt: skip


def _rows(value: float) -> pd.DataFrame:
    return pd.DataFrame({"ts_code": ["600519.SH"], "trade_date": [DAY], "adj_factor": [value]})


def test_merge_replaces_and_reads_see_every_write(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    sql = "SELECT adj_factor FROM norm_adj_factor WHERE ts_code = ?"
    coverage = Coverage("adj_factor", "600519.SH", DAY, DAY)
    assert store.read(("norm_adj_factor",), sql, ("600519.SH",)) == []
    store.load("norm_adj_factor", _rows(8.0204), _raw(8.0204), coverage)
    assert store.read(("norm_adj_factor",), sql, ("600519.SH",)) == [(8.0204,)]
    store.load("norm_adj_factor", _rows(8.0205), _raw(8.0205), coverage)
    assert store.read(("norm_adj_factor",), sql, ("600519.SH",)) == [(8.0205,)]  # merged on key, memo dropped
    assert store.query("SELECT count(*) FROM raw_payloads")[0][0] == 2  # raw is append-only
    assert store.covered_at("adj_factor", "600519.SH", DAY) == dt.datetime(2024, 6, 20, 12, tzinfo=dt.UTC)
    assert store.covered_at("adj_factor", "600519.SH", DAY + dt.timedelta(days=1)) is None
    store.close()


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    store = Warehouse(path)
    code = f"from warehouse.store import Warehouse; Warehouse({str(path)!r})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "WarehouseBusy" in result.stderr and "held by another process" in result.stderr
    store.close()


def test_a_few_rows_land_as_a_frame_of_many_does(tmp_path: Path) -> None:
    """A question's bar binds its values (fast); ingestion scans the frame: the stored rows are the same."""
    from providers.contract import conform
    from providers.models import DATASETS
    from tests.fake_tushare import FIXTURES

    bars = pd.read_csv(FIXTURES / "daily_600519.SH_2020-2024.csv", dtype=str).head(40).assign(currency="CNY")
    bars.loc[3, "pre_close"] = None  # a missing figure must land as NULL on either path, never as NaN
    rows = conform(bars, DATASETS["daily"], "tushare")
    raw = RawPayload("tushare", "daily", {}, [], [], dt.datetime(2024, 6, 20, 12, tzinfo=dt.UTC), None)
    sql = "SELECT * EXCLUDE (fetched_at) FROM norm_daily ORDER BY trade_date"
    many, few = Warehouse(tmp_path / "many.duckdb"), Warehouse(tmp_path / "few.duckdb")
    many.load("norm_daily", rows, raw, Coverage("daily", "600519.SH", DAY, DAY))
    for start in range(0, len(rows), 4):  # small loads, one overlapping its predecessor (a merge)
        few.load("norm_daily", rows.iloc[max(0, start - 1) : start + 4], raw, Coverage("daily", "600519.SH", DAY, DAY))
    assert len(rows) > 32 and few.query(sql) == many.query(sql)
    assert few.query("SELECT count(*) FROM norm_daily WHERE pre_close IS NULL")[0][0] == 1
    many.close()
    few.close()


def test_loads_in_one_transaction_end_the_store_as_loads_one_by_one(tmp_path: Path) -> None:
    """What the writer behind the questions does with the loads queued meanwhile: one statement per
    table, and yet the same rows as one load after another (a later load's row of a key stands)."""
    from providers.contract import conform
    from providers.models import DATASETS
    from tests.fake_tushare import FIXTURES
    from warehouse import freshness

    bars = pd.read_csv(FIXTURES / "daily_600519.SH_2020-2024.csv", dtype=str).head(50).assign(currency="CNY")
    rows = conform(bars, DATASETS["daily"], "tushare")
    revised = rows.iloc[8:12].assign(close=rows["close"].iloc[8:12] + 1)  # a later answer for days loaded before
    parts = [rows.iloc[0:10], rows.iloc[10:12], revised, rows.iloc[12:50], rows.iloc[49:50]]  # 38 rows: a frame
    fetched = [dt.datetime(2024, 6, 20, 12, n, tzinfo=dt.UTC) for n in range(len(parts))]
    sql = "SELECT * EXCLUDE (fetched_at) FROM norm_daily ORDER BY trade_date"

    def landings(store: Warehouse) -> list[Landing]:
        def derive(n: int) -> Callable[[Batch], Iterable[str]]:
            return lambda batch: freshness.stage(batch, "tushare", "daily", fetched[n], rows=len(parts[n]))

        return [
            store.landing(
                "norm_daily",
                part,
                RawPayload("tushare", "daily", {"n": n}, [], [], fetched[n], None),
                Coverage("daily", "600519.SH", DAY, DAY),
                derive=derive(n),
            )
            for n, part in enumerate(parts)
        ]

    together, apart = Warehouse(tmp_path / "together.duckdb"), Warehouse(tmp_path / "apart.duckdb")
    together.write_all(landings(together))
    for landing in landings(apart):
        apart.write_all([landing])
    assert together.query(sql) == apart.query(sql)
    stored = dict(together.query("SELECT trade_date, close FROM norm_daily"))
    assert [stored[day] for day in revised["trade_date"]] == list(revised["close"])  # the later answer stands
    logged = "SELECT p.params, f.row_count FROM fetch_log f JOIN raw_payloads p ON p.id = f.raw_id ORDER BY p.id"
    assert together.query(logged) == apart.query(logged) == [(f'{{"n": {n}}}', len(p)) for n, p in enumerate(parts)]
    tally = "SELECT last_success, rows_today FROM source_freshness"
    assert together.query(tally) == apart.query(tally) == [(dt.datetime(2024, 6, 20, 12, 4), sum(map(len, parts)))]
    together.close()
    apart.close()


def test_a_span_committed_while_its_scope_is_read_is_not_lost() -> None:
    """A load that commits while another thread reads the scope's spans: the next ask still sees it."""
    from warehouse.coverage import CoverageIndex

    asked = dt.datetime(2024, 6, 20, 12)
    table: list[tuple[dt.date, dt.date, dt.datetime]] = []

    def read(dataset: str, scope: str) -> list[tuple[dt.date, dt.date, dt.datetime]]:
        before = list(table)  # the reader's snapshot, taken before the load commits
        if not table:
            table.append((DAY, DAY, asked))
            index.committed("daily", "600519.SH", (DAY, DAY, asked))
        return before

    index = CoverageIndex(read)
    assert index.latest("daily", "600519.SH", DAY) is None  # the snapshot's answer
    assert index.latest("daily", "600519.SH", DAY) == asked  # not kept: read again
    table.append((DAY, DAY, asked + dt.timedelta(hours=1)))
    index.committed("daily", "600519.SH", (DAY, DAY, asked + dt.timedelta(hours=1)))
    assert index.latest("daily", "600519.SH", DAY) == asked + dt.timedelta(hours=1)  # kept now, and added to
