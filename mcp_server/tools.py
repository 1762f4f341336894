"""The MCP tools. Each answers a pydantic model (its outputSchema) carrying a cite, or a
categorized error; nothing a caller sends can crash the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation import SERVED_BY
from citation.attempts import Attempts
from citation.models import FundamentalsAnswer, Pong, PriceEnvelope, Units
from mcp_server.answering import READ_ONLY, a_share, answer, bound, day_of, iso, make_cite, symbol_of
from mcp_server.claims import cited
from mcp_server.context import ToolContext
from warehouse.quotes import Quote


def _units(quote: Quote) -> Units:
    if quote.market == "cn":
        return Units()
    return Units(price=quote.bar.currency, volume="shares", amount=None, share_count=None, market_cap=None)


def envelope(rt: ToolContext, quote: Quote, tool_call_id: str) -> PriceEnvelope:
    bar = quote.bar
    factor, latest = quote.adj_factor, quote.adj_factor_latest
    hfq = round(bar.close * factor, 4) if factor is not None and quote.hfq_defined else None
    qfq = round(bar.close * factor / latest, 4) if factor is not None and latest else None
    now = rt.clock.now()
    return PriceEnvelope(
        ts_code=bar.ts_code,
        trade_date=bar.trade_date.isoformat(),
        close_raw=bar.close,
        close_qfq=qfq,
        close_hfq=hfq,
        open_raw=bar.open,
        high_raw=bar.high,
        low_raw=bar.low,
        volume=bar.vol,
        amount=None if bar.amount is None or bar.amount != bar.amount else bar.amount,
        adj_factor=factor,
        adj_factor_latest=latest,
        as_of=iso(quote.fetched_at),
        freshness_seconds=max(0, int((now - quote.fetched_at).total_seconds())),
        source=quote.source,
        source_chain=quote.attempts.chain,
        market_state=quote.market_state,  # type: ignore[arg-type]
        units=_units(quote),
        cite=make_cite(
            tool_call_id,
            quote.fetched_at,
            quote.attempts,
            adj_factor_latest_date=quote.adj_factor_latest_date.isoformat() if quote.adj_factor_latest_date else None,
            calendar=quote.calendar_basis,
            warnings=list(quote.warnings),
            cross_check=quote.cross_check,
        ),
    )


async def price(
    rt: ToolContext,
    code: Annotated[
        str | StrictInt,
        Field(description="A-share code (600519, 600519.SH, sh600519, 600519.SS) or a global ticker (AAPL, 0700.HK)"),
    ],
    trade_date: Annotated[
        str | StrictInt | None,
        Field(description="YYYYMMDD or YYYY-MM-DD; omit for the latest trading day with a bar"),
    ] = None,
) -> Annotated[CallToolResult, PriceEnvelope]:
    """Daily price bar of one A-share or global ticker: unadjusted open/high/low/close plus forward
    (qfq) and backward (hfq) adjusted close, volume, amount, market state, the source that served
    it and a citation. Units are in `units` (A-shares: CNY, lots of 100 shares, thousand CNY;
    global tickers: their currency and shares). Quote `cite.tool_call_id` beside every number."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = symbol_of(code)
        day = day_of(trade_date, "trade_date", rt.clock.today(), symbol.market)
        quote = await rt.quotes.quote(symbol.code, symbol.market, day, attempts, tool_call_id)
        return envelope(rt, quote, tool_call_id)

    return await answer(rt, "price", body, code=code, trade_date=trade_date)


async def fundamentals(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code: 600519, 600519.SH, sh600519 or 600519.SS")],
    period: Annotated[
        str | StrictInt | None,
        Field(description="Report period end, e.g. 20240630 or 2024-06-30; omit for the latest report"),
    ] = None,
    trade_date: Annotated[
        str | StrictInt | None, Field(description="Valuation date (YYYYMMDD or YYYY-MM-DD); omit for the latest")
    ] = None,
) -> Annotated[CallToolResult, FundamentalsAnswer]:
    """Valuation (P/E, P/E TTM, P/B, P/S, dividend yield, market values) and financial indicators
    (EPS, ROE, margins, debt ratio, BPS ...) of one A-share, as a list of cited claims
    {metric, value, unit, period_or_date, cite}. One call answers "what is 600519's P/E"."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        symbol = a_share(code)
        today = rt.clock.today()
        day = day_of(trade_date, "trade_date", today)
        end = day_of(period, "period", today)
        found = await rt.fundamentals.answer(symbol.code, end, day, attempts, tool_call_id)
        claims, sources, cite = cited(tool_call_id, attempts, found.parts, found.warnings)
        return FundamentalsAnswer(ts_code=symbol.code, claims=claims, sources=sources, cite=cite)

    return await answer(rt, "fundamentals", body, code=code, period=period, trade_date=trade_date)


async def ping(rt: ToolContext) -> Annotated[CallToolResult, Pong]:
    """Check the connection to Twilight Drive; touches no data and costs nothing."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        now = dt.datetime.now(dt.UTC)
        return Pong(ok=True, served_by=SERVED_BY, server_time=iso(now), cite=make_cite(tool_call_id, now, attempts))

    return await answer(rt, "ping", body)


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in (price, fundamentals, ping):
        server.add_tool(bound(rt, tool), annotations=READ_ONLY)
