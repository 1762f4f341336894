"""The HTTP face of the service: /mcp (streamable HTTP), /healthz and /metrics in one Starlette app.

Every request first meets ops/guards.py: a bounded body, a Host we are known by, safe answer headers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
import uuid
from collections.abc import AsyncIterator

import anyio.to_thread
import structlog
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citation.receipts import ALG
from mcp_server import results
from mcp_server.rate_limit import KeyRateLimit
from mcp_server.server import build_server
from ops import __version__, join
from ops.control import background
from ops.guards import BodyLimit, HttpMiddleware, KnownHosts, SecurityHeaders, url_hosts
from ops.runtime import Runtime
from ops.webhooks import order_client, verifier, wechatpay_route
from provisioning.orders import Orders
from provisioning.wechatpay import Refund

log = structlog.get_logger("ops.app")
_LOOPBACK = ["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"]


def transport_security(allowed_hosts: list[str]) -> TransportSecuritySettings:
    """DNS-rebinding protection (every path but the webhook): loopback plus the configured public names;
    ["*"] turns it off."""
    if "*" in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = [*_LOOPBACK, *allowed_hosts]
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class RequestContext(HttpMiddleware):
    """A request id on every log line of a request (echoed in X-Request-ID), an access log line, metrics."""

    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        super().__init__(app)
        self.rt = rt

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                path = scope.get("path", "")
                known = ("/mcp", "/healthz", "/metrics", "/receipts/public-key", "/join", "/api/orders")
                label = path if path in known else "/api/onboarding" if path.startswith("/api/onboarding/") else "other"
                self.rt.metrics.http_request(label, status)
                ms = round((time.perf_counter() - started) * 1000, 2)
                log.info("http", method=scope.get("method"), path=path, status=status, ms=ms)


class NoGetStream:
    """Answer GET/HEAD on /mcp with a JSON 405 instead of opening an SSE stream.

    The server is stateless with JSON responses, so it never pushes on a GET stream; the
    spec lets it say so with 405. Hermes probes /mcp with GET/HEAD before connecting, and a
    stream that never ends (or an HTML page) would stall or confuse it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"].rstrip("/") == "/mcp":
            body = {
                "error": "method_not_allowed",
                "error_description": "POST JSON-RPC messages to /mcp (stateless, JSON responses; no GET stream)",
            }
            response = JSONResponse(body, status_code=405, headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_app(rt: Runtime) -> Starlette:
    server = build_server(rt, http_auth=True)
    # The names payers and bots are sent to (/join, renewal links, the MCP URL in profiles) are ours too.
    settings = rt.settings
    security = transport_security([*settings.allowed_hosts, *url_hosts(settings.public_url, settings.public_mcp_url)])
    mcp_app = server.streamable_http_app(
        stateless_http=True, json_response=True, transport_security=security, host=settings.host
    )

    scheduled: list[dict[str, str | None]] = []

    async def healthz(request: Request) -> Response:
        try:
            warehouse = {"ok": True, **rt.store.health()}
        except Exception as exc:  # a health check reports, it does not raise
            warehouse = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        status = 200 if warehouse["ok"] else 503
        if request.state.foreign_host:  # a load balancer, or a page rebinding DNS (set by guards.KnownHosts)
            return JSONResponse({"ok": bool(warehouse["ok"])}, status_code=status)
        body = {
            "ok": bool(warehouse["ok"]),
            "version": __version__,
            "started_at": rt.started_at.isoformat(),
            "warehouse": warehouse,
            "providers": rt.composer.status(rt.health.snapshot()),
            "provider_order": rt.composer.matrix(),
            "schedule": scheduled,
            "replica": str(rt.replica.path) if rt.replica is not None else None,
        }
        return JSONResponse(body, status_code=status)

    async def public_key(_: Request) -> Response:
        """What checks a receipt: the public half of the key that signs every answer."""
        body = {"alg": ALG, "key_id": rt.signer.key_id, "public_key_pem": rt.signer.public_pem()}
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})

    async def metrics(_: Request) -> Response:
        return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run(), background(rt) as jobs:
            scheduled.extend(jobs)
            log.info("serving", version=__version__, warehouse=str(rt.store.path))
            yield
        rt.close()

    async def provision(user: str) -> object:
        """A paid user's bot made (or brought back after a renewal), then its WeChat QR asked for."""
        made = await anyio.to_thread.run_sync(functools.partial(rt.provisioner.provision, user))
        if made.state != "failed":
            try:
                await anyio.to_thread.run_sync(rt.binder.ensure, made.profile)
            except Exception as exc:  # iLink away: the binding loop asks again
                log.warning("binding_qr_unavailable", profile=made.profile, reason=str(exc))
        return made

    async def refunded(refund: Refund, now: dt.datetime) -> object:
        user = await anyio.to_thread.run_sync(rt.subscriptions.refunded, refund, now)
        if user is not None:
            await anyio.to_thread.run_sync(rt.subscriptions.expire_due, now)
        return user

    checker = verifier(rt.settings)
    orders = Orders(rt.accounts, rt.settings.plan_prices_fen, order_client(rt.settings, checker))

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/receipts/public-key", public_key, methods=["GET"]),
            results.csv_route(rt),
            wechatpay_route(rt.settings, rt.accounts, provision, refunded),
            *join.routes(rt.accounts, orders, rt.binder, rt.settings.plan_prices_fen),
            Mount("/", app=KeyRateLimit(NoGetStream(mcp_app), rt.tokens, rt.settings.join_url)),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(KnownHosts, security=security)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext, rt=rt)  # the outermost: it logs and counts what the guards refused
    return app
