"""POST /webhooks/wechatpay: WeChat Pay's payment notifications, answered the way WeChat expects.

Verified (signature, timestamp, key id, decryption) before anything is believed; recorded
durably before the 204, because WeChat stops redelivering on a 2xx; provisioned after the
reply, because WeChat waits 5 s at most and provisioning takes longer. A bad signature or a
stale timestamp is a 401 `{"code": "FAIL", "message": ...}`; our own failure is a 500, so that
WeChat delivers again. A redelivery of a paid notification provisions again, which is
idempotent, so a crash between the reply and the provisioning heals on WeChat's next try.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable

import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ops.settings import Settings
from provisioning import payments
from provisioning.wechatpay import NotificationRejected, Verifier

log = structlog.get_logger("ops.webhooks")
Provision = Callable[[str], Awaitable[object]]


def fail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": "FAIL", "message": message[:64]}, status_code=status)


def verifier(settings: Settings) -> Verifier | None:
    """The verifier, when WeChat Pay is configured; a half-done configuration is an error at start."""
    parts = {
        "TWILIGHT_WECHATPAY_MCH_ID": settings.wechatpay_mch_id,
        "TWILIGHT_WECHATPAY_APIV3_KEY": settings.wechatpay_apiv3_key,
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_FILE": settings.wechatpay_public_key_file,
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_ID": settings.wechatpay_public_key_id,
    }
    missing = [name for name, value in parts.items() if not value]
    if len(missing) == len(parts):
        return None
    if missing:
        raise ValueError(f"WeChat Pay is half configured: set {', '.join(missing)} as well")
    assert settings.wechatpay_mch_id and settings.wechatpay_apiv3_key and settings.wechatpay_public_key_file
    assert settings.wechatpay_public_key_id
    if settings.default_plan not in settings.plan_prices_fen:
        raise ValueError(f"TWILIGHT_DEFAULT_PLAN {settings.default_plan!r} has no price in TWILIGHT_PLAN_PRICES_FEN")
    return Verifier.from_files(settings.wechatpay_mch_id, settings.wechatpay_apiv3_key.get_secret_value(),
                               settings.wechatpay_public_key_file, settings.wechatpay_public_key_id)  # fmt: skip


def wechatpay_route(settings: Settings, engine: Engine, provision: Provision) -> Route:
    checker = verifier(settings)

    async def notified(request: Request) -> Response:
        if checker is None:
            return fail(503, "WeChat Pay is not configured on this server")
        body = await request.body()
        now = dt.datetime.now(dt.UTC)
        try:
            tx = checker.verify(request.headers, body, now)
        except NotificationRejected as exc:
            log.warning("wechatpay_rejected", status=exc.status, reason=exc.reason)
            return JSONResponse(exc.reply_body(), status_code=exc.status)
        try:
            recorded = await anyio.to_thread.run_sync(
                functools.partial(payments.record, engine, tx, mch_id=checker.mch_id,
                                  prices=settings.plan_prices_fen, default_plan=settings.default_plan, now=now)
            )  # fmt: skip
        except Exception:
            log.exception("wechatpay_record_failed", notification_id=tx.notification_id)
            return fail(500, "could not record the payment; deliver again")
        log.info("wechatpay_notified", notification_id=tx.notification_id, status=recorded.status,
                 first=recorded.first, payment_id=recorded.payment_id, user=recorded.user_name,
                 reason=recorded.reason)  # fmt: skip
        task = None
        if recorded.status == "paid" and recorded.user_name is not None:
            task = BackgroundTask(_provision, provision, recorded.user_name)
        return Response(status_code=204, background=task)

    return Route("/webhooks/wechatpay", notified, methods=["POST"])


async def _provision(provision: Provision, user: str) -> None:
    try:
        await provision(user)
    except Exception:  # the next delivery, or an operator's `twilight provision`, retries
        log.exception("provision_failed", user=user)
