"""The series tools: rows over a date window (index bars, fund bars, money flow, macro series), cited.

Each reads one window of a declared dataset through `warehouse.series.SeriesReader` (fetched on
a miss, landed through the layers, answered from the store), and answers `citation.models.Rows`:
columns and rows in the declared units, one cite for the whole answer, and `date_meaning`, which
says what a row's date is and from when its figures were known: a trade date's figures after that
day's close; a macro period's weeks after the period (the date is the month measured, not the
publication, which the sources do not give).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import Cite, Rows
from mcp_server.answering import READ_ONLY, a_share, answer, bound, day_of, make_cite, number, symbol_of
from mcp_server.context import ToolContext
from providers.declaration import Dataset
from providers.errors import ProviderError
from providers.models import DATASETS
from providers.symbols import InvalidArgument, quoted
from warehouse.series import Window

IndexCode = Annotated[str | StrictInt, Field(description="Index code: 000300.SH, 000001.SH, 399006.SZ")]
FundCode = Annotated[str | StrictInt, Field(description="Fund code: 510300.SH, 510500.SH, 159919.SZ")]
StockCode = Annotated[str | StrictInt, Field(description="A-share code: 600519, 600519.SH, sh600519")]
Start = Annotated[str | StrictInt, Field(description="First day, YYYYMMDD or YYYY-MM-DD")]
End = Annotated[str | StrictInt | None, Field(description="Last day (default: today)")]
TRADE_DAY = (
    "trade_date is the trading day; its figures were known from that day's close (final after the bar's final time)"
)
MACRO_DAY = (
    "period is the first day of the month measured; the figure was published weeks later (NBS: CPI and PPI"
    " about the 9th-15th of the next month, PMI on the month's last day), and the sources give no publication date"
)
MACRO_SERIES = {
    "cpi": "CPI 全国当月: value an index with the same month a year earlier = 100; yoy, mom in percent",
    "ppi": "PPI 全部工业品: value an index with the same month a year earlier = 100 (akshare only; tushare gives"
    " none), yoy and mom in percent (mom: tushare only)",
    "pmi": "PMI 制造业: value a diffusion index (50 = no change on the month before); yoy Eastmoney's percent change",
    **{
        m: f"{m.upper()} 货币供应量: value the month-end balance in 亿元 (hundred million CNY); yoy, mom in percent"
        " (tushare cn_m)"
        for m in ("m0", "m1", "m2")
    },
}
MACRO_SERIES["sf"] = (
    "社会融资规模 aggregate financing to the real economy (PBoC): inc_month the month's increment and inc_cumval"
    " the year's so far in 亿元 (hundred million CNY), stk_endval the month-end stock in 万亿元 (trillion CNY)"
    " (tushare sf_month)"
)
MACRO_SERIES["shibor"] = (
    "Shibor 上海银行间同业拆放利率: percent a year by tenor (overnight, w1, w2, m1, m3, m6, m9,"
    " y1 = 1 week … 1 year), one row per fixing day (tushare shibor)"
)
SHIBOR_DAY = ("date is the interbank working day of the fixing, published at 11:00 Beijing time that day (some"
              " are make-up working days on which the stock exchanges are closed)")  # fmt: skip
# Which dataset a series is: amounts (M0-M2, social financing) and daily rates (Shibor) are declared apart.
SERIES_DATASET = {**dict.fromkeys(("m0", "m1", "m2"), "money_supply"), "sf": "social_financing", "shibor": "shibor"}
_INDEX_CODE = re.compile(r"^(\d{6})\.(SH|SZ|CSI|SI|CIC|MI)$", re.ASCII)
_MACRO_YEARS = 3


class SeriesRows(Rows):
    start: str = Field(description="First day asked (YYYY-MM-DD).")
    end: str = Field(description="Last day asked (YYYY-MM-DD).")
    date_meaning: str = Field(description="What each row's date is, and from when its figures were known.")


class IndexDailyAnswer(SeriesRows):
    ts_code: str
    name: str | None = Field(description="The index's name from tushare index_basic; null where it has none.")


class FundNavAnswer(SeriesRows):
    ts_code: str
    name: str | None = Field(description="The fund's name from tushare fund_basic; null where it has none.")


class MoneyflowAnswer(SeriesRows):
    ts_code: str


class MacroAnswer(SeriesRows):
    series: str
    definition: str = Field(description="What the series' value, yoy and mom are.")


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return number(value) if isinstance(value, float) else value


def table(spec: Dataset, window: Window, left_out: tuple[str, ...]) -> tuple[list[str], list[list[Any]]]:
    """The window's rows as lists in declared column order, without the columns the answer states once."""
    columns = [c for c in spec.columns if c not in left_out]
    return columns, [[_cell(row[c]) for c in columns] for row in window.rows]


def window_of(rt: ToolContext, start: str | int | None, end: str | int | None,
              default_start: dt.date | None = None) -> tuple[dt.date, dt.date]:  # fmt: skip
    today = rt.clock.today()
    last = min(day_of(end, "end", today) or today, today)
    first = day_of(start, "start", today) or default_start or last
    if first > last:
        raise InvalidArgument("start", f"start {first} is after end {last}", "pass a start on or before end")
    return first, last


def nothing(spec: Dataset, scope: str, first: dt.date, last: dt.date, remedy: str) -> InvalidArgument:
    return InvalidArgument("start", f"no provider has {spec.title} of {scope} in {first}..{last}", remedy)


def index_code(code: str | int) -> str:
    """An index code: tushare's suffixes (.SH, .SZ, .CSI, .SI ...) as given; a bare 000xxx is an SSE or CSI
    index (000300 = 沪深300), a bare 399xxx an SZSE one, since bare 000xxx would otherwise read as a Shenzhen stock."""
    text = f"{code:06d}" if isinstance(code, int) and 0 <= code <= 999_999 else str(code).strip().upper()
    if found := _INDEX_CODE.match(text):
        return f"{found.group(1)}.{found.group(2)}"
    if re.fullmatch(r"\d{6}", text) and text.startswith(("000", "399")):
        return f"{text}.{'SH' if text.startswith('000') else 'SZ'}"
    symbol = symbol_of(code)
    if symbol.market != "cn":
        raise InvalidArgument(
            "code", f"{quoted(code)} is not an index code", "pass e.g. 000300.SH, 000001.SH or 399006.SZ"
        )
    return symbol.code


async def index_daily(
    rt: ToolContext, code: IndexCode, start: Start, end: End = None
) -> Annotated[CallToolResult, IndexDailyAnswer]:
    """Daily bars of an index (000300.SH 沪深300, 000001.SH 上证指数, 399006.SZ 创业板指): open, high, low,
    close, pre_close in index points, vol in lots (手), amount in thousand CNY, from tushare."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        ts_code = index_code(code)
        first, last = window_of(rt, start, end)
        spec = DATASETS["index_daily"]
        window = await rt.series.window(spec, ts_code, first, last, attempts, tool_call_id)
        if not window.rows:
            raise nothing(spec, ts_code, first, last, "check the code (e.g. 000300.SH) and the dates")
        warnings = await _behind(rt, window, ts_code, last)
        name = await _name(rt, "index_basic", ts_code, attempts, tool_call_id, warnings)
        columns, rows = table(spec, window, ("ts_code",))
        cite = _cite(tool_call_id, window, attempts, warnings)
        return IndexDailyAnswer(ts_code=ts_code, name=name, start=first.isoformat(), end=last.isoformat(),
                                date_meaning=TRADE_DAY, columns=columns, rows=rows, row_count=len(rows),
                                units=_units(spec, columns), cite=cite)  # fmt: skip

    return await answer(rt, "index_daily", body, code=code, start=start, end=end)


async def fund_nav(
    rt: ToolContext, code: FundCode, start: Start, end: End = None
) -> Annotated[CallToolResult, FundNavAnswer]:
    """Daily exchange bars of an ETF or listed fund (510300.SH, 510500.SH): unadjusted prices in CNY, vol in
    lots, amount in thousand CNY, adj_factor and close_hfq = close x adj_factor; unit NAV is not served."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = symbol_of(code)
        if symbol.market != "cn":
            raise InvalidArgument("code", f"{symbol.code} is not a fund code", "pass e.g. 510300.SH or 159919.SZ")
        first, last = window_of(rt, start, end)
        spec = DATASETS["fund_daily"]
        bars = await rt.series.window(spec, symbol.code, first, last, attempts, tool_call_id)
        if not bars.rows:
            raise nothing(spec, symbol.code, first, last, "check the code (an exchange-traded fund such as 510300.SH)")
        warnings = ["these are exchange prices (场内), not net asset values: tushare fund_nav is not served yet",
                    *await _behind(rt, bars, symbol.code, last)]  # fmt: skip
        factors: dict[dt.date, float | None] = {}
        try:
            adj = await rt.series.window(DATASETS["fund_adj"], symbol.code, first, last, attempts, tool_call_id)
            factors = {row["trade_date"]: number(row["adj_factor"]) for row in adj.rows}
        except ProviderError as exc:
            warnings.append(f"adjustment factors unavailable ({type(exc).__name__}: {exc}); adj_factor is null")
        name = await _name(rt, "fund_basic", symbol.code, attempts, tool_call_id, warnings)
        columns, rows = table(spec, bars, ("ts_code",))
        close = columns.index("close")
        for row, bar in zip(rows, bars.rows, strict=True):
            factor = factors.get(bar["trade_date"])
            row += [factor, None if factor is None or row[close] is None else round(row[close] * factor, 4)]
        if factors and len(factors) < len(rows):
            warnings.append(f"{len(rows) - len(factors)} bars have no adjustment factor; their close_hfq is null")
        columns += ["adj_factor", "close_hfq"]
        units = {**_units(spec, columns), "adj_factor": "ratio", "close_hfq": "CNY"}
        return FundNavAnswer(ts_code=symbol.code, name=name, start=first.isoformat(), end=last.isoformat(),
                             date_meaning=TRADE_DAY, columns=columns, rows=rows, row_count=len(rows), units=units,
                             cite=_cite(tool_call_id, bars, attempts, warnings))  # fmt: skip

    return await answer(rt, "fund_nav", body, code=code, start=start, end=end)


async def moneyflow(
    rt: ToolContext, code: StockCode, start: Start, end: End = None
) -> Annotated[CallToolResult, MoneyflowAnswer]:
    """Money flow of an A-share per day (tushare moneyflow): buy and sell amounts of small (<5万), medium,
    large and extra-large (>=100万) orders and net_mf_amount, in 万元 (ten_thousand_CNY); net_mf_vol in lots."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = a_share(code)
        first, last = window_of(rt, start, end)
        spec = DATASETS["moneyflow"]
        window = await rt.series.window(spec, symbol.code, first, last, attempts, tool_call_id)
        if not window.rows:
            raise nothing(spec, symbol.code, first, last, "check the code and the dates (trading days only)")
        columns, rows = table(spec, window, ("ts_code",))
        warnings = await _behind(rt, window, symbol.code, last)
        return MoneyflowAnswer(ts_code=symbol.code, start=first.isoformat(), end=last.isoformat(),
                               date_meaning=TRADE_DAY, columns=columns, rows=rows, row_count=len(rows),
                               units=_units(spec, columns),
                               cite=_cite(tool_call_id, window, attempts, warnings))  # fmt: skip

    return await answer(rt, "moneyflow", body, code=code, start=start, end=end)


async def macro(
    rt: ToolContext,
    series: Annotated[str, Field(description="cpi, ppi, pmi, m0, m1, m2, sf or shibor")],
    start: Annotated[
        str | StrictInt | None, Field(description="First month, YYYYMMDD or YYYY-MM-DD (default: 3 years ago)")
    ] = None,
    end: End = None,
) -> Annotated[CallToolResult, MacroAnswer]:
    """China's monthly macro series: cpi and ppi (tushare, then akshare), pmi (akshare), m0/m1/m2
    (tushare, in 亿元): value, yoy and mom, by month measured (published weeks later); sf: social
    financing (tushare, 亿元 and 万亿元); shibor: daily fixings by tenor, in percent."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        name = series.strip().lower()
        if name not in MACRO_SERIES:
            raise InvalidArgument(
                "series", f"series {quoted(series)} is not served", f"pass one of: {', '.join(MACRO_SERIES)}"
            )
        today = rt.clock.today()
        first, last = window_of(rt, start, end, today.replace(year=today.year - _MACRO_YEARS, day=1))
        spec = DATASETS[SERIES_DATASET.get(name, "macro")]
        daily = spec.name == "shibor"
        if not daily:
            first = first.replace(day=1)  # a month is dated by its first day: a start inside it still asks for it
        window = await rt.series.window(spec, name, first, last, attempts, tool_call_id)
        if not window.rows:
            raise nothing(
                spec, name, first, last, "ask for months already published (a month's figures come weeks later)"
            )
        columns, rows = table(spec, window, ("indicator",))
        warnings = await _behind(rt, window, name, last)
        return MacroAnswer(series=name, definition=MACRO_SERIES[name], start=first.isoformat(), end=last.isoformat(),
                           date_meaning=SHIBOR_DAY if daily else MACRO_DAY, columns=columns, rows=rows,
                           row_count=len(rows), units=_units(spec, columns),
                           cite=_cite(tool_call_id, window, attempts, warnings))  # fmt: skip

    return await answer(rt, "macro", body, series=series, start=start, end=end)


async def _behind(rt: ToolContext, window: Window, scope: str, last: dt.date) -> list[str]:
    """The answer's warnings so far: how far behind its newest row is, if it is."""
    late = await rt.series.behind(window, scope, last)
    return [late] if late else []


async def _name(
    rt: ToolContext, dataset: str, code: str, attempts: Attempts, request_id: str, warnings: list[str]
) -> str | None:
    """The name a descriptive dataset gives `code`; a failure or a missing row is a warning, not an error."""
    spec = DATASETS[dataset]
    try:
        found = await rt.series.describe(spec, code, attempts, request_id)
    except ProviderError as exc:
        warnings.append(f"{spec.title} unavailable ({type(exc).__name__}: {exc}); name is null")
        return None
    if found is None or not found.row.get("name"):
        warnings.append(f"tushare {dataset} has no row for {code}; name is null")
        return None
    return str(found.row["name"])


def _units(spec: Dataset, columns: list[str]) -> dict[str, str]:
    return {c: spec.units[c] for c in columns if c in spec.units}


def _cite(tool_call_id: str, window: Window, attempts: Attempts, warnings: list[str]) -> Cite:
    fetched = window.fetched_at or dt.datetime.now(dt.UTC)
    return make_cite(tool_call_id, fetched, attempts, source=window.source, upstream_sources=list(window.sources),
                     warnings=warnings)  # fmt: skip


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in (index_daily, fund_nav, moneyflow, macro):
        server.add_tool(bound(rt, tool), annotations=READ_ONLY)
