"""Checks that numbers arrived in canonical units, run on every fetched frame before it is stored.

A provider converts at its boundary (Eastmoney's amount in CNY to thousand CNY, Yahoo's
A-share volume in shares to lots); these checks catch a conversion that was missed or
applied twice. The test is arithmetic the units must satisfy, not a range of plausible
values: for an A-share bar, amount / volume is the day's average price, so
`amount (thousand CNY) x 10 / vol (lots)` must lie within the day's low..high. A volume
in shares instead of lots puts it 100x too low; an amount in CNY puts it 1000x too high.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from providers.errors import BadPayload

if TYPE_CHECKING:
    import pandas as pd

_VWAP_SLACK = 0.05  # rounding of amount and volume; a unit slip is off by 100x or more


def check(dataset: str, market: str, rows: pd.DataFrame, provider: str) -> None:
    """Raise BadPayload on the first row whose units or prices are impossible."""
    if len(rows) <= _FEW_ROWS:  # a question's bar: pandas' column operations would cost it 5 ms
        records = rows.to_dict("records")
        for record in records:
            why = row_problem(dataset, market, record)
            if why is not None:
                raise BadPayload(f"{provider} {dataset} rows {why}: {[record]}", provider=provider, dataset=dataset)
        return
    problems = row_problems(dataset, market, rows)
    failed = problems[problems.notna()]
    if len(failed):
        first = failed.index[0]
        sample = rows.loc[[first]].to_dict("records")
        raise BadPayload(f"{provider} {dataset} rows {failed.iloc[0]}: {sample}", provider=provider, dataset=dataset)


_FEW_ROWS = 32


def row_problem(dataset: str, market: str, row: Mapping[Hashable, Any]) -> str | None:
    """`row_problems` of one row, value by value: the same checks in the same order, NaN failing
    every comparison as it does in pandas."""
    if dataset == "adj_factor":
        return None if _gt(row["adj_factor"], 0) else "have a missing or non-positive factor"
    if dataset == "spot":
        return _vwap_problem(row, row["price"])
    if dataset != "daily":
        return None
    prices = [row["open"], row["high"], row["low"], row["close"]]
    if any(_missing(p) or p <= 0 for p in prices):
        return "have missing, zero or negative prices"
    if max(row["open"], row["close"]) > row["high"] * (1 + 1e-6) or min(row["open"], row["close"]) < row["low"] * (
        1 - 1e-6
    ):
        return "have open or close outside low..high"
    if _gt(0, row["vol"]):
        return "have a negative volume"
    if market == "cn":
        if row["currency"] != "CNY" or _missing(row["currency"]):
            return "of A-shares are not in CNY"
        return _vwap_problem(row, row["close"])
    return "of a global ticker carry no currency" if _missing(row["currency"]) else None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _gt(a: Any, b: Any) -> bool:
    """a > b, false when either is missing (pandas' comparison)."""
    return not _missing(a) and not _missing(b) and a > b


def _vwap_problem(row: Mapping[Hashable, Any], close: Any) -> str | None:
    vol, amount, low, high = row["vol"], row["amount"], row["low"], row["high"]
    if not (_gt(vol, 0) and not _missing(amount) and not _missing(close)):
        return None
    vwap = amount * 10 / vol
    if _gt(low * (1 - _VWAP_SLACK), vwap) or _gt(vwap, high * (1 + _VWAP_SLACK)):
        return "are not in lots and thousand CNY (amount x 10 / volume is outside low..high)"
    return None


def row_problems(dataset: str, market: str, rows: pd.DataFrame, *, zero_prices_pass: bool = False) -> pd.Series:
    """Per row, what is wrong with it (None where nothing is): the first failed check wins.

    `zero_prices_pass` lets bars with a zero or negative price through unjudged: bulk loads
    keep them as upstream sent them, and the anomaly rule reports them (curated skips them).
    """
    import pandas as pd

    problems = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    if not len(rows):
        return problems
    if dataset == "daily":
        checks = _bar_checks(rows, market)
    elif dataset == "spot":
        checks = [_vwap_check(rows.rename(columns={"price": "close"}))]
    elif dataset == "adj_factor":
        checks = [(~(rows["adj_factor"] > 0), "have a missing or non-positive factor")]
    else:
        checks = []
    for bad, why in checks:
        problems = problems.where(~bad | problems.notna(), why)
    if zero_prices_pass and dataset == "daily":
        problems = problems.where(~(rows[["open", "high", "low", "close"]] <= 0).any(axis=1), None)
    return problems


Check = tuple["pd.Series", str]  # (rows failing, why)


def _bar_checks(rows: pd.DataFrame, market: str) -> list[Check]:
    prices = rows[["open", "high", "low", "close"]]
    low, high = rows["low"] * (1 - 1e-6), rows["high"] * (1 + 1e-6)
    checks: list[Check] = [
        ((prices <= 0).any(axis=1) | prices.isna().any(axis=1), "have missing, zero or negative prices"),
        (
            (rows[["open", "close"]].max(axis=1) > high) | (rows[["open", "close"]].min(axis=1) < low),
            "have open or close outside low..high",
        ),
        (rows["vol"] < 0, "have a negative volume"),
    ]
    if market == "cn":
        checks.append((rows["currency"] != "CNY", "of A-shares are not in CNY"))
        checks.append(_vwap_check(rows))
    else:
        checks.append((rows["currency"].isna(), "of a global ticker carry no currency"))
    return checks


def _vwap_check(rows: pd.DataFrame) -> Check:
    """amount (thousand CNY) x 10 / vol (lots) is the average price, which lies within low..high."""
    traded = (rows["vol"] > 0) & rows["amount"].notna() & rows["close"].notna()
    vwap = rows["amount"] * 10 / rows["vol"].where(traded)
    off = traded & ((vwap < rows["low"] * (1 - _VWAP_SLACK)) | (vwap > rows["high"] * (1 + _VWAP_SLACK)))
    return off, "are not in lots and thousand CNY (amount x 10 / volume is outside low..high)"
