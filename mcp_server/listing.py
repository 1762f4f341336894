"""What `tools/list` hands a client: the tools grouped by kind, without the cite's schema per tool.

Every answer carries a cite, and pydantic writes the cite's whole schema (its attempts, its
receipt, a description per field: about 3,700 characters) into every tool's outputSchema. With
a dozen tools that was most of a 75 KB listing, which an agent's client pays for in context on
every session. So the listing gives each outputSchema the cite, and a cut table's summary and link,
in one line each (their full schemas are resources, `twilight://schemas/Cite` and so on), drops
pydantic's generated titles, and orders the tools by
kind with the kind in each tool's title. The schemas tools are called and checked with are the
SDK's own and unchanged: a structuredContent still fits the one listed, which only asks less.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mcp_types import Tool
from pydantic import BaseModel

from citation.models import Cite, FullResult, ResultSummary, SearchCite

SCHEMAS = "twilight://schemas/"
CITE_URI = SCHEMAS + "Cite"
# Shapes every answer (or every table) shares, each listed in one line; its full schema is a resource.
_SHARED: dict[str, tuple[type[BaseModel], str]] = {
    "Cite": (Cite, "The cite: tool_call_id (quote it beside each number), fetched_at, source, source_chain, "
             "attempts, warnings, receipt."),
    "SearchCite": (SearchCite, "A search result's cite: as the answer's cite, with engines and original_url."),
    "ResultSummary": (ResultSummary, "Set when a long answer was cut: row_count, first_date, last_date and per "
                      "number column first, latest, min, max, mean, count."),
    "FullResult": (FullResult, "Set when a long answer was cut: uri (resources/read), csv_url, expires_at, "
                   "rows_inline."),
}  # fmt: skip
# The kinds, in listing order; a tool not named here is listed last, as "other".
KINDS: dict[str, tuple[str, ...]] = {
    "prices": ("price", "warehouse_daily", "index_daily", "fund_nav", "chart"),
    "companies": (
        "lookup",
        "fundamentals",
        "financials",
        "warehouse_fundamentals",
        "warehouse_features",
        "dividends",
        "holders",
        "forecasts",
        "industry",
        "moneyflow",
        "announcements",
    ),
    "indexes and macro": ("index_members", "macro"),
    "any tushare interface": ("tushare_catalog", "tushare_describe", "tushare_query"),
    "search and checking": ("search", "verify_answer"),
    "service": ("quality_status", "quality_logs", "ping"),
}
_KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}
_ORDER = {name: index for index, name in enumerate(n for names in KINDS.values() for n in names)}


def _one_line(name: str) -> dict[str, Any]:
    about = _SHARED[name][1]
    return {"type": "object", "description": f"{about} Full schema: resource {SCHEMAS}{name}."}


def _untitled(node: Any) -> Any:
    """The schema without pydantic's generated titles (a property named `title` is kept: its value is a schema)."""
    if isinstance(node, dict):
        return {k: _untitled(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    return node


def _used(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.removeprefix("#/$defs/"))
        for value in node.values():
            _used(value, found)
    elif isinstance(node, list):
        for value in node:
            _used(value, found)
    return found


def compact(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """An outputSchema with the shared shapes in one line each and no definitions left unreferenced."""
    if schema is None:
        return None
    defs = {name: _one_line(name) if name in _SHARED else body for name, body in schema.get("$defs", {}).items()}
    top = {k: v for k, v in schema.items() if k != "$defs"}
    reachable: set[str] = set()
    frontier = _used(top, set())
    while frontier - reachable:
        name = (frontier - reachable).pop()
        reachable.add(name)
        frontier |= _used(defs.get(name, {}), set())
    kept = {name: body for name, body in defs.items() if name in reachable}
    untitled: dict[str, Any] = _untitled({**top, **({"$defs": kept} if kept else {})})
    return untitled


def _listed(tool: Tool) -> Tool:
    kind = _KIND_OF.get(tool.name, "other")
    return tool.model_copy(
        update={"title": tool.title or f"{kind}: {tool.name}", "output_schema": compact(tool.output_schema)}
    )


def listing(tools: Iterable[Tool]) -> list[Tool]:
    """The tools by kind, each titled with its kind, their outputSchemas compact."""
    return [_listed(t) for t in sorted(tools, key=lambda t: _ORDER.get(t.name, len(_ORDER)))]


def shared_schema(name: str) -> str:
    """The full JSON schema of a shape the listing gives in one line (Cite, SearchCite, ResultSummary, FullResult)."""
    model = _SHARED.get(name)
    if model is None:
        raise KeyError(f"no schema {name!r}: one of {', '.join(_SHARED)}")
    return json.dumps(model[0].model_json_schema(), ensure_ascii=False)
