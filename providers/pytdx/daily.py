"""TDX daily bars (`get_security_bars`, category 9): unadjusted OHLC, volume and amount.

Units, with the evidence (no TDX document states them):

* `vol` is in lots (手) and `amount` in CNY (元) for A-shares. pytdx's own example in
  rainx/pytdx PR #59 shows 600031 on 2017-09-14 with close 7.75, low 7.71, high 7.86,
  vol 397598.0 and amount 308731776.0: amount / vol = 776.5 = 100 x the day's average price
  7.765, so vol counts lots of 100 shares and amount counts yuan. foolcage/fooltrader
  (fooltrader/datasource/tdx.py) multiplies this `vol` by 100 to get shares, for the same reason.
  So vol passes through as canonical lots and amount is divided by 1000 into thousand CNY;
  `providers.units` checks the result on every fetch (amount x 10 / vol within low..high).
* Both are IEEE-754 single floats on the wire: pytdx's `helper.get_volume` is a hand-written
  float32 decoder, hence issue #240 ("vol 比实际值小1") and about 7 significant digits only
  (an amount of 6,033,540,366 yuan arrives as 6,033,540,608). A zero decodes as 2**-127
  (5.877e-39), the value people filter out as "amount == 5.877471754111438e-39".
* Prices are integers in thousandths of a yuan, each bar's open relative to the previous bar's
  close within one answer, so they are exact.

TDX bars carry no previous close. `pre_close` stays NaN: deriving it from the previous bar
would be wrong on every ex-dividend day, where the exchange's reference price is adjusted.
A day without trades (a suspension) can come as a bar with zero volume and carried-over prices;
it is dropped, as tushare omits such days. Pages are counted from the newest bar, so a bar
published between two pages makes them overlap (never leave a gap); duplicates are dropped.
During a session the newest bar is the day so far, as it is on the TDX terminal.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import BadPayload, NoData
from providers.pytdx.client import NAME, TdxClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "daily"
MARKETS = frozenset({"cn"})
API = "get_security_bars"
CATEGORY_DAILY = 9
PAGE = 800  # the most bars a TDX server sends per request
MAX_PAGES = 12  # 9,600 trading days: more than the whole A-share history since 1990
COLUMNS = ["ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "vol", "amount", "currency"]
FIELDS = ["open", "close", "high", "low", "vol", "amount", "year", "month", "day", "hour", "minute", "datetime"]
_MARKET = {"SH": 1, "SZ": 0}
_CODE = re.compile(r"^(\d{6})\.(SH|SZ|BJ)$")
_NO_TRADE = 1e-6  # lots; a zero volume decodes as 2**-127, not 0


def translate_query(query: Query) -> dict[str, Any]:
    match = _CODE.match(query.code)
    if match is None:
        raise NoData(f"pytdx serves A-share codes like 600519.SH, not {query.code!r}", provider=NAME, dataset=DATASET)
    digits, exchange = match.groups()
    if exchange == "BJ":
        raise NoData(
            f"pytdx: the standard TDX hq servers carry no Beijing Stock Exchange bars ({query.code})",
            provider=NAME,
            dataset=DATASET,
        )
    return {
        "category": CATEGORY_DAILY,
        "market": _MARKET[exchange],
        "code": digits,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "latest": query.latest,
    }


def _bar_date(bar: dict[str, Any]) -> dt.date:
    return dt.date(int(bar["year"]), int(bar["month"]), int(bar["day"]))


def fetch(client: TdxClient, params: dict[str, Any]) -> Payload:
    """Page back from the newest bar until the window's first day (or, for `latest`, its end) is covered."""
    import pandas as pd

    reach = dt.date.fromisoformat(params["end"] if params["latest"] else params["start"])
    bars: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        page = client.bars(params["category"], params["market"], params["code"], len(bars), PAGE)
        bars = page + bars  # each page is oldest first, and older than the pages before it
        if len(page) < PAGE or _bar_date(page[0]) <= reach:
            break
    else:
        raise BadPayload(
            f"pytdx {params['code']}: {MAX_PAGES} pages of daily bars still end after {reach}",
            provider=NAME,
            dataset=DATASET,
        )
    frame = pd.DataFrame(bars) if bars else pd.DataFrame(columns=FIELDS)
    return Payload.of(API, frame)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    raw = payload.frame()
    if raw.empty:
        return pd.DataFrame(columns=COLUMNS)
    days = pd.to_datetime(raw[["year", "month", "day"]].astype("int64")).dt.date
    bars = pd.DataFrame(
        {
            "trade_date": days,
            **{column: pd.to_numeric(raw[column]) for column in ("open", "high", "low", "close", "vol", "amount")},
        }
    )
    bars = bars.drop_duplicates("trade_date").sort_values("trade_date", kind="stable")
    bars = bars[(bars["vol"] > _NO_TRADE) & (bars["trade_date"] <= query.end)]
    bars = bars.tail(1) if query.latest else bars[bars["trade_date"] >= query.start]
    return pd.DataFrame(
        {
            "ts_code": query.code,
            "trade_date": bars["trade_date"],
            "open": bars["open"],
            "high": bars["high"],
            "low": bars["low"],
            "close": bars["close"],
            "pre_close": float("nan"),
            "vol": bars["vol"],  # lots already
            "amount": bars["amount"] / 1000,  # yuan -> thousand yuan
            "currency": "CNY",
        },
        columns=COLUMNS,
    ).reset_index(drop=True)
