"""Issuing, revoking, listing and checking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from profiles.envfile import read_env
from provisioning.accounts import DEFAULT_RATE_LIMIT_PER_MIN, ApiKey, User

TOKEN_PREFIX = "td_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenState(Enum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"  # the key is fine, its user's subscription (paid_until) has passed


@dataclass(frozen=True)
class TokenOwner:
    user: str
    state: TokenState
    key_id: int = 0
    rate_limit_per_min: int = 60
    paid_until: dt.datetime | None = None  # None: not a subscription (an operator's key)


@dataclass(frozen=True)
class KeyListing:
    user: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def issue(self, user_name: str, rate_limit_per_min: int = DEFAULT_RATE_LIMIT_PER_MIN) -> str:
        """Create the user if new, and a fresh token; returns the raw token (shown once)."""
        raw = new_token()
        self.adopt(user_name, raw, rate_limit_per_min)
        return raw

    def set_limit(self, user_name: str, rate_limit_per_min: int) -> int:
        """Set the limit of every active key of the user; how many keys it changed."""
        return self._update_active_keys(user_name, rate_limit_per_min=rate_limit_per_min)

    def adopt(self, user_name: str, raw: str, rate_limit_per_min: int = DEFAULT_RATE_LIMIT_PER_MIN) -> bool:
        """Store `raw`'s digest for the user (made if new) unless stored already; whether it was new.

        The provisioner writes a key to the profile's `.env` first and adopts it after, so that a
        crash in between leaves a key to adopt on the retry, never a stored key nobody holds.
        """
        with Session(self._engine) as session, session.begin():
            if session.scalar(select(ApiKey.id).where(ApiKey.token_sha256 == digest(raw))) is not None:
                return False
            user = session.scalar(select(User).where(User.name == user_name))
            if user is None:
                user = User(name=user_name)
                session.add(user)
                session.flush()
            session.add(ApiKey(user_id=user.id, token_sha256=digest(raw), prefix=raw[:7],
                               rate_limit_per_min=rate_limit_per_min))  # fmt: skip
        return True

    def adopt_planted(self, user_name: str, home: Path) -> bool:
        """Store the key a template planted in the profile `home`'s `.env` for `user_name` (as `spawn`
        and `template apply` do): the server answers 401 to a key the accounts DB does not know, so a
        profile whose key is not stored is a bot that cannot call a tool. Whether there was a key."""
        raw = read_env(home / ".env").get("TWILIGHT_API_TOKEN")
        if not raw:
            return False
        self.adopt(user_name, raw)
        return True

    def revoke(self, user_name: str) -> int:
        """Revoke every active token of the user; returns how many were revoked."""
        return self._update_active_keys(user_name, revoked_at=dt.datetime.now(dt.UTC))

    def _update_active_keys(self, user_name: str, **values: object) -> int:
        """Set `values` on every active key of the user; how many keys that was (0: no such user)."""
        with Session(self._engine) as session, session.begin():
            user_id = session.scalar(select(User.id).where(User.name == user_name))
            if user_id is None:
                return 0
            result = session.execute(
                update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)).values(**values)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def listing(self) -> list[KeyListing]:
        with Session(self._engine) as session:
            rows = session.execute(
                select(User.name, ApiKey.prefix, ApiKey.created_at, ApiKey.revoked_at)
                .join(ApiKey, ApiKey.user_id == User.id)
                .order_by(User.name, ApiKey.created_at)
            ).all()
        return [KeyListing(*row) for row in rows]

    def owner(self, raw: str) -> TokenOwner | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(User.name, ApiKey.revoked_at, ApiKey.id, ApiKey.rate_limit_per_min, User.paid_until)
                .join(ApiKey, ApiKey.user_id == User.id)
                .where(ApiKey.token_sha256 == digest(raw))
            ).first()
        if row is None:
            return None
        paid_until = row[4].replace(tzinfo=dt.UTC) if row[4] is not None and row[4].tzinfo is None else row[4]
        if row[1] is not None:
            state = TokenState.REVOKED
        elif paid_until is not None and paid_until <= dt.datetime.now(dt.UTC):
            state = TokenState.EXPIRED
        else:
            state = TokenState.ACTIVE
        return TokenOwner(row[0], state, row[2], row[3], paid_until)
