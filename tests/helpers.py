"""Small helpers the tests share: calling tools through the real MCP client, ports, a served server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp_types import CallToolResult

from mcp_server.server import build_server
from ops.runtime import Runtime


def error_of(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    text = result.content[0].text  # type: ignore[union-attr]
    body: dict[str, Any] = json.loads(text)["error"]
    return body


async def call(rt: Runtime, tool: str, **arguments: Any) -> CallToolResult:
    async with Client(build_server(rt, http_auth=False)) as client:
        return await client.call_tool(tool, arguments)


async def verdicts(rt: Runtime, text: str) -> list[str]:
    """verify_answer's status for each claim of `text`, in order."""
    body = (await call(rt, "verify_answer", text=text)).structured_content
    assert body is not None
    return [c["status"] for c in body["claims"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TWILIGHT = str(Path(sys.executable).with_name("twilight"))


def serve(env: dict[str, str], port: int, log_path: Path, timeout: float = 30) -> subprocess.Popen[bytes]:
    """`twilight serve` on `port`, its output in `log_path`, once /healthz answers (else the test fails)."""
    with log_path.open("w") as log:
        process = subprocess.Popen([TWILIGHT, "serve", "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("server did not come up:\n" + log_path.read_text())
