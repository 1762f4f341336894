"""What every HTTP request meets before a route: a bounded body, a Host we are known by, safe answer headers.

Anyone may POST to the webhook, /api/orders and /mcp, so nothing they send may cost more than a bounded
amount of memory. A declared Content-Length over the path's limit is answered 413 before a byte of the
body is read; a body without one (chunked) is counted as it streams and cut at the limit, so no more than
the limit (and one network read of uvicorn's) is ever held for a request. The 413 closes the connection,
so the rest of a body is never waited for.

A web page can read a server on loopback or a private network through DNS rebinding (its own name
re-pointed at our address), so only the names this server is known by get an answer: the same check,
and the same list, as the MCP SDK's on /mcp (loopback, TWILIGHT_ALLOWED_HOSTS, and the hosts of
TWILIGHT_PUBLIC_URL and TWILIGHT_PUBLIC_MCP_URL). Two paths are not refused here: the webhook, which
WeChat Pay reaches through whatever proxy and which believes nothing but signatures, and /healthz, which
answers a foreign Host with a bare `{"ok": ...}` (for load balancers; the detail only to known hosts).

Every answer says `nosniff`, `no-referrer` and `DENY` (framing); answers that set no Content-Security-Policy
of their own (all but the payer's page) get one that allows nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
WEBHOOK_PATH = "/webhooks/wechatpay"
HEALTH_PATH = "/healthz"
# A WeChat Pay notification is a few KB; a verify_answer call (20,000 characters, each up to a 6-byte
# JSON escape) about 120 KB; nothing else we answer needs more than a small JSON object.
BODY_LIMITS = {WEBHOOK_PATH: 64 * KIB, "/mcp": 1024 * KIB}
DEFAULT_BODY_LIMIT = 64 * KIB
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"content-security-policy": b"default-src 'none'; frame-ancestors 'none'",
}


def body_limit(path: str) -> int:
    for prefix, limit in BODY_LIMITS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return limit
    return DEFAULT_BODY_LIMIT


def url_hosts(*urls: str | None) -> list[str]:
    """The Host values a browser (or a bot) sends for these URLs: the name, with any port."""
    hosts: list[str] = []
    for url in urls:
        name = urlsplit(url).hostname if url else None
        if name:
            name = f"[{name}]" if ":" in name else name
            hosts += [name, f"{name}:*"]
    return hosts


class HttpMiddleware:
    """An ASGI middleware of HTTP requests: every other scope (the lifespan) passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class _TooLarge(Exception):
    """Raised into the app from `receive` when a streamed body passes its limit."""


def _too_large(limit: int) -> Response:
    body = {"error": "body_too_large", "argument": "body", "message": f"the request body is over {limit} bytes",
            "remedy": f"send at most {limit} bytes to this path"}  # fmt: skip
    return JSONResponse(body, status_code=413, headers={"Connection": "close"})


class BodyLimit(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        tripped = started = False

        async def counted() -> Message:
            nonlocal received, tripped
            if tripped:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    tripped = True
                    raise _TooLarge
            return message

        async def unless_tripped(message: Message) -> None:
            nonlocal started
            if tripped and not started:  # the app's own answer to a cut body: ours goes instead
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted, unless_tripped)
        except Exception:
            if not tripped:
                raise
        if tripped and not started:
            await _too_large(limit)(scope, receive, send)


class KnownHosts:
    """Refuse a request naming a Host (or Origin) we are not known by, as the SDK does on /mcp: 421 (403)."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != WEBHOOK_PATH:
            refused = await self.check.validate_request(Request(scope))
            if refused is not None and scope["path"] != HEALTH_PATH:
                await refused(scope, receive, send)
                return
            # /healthz answers anyone, its detail only to known hosts: `request.state.foreign_host` says which
            scope.setdefault("state", {})["foreign_host"] = refused is not None
        await self.app(scope, receive, send)


class SecurityHeaders(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS.items() if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
