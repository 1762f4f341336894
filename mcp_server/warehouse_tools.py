"""The warehouse tools: history, features, stored reports and the quality state, with cites.

They answer from the warehouse only (or its read-only replica), never upstream, so a
question costs no upstream call and the answer says which layer and which upstreams the
rows came from and when they were ingested.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import (
    FeaturesAnswer,
    QualityLogsAnswer,
    QualityStatusAnswer,
    SourceStatus,
    TableAnswer,
    Units,
    WarehouseFundamentalsAnswer,
)
from mcp_server.answering import READ_ONLY, a_share, answer, bound, day_of, iso, make_cite, symbol_of
from mcp_server.claims import claims_of
from mcp_server.context import ToolContext
from providers.models import DATASETS
from providers.symbols import InvalidArgument, quoted
from warehouse.quality import SEVERITIES
from warehouse.reports import Dated
from warehouse.store import utc_aware

DEFINITIONS = {
    "close_qfq": "close x adj_factor / adj_base (forward-adjusted to the newest factor in the warehouse)",
    "ma_5": "mean of the last 5 qfq closes (likewise ma_10, ma_20, ma_60); null until that many bars exist",
    "momentum_5d": "adjusted return over the last 5 bars, percent (momentum_20d: 20 bars)",
    "volatility_20d": "sample standard deviation of the last 20 daily adjusted returns, percent, not annualised",
    "pe_ttm": "P/E on trailing twelve months' earnings (null when loss-making); pb: price to book",
    "pe_band_low": "20th percentile of pe_ttm over the trailing 3 years (pe_band_mid: 50th, pe_band_high: 80th)",
    "pe_percentile": "share of the trailing 3 years' pe_ttm values at or below today's, percent",
    "pe_band_days": "how many days with a pe_ttm the bands were computed from",
}
LOG_LIMIT = 500
INDICATORS = DATASETS["fina_indicator"]


async def warehouse_daily(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code or global ticker, as for `price`")],
    start: Annotated[str | StrictInt, Field(description="First day, YYYYMMDD or YYYY-MM-DD")],
    end: Annotated[str | StrictInt | None, Field(description="Last day (default: today)")] = None,
    layer: Annotated[Literal["curated", "normalized", "raw"], Field(description="Which layer to read")] = "curated",
    adjust: Annotated[Literal["none", "qfq", "hfq"], Field(description="Adjust prices (curated only)")] = "none",
) -> Annotated[CallToolResult, TableAnswer]:
    """Daily bars of one code from the warehouse: curated (one row per day: the preferred source's
    raw OHLC, volume, amount, adj_factor), normalized (one row per source and day) or raw (the
    upstream payloads). `adjust` gives qfq or hfq prices from the curated factors. Up to 5,000
    rows per call. Answers from what was ingested; costs no upstream call."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = symbol_of(code)
        # never None: the schema requires start
        first = day_of(start, "start", rt.clock.today(), symbol.market) or rt.clock.today()
        last = day_of(end, "end", rt.clock.today(), symbol.market) or rt.clock.today()
        if first > last:
            raise InvalidArgument("start", f"start {first} is after end {last}", "swap them")
        table = await rt.run_read(rt.views.daily, symbol.code, first, last, layer, adjust)
        attempts.add("warehouse", f"daily:{layer}", "hit")
        units = Units() if symbol.market == "cn" else Units(price="native", volume="shares", amount=None,
                                                              share_count=None, market_cap=None)  # fmt: skip
        ingested = utc_aware(table.ingested_at) if table.ingested_at else rt.clock.now()
        cite = make_cite(tool_call_id, ingested, attempts, layer=layer, upstream_sources=table.sources,
                     ingested_at=iso(ingested), warnings=table.notes)  # fmt: skip
        return TableAnswer(ts_code=symbol.code, layer=layer, adjust=adjust, columns=table.columns,
                           rows=table.rows, row_count=len(table.rows), units=units, notes=table.notes,
                           cite=cite)  # fmt: skip

    return await answer(rt, "warehouse_daily", body, code=code, start=start, end=end, layer=layer, adjust=adjust)


async def warehouse_features(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code")],
    date: Annotated[
        str | StrictInt | None, Field(description="YYYYMMDD or YYYY-MM-DD; the newest on or before it")
    ] = None,
) -> Annotated[CallToolResult, FeaturesAnswer]:
    """Derived features of one A-share on a day: moving averages of forward-adjusted closes
    (ma_5/10/20/60), momentum_5d/20d and volatility_20d from adjusted returns, pe_ttm, pb and
    3-year PE bands. Definitions are in the answer."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = a_share(code)
        day = day_of(date, "date", rt.clock.today())
        found, features, computed, base = await rt.run_read(rt.views.features, symbol.code, day)
        attempts.add("warehouse", "features", "hit")
        warnings = [] if day is None or found == day else [f"no features on {day}; these are of {found}"]
        cite = make_cite(tool_call_id, utc_aware(computed), attempts, layer="feature", upstream_sources=None,
                     ingested_at=iso(utc_aware(computed)), warnings=warnings)  # fmt: skip
        return FeaturesAnswer(ts_code=symbol.code, trade_date=found.isoformat(), features=features,
                              definitions={**DEFINITIONS, "adj_base": str(base)}, cite=cite)  # fmt: skip

    return await answer(rt, "warehouse_features", body, code=code, date=date)


async def warehouse_fundamentals(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code")],
    period: Annotated[
        str | StrictInt | None, Field(description="Report period end (e.g. 20240630); omit: newest")
    ] = None,
) -> Annotated[CallToolResult, WarehouseFundamentalsAnswer]:
    """Financial indicators of one report period from the warehouse (EPS, BPS, ROE, margins,
    debt ratio, growth), as cited claims. Answers from what was ingested; no upstream call."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = a_share(code)
        end = day_of(period, "period", rt.clock.today())
        newest = (await rt.run_read(rt.views.reports, symbol.code, end))[0]
        attempts.add("warehouse", "fina_indicator", "hit")
        when, source = newest.fetched_at, newest.source
        cite = make_cite(tool_call_id, when, attempts, layer="normalized", upstream_sources=[source],
                     ingested_at=iso(when), source=source)  # fmt: skip
        claims = claims_of(INDICATORS, Dated(newest.row, when, source), cite)
        return WarehouseFundamentalsAnswer(ts_code=symbol.code, period=newest.row["end_date"].isoformat(),
                                           claims=claims, sources=[cite], cite=cite)  # fmt: skip

    return await answer(rt, "warehouse_fundamentals", body, code=code, period=period)


async def quality_status(rt: ToolContext) -> Annotated[CallToolResult, QualityStatusAnswer]:
    """Per upstream source and dataset: last success, last failure, rows today, and whether it is
    stale (over 24 h old with a trading day's bar final since), plus recent quality findings."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        now = rt.clock.now()
        latest = await rt.calendar.latest_final_day()
        sources = await rt.run_read(rt.views.status, now, rt.clock.final_of(latest))
        day_ago = now - dt.timedelta(hours=24)
        recent = await rt.run_read(rt.views.logs, None, day_ago, 10)
        found = await rt.run_read(rt.views.severity_counts, day_ago)
        counts = {s: found.get(s, 0) for s in SEVERITIES}
        attempts.add("warehouse", "quality", "hit")
        cite = make_cite(tool_call_id, now, attempts, layer="quality")
        return QualityStatusAnswer(sources=[SourceStatus(**s) for s in sources], findings_last_24h=counts,
                                   latest_findings=recent, cite=cite)  # fmt: skip

    return await answer(rt, "quality_status", body)


async def quality_logs(
    rt: ToolContext,
    severity: Annotated[Literal["info", "warning", "error"] | None, Field(description="Only this severity")] = None,
    since: Annotated[str | StrictInt | None, Field(description="YYYYMMDD or YYYY-MM-DD (Asia/Shanghai day)")] = None,
    limit: Annotated[StrictInt, Field(description="At most this many, newest first (1-500)")] = 50,
) -> Annotated[CallToolResult, QualityLogsAnswer]:
    """Quality findings, newest first: cross-source disagreements, stale sources, rows rejected
    into quarantine, anomalies (zero closes, moves beyond the price limit), completeness gaps."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        if not 1 <= limit <= LOG_LIMIT:
            raise InvalidArgument(
                "limit", f"limit {quoted(limit)} is outside 1..{LOG_LIMIT}", "ask for 1 to 500 entries"
            )
        day = day_of(since, "since", rt.clock.today())
        start = rt.clock.at(day, dt.time(0)) if day is not None else None
        entries: list[dict[str, Any]] = await rt.run_read(rt.views.logs, severity, start, limit)
        attempts.add("warehouse", "quality_log", "hit")
        return QualityLogsAnswer(entries=entries, cite=make_cite(tool_call_id, rt.clock.now(), attempts,
                                                              layer="quality"))  # fmt: skip

    return await answer(rt, "quality_logs", body, severity=severity, since=since, limit=limit)


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in (warehouse_daily, warehouse_features, warehouse_fundamentals, quality_status, quality_logs):
        server.add_tool(bound(rt, tool), annotations=READ_ONLY)
