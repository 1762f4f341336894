"""Small helpers for calling tools through the real MCP client."""

from __future__ import annotations

import json
import socket
from typing import Any

from mcp import Client
from mcp_types import CallToolResult

from mcp_server.runtime import Runtime
from mcp_server.server import build_server


def error_of(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    text = result.content[0].text  # type: ignore[union-attr]
    body: dict[str, Any] = json.loads(text)["error"]
    return body


async def call(rt: Runtime, tool: str, **arguments: Any) -> CallToolResult:
    async with Client(build_server(rt, http_auth=False)) as client:
        return await client.call_tool(tool, arguments)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
