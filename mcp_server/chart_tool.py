"""`chart`: one A-share's daily price chart as a PNG, with a caption that cites the bars drawn.

The bars are the warehouse's curated daily bars, fetched where the window is missing
(`warehouse.bars`) and read as `warehouse_daily` reads them, forward-adjusted (qfq) so that a
dividend or split does not show as a step; when factors are missing for any bar of the window
the whole chart is unadjusted and the caption says so (a series half adjusted would jump where
the factors begin). The answer's model states the window, the adjustment, the bars drawn, the
first and last close, and the PNG's sha256: it is what the ledger records and the receipt signs,
so the numbers of a one-line summary beside the chart can be verified like any other answer.

Overlays are named lines over the prices: "ma20" and "ma60" (the mean of the last 20 or 60
closes drawn, as `warehouse_features`' ma_N, computed from bars fetched before the window so
that the line starts with it), and "csi300", the CSI 300's closes (dataset `index_daily`,
fetched as `index_daily` fetches them) scaled to the stock's first close, so that the two lines
start together and the gap between them is the stock's performance against the index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import Cite, Units
from mcp_server.answering import READ_ONLY, Pictured, a_share, answer, bound, day_of, iso, make_cite
from mcp_server.context import ToolContext
from mcp_server.drawing import Line, Picture, render
from providers.models import DATASETS
from providers.symbols import FIRST_TRADING_DAY, InvalidArgument, quoted
from warehouse.store import utc_aware
from warehouse.views import COLUMNS

MAX_YEARS = 10  # about 2,400 bars: more than that is a smear of candles at this width
_WARM_UP = dt.timedelta(days=130)  # calendar days holding the 60 bars before the window an MA60 needs
_AT = {name: i for i, name in enumerate(COLUMNS["curated"])}


@dataclass(frozen=True)
class Bars:
    """The rows read, warm-up included; `first` is the index of the first bar drawn."""

    rows: list[list[Any]]
    first: int

    def column(self, name: str) -> list[Any]:
        return [r[_AT[name]] for r in self.rows]


Overlay = Callable[[ToolContext, Bars, Attempts], Awaitable[Line]]


def means(closes: list[float], n: int) -> list[float | None]:
    """The mean of each close and the n - 1 before it (None until n closes exist)."""
    out: list[float | None] = []
    total = 0.0
    for i, close in enumerate(closes):
        total += close
        if i >= n:
            total -= closes[i - n]
        out.append(round(total / n, 4) if i >= n - 1 else None)
    return out


def moving_average(n: int, color: str) -> Overlay:
    async def line(rt: ToolContext, bars: Bars, attempts: Attempts) -> Line:
        return Line(
            f"MA{n}", means(bars.column("close"), n)[bars.first :], color, f"MA{n} (mean of the last {n} closes)"
        )

    return line


def index_line(code: str, label: str, color: str) -> Overlay:
    """An index's closes over the bars drawn, scaled to the first close (None on a day it has no bar)."""

    async def line(rt: ToolContext, bars: Bars, attempts: Attempts) -> Line:
        days = [str(r[_AT["trade_date"]]) for r in bars.rows[bars.first :]]
        first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
        window = await rt.series.window(DATASETS["index_daily"], code, first, last, attempts, None)
        closes = {row["trade_date"].isoformat(): row["close"] for row in window.rows}
        base = closes.get(days[0])
        if not base:
            raise InvalidArgument("overlays", f"{code} ({label}) has no bar on {days[0]}, the chart's first day",
                                  f"chart a window {label} has bars for, or leave {label.lower()} out")  # fmt: skip
        scale = bars.rows[bars.first][_AT["close"]] / base
        values = [round(closes[d] * scale, 4) if d in closes else None for d in days]
        return Line(label, values, color, f"{label} ({code} closes scaled to the first close, source {window.source})")

    return line


OVERLAYS: dict[str, Overlay] = {
    "ma20": moving_average(20, "#ff9900"),
    "ma60": moving_average(60, "#9933ff"),
    "csi300": index_line("000300.SH", "CSI300", "#0099cc"),
}


class Close(BaseModel):
    trade_date: str
    value: float


class ImageInfo(BaseModel):
    mime_type: str
    width: int
    height: int
    bytes: int
    sha256: str


class ChartAnswer(BaseModel):
    ts_code: str
    start: str = Field(description="The first bar drawn (YYYY-MM-DD)")
    end: str = Field(description="The last bar drawn")
    kind: Literal["kline", "line"]
    overlays: list[str]
    adjust: Literal["qfq", "none"] = Field(description="qfq: forward-adjusted prices; none: unadjusted")
    rows: int = Field(description="Bars drawn")
    first_close: Close
    last_close: Close
    high: Close = Field(description="The highest close drawn")
    low: Close = Field(description="The lowest close drawn")
    units: Units
    image: ImageInfo
    caption: str = Field(description="One line to send beside the image; cites this answer's tool_call_id")
    cite: Cite


def _overlays(asked: list[str] | str | None) -> list[str]:
    names = asked.split(",") if isinstance(asked, str) else list(asked or [])
    names = [n.strip().lower() for n in names if n.strip()]
    for name in names:
        if name not in OVERLAYS:
            raise InvalidArgument("overlays", f"overlay {quoted(name)} is not one of {', '.join(OVERLAYS)}",
                                  f"ask for overlays among {', '.join(OVERLAYS)}, or none")  # fmt: skip
    return list(dict.fromkeys(names))


def _window(rt: ToolContext, start: str | int, end: str | int | None) -> tuple[dt.date, dt.date]:
    today = rt.clock.today()
    first = day_of(start, "start", today) or today  # never None: the schema requires start
    last = day_of(end, "end", today) or today
    if first > last:
        raise InvalidArgument("start", f"start {first} is after end {last}", "swap them")
    if (last - first).days > MAX_YEARS * 366:
        raise InvalidArgument("start", f"{first}..{last} is over {MAX_YEARS} years", f"chart at most {MAX_YEARS} years")
    return first, last


async def _read(rt: ToolContext, code: str, since: dt.date, first: dt.date, last: dt.date) -> tuple[Bars, Any, str]:
    """The bars qfq, or unadjusted when a factor is missing anywhere (then the reason as well)."""
    table = await rt.run_read(rt.views.daily, code, since, last, "curated", "qfq")
    closes = [r[_AT["close"]] for r in table.rows]
    why = ""
    missing = sum(1 for c in closes if c is None)
    if missing:
        why = (f"{missing} of the {len(closes)} bars read have no adjustment factor from the code's factor source;"
               " a forward-adjusted chart would break where the factors start")  # fmt: skip
        table = await rt.run_read(rt.views.daily, code, since, last, "curated", "none")
    day = first.isoformat()
    start = next((i for i, r in enumerate(table.rows) if r[_AT["trade_date"]] >= day), None)
    if start is None:
        raise InvalidArgument("start", f"no curated bar of {code} in {first}..{last} (closes not positive)",
                              "ask for another window; `quality_logs` says what was rejected")  # fmt: skip
    return Bars([list(r) for r in table.rows], start), table, why


def _close(bars: Bars, i: int) -> Close:
    row = bars.rows[i]
    return Close(trade_date=row[_AT["trade_date"]], value=row[_AT["close"]])


async def chart(
    rt: ToolContext,
    code: Annotated[str | StrictInt, Field(description="A-share code: 600519, 600519.SH (find one with `lookup`)")],
    start: Annotated[str | StrictInt, Field(description="First day, YYYYMMDD or YYYY-MM-DD")],
    end: Annotated[str | StrictInt | None, Field(description="Last day (default: today)")] = None,
    kind: Annotated[Literal["kline", "line"], Field(description="kline: candles; line: closes")] = "kline",
    overlays: Annotated[
        list[str] | str | None, Field(description='Lines over the prices: "ma20", "ma60", "csi300"')
    ] = None,
) -> Annotated[CallToolResult, ChartAnswer]:
    """Daily price chart of one A-share as a PNG image: candles or closes (forward-adjusted), volume
    below, optional MA20/MA60 or the CSI 300 for comparison. Send its `caption` (it cites the
    tool_call_id) beside the image."""

    async def body(tool_call_id: str, attempts: Attempts) -> Pictured:
        symbol = a_share(code)
        lines = _overlays(overlays)
        first, last = _window(rt, start, end)
        since = max(first - _WARM_UP, FIRST_TRADING_DAY) if lines else first
        await rt.bars.ensure(symbol.code, "cn", since, first, last, attempts, tool_call_id)
        bars, table, unadjusted = await _read(rt, symbol.code, since, first, last)
        attempts.add("warehouse", "daily:curated", "hit")
        drawn = Bars(bars.rows[bars.first :], 0)
        drawn_lines = [await OVERLAYS[name](rt, bars, attempts) for name in lines]
        adjust: Literal["qfq", "none"] = "none" if unadjusted else "qfq"
        words = "unadjusted prices" if unadjusted else "forward-adjusted (qfq) prices"
        begin, finish = drawn.rows[0][_AT["trade_date"]], drawn.rows[-1][_AT["trade_date"]]
        picture = Picture(
            title=f"{symbol.code}  {begin} .. {finish}  daily, {'qfq' if adjust == 'qfq' else 'unadjusted'}",
            dates=drawn.column("trade_date"), open=drawn.column("open"), high=drawn.column("high"),
            low=drawn.column("low"), close=drawn.column("close"), volume=drawn.column("vol"), kind=kind,
            price_label="CNY", volume_label="vol, 10k lots", lines=drawn_lines,
        )  # fmt: skip
        png = await anyio.to_thread.run_sync(render, picture)
        closes = drawn.column("close")
        high, low = closes.index(max(closes)), closes.index(min(closes))
        sources = ", ".join(table.sources)
        extra = "; ".join(line.about for line in drawn_lines)
        caption = (f"{symbol.code} daily {'candles' if kind == 'kline' else 'closes'} {begin}..{finish}, {len(closes)}"
                   f" bars, {words}{', ' + extra if extra else ''}; close {closes[0]} -> {closes[-1]} CNY; source"
                   f" {sources} [{tool_call_id}]")  # fmt: skip
        ingested = utc_aware(table.ingested_at) if table.ingested_at else rt.clock.now()
        warnings = [*table.notes] + ([f"drawn unadjusted: {unadjusted}"] if unadjusted else [])
        cite = make_cite(tool_call_id, ingested, attempts, layer="curated", upstream_sources=table.sources,
                         ingested_at=iso(ingested), warnings=warnings)  # fmt: skip
        width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
        image = ImageInfo(mime_type="image/png", width=width, height=height, bytes=len(png),
                          sha256=hashlib.sha256(png).hexdigest())  # fmt: skip
        model = ChartAnswer(
            ts_code=symbol.code, start=begin, end=finish, kind=kind, overlays=lines, adjust=adjust, rows=len(closes),
            first_close=_close(drawn, 0), last_close=_close(drawn, len(closes) - 1), high=_close(drawn, high),
            low=_close(drawn, low), units=Units(amount=None, share_count=None, market_cap=None), image=image,
            caption=caption, cite=cite,
        )  # fmt: skip
        return Pictured(model, png)

    return await answer(rt, "chart", body, code=code, start=start, end=end, kind=kind, overlays=overlays)


def register(server: MCPServer, rt: ToolContext) -> None:
    server.add_tool(bound(rt, chart), annotations=READ_ONLY)
