"""hermes-admin against real processes: spawn a profile from the pro template and start a real
`hermes gateway run`, check its health, read its logs, run a command as it, stop and start it,
and migrate one to a container (a compose service is written; no Docker engine runs here)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.slow
ADMIN = str(Path(sys.executable).with_name("hermes-admin"))
MANAGER = str(Path(sys.executable).with_name("hermes-profile-manager"))


@pytest.fixture
def host(hermes: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    llm = ScriptedLLM().start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(tmp_path / "home"), "TWILIGHT_HERMES_BIN": hermes, "TWILIGHT_LLM_GATEWAY_URL": llm.url,
        "TWILIGHT_LLM_MODEL": "scripted-llm", "TWILIGHT_LLM_KEY_POOL": '["sk-pool-key-0001"]',
        "TWILIGHT_PUBLIC_MCP_URL": "http://127.0.0.1:9/mcp",  # no MCP server: hermes starts without its tools
    }  # fmt: skip
    try:
        yield env
    finally:
        listed = subprocess.run([ADMIN, "list", "--json"], env=env, capture_output=True, text=True)
        for profile in json.loads(listed.stdout or "[]"):
            if profile["pid"]:
                subprocess.run([ADMIN, "stop", profile["profile"]], env=env, capture_output=True)
        llm.stop()


def admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADMIN, *args], env=env, capture_output=True, text=True, timeout=180)


def test_spawn_health_logs_exec_stop_start_and_migrate(host: dict[str, str]) -> None:
    spawned = admin(host, "spawn", "desk-1", "--tier", "prefab", "--json")
    assert spawned.returncode == 0, spawned.stderr
    info = json.loads(spawned.stdout)
    assert info["status"] == "running" and info["api"].startswith("http://127.0.0.1:")
    home = Path(info["path"])
    assert stat.S_IMODE((home / ".env").stat().st_mode) == 0o600 and "{{" not in (home / "config.yaml").read_text()
    listed_files = subprocess.run(["git", "-C", str(home.parent.parent), "ls-files"], capture_output=True, text=True)
    tracked = listed_files.stdout.splitlines()
    assert "profiles/desk-1/config.yaml" in tracked and "profiles/desk-1/.env" not in tracked

    health = admin(host, "health", "desk-1", "--json")
    assert health.returncode == 0 and json.loads(health.stdout)["status"] == "running"
    assert "==> logs/" in admin(host, "logs", "desk-1").stdout
    where = admin(host, "exec", "desk-1", "--", "sh", "-c", 'echo "$HERMES_HOME"')
    assert where.returncode == 0 and where.stdout.strip() == str(home)

    assert json.loads(admin(host, "stop", "desk-1", "--json").stdout)["state"] == "stopped"
    assert admin(host, "health", "desk-1", "--json").returncode == 1
    assert json.loads(admin(host, "start", "desk-1", "--json").stdout)["state"] == "running"
    listed = {p["profile"]: p for p in json.loads(admin(host, "list", "--json").stdout)}
    assert listed["desk-1"]["tier"] == "prefab" and listed["desk-1"]["pid"]

    moved = admin(host, "migrate", "desk-1", "--json")
    assert moved.returncode == 0, moved.stderr
    body = json.loads(moved.stdout)
    compose = Path(body["compose"]).read_text()
    assert body["tier"] == "container" and f"{home}:/hermes/profiles/desk-1" in compose
    port = info["api"].rsplit(":", 1)[1]
    assert f'"127.0.0.1:{port}:{port}"' in compose  # its API server stays reachable for health
    listed = {p["profile"]: p for p in json.loads(admin(host, "list", "--json").stdout)}
    assert listed["desk-1"]["tier"] == "container" and listed["desk-1"]["pid"] is None  # the process is gone

    missing = admin(host, "start", "nobody")
    assert missing.returncode == 1 and "no profile 'nobody'" in missing.stderr
    owners = subprocess.run([MANAGER, "list", "--json"], env=host, capture_output=True, text=True)
    assert "desk-1" in {p["profile"] for p in json.loads(owners.stdout)}
