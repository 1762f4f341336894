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
from provisioning.changes import ChangeMark

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


_Row = tuple[str, dt.datetime | None, int, int, dt.datetime | None]  # user, revoked_at, key id, limit, paid_until
_REMEMBERED = 10_000  # owners kept at most (only keys that exist are: a stranger's guesses cost a read each)


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._mark = ChangeMark.of(engine)
        self._known: dict[str, tuple[int, _Row]] = {}  # digest -> (the mark it was read at, its row)

    def known_owner(self, raw: str) -> TokenOwner | None:
        """The owner as last read, if nobody has written to the accounts since (no query: SQLite only);
        None means "ask `owner`", not "unknown"."""
        remembered = self._known.get(digest(raw)) if self._mark is not None else None
        if remembered is None or self._mark is None or remembered[0] != self._mark.now():
            return None
        return _owner_of(remembered[1])

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
        mark = self._mark.now() if self._mark is not None else None  # before the read: a write during it shows
        key = digest(raw)
        with self._engine.connect() as conn:
            found = conn.execute(
                select(User.name, ApiKey.revoked_at, ApiKey.id, ApiKey.rate_limit_per_min, User.paid_until)
                .join(ApiKey, ApiKey.user_id == User.id)
                .where(ApiKey.token_sha256 == key)
            ).first()
        if found is None:
            return None
        row: _Row = (found[0], found[1], found[2], found[3], found[4])
        if mark is not None:
            if len(self._known) >= _REMEMBERED:
                self._known.clear()
            self._known[key] = (mark, row)
        return _owner_of(row)


def _owner_of(row: _Row) -> TokenOwner:
    """A key's owner and its state now (a subscription expires while its row stays the same)."""
    user, revoked_at, key_id, limit, paid = row
    paid_until = paid.replace(tzinfo=dt.UTC) if paid is not None and paid.tzinfo is None else paid
    if revoked_at is not None:
        state = TokenState.REVOKED
    elif paid_until is not None and paid_until <= dt.datetime.now(dt.UTC):
        state = TokenState.EXPIRED
    else:
        state = TokenState.ACTIVE
    return TokenOwner(user, state, key_id, limit, paid_until)
