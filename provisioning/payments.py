"""Recording a verified WeChat Pay notification: once, whatever WeChat redelivers.

WeChat delivers a notification until it gets a 2xx, possibly several times at once. The
notification id goes into processed_notifications in the same transaction as its effects
(the payment, the user, the paid period), so that a second delivery of the same notification,
or a second notification of the same transaction, fails on a unique key and changes nothing.
A payment whose merchant, amount or currency is wrong is kept as `mismatch` for an operator and
pays for nothing; a notification of anything but a successful payment is only marked processed.
The payment is matched to its order (by out_trade_no: the order's plan and amount are what it
must pay); a payment for an order made elsewhere (another storefront) is judged by its `attach`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.accounts import Order, Payment, ProcessedNotification, User
from provisioning.wechatpay import SUCCESS_EVENT, Transaction, check_payment

PAID_PERIOD = dt.timedelta(days=30)


@dataclass(frozen=True)
class Recorded:
    status: str  # paid | mismatch | not_a_payment
    first: bool  # this delivery recorded it (False: an earlier one did)
    payment_id: int | None
    user_name: str | None
    reason: str | None = None


def plan_of(tx: Transaction, prices: dict[str, int], default: str) -> str:
    """The plan an order was for: the order's `attach` when it names one, else the default."""
    return tx.attach if tx.attach in prices else default


def record(
    engine: Engine, tx: Transaction, *, mch_id: str, prices: dict[str, int], default_plan: str,
    now: dt.datetime,
) -> Recorded:  # fmt: skip
    """Record `tx` (verified) once; what it was, and whether this call was the one that recorded it."""
    try:
        return _record(engine, tx, mch_id=mch_id, prices=prices, default_plan=default_plan, now=now)
    except IntegrityError:
        pass  # another delivery got there first: report what it recorded
    with Session(engine) as session:
        payment = session.scalar(select(Payment).where(Payment.transaction_id == tx.transaction_id))
        if payment is None:
            done = session.get(ProcessedNotification, tx.notification_id)
            if done is None:
                raise RuntimeError(f"notification {tx.notification_id} hit a unique key but is not recorded")
            return Recorded("not_a_payment", False, None, None)
        user = session.get(User, payment.user_id) if payment.user_id is not None else None
        return Recorded(payment.status, False, payment.id, user.name if user else None, payment.reason)


def _record(
    engine: Engine, tx: Transaction, *, mch_id: str, prices: dict[str, int], default_plan: str,
    now: dt.datetime,
) -> Recorded:  # fmt: skip
    with Session(engine) as session, session.begin():
        session.add(ProcessedNotification(notification_id=tx.notification_id, event_type=tx.event_type,
                                          received_at=now))  # fmt: skip
        session.flush()  # a redelivery stops here, on the primary key
        if tx.event_type != SUCCESS_EVENT or tx.trade_state != "SUCCESS":
            return Recorded("not_a_payment", True, None, None, f"{tx.event_type} {tx.trade_state}")
        order = session.scalar(select(Order).where(Order.out_trade_no == tx.out_trade_no))
        plan = order.plan if order is not None else plan_of(tx, prices, default_plan)
        price = order.amount_fen if order is not None else prices[plan]
        reason = check_payment(tx, mch_id=mch_id, price_fen=price)
        payment = Payment(
            transaction_id=tx.transaction_id, out_trade_no=tx.out_trade_no, mchid=tx.mchid,
            amount_total=tx.amount_total, currency=tx.currency, trade_state=tx.trade_state,
            payer_openid=tx.payer_openid, plan=plan, status="mismatch" if reason else "paid", reason=reason,
            success_time=tx.success_time, received_at=now, transaction=tx.raw,
        )  # fmt: skip
        session.add(payment)
        session.flush()  # a second notification of the same transaction stops here
        user = None
        if reason is None:
            user = _payer(session, tx.payer_openid, tx.transaction_id)
            start = max(now, _aware(user.paid_until)) if user.paid_until else now
            user.paid_until = start + PAID_PERIOD
            user.plan = plan
            payment.user_id = user.id
            if order is not None:
                order.state, order.user_id, order.payment_id = "paid", user.id, payment.id
        elif order is not None:
            order.state, order.reason = "failed", f"the payment did not match the order: {reason}"
        session.get_one(ProcessedNotification, tx.notification_id).payment_id = payment.id
        return Recorded(payment.status, True, payment.id, user.name if user else None, reason)


def _payer(session: Session, openid: str | None, transaction_id: str) -> User:
    """The paying user, made on their first payment (named by their public id)."""
    user = session.scalar(select(User).where(User.openid == openid)) if openid else None
    if user is None:
        user = User(name=f"pending-{transaction_id}", openid=openid)
        session.add(user)
        session.flush()
        user.name = f"user-{user.id8}"
    return user


def _aware(when: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive (they are stored in UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
