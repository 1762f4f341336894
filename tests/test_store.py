"""The warehouse file: load rules, coverage, remembered reads that never go stale, one owner."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd

from warehouse.store import Coverage, RawPayload, Warehouse

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
