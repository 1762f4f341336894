"""Checks that numbers arrived in canonical units, run on every fetched frame before it is stored.

A provider converts at its boundary (Eastmoney's amount in CNY to thousand CNY, Yahoo's
A-share volume in shares to lots); these checks catch a conversion that was missed or
applied twice. The test is arithmetic the units must satisfy, not a range of plausible
values: for an A-share bar, amount / volume is the day's average price, so
`amount (thousand CNY) x 10 / vol (lots)` must lie within the day's low..high. A volume
in shares instead of lots puts it 100x too low; an amount in CNY puts it 1000x too high.
"""

from __future__ import annotations

import pandas as pd

from providers.errors import BadPayload

_VWAP_SLACK = 0.05  # rounding of amount and volume; a unit slip is off by 100x or more


def check(dataset: str, market: str, rows: pd.DataFrame, provider: str) -> None:
    if dataset == "daily" and len(rows):
        _check_bars(rows, market, provider)
    elif dataset == "spot" and len(rows):
        _check_vwap(rows.rename(columns={"price": "close"}).dropna(subset=["close"]), provider)
    elif dataset == "adj_factor" and len(rows) and not (rows["adj_factor"] > 0).all():
        raise BadPayload(f"{provider} adj_factor has non-positive factors", provider=provider, dataset=dataset)


def _fail(provider: str, why: str, rows: pd.DataFrame) -> BadPayload:
    sample = rows.head(1).to_dict("records")
    return BadPayload(f"{provider} daily bars {why}: {sample}", provider=provider, dataset="daily")


def _check_bars(rows: pd.DataFrame, market: str, provider: str) -> None:
    prices = rows[["open", "high", "low", "close"]]
    bad = rows[(prices <= 0).any(axis=1) | prices.isna().any(axis=1)]
    if len(bad):
        raise _fail(provider, "have missing, zero or negative prices", bad)
    low, high = rows["low"] * (1 - 1e-6), rows["high"] * (1 + 1e-6)
    bad = rows[(rows[["open", "close"]].max(axis=1) > high) | (rows[["open", "close"]].min(axis=1) < low)]
    if len(bad):
        raise _fail(provider, "have open or close outside low..high", bad)
    if (rows["vol"] < 0).any():
        raise _fail(provider, "have a negative volume", rows[rows["vol"] < 0])
    if market == "cn":
        if (rows["currency"] != "CNY").any():
            raise _fail(provider, "of A-shares are not in CNY", rows[rows["currency"] != "CNY"])
        _check_vwap(rows, provider)
    elif rows["currency"].isna().any():
        raise _fail(provider, "of a global ticker carry no currency", rows[rows["currency"].isna()])


def _check_vwap(rows: pd.DataFrame, provider: str) -> None:
    """amount (thousand CNY) x 10 / vol (lots) is the average price, which lies within low..high."""
    traded = rows[(rows["vol"] > 0) & rows["amount"].notna()]
    if len(traded):
        vwap = traded["amount"] * 10 / traded["vol"]
        off = traded[(vwap < traded["low"] * (1 - _VWAP_SLACK)) | (vwap > traded["high"] * (1 + _VWAP_SLACK))]
        if len(off):
            ratio = float((off["amount"] * 10 / off["vol"] / off["close"]).iloc[0])
            raise _fail(provider, f"are not in lots and thousand CNY (amount/volume is {ratio:.4g}x the close)", off)
