"""Codes and dates as users type them."""

from __future__ import annotations

import datetime as dt

import pytest

from providers.symbols import InvalidArgument, parse_code, parse_date


@pytest.mark.parametrize(
    ("raw", "code", "market"),
    [
        ("600519", "600519.SH", "cn"), ("600519.SH", "600519.SH", "cn"), ("sh600519", "600519.SH", "cn"),
        ("600519.SS", "600519.SH", "cn"), (" 000858.sz ", "000858.SZ", "cn"), ("300750", "300750.SZ", "cn"),
        ("688981", "688981.SH", "cn"), ("830799", "830799.BJ", "cn"), ("bj830799", "830799.BJ", "cn"),
        ("AAPL", "AAPL", "global"), ("0700.HK", "0700.HK", "global"),
    ],
)  # fmt: skip
def test_codes(raw: str, code: str, market: str) -> None:
    symbol = parse_code(raw)
    assert (symbol.code, symbol.market) == (code, market)


@pytest.mark.parametrize("raw", ["", "  ", "123", "700519", "hello world", "600519!"])
def test_bad_codes_name_the_argument(raw: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_code(raw)
    assert caught.value.argument == "code" and caught.value.remedy


def test_dates() -> None:
    today = dt.date(2024, 12, 31)
    assert parse_date("20240620", "trade_date", today=today) == dt.date(2024, 6, 20)
    assert parse_date("2024-06-20", "trade_date", today=today) == dt.date(2024, 6, 20)
    for bad in ("2024/06/20", "20240231", "2025-01-01", "19800101"):
        with pytest.raises(InvalidArgument):
            parse_date(bad, "trade_date", today=today)
