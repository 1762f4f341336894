"""POST /webhooks/wechatpay: WeChat Pay's payment and refund notifications, answered the way WeChat expects.

Verified (signature, timestamp, key id, decryption) before anything is believed; recorded
durably before the 204, because WeChat stops redelivering on a 2xx; provisioned after the
reply, because WeChat waits 5 s at most and provisioning takes longer. A bad signature or a
stale timestamp is a 401 `{"code": "FAIL", "message": ...}`; our own failure is a 500, so that
WeChat delivers again. A redelivery of a paid notification provisions again, which is
idempotent, so a crash between the reply and the provisioning heals on WeChat's next try.
A verified refund is recorded once and ends the subscription (its bot stops).
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
from provisioning.wechatpay import NotificationRejected, Refund, Verifier
from provisioning.wechatpay_orders import NativeOrders, load_private_key

log = structlog.get_logger("ops.webhooks")
Provision = Callable[[str], Awaitable[object]]  # after a payment: the user's bot, made or brought back
Refunded = Callable[[Refund, dt.datetime], Awaitable[object]]  # record a verified refund (raises on our failure)


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


def order_client(settings: Settings, checker: Verifier | None) -> NativeOrders | None:
    """The Native order client, when orders are configured (all of appid, merchant key and serial)."""
    parts = {"TWILIGHT_WECHATPAY_APPID": settings.wechatpay_appid,
             "TWILIGHT_WECHATPAY_MERCHANT_KEY_FILE": settings.wechatpay_merchant_key_file,
             "TWILIGHT_WECHATPAY_MERCHANT_SERIAL": settings.wechatpay_merchant_serial}  # fmt: skip
    missing = [name for name, value in parts.items() if not value]
    if len(missing) == len(parts):
        return None
    if missing or checker is None:
        also = missing + ([] if checker is not None else ["the TWILIGHT_WECHATPAY_* notification settings"])
        raise ValueError(f"WeChat Pay orders are half configured: set {', '.join(also)} as well")
    assert settings.wechatpay_appid and settings.wechatpay_merchant_key_file and settings.wechatpay_merchant_serial
    return NativeOrders(mch_id=checker.mch_id, appid=settings.wechatpay_appid,
                        merchant_key=load_private_key(settings.wechatpay_merchant_key_file),
                        merchant_serial=settings.wechatpay_merchant_serial, notify_url=settings.notify_url,
                        verifier=checker, api_base=settings.wechatpay_api_url)  # fmt: skip


def wechatpay_route(settings: Settings, engine: Engine, provision: Provision, refunded: Refunded) -> Route:
    checker = verifier(settings)

    async def notified(request: Request) -> Response:
        if checker is None:
            return fail(503, "WeChat Pay is not configured on this server")
        body = await request.body()
        now = dt.datetime.now(dt.UTC)
        try:
            tx = checker.open(request.headers, body, now)
        except NotificationRejected as exc:
            log.warning("wechatpay_rejected", status=exc.status, reason=exc.reason)
            return JSONResponse(exc.reply_body(), status_code=exc.status)
        if isinstance(tx, Refund):
            try:
                await refunded(tx, now)
            except Exception:
                log.exception("wechatpay_refund_failed", notification_id=tx.notification_id)
                return fail(500, "could not record the refund; deliver again")
            log.info("wechatpay_refund", notification_id=tx.notification_id, status=tx.refund_status)
            return Response(status_code=204)
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
