"""The whole result of a cut answer, read back: an MCP resource for agents, CSV for people.

A cut answer (`mcp_server.sizing`) names `twilight://results/<tool_call_id>`. Its rows are the
ledger's entry of that call, so nothing is stored twice and a figure read from here is one
`verify_answer` finds. Only the caller who asked may read it (another caller's, an unknown and an
expired id all read as "not found": which ids exist is nobody else's business), and only for
the configured time.
"""

from __future__ import annotations

import csv
import io
import re

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mcp_server.answering import caller
from mcp_server.auth import ACTIVE_SCOPE, AccountsTokenVerifier
from mcp_server.context import ToolContext
from mcp_server.sizing import RESULT_SCHEME
from warehouse.ledger import caller_of_user

_CALL_ID = re.compile(r"^tc_[0-9a-f]{16}$")


class NotFound(LookupError):
    """No readable result under that id for that caller."""


def whole_csv(rt: ToolContext, tool_call_id: str, who: str) -> str:
    """The rows of `tool_call_id`'s answer as CSV (a header of its columns), when `who` made it."""
    if not _CALL_ID.match(tool_call_id):
        raise NotFound("a result id is tc_ and 16 hex digits, as in full_result.uri")
    entry = rt.ledger.entries([tool_call_id], who).get(tool_call_id)
    if entry is None or "rows" not in entry.answer:
        raise NotFound(f"no result {tool_call_id} of yours: check the id in full_result.uri")
    if entry.recorded_at + rt.options.result_ttl < rt.clock.now():
        raise NotFound(f"result {tool_call_id} expired: ask the tool again")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(entry.answer["columns"])
    writer.writerows(entry.answer["rows"])
    return out.getvalue()


def register(server: MCPServer, rt: ToolContext) -> None:
    @server.resource(
        RESULT_SCHEME + "{tool_call_id}",
        name="result",
        title="Whole result of a cut answer",
        description="All rows of an answer too long to send whole (its full_result.uri), as CSV; its units "
        "and cite are the answer's.",
        mime_type="text/csv",
    )
    async def result(tool_call_id: str) -> str:
        try:
            return await rt.run_read(whole_csv, rt, tool_call_id, caller())
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from exc


def csv_route(rt: ToolContext) -> Route:
    """GET /results/<tool_call_id>.csv with the caller's key (Authorization: Bearer), for people: the
    key is checked as /mcp checks it (`AccountsTokenVerifier`), a revoked one refused alike."""
    verifier = AccountsTokenVerifier(rt.tokens)

    async def download(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        known = await verifier.verify_token(token) if scheme.lower() == "bearer" and token else None
        if known is None or ACTIVE_SCOPE not in known.scopes:
            return PlainTextResponse("send your key: Authorization: Bearer <key>\n", status_code=401,
                                     headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        tool_call_id = request.path_params["tool_call_id"]
        try:
            body = await rt.run_read(whole_csv, rt, tool_call_id, caller_of_user(known.client_id))
        except NotFound as exc:
            return PlainTextResponse(f"{exc}\n", status_code=404)
        disposition = f'attachment; filename="{tool_call_id}.csv"'
        return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})

    return Route("/results/{tool_call_id}.csv", download, methods=["GET"])
