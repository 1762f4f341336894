"""The sets tools: dividends, holders, forecasts, index members and industry, each a table of rows as
known on a day (`warehouse.sets`), point in time by announcement date, with one cite per answer.

When one part of an answer is missing (a float holders list, a holder count, an express report) the
rest still answers and a warning says what is missing; when nothing is known the error says what was
looked for, between which days.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import Cite
from mcp_server.answering import READ_ONLY, a_share, answer, bound, day_of, make_cite
from mcp_server.context import ToolContext
from mcp_server.set_answers import (
    DividendsAnswer,
    ExpressTable,
    ForecastsAnswer,
    HolderCount,
    HoldersAnswer,
    IndexMembersAnswer,
    IndustryAnswer,
    iso_day,
    table,
)
from providers.models import DATASETS
from providers.symbols import FIRST_TRADING_DAY, InvalidArgument, quoted
from warehouse.reports import period_kind, report_period
from warehouse.sets import KnownSet

Code = Annotated[str | StrictInt, Field(description="A-share code: 600519, 600519.SH, sh600519 or 600519.SS")]
AsOf = Annotated[
    str | StrictInt | None,
    Field(
        description="Answer as known on this day (YYYYMMDD or YYYY-MM-DD): only rows announced by then; omit for today"
    ),
]
Period = Annotated[
    str | StrictInt | None, Field(description="Report period end, e.g. 20240630; omit for the newest known")
]
WINDOW = dt.timedelta(days=550)  # where the newest report-like set is looked for first
WEIGHT_WINDOWS = (dt.timedelta(days=40), dt.timedelta(days=400))  # weights are monthly; some sources lag a year
DIVIDEND, HOLDERS, FLOAT = DATASETS["dividend"], DATASETS["top10_holders"], DATASETS["top10_floatholders"]
COUNT, FORECAST, EXPRESS = DATASETS["stk_holdernumber"], DATASETS["forecast"], DATASETS["express"]
WEIGHT, CLASSIFY, MEMBER = DATASETS["index_weight"], DATASETS["index_classify"], DATASETS["index_member_all"]
DIVIDEND_COLUMNS = ("end_date", "div_proc", "cash_div_tax", "cash_div", "stk_div", "stk_bo_rate", "stk_co_rate",
                    "record_date", "ex_date", "pay_date", "div_listdate", "ann_date", "imp_ann_date",
                    "known_date")  # fmt: skip
HOLDER_COLUMNS = ("holder_name", "hold_amount", "hold_ratio", "hold_float_ratio", "hold_change", "holder_type")
FORECAST_COLUMNS = ("type", "p_change_min", "p_change_max", "net_profit_min", "net_profit_max", "last_parent_net",
                    "first_ann_date", "summary", "change_reason")  # fmt: skip
EXPRESS_COLUMNS = ("revenue", "operate_profit", "total_profit", "n_income", "total_assets",
                   "total_hldr_eqy_exc_min_int", "diluted_eps", "diluted_roe", "yoy_net_profit", "bps",
                   "perf_summary")  # fmt: skip
# Indexes tushare keeps under both exchanges' codes (the CSI 300 and CSI 500): asked under the other when empty.
TWIN_INDEXES = {"000300.SH": "399300.SZ", "399300.SZ": "000300.SH", "000905.SH": "399905.SZ", "399905.SZ": "000905.SH"}
_INDEX = re.compile(r"^(\d{6})\.(SH|SZ|CSI|SI)$", re.ASCII)


def _cite(tool_call_id: str, attempts: Attempts, parts: list[KnownSet], warnings: list[str], now: dt.datetime) -> Cite:
    """The answer's one cite: the newest fetch among its parts, and the source of the first that has rows."""
    found = [p for p in parts if p.fetched_at is not None]
    fetched = max((p.fetched_at for p in found if p.fetched_at), default=now)
    source = next((p.source for p in found), None)
    return make_cite(tool_call_id, fetched, attempts, source=source, warnings=warnings)


def _nothing(part: KnownSet, on: dt.date, what: str = "announced") -> str:
    return f"no provider has {part.spec.title} of {part.scope} {what} between {part.looked_from} and {on}"


async def dividends(rt: ToolContext, code: Code, as_of: AsOf = None) -> Annotated[CallToolResult, DividendsAnswer]:
    """Dividend history of one A-share: per-share cash dividend before and after tax (CNY per share),
    bonus and transfer shares per share, record, ex and pay dates, one row per stage (div_proc: 预案,
    股东大会通过, 实施). Point in time: only rows public by `as_of` (known_date)."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol, today = a_share(code), rt.clock.today()
        on = day_of(as_of, "as_of", today) or today
        found = await rt.sets.history(DIVIDEND, symbol.code, on, attempts, tool_call_id,
                                      start=FIRST_TRADING_DAY, through=today)  # fmt: skip
        warnings = [] if found.rows else [f"no dividend of {symbol.code} was public by {on}"]
        return DividendsAnswer(ts_code=symbol.code, as_of=on.isoformat(),
                               **table(DIVIDEND, DIVIDEND_COLUMNS, found.rows),
                               cite=_cite(tool_call_id, attempts, [found], warnings, rt.clock.now()))  # fmt: skip

    return await answer(rt, "dividends", body, code=code, as_of=as_of)


async def holders(
    rt: ToolContext, code: Code, period: Period = None, as_of: AsOf = None
) -> Annotated[CallToolResult, HoldersAnswer]:
    """Top 10 holders and top 10 float holders of one A-share for a report period (default: the newest
    announced by `as_of`), shares held (shares) and percent of the total and float capital, plus the
    newest holder count (股东户数). Rows: `list` is top10 or float_top10."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol, today = a_share(code), rt.clock.today()
        on = day_of(as_of, "as_of", today) or today
        end = report_period(day_of(period, "period", today))
        starts = (end,) if end else (on - WINDOW, FIRST_TRADING_DAY)
        top = await rt.sets.newest(HOLDERS, symbol.code, on, attempts, tool_call_id, starts=starts, through=today,
                                   exact=end)  # fmt: skip
        lists_of = top.date or end
        flt = await rt.sets.newest(FLOAT, symbol.code, on, attempts, tool_call_id, starts=(lists_of,) if lists_of
                                   else starts, through=today, exact=lists_of)  # fmt: skip
        count = await rt.sets.newest(COUNT, symbol.code, on, attempts, tool_call_id, starts=(on - WINDOW,
                                     FIRST_TRADING_DAY), through=today)  # fmt: skip
        announced = rt.sets.first_known(HOLDERS, symbol.code, end) if end and not top.rows else None
        if announced is not None:
            raise InvalidArgument("period", f"the {end} top 10 holders of {symbol.code} were announced on"
                                  f" {announced}, after {on}: not known then",
                                  "ask for an earlier period, or a later as_of")  # fmt: skip
        if not (top.rows or flt.rows or count.rows):
            raise InvalidArgument("period" if end else "code", _nothing(top, on),
                                  "check the code, or ask for a published period or a later as_of")  # fmt: skip
        warnings = [_nothing(p, on) for p in (top, flt, count) if not p.rows]
        rows = [{**r, "list": name} for name, part in (("top10", top), ("float_top10", flt))
                for r in sorted(part.rows, key=lambda r: -(r["hold_amount"] or 0))]  # fmt: skip
        counted = count.rows[0] if count.rows else None
        holder_count = HolderCount(holder_num=counted["holder_num"], end_date=counted["end_date"].isoformat(),
                                   ann_date=counted["ann_date"].isoformat()) if counted else None  # fmt: skip
        return HoldersAnswer(
            ts_code=symbol.code, period=iso_day(lists_of), period_kind=_kind(lists_of),
            ann_date=iso_day(top.rows[0]["ann_date"]) if top.rows else None,
            float_ann_date=iso_day(flt.rows[0]["ann_date"]) if flt.rows else None, holder_count=holder_count,
            **table(HOLDERS, ("list", *HOLDER_COLUMNS), rows),
            cite=_cite(tool_call_id, attempts, [top, flt, count], warnings, rt.clock.now()),
        )  # fmt: skip

    return await answer(rt, "holders", body, code=code, period=period, as_of=as_of)


def _kind(end: dt.date | None) -> str | None:
    return period_kind(end) if end is not None and end.month in (3, 6, 9, 12) else None


async def forecasts(
    rt: ToolContext, code: Code, period: Period = None, as_of: AsOf = None
) -> Annotated[CallToolResult, ForecastsAnswer]:
    """业绩预告 (earnings forecast: type, range of net profit in 万元 and of its change in percent) and
    业绩快报 (express: revenue, net income … in CNY) of one A-share: the newest announced by `as_of`
    (of `period` when given); a revised forecast answers in its newest version known then."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol, today = a_share(code), rt.clock.today()
        on = day_of(as_of, "as_of", today) or today
        end = report_period(day_of(period, "period", today))
        starts = (end,) if end else (on - WINDOW, FIRST_TRADING_DAY)
        parts = [await rt.sets.newest(spec, symbol.code, on, attempts, tool_call_id, starts=starts, through=today,
                                      exact=end) for spec in (FORECAST, EXPRESS)]  # fmt: skip
        forecast, express = parts
        if not (forecast.rows or express.rows):
            raise InvalidArgument("period" if end else "code", _nothing(forecast, on) + ", nor an express report",
                                  "check the code, or ask for a later as_of")  # fmt: skip
        shown = table(EXPRESS, EXPRESS_COLUMNS, express.rows)
        quick = None
        if express.rows:
            quick = ExpressTable(period=str(iso_day(express.date)), ann_date=str(iso_day(express.rows[0]["ann_date"])),
                                 columns=shown["columns"], rows=shown["rows"], units=shown["units"])  # fmt: skip
        return ForecastsAnswer(
            ts_code=symbol.code, period=iso_day(forecast.date), express=quick,
            ann_date=iso_day(forecast.rows[0]["ann_date"]) if forecast.rows else None,
            **table(FORECAST, FORECAST_COLUMNS, forecast.rows),
            cite=_cite(tool_call_id, attempts, parts, [_nothing(p, on) for p in parts if not p.rows], rt.clock.now()),
        )  # fmt: skip

    return await answer(rt, "forecasts", body, code=code, period=period, as_of=as_of)


def parse_index_code(raw: str | int) -> str:
    """An index code: 399300.SZ, 000300.SH, or six digits (000… is Shanghai's or CSI's, 399… Shenzhen's)."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().upper()
    if text.isdigit() and len(text) == 6 and text[:3] in ("000", "399"):
        return f"{text}.{'SZ' if text.startswith('399') else 'SH'}"
    if _INDEX.match(text):
        return text
    raise InvalidArgument("index_code", f"{quoted(raw)} is not an index code",
                          "pass an index code such as 000300.SH (CSI 300), 399300.SZ or 000905.SH")  # fmt: skip


async def index_members(
    rt: ToolContext,
    index_code: Annotated[str | StrictInt, Field(description="Index code: 000300.SH (CSI 300), 399300.SZ, 000905.SH")],
    date: Annotated[str | StrictInt | None, Field(description="Day (YYYYMMDD or YYYY-MM-DD); omit for today")] = None,
) -> Annotated[CallToolResult, IndexMembersAnswer]:
    """Constituents of an index and their weights (percent) on the newest weight date on or before
    `date` (tushare's weights are monthly), largest first."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        asked, today = parse_index_code(index_code), rt.clock.today()
        on = day_of(date, "date", today) or today
        for under in (asked, *((TWIN_INDEXES[asked],) if asked in TWIN_INDEXES else ())):
            found = await rt.sets.newest(WEIGHT, under, on, attempts, tool_call_id,
                                         starts=tuple(on - w for w in WEIGHT_WINDOWS), through=on)  # fmt: skip
            if found.rows:
                break
        if not found.rows or found.date is None:
            twin = f" (nor under {TWIN_INDEXES[asked]})" if asked in TWIN_INDEXES else ""
            raise InvalidArgument("date", _nothing(found, on, "dated") + twin,
                                  "ask for a later date, or check the index code")  # fmt: skip
        warnings = []
        if (on - found.date).days > WEIGHT_WINDOWS[0].days:
            warnings.append(f"the newest weights on or before {on} are of {found.date}, {(on - found.date).days}"
                            " days earlier (the source has no newer weight date before it)")  # fmt: skip
        rows = sorted(found.rows, key=lambda r: -(r["weight"] or 0))
        return IndexMembersAnswer(index_code=asked, rows_under=under, trade_date=found.date.isoformat(),
                                  **table(WEIGHT, ("con_code", "weight"), rows),
                                  cite=_cite(tool_call_id, attempts, [found], warnings, rt.clock.now()))  # fmt: skip

    return await answer(rt, "index_members", body, index_code=index_code, date=date)


async def industry(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code (600519), or a Shenwan index code (801120.SI)")],
    src: Annotated[str, Field(description="Classification version for an index code: SW2021 or SW2014")] = "SW2021",
) -> Annotated[CallToolResult, IndustryAnswer]:
    """Shenwan (申万) industry of an A-share: its L1, L2 and L3 industries (codes and names); or, for a
    Shenwan index code, that industry and its sub-industries in the version `src`."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        today = rt.clock.today()
        text = unicodedata.normalize("NFKC", str(code)).strip().upper()
        if text.endswith(".SI"):
            version = src.strip().upper()
            if version not in ("SW2021", "SW2014"):
                raise InvalidArgument("src", f"src {quoted(src)} is not a Shenwan version", "pass SW2021 or SW2014")
            found = await rt.sets.classification(CLASSIFY, version, (text,), attempts, tool_call_id,
                                                 start=FIRST_TRADING_DAY, through=today)  # fmt: skip
            if not found.rows:
                raise InvalidArgument("code", f"no provider has the Shenwan industry {text} in {version}",
                                      "check the index code, or pass the other version as src")  # fmt: skip
            columns = ("level", "index_code", "industry_name", "industry_code", "parent_code")
            return IndustryAnswer(code=text, src=version, **table(CLASSIFY, columns, found.rows),
                                  cite=_cite(tool_call_id, attempts, [found], [], rt.clock.now()))  # fmt: skip
        symbol = a_share(code)
        found = await rt.sets.newest(MEMBER, symbol.code, today, attempts, tool_call_id, starts=(FIRST_TRADING_DAY,),
                                     through=today)  # fmt: skip
        if not found.rows:
            raise InvalidArgument("code", f"no provider has a Shenwan industry of {symbol.code}", "check the code")
        row = found.rows[0]
        levels = [{"level": f"L{n}", "index_code": row[f"l{n}_code"], "industry_name": row[f"l{n}_name"]}
                  for n in (1, 2, 3)]  # fmt: skip
        return IndustryAnswer(code=symbol.code, name=row["name"], in_date=iso_day(row["in_date"]),
                              out_date=iso_day(row["out_date"]),
                              **table(CLASSIFY, ("level", "index_code", "industry_name"), levels),
                              cite=_cite(tool_call_id, attempts, [found], [], rt.clock.now()))  # fmt: skip

    return await answer(rt, "industry", body, code=code, src=src)


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in (dividends, holders, forecasts, index_members, industry):
        server.add_tool(bound(rt, tool), annotations=READ_ONLY)
