"""The `search` tool: cited web search through SearXNG (fallbacks: DashScope, Google Custom Search).

The answers come from `warehouse.web_search` (its cache for TWILIGHT_SEARCH_CACHE_TTL_SECONDS,
then the web providers in the composer's order).

`since` keeps results published on or after that day (00:00 Asia/Shanghai). A result whose
provider gives no publication date cannot be checked: it is kept, counted in `undated_count`,
and its cite carries a warning saying so.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, StrictInt

from citation import SERVED_BY
from citation.attempts import Attempts
from citation.models import SearchAnswer, SearchCite, SearchResult, UnresponsiveEngine
from mcp_server.answering import READ_ONLY, answer, bound, day_of, iso, make_cite
from mcp_server.context import ToolContext
from mcp_server.errors import ToolFailure
from providers.errors import AllProvidersFailed, ProviderError, RateLimited
from providers.models import SHANGHAI
from providers.symbols import InvalidArgument, quoted
from warehouse.web_search import Found, NotConfigured, Question, WebSearch

MAX_RESULTS = 50
MAX_CATEGORIES = 16  # SearXNG has about a dozen; a longer list only lengthens the upstream URL
_LANGUAGE = re.compile(r"^(all|auto|[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,4})$")
_CATEGORY = re.compile(r"^[\w ]{1,40}$")
# Longest query passed upstream, in characters. Queries travel in a GET URL (SearXNG, Google),
# and a 64 KB one is refused by httpx itself (InvalidURL) before any provider sees it.
MAX_QUERY_CHARS = 500
UNDATED = "no publication date known: kept, but `since` could not be checked"


def _failure(exc: ProviderError | NotConfigured, search: WebSearch, log: list[dict[str, Any]]) -> ToolFailure:
    """What to tell the agent when no provider answered, naming the settings that would help."""
    missing = search.missing()
    fallbacks = [m for m in missing if m != "SEARXNG_URL"]
    if isinstance(exc, NotConfigured):
        return ToolFailure(
            "SERVICE",
            "web search is not configured on this server",
            "the operator must set SEARXNG_URL (a SearXNG instance with `json` in search.formats), and may "
            "add fallbacks: DASHSCOPE_API_KEY, or GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID",
            attempts=log,
        )
    failures = exc.failures if isinstance(exc, AllProvidersFailed) else [exc]
    reasons = "; ".join(f"{f.provider}: {type(f).__name__} ({f})" for f in failures)
    if failures and all(isinstance(f, RateLimited) for f in failures):
        wait = max(f.retry_after for f in failures if isinstance(f, RateLimited))
        return ToolFailure(
            "RATE_LIMIT", f"every web search provider is rate-limited: {reasons}",
            f"wait {wait} s and call again", retry_after=wait, attempts=log,
        )  # fmt: skip
    if "SEARXNG_URL" in missing:
        remedy = "the operator should set SEARXNG_URL to a SearXNG instance (with `json` in search.formats)"
    else:
        remedy = f"SearXNG at {search.searxng_url} is down or refusing: try again in a minute"
    if fallbacks:
        remedy += "; the operator can add a fallback by setting " + " or ".join(fallbacks)
    return ToolFailure("SERVICE", f"every web search provider failed: {reasons}", remedy, attempts=log)


async def search(
    rt: ToolContext,
    query: Annotated[str, Field(description="What to search the web for")],
    since: Annotated[
        str | StrictInt | None,
        Field(description="Only results published on or after this day (YYYY-MM-DD or YYYYMMDD)"),
    ] = None,
    max_results: Annotated[StrictInt, Field(description="How many results, 1 to 50")] = 10,
    language: Annotated[str, Field(description="Result language, e.g. zh-CN, en, all")] = "zh-CN",
    categories: Annotated[
        list[str] | None, Field(description='SearXNG categories, e.g. ["news"]; default its general one')
    ] = None,
) -> Annotated[CallToolResult, SearchAnswer]:
    """Search the web (news, announcements, commentary): each result has a title, URL, snippet,
    publication time where known and its own cite (which provider and engines served it). Quote
    `cite.tool_call_id` and the URL beside anything taken from a result. Engines that failed are
    listed in `unresponsive_engines`."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        words = (query or "").strip()
        if not words:
            raise InvalidArgument("query", "query is empty", "pass the words to search for")
        if len(words) > MAX_QUERY_CHARS:
            raise InvalidArgument(
                "query",
                f"query has {len(words)} characters, over {MAX_QUERY_CHARS}",
                "search for the key words only (names, codes, the event), not a whole text",
            )
        if not 1 <= max_results <= MAX_RESULTS:
            raise InvalidArgument(
                "max_results", f"max_results {quoted(max_results)} is out of range", f"use 1 to {MAX_RESULTS}"
            )
        lang = (language or "").strip()
        if not _LANGUAGE.match(lang):
            raise InvalidArgument(
                "language", f"language {quoted(language)} is not a language code", "use zh-CN, en or all"
            )
        day = day_of(since, "since", rt.clock.today())
        cats = sorted({c.strip() for c in categories or [] if c and c.strip()})
        if len(cats) > MAX_CATEGORIES or not all(_CATEGORY.match(c) for c in cats):
            raise InvalidArgument(
                "categories",
                f"categories {quoted(categories)} are not SearXNG category names",
                f'pass up to {MAX_CATEGORIES} names such as ["news"] or ["general", "news"]',
            )
        question = Question(words, lang, day, max_results, tuple(cats))
        try:
            found = await rt.run_read(rt.search.answer, question, attempts, tool_call_id)
        except (ProviderError, NotConfigured) as exc:
            raise _failure(exc, rt.search, attempts.log) from exc
        return _build(found, words, day, max_results, tool_call_id, attempts)

    return await answer(
        rt,
        "search",
        body,
        query=query,
        since=since,
        max_results=max_results,
        language=language,
        categories=categories,
    )


def register(server: MCPServer, rt: ToolContext) -> None:
    server.add_tool(bound(rt, search), annotations=READ_ONLY)


def _build(
    found: Found, query: str, day: dt.date | None, max_results: int, tool_call_id: str, attempts: Attempts
) -> SearchAnswer:
    cutoff = dt.datetime.combine(day, dt.time(0), SHANGHAI) if day else None
    fetched = iso(found.fetched_at)
    results: list[SearchResult] = []
    dropped = 0
    for hit in found.hits:
        published = hit.get("published_at")
        if cutoff is not None and published and dt.datetime.fromisoformat(published.replace("Z", "+00:00")) < cutoff:
            dropped += 1
            continue
        if len(results) >= max_results:
            continue
        cite = SearchCite(
            tool_call_id=tool_call_id,
            fetched_at=fetched,
            source_chain=attempts.chain,
            served_by=SERVED_BY,
            source=found.provider,
            engines=list(hit["engines"]),
            original_url=hit["url"],
            warnings=[UNDATED] if cutoff is not None and not published else [],
        )
        results.append(
            SearchResult(
                title=hit["title"],
                url=hit["url"],
                snippet=hit["snippet"],
                published_at=published,
                engines=list(hit["engines"]),
                fetched_at=fetched,
                cite=cite,
            )
        )
    warnings = [f"engine {engine} did not answer: {reason}" for engine, reason in found.unresponsive]
    if found.cached:
        warnings.append(f"served from the warehouse cache (fetched {fetched} from {found.provider})")
    if found.provider != "searxng" and not found.cached:
        warnings.append(f"served by the fallback {found.provider}; see attempts for why the providers before failed")
    return SearchAnswer(
        query=query,
        provider=found.provider,
        results=results,
        result_count=len(results),
        undated_count=sum(1 for r in results if r.published_at is None),
        dropped_before_since=dropped,
        unresponsive_engines=[UnresponsiveEngine(engine=e, reason=r) for e, r in found.unresponsive],
        cached=found.cached,
        cite=make_cite(tool_call_id, found.fetched_at, attempts, source=found.provider, warnings=warnings),
    )
