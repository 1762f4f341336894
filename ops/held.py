"""The stdio server's answer when it cannot open its warehouse (another server holds it).

DuckDB lets one process open the file, so `twilight serve --transport stdio` beside an HTTP server
on the same TWILIGHT_HOME cannot serve. Exiting would leave its client (the Inspector, Claude
Desktop) with nothing but "Connection closed"; so it speaks MCP anyway, until the client hangs up:
the reason is in its instructions, listing the tools is a JSON-RPC error carrying it (what the
Inspector shows), and every tool call answers a SERVICE error saying who holds the warehouse and
what to do.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from mcp_server.errors import ToolFailure
from ops import __version__


def held_by(home: Path, who: dict[str, Any]) -> ToolFailure:
    """What a tool answers while the server `who` (the lock's holder record) holds `home`'s warehouse."""
    pid = who.get("pid", "?")
    if who.get("mcp_url"):
        return ToolFailure(
            "SERVICE",
            f"the warehouse in {home} is held by the server at {who['mcp_url']} (pid {pid}); this stdio server"
            " cannot open it (one process owns a DuckDB file)",
            "stop it, or use that server over HTTP (its URL with a bearer token from `twilight token issue`),"
            " or give this stdio server its own TWILIGHT_HOME",
        )
    return ToolFailure(
        "SERVICE",
        f"the warehouse in {home} is held by another `twilight serve` (pid {pid}); this stdio server cannot"
        " open it (one process owns a DuckDB file)",
        "stop it, or give this stdio server its own TWILIGHT_HOME",
    )


def cannot_open(reason: str) -> ToolFailure:
    """What a tool answers when the server could not open its stores for another reason."""
    return ToolFailure("SERVICE", f"this stdio server could not start: {reason}", "fix that and restart the server")


async def serve_refusal(failure: ToolFailure) -> None:
    """Speak MCP over stdio, answering every tool call with `failure`, until the client hangs up."""
    reason = f"not serving: {failure.message}; {failure.remedy}"
    print(f"twilight serve: {reason}", file=sys.stderr)

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        raise MCPError(types.INTERNAL_ERROR, reason)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return failure.result("tc_" + secrets.token_hex(8))

    server: Server[Any] = Server(
        "twilight-drive",
        version=__version__,
        title="Twilight Drive (not serving)",
        instructions=f"Not serving: {failure.message}. {failure.remedy}.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
