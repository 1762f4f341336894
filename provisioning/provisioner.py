"""From a paid user to a running Hermes profile, one idempotent step at a time.

Called by the WeChat Pay webhook after its reply, by `twilight provision` for operators, and
again on any redelivery: every step first looks at what is already there (the profile row,
the files, the `.env`, the key's digest, the registry's OWNERS, the running process), so a crash
at any point is healed by calling it again, and calling it twice makes nothing twice.

There is one factory for profiles, the templates: a paid user's profile is
`template-stock-research-pro` applied in the registry's working copy, claimed there for the
payment (`payment:<transaction id>` in OWNERS) and pushed, secrets left out. The user's API key
is born in the profile's `.env` (mode 0600) and only its digest is stored; it never passes
through a log or the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from profiles import names, templates
from profiles.envfile import read_env
from profiles.registry import Registry, RegistryError
from profiles.rendering import TemplateError
from profiles.shipped_plugins import install_plugins
from provisioning import runners
from provisioning.accounts import HermesProfile, Payment, User
from provisioning.config import ProvisionerConfig
from provisioning.listings import payer
from provisioning.runners import ProfileSpec
from provisioning.tokens import TokenStore

log = structlog.get_logger("provisioning")
PAID_TEMPLATE = "template-stock-research-pro"  # the bot users pay for
ACTOR = "twilight-provisioner"  # who the registry's commits name


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
    def __init__(self, engine: Engine, config: ProvisionerConfig) -> None:
        self._engine = engine
        self._config = config
        self._tokens = TokenStore(engine)

    def provision(self, user_name: str, *, plan: str | None = None, create: bool = False) -> Provisioned:
        """Make `user_name`'s profile exist, hold a working key, and run (blocking: use a thread).

        One provisioning of a user at a time, across threads and processes (WeChat may deliver a
        notification five times at once, and an operator may run the CLI meanwhile).
        """
        locks = self._config.state_dir / "provisioning-locks"
        locks.mkdir(parents=True, exist_ok=True, mode=0o700)
        # By digest: a user's name (an operator's `--user`) is no path, nor of a length a file name can take.
        with (locks / f"{hashlib.sha256(user_name.encode()).hexdigest()[:32]}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._provision(user_name, plan, create)

    def _provision(self, user_name: str, plan: str | None, create: bool) -> Provisioned:
        started = dt.datetime.now(dt.UTC)
        user_id, id8 = self._user(user_name, plan, create)
        profile = self._profile_row(user_id, names.check(f"user-{id8}"))  # 8 hex digits: always keeps the rule
        home = self._config.profiles_root / "profiles" / profile.name
        runner = runners.for_config(self._config.runner)
        port = profile.port or runner.api_port()
        spec = ProfileSpec(profile.name, home, port)
        try:
            with self._registry() as registry:
                key_created = self._files(registry, spec, user_id)
                env = read_env(home / ".env")
                self._tokens.adopt(user_name, env["TWILIGHT_API_TOKEN"])  # after .env: the key is on disk first
                self._claim(registry, profile.name, user_id)
                registry.push(f"provision {profile.name} for {user_name}")
        except (TemplateError, RegistryError) as exc:
            self._save(profile.id, state="failed", reason=str(exc), path=str(home), runner=runner.name)
            log.error("provision_failed", user=user_name, profile=profile.name, reason=str(exc))
            return Provisioned(user_name, profile.name, str(home), runner.name, "failed", str(exc), None, port,
                               False, (dt.datetime.now(dt.UTC) - started).total_seconds())  # fmt: skip
        outcome = runner.start(spec, profile.pid)
        health = {"last_health": "healthy", "last_health_at": started} if outcome.state == "running" else {}
        self._save(profile.id, state=outcome.state, reason=outcome.reason, pid=outcome.pid, port=port,
                   path=str(home), runner=runner.name, **health)  # fmt: skip
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        log.info("provisioned", user=user_name, profile=profile.name, state=outcome.state, runner=runner.name,
                 reason=outcome.reason, seconds=round(seconds, 3))  # fmt: skip
        return Provisioned(user_name, profile.name, str(home), runner.name, outcome.state, outcome.reason, outcome.pid,
                           port, key_created, seconds)  # fmt: skip

    @contextlib.contextmanager
    def _registry(self) -> Iterator[Registry]:
        """The registry's working copy, one user of it at a time (git allows one writer per copy)."""
        lock_file = self._config.state_dir / "profile-registry.lock"
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with lock_file.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield Registry(self._config.registry_remote, self._config.profiles_root, actor=ACTOR).ensure()

    def _files(self, registry: Registry, spec: ProfileSpec, user_id: int) -> bool:
        """The profile's files from the paid template (once), this release's plugins, and the API server
        settings in `.env`; whether this call made the profile (and so its key)."""
        made = not (spec.home / "config.yaml").is_file()
        if made:
            connection = self._config.connection
            template = templates.TEMPLATES_DIR / PAID_TEMPLATE
            templates.apply(template, spec.home, connection.values, connection.pools, pick=user_id)
        else:
            install_plugins(spec.home)
        runners.set_api_server(spec.home, spec.api_port)
        return made

    def _claim(self, registry: Registry, profile: str, user_id: int) -> None:
        """OWNERS names the paying user, proven by their first paid payment (an operator's user: by
        the operator)."""
        with Session(self._engine) as session:
            paid = session.scalar(select(Payment.transaction_id).where(Payment.user_id == user_id,
                                  Payment.status == "paid").order_by(Payment.id))  # fmt: skip
        identity = f"payment:{paid}" if paid else f"operator:{ACTOR}"

        def verify(claimed: str) -> str | None:
            kind, _, ref = claimed.partition(":")
            return payer(self._engine, ref) if kind == "payment" else ref or None

        registry.claim(profile, identity, verify)

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

    def restart(self, profile_name: str) -> Provisioned | None:
        """Stop the profile's gateway and provision its user again, which starts it with what its
        `.env` holds now (a new WeChat binding); None for a profile that is no user's."""
        with Session(self._engine) as session:
            query = select(User.name, HermesProfile.pid).join(HermesProfile, HermesProfile.user_id == User.id)
            row = session.execute(query.where(HermesProfile.name == profile_name)).first()
        if row is None:
            return None
        user, pid = row
        if pid is not None and runners.alive(pid):
            runners.stop(pid)
        return self.provision(user)

    def halt(self, user_name: str, state: str, reason: str) -> str | None:
        """Stop the user's bot and leave it stopped (supervision restarts only running or failed ones);
        its profile's name, or None when the user has none."""
        with Session(self._engine) as session:
            query = select(HermesProfile.id, HermesProfile.name, HermesProfile.pid).join(
                User, HermesProfile.user_id == User.id
            )
            row = session.execute(query.where(User.name == user_name)).first()
        if row is None:
            return None
        profile_id, name, pid = row
        if pid is not None and runners.alive(pid):
            runners.stop(pid)
        self._save(profile_id, state=state, reason=reason, pid=None)
        log.info("profile_halted", user=user_name, profile=name, state=state)
        return str(name)

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
                home = self._config.profiles_root / "profiles" / name
                profile = HermesProfile(user_id=user_id, name=name, path=str(home),
                                        runner=self._config.runner.name, state="creating")  # fmt: skip
                session.add(profile)
            return profile

    def _save(self, profile_id: int, **values: Any) -> None:
        with Session(self._engine) as session, session.begin():
            profile = session.get_one(HermesProfile, profile_id)
            for key, value in values.items():
                setattr(profile, key, value)
