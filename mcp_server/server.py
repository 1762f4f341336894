"""Building the MCPServer: the tools, and bearer auth when served over HTTP."""

from __future__ import annotations

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from citation import __version__
from mcp_server import (
    catalog_tools,
    chart_tool,
    claims,
    lookup_tool,
    results,
    search_tool,
    series_tools,
    sets_tools,
    tools,
    verify_tool,
    warehouse_tools,
)
from mcp_server.arguments import TwilightServer
from mcp_server.auth import ACTIVE_SCOPE, AccountsTokenVerifier
from mcp_server.context import ToolContext
from mcp_server.listing import SCHEMAS, shared_schema

INSTRUCTIONS = (
    "Twilight Drive serves cited A-share market data. Every answer carries cite.tool_call_id: "
    "quote it beside each number you state, then check your draft with verify_answer before "
    "answering. Errors carry a category and a remedy."
)


def schema(name: str) -> str:
    try:
        return shared_schema(name)
    except KeyError as exc:
        raise ResourceNotFoundError(str(exc)) from exc


def build_server(rt: ToolContext, *, http_auth: bool) -> MCPServer:
    """stdio runs as the local operator (no token); HTTP requires a bearer token."""
    auth = None
    verifier = None
    if http_auth:
        public = f"http://{rt.options.host}:{rt.options.port}"
        auth = AuthSettings(issuer_url=public, resource_server_url=None, required_scopes=[ACTIVE_SCOPE])  # type: ignore[arg-type]
        verifier = AccountsTokenVerifier(rt.tokens)
    server: MCPServer = TwilightServer(
        rt,
        "twilight-drive",
        title="Twilight Drive",
        instructions=INSTRUCTIONS,
        version=__version__,
        token_verifier=verifier,
        auth=auth,
        log_level=rt.options.log_level.upper(),
    )
    # The SDK wraps every message in an OpenTelemetry span, a no-op without an exporter, and this
    # server installs none: its traces are the request id and the tool_call_id in the log. The
    # span's bookkeeping was a tenth of a cached answer's time; the SDK says to drop it to opt out.
    server.middleware[:] = [m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)]
    tools.register(server, rt)
    claims.register(server, rt)
    warehouse_tools.register(server, rt)
    search_tool.register(server, rt)
    verify_tool.register(server, rt)
    series_tools.register(server, rt)
    sets_tools.register(server, rt)
    catalog_tools.register(server, rt)
    results.register(server, rt)
    server.resource(SCHEMAS + "{name}", name="schema", mime_type="application/json",
                    description="The full schema of a shape tools/list gives in one line.")(schema)  # fmt: skip
    lookup_tool.register(server, rt)
    chart_tool.register(server, rt)
    return server
