"""From a paid user to a running Hermes profile, one idempotent step at a time.

Called by the WeChat Pay webhook after its reply, by `twilight provision` for operators, and
again on any redelivery: every step first looks at what is already there (the profile row,
the `.env`, the key's digest, the files, the running process), so a crash at any point is
healed by calling it again, and calling it twice makes nothing twice.

The user's API key is born in the profile's `.env` (mode 0600) and only its digest is stored;
it never passes through a log or the database.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import secrets
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ops.settings import Settings
from provisioning import runners
from provisioning.accounts import HermesProfile, User
from provisioning.profile_files import ProfileSpec, api_server_env, read_env, write_env, write_profile
from provisioning.tokens import TokenStore, new_token

log = structlog.get_logger("provisioning")


class UnknownUser(LookupError):
    pass


@dataclass(frozen=True)
class Provisioned:
    user: str
    profile: str
    path: str
    runner: str
    state: str
    reason: str | None
    pid: int | None
    port: int | None
    key_created: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Provisioner:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._tokens = TokenStore(engine)

    def provision(self, user_name: str, *, plan: str | None = None, create: bool = False) -> Provisioned:
        """Make `user_name`'s profile exist, hold a working key, and run (blocking: use a thread).

        One provisioning of a user at a time, across threads and processes (WeChat may deliver a
        notification five times at once, and an operator may run the CLI meanwhile).
        """
        locks = self._settings.hermes_home / ".provisioning"
        locks.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (locks / f"{user_name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._provision(user_name, plan, create)

    def _provision(self, user_name: str, plan: str | None, create: bool) -> Provisioned:
        started = dt.datetime.now(dt.UTC)
        user_id, id8 = self._user(user_name, plan, create)
        profile = self._profile_row(user_id, f"user-{id8}")
        home = self._settings.hermes_home / "profiles" / profile.name
        runner = runners.for_name(self._settings.profile_runner, self._settings)
        port = profile.port or runner.api_port()
        spec = ProfileSpec(profile.name, home, self._settings.mcp_url, self._settings.llm_gateway_url,
                           self._settings.llm_model, port)  # fmt: skip
        env = read_env(home / ".env")
        key_created = "TWILIGHT_API_TOKEN" not in env
        env.setdefault("TWILIGHT_API_TOKEN", new_token())
        env.update(api_server_env(spec, env.get("API_SERVER_KEY") or secrets.token_urlsafe(24)))
        pool = self._settings.llm_key_pool
        if pool and "TWILIGHT_LLM_API_KEY" not in env:
            env["TWILIGHT_LLM_API_KEY"] = pool[user_id % len(pool)].get_secret_value()
        write_env(home / ".env", env)  # first: the key exists on disk before its digest is stored
        self._tokens.adopt(user_name, env["TWILIGHT_API_TOKEN"])
        write_profile(spec)
        outcome = runner.start(spec, profile.pid)
        reasons = [outcome.reason] if outcome.reason else []
        if "TWILIGHT_LLM_API_KEY" not in env:
            reasons.append("no TWILIGHT_LLM_KEY_POOL configured: the profile has no gateway key yet")
        reason = "; ".join(reasons) or None
        health = {"last_health": "healthy", "last_health_at": started} if outcome.state == "running" else {}
        self._save(profile.id, state=outcome.state, reason=reason, pid=outcome.pid, port=port,
                   path=str(home), runner=runner.name, **health)  # fmt: skip
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        log.info("provisioned", user=user_name, profile=profile.name, state=outcome.state, runner=runner.name,
                 reason=reason, seconds=round(seconds, 3))  # fmt: skip
        return Provisioned(user_name, profile.name, str(home), runner.name, outcome.state, reason, outcome.pid,
                           port, key_created, seconds)  # fmt: skip

    def supervise(self) -> list[dict[str, Any]]:
        """One round of the `process` runner's supervision (blocking): record each running profile's
        health, and provision again (which restarts it) any whose hermes died or stopped answering."""
        with Session(self._engine) as session:
            watched = session.execute(
                select(User.name, HermesProfile.id, HermesProfile.pid, HermesProfile.port)
                .join(HermesProfile, HermesProfile.user_id == User.id)
                .where(HermesProfile.runner == "process", HermesProfile.state.in_(("running", "failed")))
            ).all()
        report = []
        for user, profile_id, pid, port in watched:
            ok = pid is not None and runners.alive(pid) and runners.healthy(port)
            now = dt.datetime.now(dt.UTC)
            self._save(profile_id, last_health="healthy" if ok else "not answering /health", last_health_at=now)
            restarted = None if ok else self.provision(user).state
            if restarted is not None:
                log.warning("profile_restarted", user=user, state=restarted)
            report.append({"user": user, "healthy": ok, "restarted": restarted})
        return report

    def _user(self, name: str, plan: str | None, create: bool) -> tuple[int, str]:
        with Session(self._engine) as session, session.begin():
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                if not create:
                    raise UnknownUser(f"no user {name!r}; `twilight users list` shows them")
                user = User(name=name)
                session.add(user)
            if plan is not None:
                user.plan = plan
            session.flush()
            return user.id, user.id8

    def _profile_row(self, user_id: int, name: str) -> HermesProfile:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            profile = session.scalar(select(HermesProfile).where(HermesProfile.user_id == user_id))
            if profile is None:
                home = self._settings.hermes_home / "profiles" / name
                profile = HermesProfile(user_id=user_id, name=name, path=str(home),
                                        runner=self._settings.profile_runner, state="creating")  # fmt: skip
                session.add(profile)
            return profile

    def _save(self, profile_id: int, **values: Any) -> None:
        with Session(self._engine) as session, session.begin():
            profile = session.get_one(HermesProfile, profile_id)
            for key, value in values.items():
                setattr(profile, key, value)
