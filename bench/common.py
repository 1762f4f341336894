"""What every bench shares: the CLI next to this interpreter, a free loopback port, percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TWILIGHT = str(Path(sys.executable).with_name("twilight"))
# A bench key: the default limit (60 requests a minute) would answer most of a bench with 429.
ISSUE_BENCH_TOKEN = [TWILIGHT, "token", "issue", "--user", "bench", "--rate-limit", "1000000"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """`twilight serve` on `port`, once /healthz answers (its log is dropped: a bench prints figures only)."""
    server = subprocess.Popen([TWILIGHT, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not come up")


def bench_env(home: str, upstream_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "TWILIGHT_HOME": home, "TUSHARE_TOKEN": "bench", "TUSHARE_API_URL": upstream_url,
            "TWILIGHT_LOG_LEVEL": "WARNING", "TWILIGHT_SCHEDULE": "false", **extra}  # fmt: skip


def bench_token(env: dict[str, str]) -> str:
    issued = subprocess.run(ISSUE_BENCH_TOKEN, env=env, capture_output=True, text=True, check=True)
    return issued.stdout.splitlines()[-1]


def call_tool(http: httpx.Client, url: str, name: str, arguments: dict[str, Any]) -> float:
    """One tools/call over HTTP; its wall time in seconds (a failed call ends the bench)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    started = time.perf_counter()
    response = http.post(url, json=body)
    elapsed = time.perf_counter() - started
    payload = response.json()
    if response.status_code != 200 or payload.get("result", {}).get("isError"):
        raise SystemExit(f"{name} failed: {response.status_code} {response.text[:300]}")
    return elapsed
