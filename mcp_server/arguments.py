"""Arguments the SDK refuses before a tool runs, told in our error shape.

The SDK checks a call's arguments against the tool's signature (pydantic, in `Tool.run`) and,
when they do not fit, answers pydantic's own text ("1 validation error for priceArguments ...").
Everywhere else an agent reads `{"error": {category, message, remedy, argument, tool_call_id}}`,
so a missing `start` or `layer=gold` is a PARAMETER error here too: it names the argument, says
what was wrong with it, and what the tool's input schema allows instead. An argument the tool does
not take is refused the same way: ignoring a misspelt `trade_dte` would answer another day than asked.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult
from mcp_types import Tool as MCPTool
from pydantic import ValidationError

from mcp_server.answering import refuse
from mcp_server.context import ToolContext
from mcp_server.errors import ToolFailure
from mcp_server.listing import listing
from providers.symbols import quoted

_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
_SENT = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}


def expects(prop: Mapping[str, Any]) -> str:
    """What a JSON schema property accepts, in words: `one of "curated", "raw"`, `a string or an integer`."""
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"], ensure_ascii=False)
    if "anyOf" in prop:
        return " or ".join(expects(p) for p in prop["anyOf"])
    kind = prop.get("type")
    if kind == "array" and isinstance(prop.get("items"), Mapping):
        return f"a list (each item {expects(prop['items'])})"
    return _KINDS.get(kind, "a value of the documented form") if isinstance(kind, str) else "a value"


def _sent(value: object) -> str:
    if value is None:
        return "null"
    return f"{quoted(value)} ({_SENT.get(type(value), type(value).__name__)})"


def refusal(schema: Mapping[str, Any], arguments: Mapping[str, Any], error: ValidationError) -> ToolFailure:
    """A PARAMETER failure naming each argument that does not fit `schema`, in the schema's order."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems: dict[str, str] = {}
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        name = str(item["loc"][0]) if item["loc"] else "arguments"
        if name in problems:
            continue  # a union reports once per member: one line per argument is enough
        if item["type"] == "missing":
            problems[name] = f"{name} is required"
        elif name in properties:
            problems[name] = f"{name} must be {expects(properties[name])}, not {_sent(arguments.get(name))}"
        else:
            problems[name] = f"{name} is not valid ({item['msg']})"
    order = list(properties)
    names = sorted(problems, key=lambda n: order.index(n) if n in order else len(order))
    remedies = []
    for name in names:
        prop = properties.get(name, {})
        about = f" ({prop['description']})" if prop.get("description") else ""
        remedies.append(f"pass {name} as {expects(prop)}{about}" if prop else f"check {name}")
    return ToolFailure(
        "PARAMETER",
        "; ".join(problems[n] for n in names),
        "; ".join(remedies),
        argument=names[0] if names else None,
    )


def unknown(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> ToolFailure | None:
    """A PARAMETER failure for arguments the tool does not take: a misspelt `trade_dte` must not mean "latest"."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    extra = [name for name in arguments if name not in properties]
    if not extra:
        return None
    name = extra[0]
    close = difflib.get_close_matches(name, list(properties), n=1)
    takes = ", ".join(properties) or "no arguments"
    return ToolFailure(
        "PARAMETER",
        f"{quoted(name)} is not an argument of this tool" + (f" (did you mean {close[0]}?)" if close else ""),
        f"use only: {takes}",
        argument=name[:80],
    )


class TwilightServer(MCPServer):
    """An MCPServer whose refusals of a call's arguments are our PARAMETER errors, not pydantic's text,
    and whose tools/list is navigable."""

    def __init__(self, rt: ToolContext, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rt = rt
        self._listed: list[MCPTool] | None = None

    async def list_tools(self) -> list[MCPTool]:
        """The tools grouped by kind, their outputSchemas compact (`mcp_server.listing`); made once,
        at the first listing, when every tool is registered."""
        if self._listed is None:
            self._listed = listing(await super().list_tools())
        return self._listed

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        schema = tool.parameters if tool is not None else None
        refused = unknown(schema, arguments or {}) if schema is not None else None
        if refused is not None:
            return refuse(self._rt, name, refused)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # Tool.run raises a ToolError caused by the ValidationError only for arguments that
            # fail the signature; a crash in a tool is an UnexpectedToolError and stays one.
            if isinstance(exc, UnexpectedToolError) or not isinstance(exc.__cause__, ValidationError):
                raise
            return refuse(self._rt, name, refusal(schema or {}, arguments, exc.__cause__))
