"""`lookup`: the codes a name, an abbreviation, pinyin initials or a code stands for.

An agent asked about 茅台 or 招行 must find 600519.SH or 600036.SH before any other tool can
answer; guessing a code from memory is how a wrong company's numbers get cited. The names are
the listing in the warehouse (`warehouse.listing`: fetched whole on the first lookup, refreshed
daily); how a query matches a name is `mcp_server.name_match`. Finding nothing is an answer, not
an error: an empty list with a hint of what to try.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation.attempts import Attempts
from citation.models import Cite
from mcp_server.answering import READ_ONLY, answer, bound, iso, make_cite
from mcp_server.context import ToolContext
from mcp_server.name_match import MatchKind, plain, rank
from providers.symbols import InvalidArgument, parse_code, quoted
from warehouse.listing import Named

MAX_QUERY = 40  # longer than any listed name (the longest are about 12 characters) with room to spare
MAX_LIMIT = 50
_SIX_DIGITS = re.compile(r"^\d{6}$", re.ASCII)
_CODE_LIKE = re.compile(r"^(\d{6}(\.[A-Za-z]{2})?|[A-Za-z]{2}\d{6})$", re.ASCII)


class Match(BaseModel):
    ts_code: str
    name: str
    kind: str = Field(description="stock, index or fund")
    market: str | None = Field(description="Board: 主板, 创业板, 科创板, 北交所 ...")
    industry: str | None
    list_date: str | None = Field(description="YYYY-MM-DD")
    match: MatchKind = Field(description="code > exact > prefix > substring > subsequence > initials")


class LookupAnswer(BaseModel):
    query: str
    matches: list[Match] = Field(description="Best first")
    total: int = Field(description="How many names matched in all (matches holds the first `limit`)")
    hint: str | None = Field(default=None, description="What to try when nothing, or too much, matched")
    cite: Cite


def _checked(query: str) -> str:
    remedy = "pass a name (贵州茅台, 茅台), an abbreviation (招行), pinyin initials (gzmt) or a code (600519)"
    if not plain(query):
        raise InvalidArgument("query", "query is empty", remedy)
    if len(query) > MAX_QUERY:
        raise InvalidArgument("query", f"query {quoted(query)} is longer than {MAX_QUERY} characters", remedy)
    if any(unicodedata.category(c).startswith("C") for c in query):
        raise InvalidArgument("query", f"query {quoted(query)} holds control characters", remedy)
    return query.strip()


def _codes(query: str, entries: tuple[Named, ...]) -> frozenset[str]:
    """The ts_codes a query spells, if it is a code: six digits name every exchange's (000001 is
    平安银行 000001.SZ and, where indexes are listed, 上证指数 000001.SH)."""
    text = unicodedata.normalize("NFKC", query).strip()
    if _SIX_DIGITS.match(text):
        return frozenset(e.ts_code for e in entries if e.ts_code.split(".")[0] == text)
    if _CODE_LIKE.match(text):
        try:
            return frozenset({parse_code(text).code})
        except InvalidArgument:
            return frozenset()
    return frozenset()


def _hint(query: str, total: int, shown: int) -> str | None:
    if total == 0:
        return (f"no listed name or code matches {quoted(query)}: try the short name (贵州茅台), a part of it"
                " (茅台), its pinyin initials (gzmt) or the six-digit code")  # fmt: skip
    if total > shown:
        return f"{total} names match; the best {shown} are shown: a longer query narrows them"
    return None


async def lookup(
    rt: ToolContext,
    query: Annotated[str, Field(description="Name (茅台), abbreviation (招行), pinyin initials (gzmt) or code")],
    limit: Annotated[StrictInt, Field(description="At most this many matches (1-50)")] = 10,
) -> Annotated[CallToolResult, LookupAnswer]:
    """Find A-share codes by name, abbreviation, pinyin initials or code: 茅台, gzmt → 600519.SH;
    招行 → 600036.SH. Best match first, with board, industry and listing date."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument("limit", f"limit {quoted(limit)} is outside 1..{MAX_LIMIT}", "ask for 1 to 50")
        text = _checked(query)
        names = await rt.listing.names(attempts, tool_call_id)
        hits = rank(text, names.entries, _codes(text, names.entries))
        matches = [
            Match(ts_code=h.entry.ts_code, name=h.entry.name, kind=h.entry.kind, market=h.entry.board,
                  industry=h.entry.industry, list_date=h.entry.list_date.isoformat() if h.entry.list_date else None,
                  match=h.kind)
            for h in hits[:limit]
        ]  # fmt: skip
        cite = make_cite(tool_call_id, names.fetched_at, attempts, layer="normalized",
                         upstream_sources=list(names.sources), ingested_at=iso(names.fetched_at),
                         warnings=list(names.warnings))  # fmt: skip
        return LookupAnswer(query=text, matches=matches, total=len(hits), hint=_hint(text, len(hits), len(matches)),
                            cite=cite)  # fmt: skip

    return await answer(rt, "lookup", body, query=query, limit=limit)


def register(server: MCPServer, rt: ToolContext) -> None:
    server.add_tool(bound(rt, lookup), annotations=READ_ONLY)
