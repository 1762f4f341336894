"""Calling one tool of the profile's own Twilight Drive MCP server, inside hermes' interpreter.

Why the standard library: the plugin runs in hermes-agent's environment, not ours, so it may use only
what hermes itself depends on (PyYAML and python-dotenv are among them; our MCP SDK is not).

Where the server and the key come from: the same `mcp_servers.twilight` entry of the profile's
`config.yaml` that hermes' own MCP client uses (`url`, and `headers` with
`Authorization: Bearer ${TWILIGHT_API_TOKEN}`). `${VAR}` is filled from the profile's `.env` first,
then from the environment, the precedence hermes gives them (`hermes_cli/env_loader.py:
load_hermes_dotenv` loads `.env` over the shell's values), so the check always runs with the
profile's own key even in a process that serves several profiles.

The exchange is what a spec-following client sends to a streamable-HTTP server (`initialize`, the
`notifications/initialized` notice, then `tools/call` with the negotiated `MCP-Protocol-Version` and any
`Mcp-Session-Id`), one JSON body per POST. Our server is stateless and answers JSON, never SSE; a
reply in any other form is reported as unusable rather than guessed at.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from dotenv import dotenv_values

SERVER = "twilight"  # the mcp_servers key of our server in config.yaml
PROTOCOL_VERSION = "2025-06-18"  # offered at initialize; the server's answer is what we then send
CLIENT_INFO = {"name": "twilight-verify", "version": "1.0.0"}

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_T = TypeVar("_T")


class Unavailable(Exception):
    """The check could not be made (no server configured, unreachable, refused, slow or malformed).
    The message names the cause and never a header value."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    headers: Mapping[str, str]


def hermes_home() -> Path:
    """The profile hermes is running as. hermes' own resolver sees the per-request profile scope its
    API server sets (a context variable, not the environment); outside hermes, HERMES_HOME is all."""
    try:
        resolve: Callable[[], Path] = importlib.import_module("hermes_constants").get_hermes_home
    except ImportError:
        return Path(os.environ.get("HERMES_HOME") or Path.home() / ".hermes")
    return Path(resolve())


def find_endpoint(home: Path) -> Endpoint:
    """The MCP URL and headers of `home`'s `mcp_servers.twilight`, every `${VAR}` filled."""
    try:
        config = yaml.safe_load((home / "config.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise Unavailable(f"cannot read {home / 'config.yaml'}: {exc}") from exc
    servers = config.get("mcp_servers") if isinstance(config, dict) else None
    server = servers.get(SERVER) if isinstance(servers, dict) else None
    if not isinstance(server, dict) or not isinstance(server.get("url"), str) or not server["url"]:
        raise Unavailable(f"{home / 'config.yaml'} has no mcp_servers.{SERVER}.url")
    values = {**os.environ, **{k: v for k, v in dotenv_values(home / ".env").items() if v is not None}}
    headers = server.get("headers") or {}
    if not isinstance(headers, dict):
        raise Unavailable(f"mcp_servers.{SERVER}.headers in {home / 'config.yaml'} is not a mapping")
    filled = {str(name): _fill(str(value), values, f"header {name}") for name, value in headers.items()}
    return Endpoint(_fill(server["url"], values, "url"), filled)


def _fill(text: str, values: Mapping[str, str], what: str) -> str:
    missing = sorted({name for name in _VARIABLE.findall(text) if not values.get(name)})
    if missing:
        raise Unavailable(f"mcp_servers.{SERVER} {what} needs {', '.join(missing)}, set in neither .env nor the env")
    return _VARIABLE.sub(lambda m: values[m.group(1)], text)


def call_tool(endpoint: Endpoint, name: str, arguments: Mapping[str, Any], *, timeout: float) -> dict[str, Any]:
    """The tool's structuredContent, within `timeout` seconds in all (hermes bounds no hook, so a
    server that accepts and never answers would otherwise hold the reply back for good)."""
    return _bounded(lambda: _exchange(endpoint, name, arguments, time.monotonic() + timeout), timeout)


def _bounded(work: Callable[[], _T], timeout: float) -> _T:
    """`work()`'s result, or Unavailable once `timeout` has passed. The worker is a daemon thread: one
    left behind ends with its own socket timeout and never keeps hermes from exiting."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller's thread, which decides
            box["error"] = exc

    worker = threading.Thread(target=run, name="twilight-verify", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise Unavailable(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    value: _T = box["value"]
    return value


def _exchange(endpoint: Endpoint, name: str, arguments: Mapping[str, Any], deadline: float) -> dict[str, Any]:
    hello = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
    session: dict[str, str] = {}
    reply, answered = _post(endpoint, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
                            session, deadline)  # fmt: skip
    version = _result(reply, "initialize").get("protocolVersion")
    session["MCP-Protocol-Version"] = version if isinstance(version, str) and version else PROTOCOL_VERSION
    if answered.get("mcp-session-id"):
        session["Mcp-Session-Id"] = answered["mcp-session-id"]
    _post(endpoint, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session, deadline)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": dict(arguments)}}
    reply, _ = _post(endpoint, call, session, deadline)
    result = _result(reply, f"tools/call {name}")
    if result.get("isError"):
        content = result.get("content") or [{}]
        said = content[0].get("text", "") if isinstance(content[0], dict) else ""
        raise Unavailable(f"{name} answered an error: {str(said)[:300]}")
    structured = result.get("structuredContent")
    if not isinstance(structured, dict):
        raise Unavailable(f"{name} answered no structuredContent")
    return structured


def _post(
    endpoint: Endpoint, message: Mapping[str, Any], session: Mapping[str, str], deadline: float
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """POST one JSON-RPC message: (the JSON body, or None for an accepted notification; headers)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Unavailable(f"out of time before {message['method']}")
    headers = {**endpoint.headers, **session, "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}  # fmt: skip
    request = urllib.request.Request(endpoint.url, json.dumps(message).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=remaining) as response:
            status, kind, body = response.status, response.headers.get("Content-Type", ""), response.read()
            answered = {key.lower(): value for key, value in response.headers.items()}
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection open
        raise Unavailable(f"{message['method']}: HTTP {exc.code} from {endpoint.url}") from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, DNS, reset, socket timeout
        raise Unavailable(f"cannot reach {endpoint.url}: {getattr(exc, 'reason', exc)}") from exc
    if "id" not in message:
        return None, answered
    if status != 200 or not kind.startswith("application/json"):
        raise Unavailable(f"{message['method']}: HTTP {status} {kind or 'without a content type'}, not JSON")
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise Unavailable(f"{message['method']}: the answer is not JSON") from exc
    return (parsed if isinstance(parsed, dict) else {"result": None}), answered


def _result(reply: dict[str, Any] | None, what: str) -> dict[str, Any]:
    error = (reply or {}).get("error")
    if isinstance(error, dict):
        raise Unavailable(f"{what}: JSON-RPC error {error.get('code')}: {error.get('message')}")
    result = (reply or {}).get("result")
    if not isinstance(result, dict):
        raise Unavailable(f"{what}: the answer has no result")
    return result
