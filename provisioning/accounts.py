"""The accounts database: SQLite under TWILIGHT_HOME by default, PostgreSQL in production.

Only sha256 digests of API keys are stored; the raw key exists once, on the issuer's terminal
or in the user's profile `.env`. The schema is Alembic's (`provisioning/migrations`): the
models here describe it for queries, and `provisioning.migrate` builds and checks it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

DEFAULT_RATE_LIMIT_PER_MIN = 60


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _public_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    openid: Mapped[str | None] = mapped_column(String(128), unique=True, default=None, doc="WeChat payer openid.")
    plan: Mapped[str | None] = mapped_column(String(32), default=None)
    paid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    keys: Mapped[list[ApiKey]] = relationship(back_populates="user")

    @property
    def id8(self) -> str:
        """The short id in the user's profile name (`user-<id8>`)."""
        return self.public_id[:8]


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), doc="First characters, to tell keys apart in listings.")
    rate_limit_per_min: Mapped[int] = mapped_column(Integer, default=DEFAULT_RATE_LIMIT_PER_MIN)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    user: Mapped[User] = relationship(back_populates="keys")


class Payment(Base):
    """One WeChat Pay transaction as notified: `paid`, or `mismatch` (kept for review)."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    out_trade_no: Mapped[str] = mapped_column(String(64))
    mchid: Mapped[str] = mapped_column(String(32))
    amount_total: Mapped[int] = mapped_column(Integer, doc="fen")
    currency: Mapped[str] = mapped_column(String(8))
    trade_state: Mapped[str] = mapped_column(String(32))
    payer_openid: Mapped[str | None] = mapped_column(String(128), default=None)
    plan: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(255), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    success_time: Mapped[str | None] = mapped_column(String(40), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    transaction: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The decrypted notification resource.")
    refunded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ProcessedNotification(Base):
    """Every notification id handled once: inserted in the transaction that records its payment."""

    __tablename__ = "processed_notifications"
    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HermesProfile(Base):
    """A profile this host runs: a paying user's (user_id), or an operator's from the registry (none)."""

    __tablename__ = "hermes_profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16), default="prefab", doc="prefab (a process) or container")
    container_id: Mapped[str | None] = mapped_column(String(128), default=None)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    port: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)
    last_health_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_health: Mapped[str | None] = mapped_column(Text, default=None)
    weixin_bot_id: Mapped[str | None] = mapped_column(String(128), default=None, doc="The iLink bot it is bound as.")


class Order(Base):
    """A WeChat Pay Native order and its onboarding: the payer's page follows it by a secret token
    (only its digest is here) from the pay QR to the bound bot."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    plan: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), doc="awaiting_payment, paid, expired or failed")
    code_url: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    onboarding_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class WechatBinding(Base):
    """One attempt to bind a profile's bot to a WeChat user by QR (state kept here, so that polling
    survives a restart): awaiting_scan, scanned, bound, expired or failed."""

    __tablename__ = "wechat_bindings"
    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("hermes_profiles.id"), index=True)
    state: Mapped[str] = mapped_column(String(24))
    qrcode: Mapped[str | None] = mapped_column(String(255), default=None)
    qr_url: Mapped[str | None] = mapped_column(Text, default=None)
    poll_base: Mapped[str | None] = mapped_column(Text, default=None, doc="Where to poll (iLink may redirect).")
    refreshes: Mapped[int] = mapped_column(Integer, default=0)
    scanner: Mapped[str | None] = mapped_column(String(128), default=None, doc="The scanner's ilink_user_id.")
    bot_id: Mapped[str | None] = mapped_column(String(128), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class UsageLog(Base):
    __tablename__ = "usage_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), default=None)
    tool: Mapped[str] = mapped_column(String(64))
    called_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    outcome: Mapped[str] = mapped_column(String(16))
    upstream_calls: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)


def make_engine(url: str) -> Engine:
    """An engine on the accounts database; a SQLite file is created owner-only.

    The schema is not made here: `provisioning.migrate.ready` migrates SQLite and checks others.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, pool_pre_ping=not sqlite)  # a file does not drop connections: no SELECT 1 first
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine
