"""The catalog tools: any tushare interface the operator's token can reach, found, described and asked.

The named tools answer the datasets we declare, point in time; these three answer the rest of
tushare as its documentation states it (providers/tushare/catalog.json). A question is checked
against the catalog before it costs a request, asked through the tushare provider's guard page
by page, and kept in the warehouse's raw layer. A token without the points for an interface
hears how many points the docs name, never an empty answer.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from citation.attempts import Attempts
from citation.catalog import CatalogAnswer, CatalogEntry, DescribeAnswer, FieldDoc, ParamDoc, TushareQueryAnswer
from citation.models import Cite
from mcp_server.answering import READ_ONLY, answer, bound, make_cite
from mcp_server.context import ToolContext
from mcp_server.errors import ToolFailure
from providers.errors import PermissionDenied
from providers.tushare import catalog
from providers.tushare.catalog import CANONICAL, Interface

RESULTS = 20  # interfaces a search lists: the best ones; a narrower query finds the others
_LINE = 80
_YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _catalog_cite(tool_call_id: str, attempts: Attempts, found: catalog.Catalog) -> Cite:
    attempts.add("tushare_docs", "catalog", "ok", found.provenance)
    return make_cite(tool_call_id, found.crawled, attempts, source="tushare_docs")


def _line(text: str) -> str:
    return text if len(text) <= _LINE else text[: _LINE - 1] + "…"


def _entry(item: Interface) -> CatalogEntry:
    return CatalogEntry(name=item.name, title=item.title, category=item.category,
                        description=_line(item.description), points=item.points)  # fmt: skip


async def tushare_catalog(
    rt: ToolContext,
    query: Annotated[
        str | None, Field(description="Chinese or English words (市盈率, dividend, index weight); omit for all")
    ] = None,
) -> Annotated[CallToolResult, CatalogAnswer]:
    """Search tushare's interfaces (name, title, category, one line, points needed): the way to any
    dataset the named tools do not cover. Then tushare_describe(api_name) and tushare_query."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        found = catalog.load()
        words = (query or "").strip()
        if not words:
            cite = _catalog_cite(tool_call_id, attempts, found)
            return CatalogAnswer(query=None, matches=len(found.interfaces), categories=found.categories(),
                                 source=found.provenance, cite=cite)  # fmt: skip
        hits = found.search(words)
        return CatalogAnswer(query=words, matches=len(hits), results=[_entry(i) for i in hits[:RESULTS]],
                             source=found.provenance, cite=_catalog_cite(tool_call_id, attempts, found))  # fmt: skip

    return await answer(rt, "tushare_catalog", body, query=query)


async def tushare_describe(
    rt: ToolContext, api_name: Annotated[str, Field(description="A tushare interface, e.g. daily_basic")]
) -> Annotated[CallToolResult, DescribeAnswer]:
    """One tushare interface: its parameters (type, required), its fields (type, unit where the docs
    state one), its row cap and the points it needs."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        found = catalog.load()
        item = found.get(api_name)
        params = [ParamDoc(name=p.name, type=p.type, required=p.required, description=p.description)
                  for p in item.params or ()]  # fmt: skip
        fields = [FieldDoc(name=f.name, type=f.type, default=f.default, description=f.description, unit=f.unit)
                  for f in item.fields or ()]  # fmt: skip
        return DescribeAnswer(
            name=item.name, title=item.title, category=item.category, description=item.description,
            points=item.points, permission=item.permission, row_cap=item.row_cap, documented=item.documented,
            params=params, fields=fields, doc_url=item.doc_url, source=found.provenance,
            cite=_catalog_cite(tool_call_id, attempts, found),
        )  # fmt: skip

    return await answer(rt, "tushare_describe", body, api_name=api_name)


def _cell(column: str, value: Any) -> Any:
    """A date column's YYYYMMDD as YYYY-MM-DD, as every answer writes dates (whether it came as text or,
    parsed on the way, as a number); anything else as sent."""
    if not column.endswith("date") or isinstance(value, bool):
        return value
    text = f"{value:.0f}" if isinstance(value, float) and value.is_integer() else str(value)
    day = _YYYYMMDD.match(text) if isinstance(value, str | int | float) else None
    return f"{day[1]}-{day[2]}-{day[3]}" if day else value


def _no_permission(item: Interface, exc: PermissionDenied, attempts: Attempts) -> ToolFailure:
    needs = f"at least {item.points} tushare points (积分)" if item.points is not None else "a permission"
    docs = f" The docs: {item.permission}" if item.permission else ""
    remedy = (f"{item.name} needs {needs}, which the server's TUSHARE_TOKEN lacks: raise the account's points "
              f"or open the permission at tushare.pro ({item.doc_url or 'https://tushare.pro'}).{docs}")  # fmt: skip
    return ToolFailure("AUTH", str(exc), remedy, attempts=attempts.log)


async def tushare_query(
    rt: ToolContext,
    api_name: Annotated[str, Field(description="A tushare interface from tushare_catalog, e.g. trade_cal")],
    params: Annotated[
        dict[str, Any] | None, Field(description='Its parameters, e.g. {"exchange": "SSE", "start_date": "20240101"}')
    ] = None,
    fields: Annotated[
        list[str] | str | None, Field(description="Fields to answer (default: the interface's default fields)")
    ] = None,
) -> Annotated[CallToolResult, TushareQueryAnswer]:
    """Ask any tushare interface (checked against tushare_describe first), paged past its row cap
    and stored raw; rows with units where the docs state them, and a cite."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        item = catalog.load().get(api_name)
        asked, wanted = catalog.checked(item, params, fields)
        try:
            got = await rt.run_read(rt.adhoc.ask, item, asked, wanted, attempts, tool_call_id)
        except PermissionDenied as exc:
            raise _no_permission(item, exc, attempts) from exc
        raw, pages = got.raw, got.pages
        columns = raw.fields
        rows = [[_cell(c, v) for c, v in zip(columns, row, strict=True)] for row in raw.items]
        units = {c: CANONICAL.get(u, u) for c in columns if (u := item.unit(c)) is not None}
        notes = [] if rows else [f"tushare answered no rows for {item.name} with these parameters"]
        if not item.documented:
            notes.append(f"{item.name} is only in tushare's index: its parameters were not checked")
        warnings = [pages.note] if pages.note else []
        return TushareQueryAnswer(
            columns=columns, rows=rows, row_count=len(rows), units=units, api_name=item.name, params=asked,
            pages=pages.requests, complete=pages.complete, raw_id=got.raw_id, notes=notes,
            cite=make_cite(tool_call_id, raw.fetched_at, attempts, source="tushare", layer="raw", warnings=warnings),
        )  # fmt: skip

    return await answer(rt, "tushare_query", body, api_name=api_name, params=params, fields=fields)


def register(server: MCPServer, rt: ToolContext) -> None:
    for tool in (tushare_catalog, tushare_describe, tushare_query):
        server.add_tool(bound(rt, tool), annotations=READ_ONLY)
