"""What `twilight users list` and `twilight profiles list` show: plain rows, ready for JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from provisioning.accounts import ApiKey, HermesProfile, Payment, User


def users(engine: Engine) -> list[dict[str, Any]]:
    active = func.sum(case((ApiKey.revoked_at.is_(None), 1), else_=0))
    query = (
        select(User.name, User.plan, User.paid_until, User.created_at, func.count(ApiKey.id), active)
        .outerjoin(ApiKey, ApiKey.user_id == User.id)
        .group_by(User.id)
        .order_by(User.name)
    )
    with Session(engine) as session:
        return [
            {"user": name, "plan": plan, "paid_until": paid, "created_at": created, "keys": keys,
             "active_keys": int(live or 0)}
            for name, plan, paid, created, keys, live in session.execute(query)
        ]  # fmt: skip


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
