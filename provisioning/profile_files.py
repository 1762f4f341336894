"""The files of a user's hermes-agent profile, and writing them so that a crash leaves no half file.

A profile is a HERMES_HOME: `config.yaml` (the model behind our token gateway, our MCP server
with the user's key from `.env`, the API server used for health), `.env` (mode 0600: the
user's API key, the gateway key, the API server's key), `SOUL.md` (who the bot is) and
`workspace/AGENTS.md` (how it must cite), the workspace being the terminal's cwd.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SOUL = """# Twilight Drive research assistant

You are a personal research assistant for Chinese A-share (and global) markets. You answer with
numbers only from Twilight Drive's tools, and you say where each number came from.
"""

AGENTS = """# How to answer

- Every number you state (a price, a P/E, a growth rate) must come from a Twilight Drive tool
  result in this conversation. Quote it with the result's `cite.tool_call_id`, e.g.
  "P/E (TTM) 23.15 [tc_1a2b3c4d5e6f7a8b]".
- If no tool gave you a number, say you do not have it; never estimate one.
- Say the date a number is for (`trade_date`, `period_or_date`) and its unit.
"""


CONTEXT_LENGTH = 131072


@dataclass(frozen=True)
class ProfileSpec:
    name: str
    home: Path  # this profile's HERMES_HOME
    mcp_url: str
    gateway_url: str
    model: str
    api_port: int | None  # the API server's port, for health (runner process)


def config(spec: ProfileSpec) -> dict[str, Any]:
    """config.yaml: `${VAR}` values are expanded by hermes from the profile's `.env`."""
    body: dict[str, Any] = {
        "model": {
            "provider": "custom",
            "default": spec.model,
            "base_url": spec.gateway_url,
            "api_key": "${TWILIGHT_LLM_API_KEY}",
            "context_length": CONTEXT_LENGTH,  # known: hermes need not probe the gateway for it
        },
        "mcp_servers": {
            "twilight": {"url": spec.mcp_url, "headers": {"Authorization": "Bearer ${TWILIGHT_API_TOKEN}"}}
        },
        "platform_toolsets": {"api_server": ["twilight"]},
        "terminal": {"cwd": str(spec.home / "workspace")},  # where hermes reads AGENTS.md
        "security": {"tirith_enabled": False},  # its command scanner would download itself at start
    }
    return body


def api_server_env(spec: ProfileSpec, key: str) -> dict[str, str]:
    """The API server (health, and messages) is set up from `.env`: hermes does not expand
    `${VAR}` in config.yaml's platform settings, and its key belongs with the other secrets."""
    if spec.api_port is None:
        return {"API_SERVER_ENABLED": "false"}
    return {"API_SERVER_ENABLED": "true", "API_SERVER_HOST": "127.0.0.1", "API_SERVER_PORT": str(spec.api_port),
            "API_SERVER_KEY": key}  # fmt: skip


def read_env(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env (comments, blanks and `export ` skipped, quotes removed)."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            found[key.strip()] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] in "'\"" else value
    return found


def write_atomically(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write `text` to `path` through a temporary file and a rename; False when it was already so."""
    if path.exists() and path.read_text() == text and (path.stat().st_mode & 0o777) == mode:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_env(path: Path, values: dict[str, str]) -> bool:
    text = "# Written by Twilight Drive's provisioner. Secrets: never commit or share this file.\n"
    text += "".join(f"{key}={value}\n" for key, value in sorted(values.items()))
    return write_atomically(path, text, mode=0o600)


def write_profile(spec: ProfileSpec) -> None:
    """Every file but `.env` (which holds the secrets and is written first, by the provisioner)."""
    write_atomically(spec.home / "config.yaml", yaml.safe_dump(config(spec), sort_keys=False, allow_unicode=True))
    write_atomically(spec.home / "SOUL.md", SOUL)
    write_atomically(spec.home / "workspace" / "AGENTS.md", AGENTS)
