"""Orders: what the payer's page creates, pays and then follows to a bound bot.

An order is created here and at WeChat Pay (a Native order: a `code_url` the payer scans) and
carries an onboarding token, an unguessable secret handed only to the payer's page: it is the
only key to the order's progress (only its digest is stored). The notification webhook finds
the order by `out_trade_no` and marks it paid in the same transaction as the payment.

Creating orders costs a WeChat Pay request, so each client address may create only
ORDERS_PER_HOUR an hour; an unknown plan is refused before anything is asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from provisioning.accounts import Order

ORDERS_PER_HOUR = 10  # per client address
ORDER_LIFETIME = dt.timedelta(minutes=30)  # WeChat Pay's time_expire: the pay QR stops working then
PLAN_DESCRIPTIONS = {"pro": "暮光研究员 Pro · 30 天"}


class OrderRefused(ValueError):
    """The caller's mistake or excess: `status` is the HTTP status to answer, `argument` what was wrong."""

    def __init__(self, status: int, argument: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.status = status
        self.argument = argument
        self.remedy = remedy


class NativeOrderClient(Protocol):
    def create(self, out_trade_no: str, description: str, amount_fen: int, attach: str,
               expires_at: dt.datetime) -> str: ...  # fmt: skip


@dataclass(frozen=True)
class Created:
    order_id: str
    code_url: str
    expires_at: dt.datetime
    onboarding_token: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_out_trade_no(now: dt.datetime) -> str:
    """TD + the UTC time + 10 random hex: unique, sortable, within WeChat's 6-32 [0-9A-Za-z_-|*]."""
    return "TD" + now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(5)


class Orders:
    def __init__(self, engine: Engine, prices: dict[str, int], client: NativeOrderClient | None) -> None:
        self._engine = engine
        self._prices = prices
        self._client = client

    def create(self, plan: object, client_address: str | None, now: dt.datetime) -> Created:
        """A new order for `plan` (blocking: it asks WeChat Pay)."""
        if not isinstance(plan, str) or plan not in self._prices:
            known = ", ".join(sorted(self._prices))
            raise OrderRefused(400, "plan", f"unknown plan {plan!r}", f"choose one of: {known}")
        if self._client is None:
            raise OrderRefused(503, "plan", "WeChat Pay orders are not configured on this server",
                               "try again later; the operator must set the TWILIGHT_WECHATPAY_* settings")  # fmt: skip
        with Session(self._engine) as session:
            recent = session.scalar(
                select(func.count()).select_from(Order)
                .where(Order.client_address == client_address, Order.created_at >= now - dt.timedelta(hours=1))
            )  # fmt: skip
        if client_address is not None and (recent or 0) >= ORDERS_PER_HOUR:
            raise OrderRefused(429, "plan", f"{ORDERS_PER_HOUR} orders an hour from one address at most",
                               "pay the order you already have, or try again in an hour")  # fmt: skip
        token = secrets.token_urlsafe(32)
        out_trade_no = new_out_trade_no(now)
        expires_at = now + ORDER_LIFETIME
        with Session(self._engine) as session, session.begin():  # stored first: a lost reply leaves a trace
            session.add(Order(out_trade_no=out_trade_no, plan=plan, amount_fen=self._prices[plan],
                              state="creating", expires_at=expires_at, onboarding_sha256=digest(token),
                              client_address=client_address, created_at=now, updated_at=now))  # fmt: skip
        description = PLAN_DESCRIPTIONS.get(plan, f"Twilight Drive {plan}")
        try:
            code_url = self._client.create(out_trade_no, description, self._prices[plan], plan, expires_at)
        except Exception as exc:
            self._set(out_trade_no, state="failed", reason=f"WeChat Pay refused the order: {exc}")
            raise
        self._set(out_trade_no, state="awaiting_payment", code_url=code_url)
        return Created(out_trade_no, code_url, expires_at, token)

    def by_token(self, token: str) -> Order | None:
        with Session(self._engine, expire_on_commit=False) as session:
            return session.scalar(select(Order).where(Order.onboarding_sha256 == digest(token)))

    def _set(self, out_trade_no: str, **values: object) -> None:
        with Session(self._engine) as session, session.begin():
            order = session.scalar(select(Order).where(Order.out_trade_no == out_trade_no))
            assert order is not None
            for key, value in values.items():
                setattr(order, key, value)
