"""The profile registry with real git: one bare repository and two working copies for two hosts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
import structlog.testing
import yaml

from profiles.registry import ClaimRefused, Registry, RegistryError, SyncConflict

CONFIG = {"model": {"provider": "custom", "default": "deepseek-chat"}, "terminal": {"cwd": "/w"},
          "mcp_servers": {"twilight": {"url": "http://127.0.0.1:9100/mcp"}}}  # fmt: skip


def verify(identity: str) -> str | None:
    kind, _, ref = identity.partition(":")
    return ref if kind == "operator" and ref else {"payment:TX1": "user-abc123"}.get(identity)


@pytest.fixture
def hosts(tmp_path: Path) -> tuple[Registry, Registry, Path]:
    remote = tmp_path / "registry.git"  # missing: made on first use
    mac = Registry(str(remote), tmp_path / "mac" / "copy", actor="liang@mac").ensure()
    vps = Registry(str(remote), tmp_path / "vps" / "copy", actor="ops@vps").ensure()
    return mac, vps, remote


def add_profile(registry: Registry, name: str, secret: str = "sk-secret-value-1234") -> Path:
    home = registry.workdir / "profiles" / name
    (home / "workspace").mkdir(parents=True)
    (home / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    (home / "SOUL.md").write_text("You are a research assistant.\n")
    (home / ".env").write_text(f"TWILIGHT_API_TOKEN={secret}\n")
    (home / ".gitignore").write_text(".env\nstate.db\nlogs/\n")
    return home


def log(registry: Registry) -> list[str]:
    return registry.git("log", "--format=%an|%s").splitlines()


def test_first_use_initialises_an_empty_registry_and_clones_it(hosts: tuple[Registry, Registry, Path]) -> None:
    _, vps, remote = hosts
    assert (remote / "HEAD").exists() and (vps.workdir / "OWNERS").exists() and (vps.workdir / "README.md").exists()
    assert log(vps) == ["liang@mac|registry: initialise (profiles/, OWNERS, README)"]


def test_push_pull_claims_and_transfer(hosts: tuple[Registry, Registry, Path]) -> None:
    mac, vps, remote = hosts
    add_profile(mac, "stock-research-agent")
    assert mac.push("add stock-research-agent") is True
    assert mac.push("again") is False  # nothing new
    tracked = mac.git("ls-files").split()
    assert "profiles/stock-research-agent/config.yaml" in tracked and not any(p.endswith(".env") for p in tracked)
    assert "sk-secret-value-1234" not in subprocess.run(["git", "-C", str(remote), "log", "-p", "--all"],
                                                        capture_output=True, text=True).stdout  # fmt: skip
    assert vps.pull() and vps.profiles() == ["stock-research-agent"]

    owner, changed = vps.claim("stock-research-agent", "operator:liang", verify)
    assert changed and owner.owner == "liang" and owner.verified_by == "operator:liang"
    assert vps.claim("stock-research-agent", "operator:liang", verify)[1] is False  # the owner again: no change
    commits = len(log(vps))
    with pytest.raises(ClaimRefused, match="owned by liang"):
        mac.claim("stock-research-agent", "operator:mallory", verify)
    with pytest.raises(ClaimRefused, match="proves no one"):
        mac.claim("stock-research-agent", "payment:unknown", verify)
    mac.pull()
    assert len(log(mac)) == commits and mac.owners()["stock-research-agent"].owner == "liang"
    assert any("claim: stock-research-agent by liang (operator:liang), by ops@vps" in line for line in log(mac))

    with pytest.raises(ClaimRefused, match="does not prove liang"):
        mac.transfer("stock-research-agent", "user-abc123", "operator:mallory", "payment:TX1", verify)
    moved = mac.transfer("stock-research-agent", "user-abc123", "operator:liang", "payment:TX1", verify)
    assert moved.owner == "user-abc123" and moved.verified_by == "payment:TX1"
    vps.pull()
    assert vps.owners()["stock-research-agent"].owner == "user-abc123"
    assert "transfer: stock-research-agent from liang (operator:liang) to user-abc123 (payment:TX1)" in log(vps)[0]


def test_disjoint_yaml_edits_on_two_hosts_both_survive(hosts: tuple[Registry, Registry, Path]) -> None:
    mac, vps, _ = hosts
    add_profile(mac, "p1")
    mac.push("add p1")
    vps.pull()
    edit(mac, "p1", lambda c: c["model"].update(default="qwen-plus"))
    (mac.workdir / "profiles" / "p1" / "SOUL.md").write_text("Mac soul\n")
    mac.push("model")
    edit(vps, "p1", lambda c: c["mcp_servers"]["twilight"].update(url="https://api.example.com/mcp"))
    (vps.workdir / "profiles" / "p1" / "SOUL.md").write_text("VPS soul\n")
    with structlog.testing.capture_logs() as logged:
        vps.push("mcp url")
    assert (vps.workdir / "profiles" / "p1" / "SOUL.md").read_text() == "VPS soul\n"  # the local side stays
    assert {
        "event": "sync_kept_local",
        "path": "profiles/p1/SOUL.md",
        "remote_text": "Mac soul\n",
        "log_level": "warning",
    } in logged  # and the other side is logged
    merged = yaml.safe_load((vps.workdir / "profiles" / "p1" / "config.yaml").read_text())
    assert merged["model"]["default"] == "qwen-plus"
    assert merged["mcp_servers"]["twilight"]["url"] == "https://api.example.com/mcp"
    mac.pull()
    assert yaml.safe_load((mac.workdir / "profiles" / "p1" / "config.yaml").read_text()) == merged


def test_a_config_conflict_aborts_the_push_with_the_keys_named(hosts: tuple[Registry, Registry, Path]) -> None:
    mac, vps, remote = hosts
    add_profile(mac, "p1")
    mac.push("add p1")
    vps.pull()
    edit(mac, "p1", lambda c: c["model"].update(default="qwen-plus"))
    mac.push("mac model")
    edit(vps, "p1", lambda c: c["model"].update(default="glm-4"))
    before = remote_head(remote)
    with pytest.raises(SyncConflict, match=r"model\.default") as raised:
        vps.push("vps model")
    assert raised.value.conflicts and remote_head(remote) == before  # nothing pushed
    assert yaml.safe_load((vps.workdir / "profiles" / "p1" / "config.yaml").read_text())["model"]["default"] == "glm-4"
    assert not (vps.workdir / ".git" / "MERGE_HEAD").exists()  # nothing half-merged


def test_a_secret_outside_env_is_never_committed(hosts: tuple[Registry, Registry, Path]) -> None:
    mac, _, _ = hosts
    home = add_profile(mac, "leaky", secret="sk-very-secret-0001")
    (home / "notes.md").write_text("my key is sk-very-secret-0001\n")
    with pytest.raises(RegistryError, match=r"notes\.md"):
        mac.push("leak")
    assert "notes.md" not in mac.git("ls-files")


def edit(registry: Registry, name: str, change: object) -> None:
    path = registry.workdir / "profiles" / name / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def remote_head(remote: Path) -> str:
    return subprocess.run(["git", "-C", str(remote), "rev-parse", "main"], capture_output=True, text=True).stdout


def test_template_apply_twice_through_the_cli(tmp_path: Path) -> None:
    """Two profiles from the pro template: placeholders filled, secrets planted 0600, none committed."""
    manager = str(Path(sys.executable).with_name("hermes-profile-manager"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TWILIGHT_")}, "TWILIGHT_HOME": str(tmp_path),
           "TWILIGHT_LLM_KEY_POOL": '["sk-pool-key-0001"]'}  # fmt: skip
    made = []
    for name in ("desk-a", "desk-b"):
        done = subprocess.run([manager, "template", "apply", "template-stock-research-pro", name, "--json"], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        made.append(Path(json.loads(done.stdout)["path"]))
    again = subprocess.run([manager, "template", "apply", "template-stock-research-pro", "desk-a"], env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert again.returncode == 1 and "desk-a" in again.stderr  # no collision: refused, nothing overwritten
    tokens = []
    for home in made:
        assert "{{" not in (home / "config.yaml").read_text() and home.name in (home / "config.yaml").read_text()
        assert stat.S_IMODE((home / ".env").stat().st_mode) == 0o600
        tokens.append(dict(line.split("=", 1) for line in (home / ".env").read_text().splitlines() if "=" in line))
    assert tokens[0]["TWILIGHT_API_TOKEN"] != tokens[1]["TWILIGHT_API_TOKEN"]
    tracked = subprocess.run(["git", "-C", str(made[0].parent.parent), "ls-files"], capture_output=True, text=True)
    assert "profiles/desk-b/config.yaml" in tracked.stdout.splitlines()
    history = subprocess.run(["git", "-C", str(tmp_path / "profile-registry.git"), "log", "-p", "--all"],
                             capture_output=True, text=True).stdout  # fmt: skip
    assert all(t["TWILIGHT_API_TOKEN"] not in history and t["API_SERVER_KEY"] not in history for t in tokens)
    assert "template apply template-stock-research-pro as desk-b" in history
