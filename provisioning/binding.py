"""Binding a paid bot to its payer's WeChat by QR, the way hermes' own `qr_login` does, on the server.

After provisioning, a binding asks iLink for a bot QR and the payer's page shows it. The server's
background loop then long-polls the QR's status (`poll`, one poll per call, a thread each), through
`wait` → `scaned` (`scaned_but_redirect` moves polling to the scanner's host) → `confirmed`; an
`expired` QR is replaced up to MAX_REFRESHES times. On `confirmed` the bot's credentials go into the
profile's `.env` (0600) with the scanner as the only user allowed to talk to it and its home channel,
the profile records its bot id, and the gateway is restarted with the Weixin platform.

Every step is stored (wechat_bindings), never only held in memory, so polling picks up where it was
after a server restart; a new binding (`twilight profiles rebind NAME`, a new phone) supersedes the
open one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from profiles.envfile import read_env, write_env
from provisioning import ilink
from provisioning.accounts import HermesProfile, WechatBinding

log = structlog.get_logger("provisioning.binding")
MAX_REFRESHES = 3  # expired QRs replaced before the binding gives up
OPEN = ("awaiting_scan", "scanned")
Restart = Callable[[str], object]  # restart a profile's gateway, by profile name


class BindingError(LookupError):
    pass


@dataclass(frozen=True)
class Binding:
    id: int
    profile: str
    state: str  # awaiting_scan, scanned, bound, expired, failed, replaced
    qr_url: str | None
    reason: str | None


def _binding(row: WechatBinding, profile: str) -> Binding:
    return Binding(row.id, profile, row.state, row.qr_url, row.reason)


class Binder:
    def __init__(self, engine: Engine, ilink_url: str, restart: Restart) -> None:
        self._engine = engine
        self._base = ilink_url.rstrip("/")
        self._restart = restart

    def begin(self, profile_name: str) -> Binding:
        """A new binding for the profile (blocking: asks iLink for a QR); an open one is replaced."""
        qr = ilink.bot_qrcode(self._base)
        with Session(self._engine) as session, session.begin():
            profile = session.scalar(select(HermesProfile).where(HermesProfile.name == profile_name))
            if profile is None:
                raise BindingError(f"no profile {profile_name!r} on this host; `twilight profiles list` shows them")
            for old in session.scalars(select(WechatBinding).where(WechatBinding.profile_id == profile.id,
                                                                    WechatBinding.state.in_(OPEN))):  # fmt: skip
                old.state, old.reason = "replaced", "a new binding was started"
            row = WechatBinding(profile_id=profile.id, state="awaiting_scan", qrcode=qr.qrcode, qr_url=qr.url,
                                poll_base=self._base)  # fmt: skip
            session.add(row)
            session.flush()
            log.info("binding_started", profile=profile_name, binding=row.id)
            return _binding(row, profile_name)

    def ensure(self, profile_name: str) -> Binding:
        """The profile's newest binding, begun when it has none (a paid bot wants one from the start)."""
        found = self.latest(profile_name)
        return found if found is not None else self.begin(profile_name)

    def latest(self, profile_name: str) -> Binding | None:
        with Session(self._engine) as session:
            row = session.execute(
                select(WechatBinding).join(HermesProfile, HermesProfile.id == WechatBinding.profile_id)
                .where(HermesProfile.name == profile_name).order_by(WechatBinding.id.desc())
            ).scalars().first()  # fmt: skip
            return _binding(row, profile_name) if row is not None else None

    def unbound_profiles(self) -> list[str]:
        """Paid users' profiles that were made but never had a binding (its QR could not be had then)."""
        with Session(self._engine) as session:
            started = select(WechatBinding.profile_id)
            return list(session.scalars(
                select(HermesProfile.name).where(HermesProfile.user_id.is_not(None),
                                                 HermesProfile.weixin_bot_id.is_(None),
                                                 HermesProfile.state.in_(("running", "provisioned")),
                                                 HermesProfile.id.not_in(started))
            ))  # fmt: skip

    def open_ids(self) -> list[int]:
        with Session(self._engine) as session:
            return list(session.scalars(select(WechatBinding.id).where(WechatBinding.state.in_(OPEN))))

    def poll(self, binding_id: int) -> str:
        """One long poll of the binding's QR and its transition (blocking); the state after it."""
        with Session(self._engine) as session:
            row = session.get_one(WechatBinding, binding_id)
            if row.state not in OPEN or row.qrcode is None:
                return row.state
            qrcode, base = row.qrcode, row.poll_base or self._base
        try:
            status = ilink.qrcode_status(base, qrcode)
        except ilink.IlinkUnreachable as exc:  # transient: the next poll tries again
            log.warning("binding_poll_unreachable", binding=binding_id, reason=str(exc))
            return self._state(binding_id)
        except ilink.IlinkError as exc:
            return self._set(binding_id, "failed", reason=f"iLink refused the QR: {exc}; bind again")
        if status.status == "scaned":
            return self._set(binding_id, "scanned")
        if status.status == "scaned_but_redirect":
            return self._set(binding_id, "scanned", poll_base=status.redirect_base or base)
        if status.status == "expired":
            return self._refresh(binding_id)
        if status.status == "confirmed":
            return self._confirm(binding_id, status)
        return self._state(binding_id)

    def _refresh(self, binding_id: int) -> str:
        with Session(self._engine) as session:
            refreshes = session.get_one(WechatBinding, binding_id).refreshes
        if refreshes >= MAX_REFRESHES:
            return self._set(binding_id, "expired", reason=f"the QR expired {MAX_REFRESHES + 1} times unscanned;"
                             " open the page again for a new one")  # fmt: skip
        try:
            qr = ilink.bot_qrcode(self._base)
        except ilink.IlinkError as exc:
            log.warning("binding_refresh_failed", binding=binding_id, reason=str(exc))
            return self._state(binding_id)
        return self._set(binding_id, "awaiting_scan", qrcode=qr.qrcode, qr_url=qr.url, poll_base=self._base,
                         refreshes=refreshes + 1)  # fmt: skip

    def _confirm(self, binding_id: int, status: ilink.QrStatus) -> str:
        assert status.bot_id and status.bot_token and status.user_id
        with Session(self._engine) as session, session.begin():
            row = session.get_one(WechatBinding, binding_id)
            profile = session.get_one(HermesProfile, row.profile_id)
            home, name = Path(profile.path), profile.name
        env = read_env(home / ".env")
        env.update({"WEIXIN_ACCOUNT_ID": status.bot_id, "WEIXIN_TOKEN": status.bot_token,
                    "WEIXIN_BASE_URL": status.base_url or self._base, "WEIXIN_DM_POLICY": "allowlist",
                    "WEIXIN_ALLOWED_USERS": status.user_id, "WEIXIN_HOME_CHANNEL": status.user_id})  # fmt: skip
        write_env(home / ".env", env)  # first: a crash after it leaves a bot that works, then is recorded
        with Session(self._engine) as session, session.begin():
            session.get_one(
                HermesProfile, session.get_one(WechatBinding, binding_id).profile_id
            ).weixin_bot_id = status.bot_id
        state = self._set(binding_id, "bound", scanner=status.user_id, bot_id=status.bot_id, qrcode=None)
        log.info("binding_confirmed", profile=name, binding=binding_id)
        self._restart(name)
        return state

    def _state(self, binding_id: int) -> str:
        with Session(self._engine) as session:
            return session.get_one(WechatBinding, binding_id).state

    def _set(self, binding_id: int, state: str, **values: object) -> str:
        with Session(self._engine) as session, session.begin():
            row = session.get_one(WechatBinding, binding_id)
            row.state = state
            row.updated_at = dt.datetime.now(dt.UTC)
            for key, value in values.items():
                setattr(row, key, value)
        if state in ("expired", "failed"):
            log.warning("binding_ended", binding=binding_id, state=state, reason=values.get("reason"))
        return state
