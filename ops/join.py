"""The payer's side: `POST /api/orders`, `GET /api/onboarding/{token}` and the page that uses them, `GET /join`.

No framework: the page is a file of HTML (ops/static/join.html) with its script and style beside it
(served from /static/, so that its Content-Security-Policy allows no inline code: a payer's page that
shows payment QRs must not run what an injection put there); the script creates an order, shows WeChat
Pay's QR, then the bot's QR, then "已连接", by polling the onboarding state. The token
that follows an order is the payer's secret: it lives in the page's URL fragment (never sent in a
Referer or logged), and only its digest is stored. QRs come as the scannable URL and a PNG data URL
(segno, a well-kept pure-Python QR library).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from provisioning import onboarding
from provisioning.binding import Binder
from provisioning.orders import OrderRefused, Orders
from provisioning.wechatpay_orders import OrderError

log = structlog.get_logger("ops.join")
STATIC = Path(__file__).with_name("static")
PAGE = STATIC / "join.html"
ASSETS = {"join.js": "text/javascript", "join.css": "text/css"}  # what the page loads, and nothing else
MAX_BODY = 1024  # bytes: {"plan": "pro"} is all an order needs
_NO_STORE = {"Cache-Control": "no-store"}
# Exactly what the page uses: its own script and style, QR PNGs as data URLs, fetch() to our APIs.
# The prices ride in a <script type="application/json">, which is data: no script-src is needed for it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def qr(url: str | None) -> dict[str, str] | None:
    import segno  # with what it pulls in (urllib.request, xml.sax), ~2 MiB an idle server does not need

    return None if not url else {"url": url, "png": segno.make(url, error="m").png_data_uri(scale=6, border=2)}


def _error(status: int, argument: str, message: str, remedy: str) -> JSONResponse:
    body = {"error": "bad_request" if status == 400 else "refused", "argument": argument, "message": message,
            "remedy": remedy}  # fmt: skip
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


def routes(engine: Engine, orders: Orders, binder: Binder, prices: dict[str, int]) -> list[Route]:
    page = PAGE.read_text().replace(
        "<!--PRICES-->", f'<script type="application/json" id="prices">{json.dumps(prices)}</script>'
    )

    assets = {name: (STATIC / name).read_bytes() for name in ASSETS}

    async def join(_: Request) -> Response:
        headers = {"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer", **_NO_STORE}
        return HTMLResponse(page, headers=headers)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return _error(404, "path", f"no file {name[:40]!r} here", "open /join")
        return Response(assets[name], media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    async def create(request: Request) -> Response:
        body = await _small_body(request)
        if body is None:
            return _error(400, "body", "the body is not a small JSON object", 'send {"plan": "pro"}')
        address = request.client.host if request.client else None
        try:
            made = await anyio.to_thread.run_sync(
                functools.partial(orders.create, body.get("plan"), address, dt.datetime.now(dt.UTC))
            )
        except OrderRefused as exc:
            return _error(exc.status, exc.argument, str(exc), exc.remedy)
        except OrderError as exc:
            log.warning("order_not_created", reason=str(exc))
            return _error(502, "plan", f"微信支付暂时无法下单，未扣款 (WeChat Pay did not take the order: {exc})",
                          "请稍后再试 try again in a minute")  # fmt: skip
        log.info("order_created", order=made.order_id)
        return JSONResponse({"order_id": made.order_id, "code_url": made.code_url,
                             "expires_at": made.expires_at.isoformat(), "onboarding_token": made.onboarding_token},
                            status_code=201, headers=_NO_STORE)  # fmt: skip

    async def state(request: Request) -> Response:
        token = request.path_params["token"]
        order = await anyio.to_thread.run_sync(orders.by_token, token) if 20 <= len(token) <= 100 else None
        if order is None:
            return _error(404, "onboarding_token", "no order has this onboarding token", "start from /join")
        now = dt.datetime.now(dt.UTC)
        found = await anyio.to_thread.run_sync(onboarding.step, engine, order, now)
        if request.query_params.get("new_qr") and found.profile and found.state in ("expired", "failed"):
            try:
                await anyio.to_thread.run_sync(binder.begin, found.profile)
            except Exception as exc:  # iLink away: the state says so on the next poll
                log.warning("binding_not_restarted", profile=found.profile, reason=str(exc))
            found = await anyio.to_thread.run_sync(onboarding.step, engine, order, now)
        return JSONResponse({"state": found.state, "pay_qr": qr(found.pay_url), "bot_qr": qr(found.bot_url),
                             "profile": found.profile, "message": found.message}, headers=_NO_STORE)  # fmt: skip

    return [
        Route("/join", join, methods=["GET"]),
        Route("/static/{name}", asset, methods=["GET"]),
        Route("/api/orders", create, methods=["POST"]),
        Route("/api/onboarding/{token}", state, methods=["GET"]),
    ]


async def _small_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, read no further than MAX_BODY bytes (None when it is not one)."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return None
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
