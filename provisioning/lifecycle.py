"""Running profiles on this host (`hermes-admin`): start, stop, health, logs, exec, migrate, spawn.

A profile is a directory `<root>/profiles/<name>` (a paying user's under TWILIGHT_PROFILES_ROOT,
an operator's in the registry's working copy). Its state on this host lives in
hermes_profiles: tier (`prefab`: a hermes process this server started; `container`: a compose
service), status, pid or container id, path and the last health check. Health comes from
hermes' own `gateway_state.json` and, when its API server is on, `GET /health`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from profiles import names
from provisioning import runners
from provisioning.accounts import HermesProfile
from provisioning.config import RunnerConfig
from provisioning.runners import ProfileSpec

LOG_FILES = ("logs/twilight-runner.log", "logs/gateway.log", "logs/agent.log", "logs/errors.log")


class LifecycleError(RuntimeError):
    pass


@dataclass(frozen=True)
class Health:
    name: str
    status: str  # running | stopped | unhealthy | unknown
    gateway_state: str | None
    api: bool | None  # /health answered (None: no API server configured)
    pid: int | None
    checked_at: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Lifecycle:
    def __init__(self, engine: Engine, runner: RunnerConfig, registry_root: Path) -> None:
        self._engine = engine
        self._runner = runner
        self._registry_root = registry_root  # <working copy>/profiles/<name> are the operator's profiles

    def locate(self, name: str) -> Path:
        names.check(name)  # never `/etc` or `../..` as a HERMES_HOME
        row = self._row(name)
        if row is not None:
            return Path(row.path)
        home = self._registry_root / "profiles" / name
        if not home.is_dir():
            raise LifecycleError(f"no profile {name!r} on this host (neither provisioned nor in the registry copy)")
        return home

    def start(self, name: str) -> dict[str, Any]:
        home = self.locate(name)
        row = self.ensure_row(name, home)
        if row.tier != "container" and runners.api_port(home) is None:
            # its /health is how this host knows the profile is up: loopback, a free port, its own key
            runners.set_api_server(home, runners.ProcessRunner.free_port())
        spec = ProfileSpec(name, home, runners.api_port(home))
        if row.tier == "container":
            outcome = runners.DockerRunner(self._runner).start(spec, None)
        else:
            outcome = runners.ProcessRunner(self._runner).start(spec, row.pid)
        self._save(name, state=outcome.state, pid=outcome.pid, reason=outcome.reason, port=spec.api_port)
        return {"profile": name, "state": outcome.state, "pid": outcome.pid, "reason": outcome.reason,
                "api": f"http://127.0.0.1:{spec.api_port}" if spec.api_port else None}  # fmt: skip

    def stop(self, name: str) -> dict[str, Any]:
        row = self._row(name)
        if row is None or row.pid is None:
            raise LifecycleError(f"{name} is not running here (no pid recorded)")
        runners.stop(row.pid)
        self._save(name, state="stopped", pid=None, reason=None)
        return {"profile": name, "state": "stopped"}

    def health(self, name: str) -> Health:
        home = self.locate(name)
        row = self._row(name)
        state_file = home / "gateway_state.json"
        gateway = None
        if state_file.exists():
            try:
                gateway = str(json.loads(state_file.read_text()).get("gateway_state"))
            except (ValueError, AttributeError):
                gateway = "unreadable"
        port = runners.api_port(home)
        api = runners.healthy(port) if port else None
        pid = row.pid if row is not None else None
        alive = pid is not None and runners.alive(pid)
        status = "running" if alive and api is not False else "unhealthy" if alive else "stopped"
        checked = dt.datetime.now(dt.UTC)
        if row is not None:
            self._save(name, last_health=status, last_health_at=checked)
        return Health(name, status, gateway, api, pid, checked.isoformat())

    def logs(self, name: str, lines: int = 50) -> str:
        home = self.locate(name)
        out = []
        for relative in LOG_FILES:
            path = home / relative
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"==> {relative} <==\n" + "\n".join(tail))
        return "\n\n".join(out) or f"{name}: no logs yet under {home / 'logs'}"

    def exec(self, name: str, command: list[str]) -> int:
        """Run `command` with the profile's HERMES_HOME (for `hermes ...` as that profile)."""
        if not command:
            raise LifecycleError("give the command after --, e.g. hermes-admin exec NAME -- hermes cron list")
        home = self.locate(name)
        env = {**os.environ, "HERMES_HOME": str(home)}
        return subprocess.run(
            command, env=env, cwd=home / "workspace" if (home / "workspace").is_dir() else home
        ).returncode

    def migrate(self, name: str) -> dict[str, Any]:
        """prefab -> container: the same directory bind-mounted into a generated compose service."""
        home = self.locate(name)
        row = self.ensure_row(name, home)
        if row.pid is not None and runners.alive(row.pid):
            runners.stop(row.pid)
        docker = runners.DockerRunner(self._runner)
        compose = docker.compose_file(name)
        spec = ProfileSpec(name, home, runners.api_port(home))
        outcome = docker.start(spec, None)  # writes the compose service, then brings it up
        self._save(name, tier="container", runner="docker", container_id=f"{name}", pid=None,
                   state=outcome.state, reason=outcome.reason)  # fmt: skip
        return {"profile": name, "tier": "container", "compose": str(compose), "state": outcome.state,
                "reason": outcome.reason}  # fmt: skip

    # -- rows --------------------------------------------------------------------------------
    def _row(self, name: str) -> HermesProfile | None:
        with Session(self._engine, expire_on_commit=False) as session:
            return session.scalar(select(HermesProfile).where(HermesProfile.name == name))

    def ensure_row(self, name: str, home: Path) -> HermesProfile:
        """The profile's row on this host; one for a `prefab` process profile when it has none."""
        names.check(name)
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            row = session.scalar(select(HermesProfile).where(HermesProfile.name == name))
            if row is None:
                row = HermesProfile(name=name, path=str(home), runner="process", tier="prefab", state="provisioned")
                session.add(row)
            return row

    def _save(self, name: str, **values: Any) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.scalar(select(HermesProfile).where(HermesProfile.name == name))
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
