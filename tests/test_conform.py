"""The few-rows typing path of `conform_rows` answers exactly what the column-by-column path does.

A question's fetch-through types one bar value by value (pandas' column operations cost it 9 ms);
ingestion types thousands column by column. Both must keep the same rows, the same types and the
same reasons, whatever an upstream sends: real figures from the fixtures, mixed with the malformed
cells upstreams have sent (empty strings, words, None, NaN, dashed dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.contract import Payload, _conform_few, _conform_many, conform_rows
from providers.models import DATASETS
from tests.fake_tushare import FIXTURES

with (FIXTURES / "daily_600519.SH_2020-2024.csv").open(encoding="utf-8") as _handle:
    _REAL = list(csv.DictReader(_handle))[:200]

_NUMBERS = [float(r["close"]) for r in _REAL] + [float(r["vol"]) for r in _REAL]
_DATES = [r["trade_date"] for r in _REAL]
_BROKEN = ["", " ", "n/a", "--", None, math.nan, "nan", "1,000", "20240231", "2024-06"]
_cell_number = st.one_of(
    st.sampled_from(_NUMBERS), st.sampled_from(_NUMBERS).map(str), st.sampled_from(_NUMBERS).map(int),
    st.sampled_from(_BROKEN),
)  # fmt: skip
_cell_date = st.one_of(
    st.sampled_from(_DATES), st.sampled_from(_DATES).map(lambda d: f"{d[:4]}-{d[4:6]}-{d[6:]}"),
    st.sampled_from(_DATES).map(int), st.sampled_from(_BROKEN),
)  # fmt: skip
_cell_code = st.one_of(st.just("600519.SH"), st.just("000001.SZ"), st.none())


@st.composite
def _frames(draw: st.DrawFn, dataset: str) -> pd.DataFrame:
    spec = DATASETS[dataset]
    count = draw(st.integers(min_value=0, max_value=6))
    rows = []
    for _ in range(count):
        row = {}
        for column in spec.columns:
            if column in spec.dates:
                row[column] = draw(_cell_date)
            elif column in spec.numbers:
                row[column] = draw(_cell_number)
            elif column == "ts_code":
                row[column] = draw(_cell_code)
            else:
                row[column] = draw(st.sampled_from(["CNY", "SSE", None, True]))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(spec.columns))


def _same(dataset: str, frame: pd.DataFrame) -> None:
    spec = DATASETS[dataset]
    few, few_rejected = _conform_few(frame.reset_index(drop=True), spec)
    many, many_rejected = _conform_many(frame.reset_index(drop=True), spec)
    pd.testing.assert_frame_equal(few, many)
    assert [reason for _, reason in few_rejected] == [reason for _, reason in many_rejected]
    assert [str(row) for row, _ in few_rejected] == [str(row) for row, _ in many_rejected]


@settings(max_examples=150, deadline=None)
@given(_frames("daily"))
def test_a_few_bars_are_typed_as_many_are(frame: pd.DataFrame) -> None:
    _same("daily", frame)


@settings(max_examples=80, deadline=None)
@given(_frames("fina_indicator"))
def test_a_few_reports_are_typed_as_many_are(frame: pd.DataFrame) -> None:
    _same("fina_indicator", frame)


@settings(max_examples=60, deadline=None)
@given(_frames("trade_cal"))
def test_a_few_calendar_days_are_typed_as_many_are(frame: pd.DataFrame) -> None:
    _same("trade_cal", frame)


def test_real_bars_take_the_few_path_and_keep_their_figures() -> None:
    """One real bar of 600519.SH, as the tushare SDK frames it, comes out typed with its figures."""
    frame = pd.DataFrame(_REAL[:1]).assign(currency="CNY")
    rows, rejected = conform_rows(frame, DATASETS["daily"], "tushare")
    assert rejected == []
    assert rows.loc[0, "close"] == float(_REAL[0]["close"])
    day = rows["trade_date"].iloc[0]
    assert isinstance(day, dt.date) and day.strftime("%Y%m%d") == _REAL[0]["trade_date"]
    assert str(rows["close"].dtype) == "float64"


def test_a_few_rows_become_the_plain_values_many_do() -> None:
    """A library's frame of a question (value by value) and of a whole market (by column) hold the same
    values, missing ones as None whatever pandas calls them."""
    frame = pd.DataFrame(_REAL[:40]).astype({"close": "float64", "vol": "float64"})
    frame["listed"] = pd.to_datetime(frame["trade_date"], format="%Y%m%d")
    frame["count"] = pd.array(range(len(frame)), dtype="Int64")
    for column, missing in (("close", math.nan), ("ts_code", None), ("listed", pd.NaT), ("count", pd.NA)):
        frame.loc[2, column] = missing
    whole = Payload.of("daily", frame)
    assert len(frame) > 32 and whole.items[2][frame.columns.get_loc("close")] is None
    for rows in (frame.iloc[:3], frame.iloc[2:3]):
        few = Payload.of("daily", rows.reset_index(drop=True))
        assert few.fields == whole.fields
        assert few.items == whole.items[rows.index[0] : rows.index[-1] + 1]
    lone = dict(zip(frame.columns, Payload.of("daily", frame.iloc[2:3]).items[0], strict=True))
    assert [lone[c] for c in ("close", "ts_code", "listed", "count")] == [None] * 4


_BARS = pd.DataFrame(_REAL).assign(currency="CNY")
_SLIPS: list[tuple[str, float]] = [  # what a missed or doubled conversion, or a broken upstream, does to one real bar
    ("vol", 100.0), ("vol", 0.01), ("amount", 1000.0), ("amount", 0.001), ("close", -1.0), ("low", 0.0),
    ("high", 0.5), ("vol", -1.0), ("open", math.nan), ("amount", math.nan), ("currency", math.nan), ("vol", 0.0),
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=len(_REAL) - 1), min_size=1, max_size=5),
    st.lists(st.sampled_from(_SLIPS), max_size=3),
    st.sampled_from(["cn", "global"]),
)
def test_a_few_bars_are_unit_checked_as_many_are(picks: list[int], slips: list[tuple[str, float]], market: str) -> None:
    """`units.row_problem` (one row, value by value) gives `units.row_problems`' reason for every row."""
    from providers import units

    records = conform_rows(_BARS.iloc[picks].reset_index(drop=True), DATASETS["daily"], "tushare")[0].to_dict("records")
    for i, (column, factor) in enumerate(slips):
        record = records[i % len(records)]
        record[column] = None if column == "currency" else math.nan if math.isnan(factor) else record[column] * factor
    expected = units.row_problems("daily", market, pd.DataFrame(records)).tolist()
    assert [units.row_problem("daily", market, r) for r in records] == expected


def test_real_factors_are_unit_checked_as_many_are() -> None:
    from providers import units

    with (FIXTURES / "adj_factor_600519.SH_20230925-20251023.csv").open(encoding="utf-8") as handle:
        real = pd.DataFrame(list(csv.DictReader(handle))[:20])
    records = conform_rows(real, DATASETS["adj_factor"], "tushare")[0].to_dict("records")
    records[3]["adj_factor"] = math.nan
    records[5]["adj_factor"] = -records[5]["adj_factor"]
    expected = units.row_problems("adj_factor", "cn", pd.DataFrame(records)).tolist()
    assert expected.count(None) == len(records) - 2
    assert [units.row_problem("adj_factor", "cn", r) for r in records] == expected
