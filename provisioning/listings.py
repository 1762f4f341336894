"""What `twilight users list` and `twilight profiles list` show: plain rows, ready for JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from provisioning.accounts import ApiKey, HermesProfile, Payment, User


def users(engine: Engine, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every user with their subscription's state: `active`, `expired` (paid_until passed), `refunded`,
    or `operator` (no subscription: keys an operator issued), and their bot's."""
    now = now or dt.datetime.now(dt.UTC)
    active = func.sum(case((ApiKey.revoked_at.is_(None), 1), else_=0))
    keys = (
        select(ApiKey.user_id, func.count(ApiKey.id).label("n_keys"), active.label("live"))
        .group_by(ApiKey.user_id)
        .subquery()
    )
    query = (
        select(User, keys.c.n_keys, keys.c.live, HermesProfile.name, HermesProfile.state, HermesProfile.weixin_bot_id)
        .outerjoin(keys, keys.c.user_id == User.id)
        .outerjoin(HermesProfile, HermesProfile.user_id == User.id)
        .order_by(User.name)
    )
    refunded = select(Payment.user_id).where(Payment.refunded_at.is_not(None))
    with Session(engine) as session:
        refunds = set(session.scalars(refunded))
        return [
            {"user": u.name, "state": _state(u, now, u.id in refunds), "plan": u.plan, "paid_until": u.paid_until,
             "created_at": u.created_at, "keys": n or 0, "active_keys": int(live or 0), "profile": profile,
             "bot": bot_state, "wechat_bound": bool(bot_id)}
            for u, n, live, profile, bot_state, bot_id in session.execute(query)
        ]  # fmt: skip


def _state(user: User, now: dt.datetime, refunded: bool) -> str:
    if user.paid_until is None:
        return "operator"
    paid_until = user.paid_until if user.paid_until.tzinfo else user.paid_until.replace(tzinfo=dt.UTC)
    if paid_until > now:
        return "active"
    return "refunded" if refunded else "expired"


def profiles(engine: Engine) -> list[dict[str, Any]]:
    query = (
        select(User.name, HermesProfile)
        .select_from(HermesProfile)
        .outerjoin(User, HermesProfile.user_id == User.id)
        .order_by(HermesProfile.name)
    )
    with Session(engine) as session:
        return [
            {"user": name, "profile": p.name, "state": p.state, "runner": p.runner, "tier": p.tier,
             "container_id": p.container_id, "path": p.path, "pid": p.pid,
             "port": p.port, "last_health": p.last_health, "last_health_at": p.last_health_at, "reason": p.reason}
            for name, p in session.execute(query)
        ]  # fmt: skip


def payer(engine: Engine, reference: str) -> str | None:
    """The user who paid the order with this transaction id or order number (a paid one only)."""
    query = (
        select(User.name)
        .join(Payment, Payment.user_id == User.id)
        .where(Payment.status == "paid", (Payment.transaction_id == reference) | (Payment.out_trade_no == reference))
    )
    with Session(engine) as session:
        return session.scalar(query)
