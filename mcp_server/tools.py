"""The MCP tools. Each answers a pydantic model (its outputSchema) carrying a cite, or a
categorized error; nothing a caller sends can crash the server.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from citation.attempts import Attempts
from citation.models import Attempt, Cite, Claim, FundamentalsAnswer, Pong, PriceEnvelope, Units
from mcp_server.errors import from_exception
from mcp_server.runtime import SERVED_BY, Runtime
from providers.errors import ProviderError
from providers.models import INDICATOR_UNITS, VALUATION_UNITS
from providers.symbols import InvalidArgument, Symbol, parse_code, parse_date
from provisioning.usage import Call
from warehouse.fundamentals import period_kind
from warehouse.quotes import Quote

log = structlog.get_logger("mcp_server.tools")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _text(value: str | int | None) -> str | None:
    """Clients that parse `key=value` as JSON (the MCP Inspector CLI) send 600519 and 20240620 as numbers."""
    return f"{value:06d}" if isinstance(value, int) else value


def _a_share(code: str | int) -> Symbol:
    symbol = parse_code(_text(code) or "")
    if symbol.market != "cn":
        raise InvalidArgument(
            "code",
            f"{symbol.code} is not an A-share code; fundamentals cover A-shares only",
            "ask for an A-share code such as 600519 or 000858.SZ, or use `price` for global tickers",
        )
    return symbol


def _number(value: float | None) -> float | None:
    """NaN (a gap in a pandas-typed column) is no number: null."""
    return None if value is None or value != value else float(value)


def _units(quote: Quote) -> Units:
    if quote.market == "cn":
        return Units()
    return Units(price=quote.bar.currency, volume="shares", amount=None, share_count=None, market_cap=None)


async def _answer(rt: Runtime, tool: str, body: Callable[[str, Attempts], Awaitable[BaseModel]]) -> CallToolResult:
    """Run a tool body with a fresh tool_call_id, timing, metrics and the error envelope."""
    tool_call_id = "tc_" + secrets.token_hex(8)
    attempts = Attempts()
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(tool=tool, tool_call_id=tool_call_id):
        try:
            model = await body(tool_call_id, attempts)
        except Exception as exc:  # every failure becomes an answer, never a crash
            failure = from_exception(exc, attempts.log)
            if failure.category == "UNKNOWN":
                log.exception("tool_crashed")
            else:
                log.info("tool_failed", category=failure.category, reason=failure.message)
            _account(rt, tool, failure.category, attempts, started)
            return failure.result(tool_call_id)
        structured = model.model_dump(mode="json")
        _account(rt, tool, "ok", attempts, started)
        text = json.dumps(structured, ensure_ascii=False)
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def _account(rt: Runtime, tool: str, outcome: str, attempts: Attempts, started: float) -> None:
    """Metrics, and a usage_log row for the key's user (calls over HTTP; stdio has no user)."""
    seconds = time.perf_counter() - started
    rt.metrics.tool_call(tool, outcome, seconds)
    caller = get_access_token()
    if caller is not None:
        upstream = sum(1 for entry in attempts.log if entry["provider"] != "warehouse")
        rt.usage.add(Call(caller.client_id, tool, dt.datetime.now(dt.UTC), outcome, upstream, seconds * 1000))


def _cite(tool_call_id: str, fetched_at: dt.datetime, attempts: Attempts, **extra: object) -> Cite:
    return Cite(
        tool_call_id=tool_call_id,
        fetched_at=_iso(fetched_at),
        source_chain=attempts.chain,
        served_by=SERVED_BY,
        attempts=[Attempt(**a) for a in attempts.log],
        **extra,  # type: ignore[arg-type]
    )


def envelope(rt: Runtime, quote: Quote, tool_call_id: str) -> PriceEnvelope:
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
        as_of=_iso(quote.fetched_at),
        freshness_seconds=max(0, int((now - quote.fetched_at).total_seconds())),
        source=quote.source,
        source_chain=quote.attempts.chain,
        market_state=quote.market_state,  # type: ignore[arg-type]
        units=_units(quote),
        cite=_cite(
            tool_call_id,
            quote.fetched_at,
            quote.attempts,
            adj_factor_latest_date=quote.adj_factor_latest_date.isoformat() if quote.adj_factor_latest_date else None,
            calendar=quote.calendar_basis,
            warnings=list(quote.warnings),
            cross_check=quote.cross_check,
        ),
    )


def register(server: object, rt: Runtime) -> None:
    """Add the tools to an MCPServer; `rt` is captured, so tools never touch globals."""
    add_tool = server.add_tool  # type: ignore[attr-defined]

    async def price(
        code: Annotated[
            str | int,
            Field(
                description="A-share code (600519, 600519.SH, sh600519, 600519.SS) or a global ticker (AAPL, 0700.HK)"
            ),
        ],
        trade_date: Annotated[
            str | int | None,
            Field(description="YYYYMMDD or YYYY-MM-DD; omit for the latest trading day with a bar"),
        ] = None,
    ) -> Annotated[CallToolResult, PriceEnvelope]:
        """Daily price bar of one A-share or global ticker: unadjusted open/high/low/close plus forward
        (qfq) and backward (hfq) adjusted close, volume, amount, market state, the source that served
        it and a citation. Units are in `units` (A-shares: CNY, lots of 100 shares, thousand CNY;
        global tickers: their currency and shares). Quote `cite.tool_call_id` beside every number."""

        async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
            symbol = parse_code(_text(code) or "")
            day = parse_date(str(trade_date), "trade_date", today=rt.clock.today()) if trade_date else None
            quote = await rt.quotes.quote(symbol.code, symbol.market, day, attempts, tool_call_id)
            return envelope(rt, quote, tool_call_id)

        return await _answer(rt, "price", body)

    async def fundamentals(
        code: Annotated[str | int, Field(description="A-share code: 600519, 600519.SH, sh600519 or 600519.SS")],
        period: Annotated[
            str | int | None,
            Field(description="Report period end, e.g. 20240630 or 2024-06-30; omit for the latest report"),
        ] = None,
        trade_date: Annotated[
            str | int | None, Field(description="Valuation date (YYYYMMDD or YYYY-MM-DD); omit for the latest")
        ] = None,
    ) -> Annotated[CallToolResult, FundamentalsAnswer]:
        """Valuation (P/E, P/E TTM, P/B, P/S, dividend yield, market values) and financial indicators
        (EPS, ROE, margins, debt ratio, BPS ...) of one A-share, as a list of cited claims
        {metric, value, unit, period_or_date, cite}. One call answers "what is 600519's P/E"."""

        async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
            symbol = _a_share(code)
            today = rt.clock.today()
            day = parse_date(str(trade_date), "trade_date", today=today) if trade_date else None
            end = parse_date(str(period), "period", today=today) if period else None
            if end is not None and (end.month, end.day) not in ((3, 31), (6, 30), (9, 30), (12, 31)):
                raise InvalidArgument(
                    "period", f"period {end} is not a quarter end", "use 0331, 0630, 0930 or 1231 of a year"
                )
            warnings: list[str] = []
            claims: list[Claim] = []
            newest: list[dt.datetime] = []
            failures: list[Exception] = []
            try:
                valuation = await rt.fundamentals.valuation(symbol.code, day, attempts, tool_call_id)
            except (ProviderError, InvalidArgument) as exc:  # the reports may still answer
                failures.append(exc)
                warnings.append(f"valuation unavailable ({type(exc).__name__}: {exc})")
            else:
                warnings.extend(valuation.warnings)
                newest.append(valuation.fetched_at)
                cite = _cite(tool_call_id, valuation.fetched_at, attempts, source=valuation.source)
                when = valuation.value.trade_date.isoformat()
                claims += [Claim(metric=m, value=_number(getattr(valuation.value, m)), unit=u, period_or_date=when,
                                 cite=cite) for m, u in VALUATION_UNITS.items()]  # fmt: skip
            try:
                reports = await rt.fundamentals.indicators(symbol.code, end, day, attempts, tool_call_id)
            except InvalidArgument as exc:
                if exc.argument == "period":  # the period asked for was not published (by then)
                    raise
                failures.append(exc)
                warnings.append(f"financial indicators unavailable ({exc})")
            except ProviderError as exc:
                failures.append(exc)
                warnings.append(f"financial indicators unavailable ({type(exc).__name__}: {exc})")
            else:
                newest.append(reports.fetched_at)
                cite = _cite(tool_call_id, reports.fetched_at, attempts, source=reports.source)
                report = reports.value
                period_end, announced = report.end_date.isoformat(), report.ann_date
                claims += [
                    Claim(metric=m, value=_number(getattr(report, m)), unit=u, period_or_date=period_end,
                          period=period_end, period_kind=period_kind(report.end_date),  # type: ignore[arg-type]
                          ann_date=announced.isoformat() if announced else None, cite=cite)
                    for m, u in INDICATOR_UNITS.items()
                ]  # fmt: skip
            if not claims:
                raise next((f for f in failures if isinstance(f, ProviderError)), failures[0])
            cite = _cite(tool_call_id, max(newest), attempts, warnings=warnings)
            return FundamentalsAnswer(ts_code=symbol.code, claims=claims, cite=cite)

        return await _answer(rt, "fundamentals", body)

    async def ping() -> Annotated[CallToolResult, Pong]:
        """Check the connection to Twilight Drive; touches no data and costs nothing."""

        async def body(_tool_call_id: str, _attempts: Attempts) -> BaseModel:
            return Pong(ok=True, served_by=SERVED_BY, server_time=_iso(dt.datetime.now(dt.UTC)))

        return await _answer(rt, "ping", body)

    for fn in (price, fundamentals, ping):
        add_tool(fn, annotations=READ_ONLY)
