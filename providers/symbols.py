"""Parsing user-supplied codes and dates into canonical form.

Users type codes the way their other tools spell them (`600519`, `sh600519`, `600519.SS`);
we answer with tushare codes (`600519.SH`). Dates come as `YYYYMMDD` or `YYYY-MM-DD`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# ASCII digits only: `\d` alone also matches ८ or 𝟶, which once reached upstream as a "code".
# Input is NFKC-normalized first, so full-width ６００５１９ still reads as 600519.
_SUFFIXED = re.compile(r"^(\d{6})\.(SH|SZ|BJ|SS)$", re.ASCII)
_PREFIXED = re.compile(r"^(SH|SZ|BJ)(\d{6})$", re.ASCII)
_BARE = re.compile(r"^\d{6}$", re.ASCII)
_GLOBAL = re.compile(r"^[A-Z0-9][A-Z0-9.\-^=]{0,14}$")
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$", re.ASCII)
FIRST_TRADING_DAY = dt.date(1990, 12, 19)
QUOTED_CHARS = 80  # how much of a caller's text an error message or a log line repeats


def quoted(value: object, limit: int = QUOTED_CHARS) -> str:
    """A caller's value as an error message repeats it: its repr, cut to `limit` characters.

    Messages that echoed the whole argument let one 4 MB argument write an 8 MB log line; the
    length said at the end still tells the caller what they sent.
    """
    if isinstance(value, int) and value.bit_length() > 256:  # str() refuses ints over 4,300 digits
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:limit]}… ({size} chars)"


class InvalidArgument(ValueError):
    """A caller mistake: names the argument, says why, and what to do instead."""

    def __init__(self, argument: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.remedy = remedy


@dataclass(frozen=True, slots=True)
class Symbol:
    code: str  # tushare code for A-shares, upstream ticker otherwise
    market: str  # "cn" or "global"


def _exchange_of(digits: str) -> str | None:
    if digits.startswith(("60", "68", "90", "50", "51", "52", "56", "58")):
        return "SH"
    if digits.startswith(("00", "30", "20", "15", "16", "18", "12")):
        return "SZ"
    if digits.startswith(("43", "83", "87", "88", "92")):
        return "BJ"
    return None


def parse_code(raw: str) -> Symbol:
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    remedy = "pass an A-share code such as 600519, 600519.SH or sh600519, or a ticker such as AAPL"
    if not text:
        raise InvalidArgument("code", "code is empty", remedy)
    if m := _SUFFIXED.match(text):
        suffix = "SH" if m.group(2) == "SS" else m.group(2)
        return Symbol(f"{m.group(1)}.{suffix}", "cn")
    if m := _PREFIXED.match(text):
        return Symbol(f"{m.group(2)}.{m.group(1)}", "cn")
    if _BARE.match(text):
        exchange = _exchange_of(text)
        if exchange is None:
            raise InvalidArgument(
                "code",
                f"cannot tell the exchange of {quoted(raw)}",
                "add the exchange suffix, e.g. 600519.SH, 000858.SZ or 830799.BJ",
            )
        return Symbol(f"{text}.{exchange}", "cn")
    if _GLOBAL.match(text) and not text.isdigit():
        return Symbol(text, "global")
    raise InvalidArgument("code", f"{quoted(raw)} is not a stock code", remedy)


def parse_date(raw: str, argument: str, *, today: dt.date, earliest: dt.date | None = FIRST_TRADING_DAY) -> dt.date:
    """`earliest`: the first day the code's market can have (None: no floor, e.g. a global ticker,
    whose history is whatever its upstream holds)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    remedy = "use YYYYMMDD or YYYY-MM-DD, e.g. 20240620 or 2024-06-20"
    m = _DATE.match(text)
    if not m:
        raise InvalidArgument(argument, f"{argument} {quoted(raw)} is not a date", remedy)
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise InvalidArgument(argument, f"{argument} {quoted(raw)} is not a calendar date ({exc})", remedy) from exc
    if day > today:
        raise InvalidArgument(
            argument, f"{argument} {day.isoformat()} is in the future", f"use a date on or before {today}"
        )
    if earliest is not None and day < earliest:
        raise InvalidArgument(
            argument,
            f"{argument} {day.isoformat()} is before the first A-share trading day",
            f"use a date on or after {earliest}",
        )
    return day


def tushare_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def from_tushare_date(text: object) -> dt.date | None:
    if text is None or text == "" or (isinstance(text, float) and text != text):
        return None
    return dt.datetime.strptime(str(text)[:8], "%Y%m%d").date()
