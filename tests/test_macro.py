"""The macro dataset through akshare's own `macro_china_*` functions and the Eastmoney stand-in.

The stand-in serves akshare output committed by a third party (tests/fixtures/eastmoney/README.md),
so the figures asserted here are NBS's published ones as Eastmoney carries them: what goes in
must come out unchanged, in the months asked for, and a wrong indicator or an outage must say so.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from providers.contract import Query
from providers.errors import NoData, UpstreamUnavailable
from tests.conftest import RuntimeFactory
from tests.fake_eastmoney import FakeEastmoney

D = dt.date
MACRO_PATH = "/api/data/v1/get"


def _ask(make_runtime: RuntimeFactory, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    rt = make_runtime()
    return rt.composer.providers["akshare"].call(Query("macro", code, "cn", start, end)).rows


@pytest.mark.parametrize(
    ("code", "month", "value", "yoy", "mom"),
    [
        ("cpi", D(2024, 1, 1), 99.2, -0.8, 0.3),
        ("cpi", D(2024, 2, 1), 100.7, 0.7, 1.0),
        ("ppi", D(2024, 3, 1), 97.2, -2.8, None),
        ("ppi", D(2024, 12, 1), 97.7, -2.3, None),
        ("pmi", D(2022, 12, 1), 47.0, -6.56063618, None),
        ("pmi", D(2024, 3, 1), 50.8, -2.1194605, None),
    ],
)
def test_published_figures_come_out_unchanged(
    make_runtime: RuntimeFactory, code: str, month: dt.date, value: float, yoy: float, mom: float | None
) -> None:
    rows = _ask(make_runtime, code, D(2022, 1, 1), D(2025, 12, 31))
    row = rows.loc[rows["period"] == month].iloc[0]
    assert (row["indicator"], row["value"], row["yoy"]) == (code, value, yoy)
    assert row["mom"] == mom if mom is not None else math.isnan(row["mom"])


def test_months_are_kept_by_their_first_day_inclusive(make_runtime: RuntimeFactory, eastmoney: FakeEastmoney) -> None:
    rows = _ask(make_runtime, "ppi", D(2024, 3, 1), D(2024, 6, 1))
    assert list(rows["period"]) == [D(2024, 3, 1), D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1)]
    assert list(rows["value"]) == [97.2, 97.5, 98.6, 99.2]
    later = _ask(make_runtime, "ppi", D(2024, 3, 2), D(2024, 6, 1))  # March began before the window
    assert list(later["period"]) == [D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1)]
    assert eastmoney.calls[MACRO_PATH] == 2
    assert {r["reportName"] for r in eastmoney.requests} == {"RPT_ECONOMY_PPI"}


def test_an_unknown_indicator_is_no_data_naming_the_valid_ones(
    make_runtime: RuntimeFactory, eastmoney: FakeEastmoney
) -> None:
    with pytest.raises(NoData, match="cpi, ppi, pmi"):
        _ask(make_runtime, "gdp", D(2024, 1, 1), D(2024, 12, 31))
    assert eastmoney.calls[MACRO_PATH] == 0


def test_eastmoney_down_is_upstream_unavailable(make_runtime: RuntimeFactory, eastmoney: FakeEastmoney) -> None:
    eastmoney.mode = "down"
    with pytest.raises(UpstreamUnavailable):
        _ask(make_runtime, "pmi", D(2024, 1, 1), D(2024, 12, 31))
    assert eastmoney.calls[MACRO_PATH] >= 1
