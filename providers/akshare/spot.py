"""akshare `stock_zh_a_spot_em`: Eastmoney's whole-market snapshot of the moment.

One call pages through every listed A-share (100 per page, with akshare's own pause between
pages), so it is for ingestion and whole-market questions, not for one code's quote. The
code comes without its exchange; it is derived from the code's prefix as everywhere else.
Units: 成交量 in lots, 成交额 and market values in CNY (converted to thousand and 10k CNY).
The query's code is "*" (the whole market) or one code to keep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import AkshareClient
from providers.contract import ALL, Payload, Query
from providers.symbols import InvalidArgument, parse_code

if TYPE_CHECKING:
    import pandas as pd

DATASET = "spot"
MARKETS = frozenset({"cn"})
WHOLE_MARKET = True
API = "stock_zh_a_spot_em"
COLUMNS = {
    "名称": "name", "最新价": "price", "今开": "open", "最高": "high", "最低": "low", "昨收": "pre_close",
    "成交量": "vol", "成交额": "amount", "市盈率-动态": "pe_dynamic", "市净率": "pb", "总市值": "total_mv",
    "流通市值": "circ_mv",
}  # fmt: skip


def translate_query(query: Query) -> dict[str, Any]:
    return {}


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    return Payload.of(API, ak.stock_zh_a_spot_em(**params))


def _ts_code(code: object) -> str | None:
    try:
        return parse_code(str(code).zfill(6)).code
    except InvalidArgument:
        return None  # a code of a board we do not serve


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = payload.frame()
    out = pd.DataFrame({ours: frame[theirs] for theirs, ours in COLUMNS.items()})
    out.insert(0, "ts_code", frame["代码"].map(_ts_code))
    for column in ("price", "open", "high", "low", "pre_close", "vol", "amount", "total_mv", "circ_mv", "pb"):
        out[column] = pd.to_numeric(out[column], errors="coerce")
    out["amount"] = out["amount"] / 1000
    out["total_mv"], out["circ_mv"] = out["total_mv"] / 1e4, out["circ_mv"] / 1e4
    out = out.dropna(subset=["ts_code"])
    return out if query.code == ALL else out[out["ts_code"] == query.code]
