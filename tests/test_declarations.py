"""One declaration per dataset: the tables, migrations, reads and units derived from it hold.

The point-in-time read is generic, so it is checked here on the real `fina_indicator` figures of
600519.SH (tushare's duplicate and restated rows included) without any tool in between.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from citation.scales import TOOL_UNITS
from providers.contract import Payload, Query, RawPayload, conform
from providers.models import DATASETS
from providers.tushare import fina_indicator
from tests.fake_tushare import FIXTURES
from warehouse.pointintime import latest
from warehouse.schema import BY_NAME
from warehouse.store import Coverage, Warehouse

D = dt.date
SPEC = DATASETS["fina_indicator"]


def test_every_declared_dataset_is_its_table(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    kept = [spec for spec in DATASETS.values() if spec.stored]
    assert {s.name for s in DATASETS.values()} - {s.name for s in kept} == {"search"}  # kept whole, in search_cache
    assert "norm_search" not in BY_NAME
    for spec in kept:
        columns = [r[0] for r in store.query(f"SELECT column_name FROM (DESCRIBE {spec.table})")]
        assert columns == [*spec.columns, "source", "fetched_at"], spec.name
        table = BY_NAME[spec.table]
        assert (table.rule, table.key) == (spec.rule, (*spec.key, "source"))
    store.close()


def test_a_declared_column_reaches_a_file_made_before_it(tmp_path: Path) -> None:
    """A warehouse whose fina_indicator table predates `netprofit_yoy` gains it on open, and loads."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    older = [c for c in SPEC.fields if c.name != "netprofit_yoy"]
    typed = ", ".join(f"{c.name} {c.sql_type}" for c in older)
    con.execute(f"CREATE TABLE norm_fina_indicator ({typed}, source VARCHAR, fetched_at TIMESTAMP)")
    con.close()
    store = Warehouse(path)
    _load_reports(store)
    assert store.query("SELECT count(*) FROM norm_fina_indicator WHERE netprofit_yoy IS NOT NULL")[0][0] > 0
    store.close()


def test_claim_units_are_units_the_verifier_measures() -> None:
    for spec in DATASETS.values():
        if spec.ann_date is not None or spec.name == "daily_basic":
            assert set(spec.units.values()) <= set(TOOL_UNITS), spec.name


def _load_reports(store: Warehouse) -> None:
    frame = pd.read_csv(FIXTURES / "fina_indicator_600519.SH.csv", dtype=str)
    payload = Payload("fina_indicator", list(frame.columns), frame.values.tolist())
    query = Query("fina_indicator", "600519.SH", "cn", D(2023, 1, 1), D(2025, 12, 31))
    rows = conform(fina_indicator.translate_result(payload, query), SPEC, "tushare")
    raw = RawPayload("tushare", "fina_indicator", {}, [], [], dt.datetime(2025, 10, 23, tzinfo=dt.UTC), None)
    store.load(SPEC.table, rows, raw, Coverage("fina_indicator", "600519.SH", D(2023, 1, 1), D(2025, 12, 31)))


@pytest.mark.parametrize(
    ("on", "period", "ann_date", "eps"),
    [(D(2024, 4, 26), D(2023, 12, 31), D(2024, 4, 3), 59.49), (D(2024, 4, 27), D(2024, 3, 31), D(2024, 4, 27), 19.16),
     (D(2025, 10, 23), D(2025, 6, 30), D(2025, 8, 13), 36.18)],
)  # fmt: skip
def test_the_point_in_time_read_takes_what_was_announced_by_then(
    tmp_path: Path, on: dt.date, period: dt.date, ann_date: dt.date, eps: float
) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    _load_reports(store)
    (found,) = latest(store, SPEC, "600519.SH", on)
    assert (found.row["end_date"], found.row["ann_date"], found.row["eps"]) == (period, ann_date, eps)
    store.close()


def test_the_point_in_time_read_of_a_named_period_announced_later_is_empty(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    _load_reports(store)
    assert latest(store, SPEC, "600519.SH", D(2025, 8, 12), D(2025, 6, 30)) == []
    assert latest(store, SPEC, "600519.SH", D(2025, 8, 13), D(2025, 6, 30))[0].row["eps"] == 36.18
    store.close()


def test_a_file_from_before_currency_gains_it_and_its_a_shares_are_cny(tmp_path: Path) -> None:
    """The derived ALTER runs before the hand-written migrations that fill the new column."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    prices = ", ".join(f"{c} DOUBLE" for c in ("open", "high", "low", "close", "pre_close", "vol", "amount"))
    con.execute(
        f"CREATE TABLE norm_daily (ts_code VARCHAR, trade_date DATE, {prices}, source VARCHAR, fetched_at TIMESTAMP)"
    )
    con.execute("INSERT INTO norm_daily VALUES ('600519.SH', '2024-06-20', 1, 2, 1, 2, 1, 10, 15, 'tushare', now())")
    con.close()
    store = Warehouse(path)
    assert store.query("SELECT currency FROM norm_daily") == [("CNY",)]
    store.close()


def test_every_dataset_module_serves_a_declared_dataset_in_its_markets() -> None:
    from providers import akshare, pytdx, tushare, yahoo

    for package in (akshare, pytdx, tushare, yahoo):
        for module in package.MODULES:
            assert module.DATASET in DATASETS, module.__name__
            assert DATASETS[module.DATASET].markets >= module.MARKETS, module.__name__


@pytest.mark.parametrize(
    ("on", "due"),
    [(D(2025, 4, 29), D(2024, 9, 30)), (D(2025, 4, 30), D(2025, 3, 31)), (D(2025, 8, 31), D(2025, 6, 30)),
     (D(2025, 10, 23), D(2025, 6, 30)), (D(2025, 11, 1), D(2025, 9, 30)), (D(2026, 1, 15), D(2025, 9, 30))],
)  # fmt: skip
def test_the_newest_report_due_follows_the_disclosure_deadlines(on: dt.date, due: dt.date) -> None:
    from warehouse.reports import newest_due

    assert newest_due(on) == due
