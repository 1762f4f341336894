"""What every tool answer goes through: a fresh tool_call_id, the error envelope, metrics and
usage, the signed receipt, and the ledger entry a reply is later verified against.

Tools differ in their bodies only; keeping the rest here keeps "every answer is cited, signed
and recorded" true for a tool added tomorrow.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import inspect
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel

from citation import SERVED_BY, __version__
from citation.attempts import Attempts
from citation.models import Attempt, Cite
from mcp_server import sizing
from mcp_server.context import ToolContext
from mcp_server.errors import ToolFailure, from_exception
from providers.symbols import FIRST_TRADING_DAY, InvalidArgument, Symbol, parse_code, parse_date, quoted
from provisioning.usage import Call
from warehouse.ledger import LOCAL_OPERATOR, Entry, caller_of_user

log = structlog.get_logger("mcp_server.answering")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


@dataclass(frozen=True)
class Pictured:
    """An answer with an image beside it (a chart): the signed model's text comes first in the
    content as for every tool (clients and the error path read content[0] as the answer), the image
    after it; the model should carry the image's sha256, so that the receipt covers the picture too."""

    model: BaseModel
    image: bytes
    mime_type: str = "image/png"


Body = Callable[[str, Attempts], Awaitable[BaseModel | Pictured]]
Tool = Callable[..., Awaitable[CallToolResult]]


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def symbol_of(code: str | int) -> Symbol:
    """A code as callers send it. Clients that parse `key=value` as JSON (the MCP Inspector CLI)
    send 600519 as a number (a boolean never gets here: the tools' `StrictInt` refuses it)."""
    if isinstance(code, int):
        if not 0 <= code <= 999_999:
            remedy = "pass the code as a string, e.g. 600519, 600519.SH or AAPL"
            raise InvalidArgument("code", f"code {quoted(code)} is not a six-digit code", remedy)
        return parse_code(f"{code:06d}")
    return parse_code(code)


def a_share(code: str | int) -> Symbol:
    symbol = symbol_of(code)
    if symbol.market != "cn":
        raise InvalidArgument(
            "code",
            f"{symbol.code} is not an A-share code; this tool covers A-shares only",
            "ask for an A-share code such as 600519 or 000858.SZ, or use `price` for global tickers",
        )
    return symbol


def day_of(value: str | int | None, argument: str, today: dt.date, market: str = "cn") -> dt.date | None:
    """A date argument: only an absent (null) one means the tool's default. "" and 0 are mistakes,
    never "latest" (false is refused by the tools' `StrictInt`). A global ticker has no A-share
    floor: its upstream says how far back it goes."""
    if value is None:
        return None
    remedy = f"use YYYYMMDD or YYYY-MM-DD, e.g. 20240620 or 2024-06-20, or leave {argument} out"
    if isinstance(value, int) and not 0 <= value <= 99_999_999:
        raise InvalidArgument(argument, f"{argument} {quoted(value)} is not a date", remedy)
    if isinstance(value, str) and not value.strip():
        raise InvalidArgument(argument, f"{argument} is empty", remedy)
    return parse_date(str(value), argument, today=today, earliest=FIRST_TRADING_DAY if market == "cn" else None)


def number(value: float | None) -> float | None:
    """NaN (a gap in a pandas-typed column) is no number: null."""
    return None if value is None or value != value else float(value)


def make_cite(tool_call_id: str, fetched_at: dt.datetime, attempts: Attempts, **extra: object) -> Cite:
    return Cite(
        tool_call_id=tool_call_id,
        fetched_at=iso(fetched_at),
        source_chain=attempts.chain,
        served_by=SERVED_BY,
        attempts=[Attempt(**a) for a in attempts.log],
        **extra,  # type: ignore[arg-type]
    )


def caller() -> str:
    """Who is asking, as the ledger names them: a key's user over HTTP, else the local operator."""
    token = get_access_token()
    return caller_of_user(token.client_id) if token is not None else LOCAL_OPERATOR


def new_call_id() -> str:
    return "tc_" + secrets.token_hex(8)


def refuse(rt: ToolContext, tool: str, failure: ToolFailure) -> CallToolResult:
    """A call refused before its body ran (its arguments do not fit the tool's schema): the same
    error envelope, log line and accounting as a failure inside the body."""
    tool_call_id = new_call_id()
    with structlog.contextvars.bound_contextvars(tool=tool, tool_call_id=tool_call_id):
        log.info("tool_failed", category=failure.category, reason=failure.message)
    _account(rt, tool, failure.category, Attempts(), time.perf_counter())
    return failure.result(tool_call_id)


async def answer(rt: ToolContext, tool: str, body: Body, **arguments: object) -> CallToolResult:
    """Run a tool body under a fresh tool_call_id; sign and record what it answers."""
    tool_call_id = new_call_id()
    attempts = Attempts()
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(tool=tool, tool_call_id=tool_call_id):
        try:
            answered = await body(tool_call_id, attempts)
        except Exception as exc:  # every failure becomes an answer, never a crash
            failure = from_exception(exc, attempts.log)
            if failure.category == "UNKNOWN":
                log.exception("tool_crashed")
            else:
                log.info("tool_failed", category=failure.category, reason=failure.message)
            _account(rt, tool, failure.category, attempts, started)
            return failure.result(tool_call_id)
        model = answered.model if isinstance(answered, Pictured) else answered
        whole = model.model_dump(mode="json")
        options = rt.options
        now = rt.clock.now()
        # Without the ledger a cut answer's rest could not be read back: then it is never cut.
        limit = options.answer_token_limit if options.ledger_enabled else 0
        # The CSV is downloaded with a key: an answer over stdio (no key, maybe no HTTP server) names none.
        csv_base = options.base_url if get_access_token() is not None else None
        shown = sizing.cut(model, whole, limit, tool_call_id, iso(now + options.result_ttl), csv_base)
        structured = rt.signer.sign(shown or whole)
        served = json.dumps(structured, ensure_ascii=False)
        if options.ledger_enabled:
            given = {k: v for k, v in arguments.items() if v is not None}
            entry = Entry(tool_call_id, caller(), tool, given, structured, now, __version__)
            # The ledger keeps every row, and the summary: what the resource serves and verify_answer checks.
            # The receipt signs what the caller was sent (the cut answer), so the whole is kept unsigned.
            if shown is None:
                kept = served
            else:
                kept = json.dumps({**whole, "summary": shown["summary"], "full_result": shown["full_result"]},
                                  ensure_ascii=False)  # fmt: skip
            rt.ledger.record(entry, kept)
        _account(rt, tool, "ok", attempts, started)
        content: list[ContentBlock] = [TextContent(type="text", text=served)]
        if isinstance(answered, Pictured):
            data = base64.b64encode(answered.image).decode("ascii")
            content.append(ImageContent(type="image", data=data, mime_type=answered.mime_type))
        return CallToolResult(content=content, structured_content=structured)


def _account(rt: ToolContext, tool: str, outcome: str, attempts: Attempts, started: float) -> None:
    """Metrics, and a usage_log row for the key's user (calls over HTTP; stdio has no user)."""
    seconds = time.perf_counter() - started
    rt.metrics.tool_call(tool, outcome, seconds)
    token = get_access_token()
    if token is not None:
        upstream = sum(1 for entry in attempts.log if entry["provider"] != "warehouse")
        rt.usage.add(Call(token.client_id, tool, dt.datetime.now(dt.UTC), outcome, upstream, seconds * 1000))


def bound(rt: ToolContext, tool: Tool) -> Tool:
    """`tool(rt, ...)` as the MCP tool `tool(...)`: its name, docstring and arguments, `rt` given here.

    Tools are plain module-level functions over the context they are given, so a tool reads top
    to bottom and takes no closure; the SDK builds the schema from the signature left after `rt`.
    """

    @functools.wraps(tool)
    async def call(*args: Any, **kwargs: Any) -> CallToolResult:
        return await tool(rt, *args, **kwargs)

    signature = inspect.signature(tool, eval_str=True)
    call.__dict__["__signature__"] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return call
