"""How a provisioned profile is started: TWILIGHT_PROFILE_RUNNER=none|process|systemd|docker.

Each runner starts `hermes -p NAME gateway run` its own way and says what state the profile is
in. Where the tool it needs is missing (hermes, systemctl, docker), the profile stays
`provisioned` with the reason and the command that would start it: a machine without hermes is
a deployment choice, not an error. The child gets only the environment hermes needs, never
the server's own secrets.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from profiles.envfile import read_env, write_atomically, write_env
from provisioning.config import RunnerConfig

HEALTH_WAIT_SECONDS = 60.0
_PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True)
class Outcome:
    state: str  # provisioned | running | failed
    pid: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ProfileSpec:
    name: str
    home: Path  # this profile's HERMES_HOME
    api_port: int | None  # the API server's port, for health (runner process)


def set_api_server(home: Path, port: int | None) -> None:
    """The API server (health, and messages) is set up from `.env`: hermes does not expand
    `${VAR}` in config.yaml's platform settings, and its key belongs with the other secrets
    (kept when there is one). No port: the API server is off."""
    env = read_env(home / ".env")
    if port is None:
        env["API_SERVER_ENABLED"] = "false"
    else:
        env.update({"API_SERVER_ENABLED": "true", "API_SERVER_HOST": "127.0.0.1", "API_SERVER_PORT": str(port),
                    "API_SERVER_KEY": env.get("API_SERVER_KEY") or secrets.token_urlsafe(24)})  # fmt: skip
    write_env(home / ".env", env)


def api_port(home: Path) -> int | None:
    """The port of the profile's API server, when its `.env` turns one on."""
    env = read_env(home / ".env")
    if env.get("API_SERVER_ENABLED", "").lower() != "true" or not env.get("API_SERVER_PORT", "").isdigit():
        return None
    return int(env["API_SERVER_PORT"])


def command(config: RunnerConfig, spec: ProfileSpec) -> list[str]:
    return [config.hermes_bin, "-p", spec.name, "gateway", "run"]


def child_env(spec: ProfileSpec) -> dict[str, str]:
    """hermes' environment: its root (profiles live in <root>/profiles/<name>) and nothing of ours."""
    root = str(spec.home.parent.parent)
    env = {key: os.environ[key] for key in _PASS_THROUGH if key in os.environ}
    return {**env, "HOME": root, "HERMES_HOME": root}


class Runner:
    name = "none"

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config

    def api_port(self) -> int | None:
        return None

    def start(self, spec: ProfileSpec, pid: int | None) -> Outcome:
        how = " ".join(command(self.config, spec))
        return Outcome("provisioned", None, f"TWILIGHT_PROFILE_RUNNER=none: start it with HERMES_HOME="
                                            f"{spec.home.parent.parent} {how}")  # fmt: skip


class ProcessRunner(Runner):
    """A child process of this server, its API server on a free loopback port for health."""

    name = "process"

    def api_port(self) -> int | None:
        return self.free_port()

    @staticmethod
    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def start(self, spec: ProfileSpec, pid: int | None) -> Outcome:
        if pid is not None and alive(pid):
            if healthy(spec.api_port):
                return Outcome("running", pid)
            stop(pid)  # alive but not answering: a second gateway would fight it for the profile
        if shutil.which(self.config.hermes_bin) is None:
            why = f"hermes is not installed ({self.config.hermes_bin!r} is not on PATH)"
            return Outcome("provisioned", None, f"{why}: pip install 'hermes-agent[mcp]' or set TWILIGHT_HERMES_BIN")
        log_path = spec.home / "logs" / "twilight-runner.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            child = subprocess.Popen(
                command(self.config, spec), env=child_env(spec), cwd=spec.home / "workspace",
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + HEALTH_WAIT_SECONDS
        while time.monotonic() < deadline:
            if child.poll() is not None:
                return Outcome("failed", None, f"hermes exited with {child.returncode}; see {log_path}")
            if healthy(spec.api_port):
                return Outcome("running", child.pid)
            time.sleep(0.5)
        return Outcome(
            "failed", child.pid, f"hermes did not answer /health in {HEALTH_WAIT_SECONDS:.0f} s; see {log_path}"
        )


class SystemdRunner(Runner):
    """A systemd user unit, written and enabled."""

    name = "systemd"

    def start(self, spec: ProfileSpec, pid: int | None) -> Outcome:
        unit = Path.home() / ".config" / "systemd" / "user" / f"twilight-{spec.name}.service"
        hermes = shutil.which(self.config.hermes_bin) or self.config.hermes_bin
        env = child_env(spec)
        write_atomically(unit, "\n".join([
            "[Unit]", f"Description=Twilight Drive research bot {spec.name}", "",
            "[Service]", f"ExecStart={hermes} -p {spec.name} gateway run",
            f"WorkingDirectory={spec.home / 'workspace'}",
            *(f'Environment="{k}={v}"' for k, v in sorted(env.items())), "Restart=on-failure", "RestartSec=5", "",
            "[Install]", "WantedBy=default.target", "",
        ]))  # fmt: skip
        if shutil.which("systemctl") is None:
            return Outcome("provisioned", None, f"systemctl is not available; unit written to {unit}")
        for args in (["daemon-reload"], ["enable", "--now", unit.name]):
            done = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                return Outcome("provisioned", None, f"systemctl --user {' '.join(args)}: {done.stderr.strip()[:300]}")
        return Outcome("running")


class DockerRunner(Runner):
    """A compose service with the profile bind-mounted, written and brought up."""

    name = "docker"

    def compose_file(self, name: str) -> Path:
        return self.config.compose_dir / f"{name}.yml"

    def start(self, spec: ProfileSpec, pid: int | None) -> Outcome:
        compose = self.compose_file(spec.name)
        port = spec.api_port  # its API server, published on loopback for health
        write_atomically(compose, "\n".join([
            "services:", f"  {spec.name}:", f"    image: {self.config.hermes_image}",
            f"    command: [hermes, -p, {spec.name}, gateway, run]", "    restart: unless-stopped",
            "    environment:", "      HERMES_HOME: /hermes", "    volumes:",
            f"      - {spec.home}:/hermes/profiles/{spec.name}",
            *(["    ports:", f'      - "127.0.0.1:{port}:{port}"'] if port else []), "",
        ]))  # fmt: skip
        if shutil.which("docker") is None:
            return Outcome("provisioned", None, f"docker is not available; compose file written to {compose}")
        done = subprocess.run(["docker", "compose", "-f", str(compose), "up", "-d"], capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        if done.returncode != 0:
            return Outcome("provisioned", None, f"docker compose up: {done.stderr.strip()[:300]}")
        return Outcome("running")


RUNNERS: dict[str, type[Runner]] = {"none": Runner, "process": ProcessRunner, "systemd": SystemdRunner,
                                    "docker": DockerRunner}  # fmt: skip


def for_config(config: RunnerConfig) -> Runner:
    return RUNNERS[config.name](config)


def stop(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def healthy(port: int | None) -> bool:
    if port is None:
        return False
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
