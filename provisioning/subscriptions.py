"""The subscription's life: a paid period ends, a refund ends it early, a renewal brings the bot back.

`paid_until` is enforced at the door (a key of an ended subscription gets 403 with how to renew,
mcp_server.rate_limit) and here: a scheduled check finds users whose period has passed, has their
bot tell them so in WeChat (its last message: when it ended and where to renew), and stops it.
A renewal is a new paid order of the same payer (matched by WeChat openid, provisioning.payments),
which extends `paid_until`; provisioning them again starts the bot again. A verified refund ends
the subscription at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from profiles.envfile import read_env
from providers.models import SHANGHAI
from provisioning import ilink
from provisioning.accounts import HermesProfile, Payment, ProcessedNotification, User
from provisioning.provisioner import Provisioner
from provisioning.wechatpay import REFUND_SUCCESS, Refund

log = structlog.get_logger("provisioning.subscriptions")
HALTED = "expired"  # a profile stopped because its subscription ended


def last_message(paid_until: dt.datetime, join_url: str) -> str:
    ended = paid_until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return (f"您的暮光研究员订阅已于 {ended}（北京时间）到期，我先暂停服务。续费后我会自动回来：{join_url}\n"
            f"Your Twilight Drive subscription ended on {ended} (Asia/Shanghai); I am pausing. "
            f"Renew at {join_url} and I will be back.")  # fmt: skip


class Subscriptions:
    def __init__(self, engine: Engine, provisioner: Provisioner, join_url: str) -> None:
        self._engine = engine
        self._provisioner = provisioner
        self._join_url = join_url

    def expire_due(self, now: dt.datetime) -> list[str]:
        """Stop the bots of users whose paid period has passed (blocking); the users stopped."""
        with Session(self._engine) as session:
            due = session.execute(
                select(User.name, User.paid_until, HermesProfile.path)
                .join(HermesProfile, HermesProfile.user_id == User.id)
                .where(User.paid_until.is_not(None), User.paid_until <= now, HermesProfile.state != HALTED)
            ).all()
        stopped = []
        for user, paid_until, path in due:
            ended = _aware(paid_until) if paid_until is not None else now
            self._tell(user, Path(path), last_message(ended, self._join_url))
            self._provisioner.halt(user, HALTED, f"subscription ended {ended.isoformat()}; renew at {self._join_url}")
            stopped.append(user)
        return stopped

    def refunded(self, refund: Refund, now: dt.datetime) -> str | None:
        """A verified refund notification, recorded once: its payment no longer pays and its user's
        subscription ends now (their bot is stopped by `expire_due`). The user, if any."""
        try:
            with Session(self._engine) as session, session.begin():
                session.add(ProcessedNotification(notification_id=refund.notification_id,
                                                  event_type=refund.event_type, received_at=now))  # fmt: skip
                session.flush()  # a redelivery stops here
                if refund.event_type != REFUND_SUCCESS or refund.refund_status != "SUCCESS":
                    return None
                payment = session.scalar(select(Payment).where(Payment.transaction_id == refund.transaction_id))
                if payment is None or payment.user_id is None:
                    log.warning("refund_of_unknown_payment", out_trade_no=refund.out_trade_no)
                    return None
                payment.refunded_at = now
                user = session.get_one(User, payment.user_id)
                if user.paid_until is None or _aware(user.paid_until) > now:
                    user.paid_until = now
                name = user.name
        except IntegrityError:
            return None  # delivered before
        log.info("subscription_refunded", user=name)
        return name

    def _tell(self, user: str, home: Path, text: str) -> None:
        """The bot's last message to its user, through iLink as the bot; a failure is logged, not fatal."""
        env = read_env(home / ".env")
        account, token, to = (env.get(k) for k in ("WEIXIN_ACCOUNT_ID", "WEIXIN_TOKEN", "WEIXIN_HOME_CHANNEL"))
        if not (account and token and to):
            log.info("subscription_ended_untold", user=user, reason="the bot is not bound to WeChat")
            return
        base = env.get("WEIXIN_BASE_URL") or ilink.ILINK_BASE_URL
        try:
            ilink.send_text(base, token, account, to, text)
        except (ilink.IlinkError, ValueError) as exc:
            log.warning("subscription_ended_untold", user=user, reason=str(exc))


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
