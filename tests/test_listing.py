"""tools/list stays navigable: tools by kind, short descriptions, and the cite's schema once (a
resource), not in every tool's outputSchema; answers still fit the schema listed."""

from __future__ import annotations

import json

import jsonschema
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from mcp_server.listing import CITE_URI, KINDS
from mcp_server.server import build_server
from ops.runtime import Runtime
from tests.conftest import SettableClock

pytestmark = pytest.mark.anyio


async def test_tools_are_listed_by_kind_without_the_cite_schema_per_tool(runtime: Runtime) -> None:
    server = build_server(runtime, http_auth=False)
    full = json.dumps([t.model_dump(mode="json") for t in await MCPServer.list_tools(server)])
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        cite = await client.read_resource(CITE_URI)
        summary = await client.read_resource("twilight://schemas/ResultSummary")
        with pytest.raises(MCPError, match="no schema"):
            await client.read_resource("twilight://schemas/Nothing")
    listed = json.dumps([t.model_dump(mode="json") for t in tools])
    assert len(listed) < len(full) / 2, (len(listed), len(full))
    order = [n for names in KINDS.values() for n in names]
    known = [t.name for t in tools if t.name in order]
    assert known == sorted(known, key=order.index) and tools[0].name == "price" and tools[-1].name == "ping"
    for tool in tools:
        assert tool.title and ": " in tool.title and len(tool.description or "") <= 800, tool.name
        schema = tool.output_schema or {}
        assert not {"Attempt", "Receipt", "ColumnSummary"} & set(schema.get("$defs", {})), tool.name
        assert "Full schema: resource twilight://schemas/Cite" in json.dumps(schema), tool.name
    assert "tool_call_id" in json.loads(cite.contents[0].text)["properties"]  # type: ignore[union-attr]
    assert "numbers" in json.loads(summary.contents[0].text)["properties"]  # type: ignore[union-attr]


async def test_answers_fit_the_schema_listed(runtime: Runtime, clock: SettableClock) -> None:
    clock.set(2025, 10, 23)
    async with Client(build_server(runtime, http_auth=False)) as client:
        schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        asked = {"price": {"code": "600519", "trade_date": "20240620"}, "ping": {},
                 "fundamentals": {"code": "600519", "trade_date": "20251023"}}  # fmt: skip
        for tool, arguments in asked.items():
            answer = (await client.call_tool(tool, arguments)).structured_content
            assert answer is not None and "cite" in answer, tool
            jsonschema.validate(answer, schemas[tool] or {})
