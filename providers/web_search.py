"""Web search for the `search` tool: SearXNG first, then DashScope and Google Custom Search when configured.

SearXNG's JSON API (`GET {SEARXNG_URL}/search?q=..&format=json&language=..&categories=..`) answers
`results` [{title, url, content, publishedDate, engine, engines}] and `unresponsive_engines`
[[engine, reason], ...]; the instance must list `json` in `search.formats` or it answers 403.

Fallbacks are tried, in this order and only when configured, when the one before failed
(connection error, timeout, HTTP 5xx), stayed rate-limited after one retry (HTTP 429: wait
Retry-After, capped at 4 x TWILIGHT_UPSTREAM_BACKOFF, i.e. 2 s by default, and ask once more),
or answered no results:

- DashScope (DASHSCOPE_API_KEY): a qwen text-generation call with `enable_search` and
  `search_options.enable_source`, whose `output.search_info.search_results` [{index, title, url,
  site_name, icon}] are the sources the model searched (Model Studio's "web search" guide). It has
  no snippets or dates, and each call costs model tokens.
- Google Custom Search JSON API (GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID):
  `GET {url}?key=..&cx=..&q=..&num=..&lr=lang_zh-CN` answers items [{title, link, snippet, pagemap}]
  (at most 10 per call).

Every result is normalized to {title, url, snippet, published_at, engines}; published_at is UTC ISO
8601 (a time without a zone is taken as UTC) or None where the provider gives no date.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from pydantic import SecretStr

from citation.attempts import Attempts
from providers.errors import (
    AllProvidersFailed,
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimited,
    UpstreamUnavailable,
)
from providers.provider import Observe

DATASET = "search"
DASHSCOPE_MODEL = "qwen-plus"
GOOGLE_MAX_NUM = 10  # the Custom Search API's limit per request
# Longest query passed upstream, in characters. Queries travel in a GET URL (SearXNG, Google),
# and a 64 KB one is refused by httpx itself (InvalidURL) before any provider sees it.
MAX_QUERY_CHARS = 500


class SearchNotConfigured(ProviderError):
    """Neither SEARXNG_URL nor a fallback is set."""


Hit = dict[str, Any]  # {title, url, snippet, published_at, engines}


@dataclass
class Found:
    provider: str
    hits: list[Hit]
    fetched_at: dt.datetime  # aware, UTC
    unresponsive: list[tuple[str, str]] = field(default_factory=list)


def normalize_date(value: object) -> str | None:
    """A provider's publication date as UTC ISO 8601 ("...Z"), or None when absent or unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    when: dt.datetime
    if isinstance(value, int | float):
        try:
            when = dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    else:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_published(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


Fetch = Callable[[str, str, list[str], int, Attempts], Awaitable[Found]]


@dataclass(frozen=True)
class SearchConfig:
    """The search providers' addresses and keys (the roof, `ops.runtime`, makes it from the settings)."""

    searxng_url: str | None
    dashscope_api_key: SecretStr | None
    dashscope_search_url: str
    google_cse_api_key: SecretStr | None
    google_cse_id: str | None
    google_cse_url: str
    timeout: float
    backoff: float


class WebSearch:
    def __init__(self, config: SearchConfig, observe: Observe, now: Callable[[], dt.datetime]) -> None:
        """`observe(provider, dataset, outcome)` after every request, as the market providers do."""
        self.config = config
        self.observe = observe
        self.now = now

    def providers(self) -> list[tuple[str, Fetch]]:
        """The configured providers, in the order they are tried."""
        s = self.config
        chosen: list[tuple[str, Fetch]] = []
        if s.searxng_url:
            chosen.append(("searxng", self._searxng))
        if s.dashscope_api_key is not None:
            chosen.append(("dashscope", self._dashscope))
        if s.google_cse_api_key is not None and s.google_cse_id:
            chosen.append(("google_cse", self._google))
        return chosen

    def missing(self) -> list[str]:
        """What is not configured, as the environment variables that would configure it."""
        s = self.config
        unset = [] if s.searxng_url else ["SEARXNG_URL"]
        if s.dashscope_api_key is None:
            unset.append("DASHSCOPE_API_KEY")
        if s.google_cse_api_key is None or not s.google_cse_id:
            unset.append("GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID")
        return unset

    async def search(
        self, query: str, language: str, categories: list[str], max_results: int, attempts: Attempts
    ) -> Found:
        """The first provider's non-empty answer; an empty one if every provider that answered had none."""
        chosen = self.providers()
        if not chosen:
            raise SearchNotConfigured("no web search provider is configured", provider="search", dataset=DATASET)
        failures: list[ProviderError] = []
        empty: Found | None = None
        for name, fetch in chosen:
            try:
                found = await fetch(query, language, categories, max_results, attempts)
            except ProviderError as exc:
                attempts.add(name, DATASET, type(exc).__name__, str(exc))
                self.observe(name, DATASET, type(exc).__name__)
                failures.append(exc)
                continue
            if found.hits:
                attempts.add(name, DATASET, "ok", f"{len(found.hits)} results")
                self.observe(name, DATASET, "ok")
                return found
            attempts.add(name, DATASET, "NoData", "no results")
            self.observe(name, DATASET, "NoData")
            empty = empty or found
        if empty is not None:
            return empty
        raise AllProvidersFailed("every web search provider failed", dataset=DATASET, failures=failures)

    # --- the providers ---------------------------------------------------------------------------

    async def _searxng(
        self, query: str, language: str, categories: list[str], max_results: int, attempts: Attempts
    ) -> Found:
        base = (self.config.searxng_url or "").rstrip("/")
        params = {"q": query, "format": "json", "language": language}
        if categories:
            params["categories"] = ",".join(categories)
        payload = await self._request("searxng", "GET", f"{base}/search", attempts, params=params)
        items = payload.get("results")
        if not isinstance(items, list):
            raise BadPayload("searxng: the answer has no `results` list", provider="searxng", dataset=DATASET)
        hits: list[Hit] = []
        for item in items:
            if not isinstance(item, dict) or not item.get("url"):
                continue
            engines = item.get("engines") or ([item["engine"]] if item.get("engine") else [])
            hits.append(
                {
                    "title": str(item.get("title") or item["url"]),
                    "url": str(item["url"]),
                    "snippet": str(item.get("content") or ""),
                    "published_at": normalize_date(item.get("publishedDate")),
                    "engines": [str(e) for e in engines],
                }
            )
        unresponsive: list[tuple[str, str]] = []
        for entry in payload.get("unresponsive_engines") or []:
            if isinstance(entry, list | tuple) and entry:
                unresponsive.append((str(entry[0]), str(entry[1]) if len(entry) > 1 else ""))
        return Found("searxng", hits, self.now(), unresponsive)

    async def _dashscope(
        self, query: str, language: str, categories: list[str], max_results: int, attempts: Attempts
    ) -> Found:
        key = self.config.dashscope_api_key
        assert key is not None
        body = {
            "model": DASHSCOPE_MODEL,
            "input": {"messages": [{"role": "user", "content": query}]},
            "parameters": {
                "result_format": "message",
                "enable_search": True,
                "search_options": {"enable_source": True, "forced_search": True},
            },
        }
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"}
        payload = await self._request(
            "dashscope", "POST", self.config.dashscope_search_url, attempts, json_body=body, headers=headers
        )
        output = payload.get("output")
        info = output.get("search_info") if isinstance(output, dict) else None
        items = info.get("search_results") if isinstance(info, dict) else None
        if not isinstance(items, list):
            items = []  # the model chose not to search, or the shape changed: no sources
        hits = [
            {
                "title": str(item.get("title") or item["url"]),
                "url": str(item["url"]),
                "snippet": "",
                "published_at": None,
                "engines": ["dashscope"] + ([str(item["site_name"])] if item.get("site_name") else []),
            }
            for item in items
            if isinstance(item, dict) and item.get("url")
        ]
        return Found("dashscope", hits, self.now())

    async def _google(
        self, query: str, language: str, categories: list[str], max_results: int, attempts: Attempts
    ) -> Found:
        key = self.config.google_cse_api_key
        assert key is not None
        params = {
            "key": key.get_secret_value(),
            "cx": self.config.google_cse_id or "",
            "q": query,
            "num": str(min(max_results, GOOGLE_MAX_NUM)),
        }
        if language not in ("all", "auto"):
            params["lr"] = f"lang_{language}"
        payload = await self._request("google_cse", "GET", self.config.google_cse_url, attempts, params=params)
        items = payload.get("items") or []  # no `items` at all when nothing matched
        hits: list[Hit] = []
        for item in items:
            if not isinstance(item, dict) or not item.get("link"):
                continue
            hits.append(
                {
                    "title": str(item.get("title") or item["link"]),
                    "url": str(item["link"]),
                    "snippet": str(item.get("snippet") or ""),
                    "published_at": normalize_date(_google_date(item)),
                    "engines": ["google"],
                }
            )
        return Found("google_cse", hits, self.now())

    # --- HTTP ------------------------------------------------------------------------------------

    async def _request(
        self,
        provider: str,
        method: str,
        url: str,
        attempts: Attempts,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One JSON call; HTTP 429 is waited out (Retry-After, capped) and asked once more."""
        for tried in (1, 2):
            try:
                async with httpx.AsyncClient(timeout=self.config.timeout) as client:
                    response = await client.request(method, url, params=params, json=json_body, headers=headers)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # never the URL: Google's carries the key
                raise UpstreamUnavailable(
                    f"{provider}: {type(exc).__name__}: {exc}", provider=provider, dataset=DATASET
                ) from exc
            status = response.status_code
            if status == 429:
                asked = _retry_after(response.headers.get("Retry-After"))
                if tried == 1:
                    wait = min(asked if asked is not None else self.config.backoff, self._cap())
                    attempts.add(provider, DATASET, "RateLimited", f"HTTP 429; retrying once after {wait:.3g} s")
                    self.observe(provider, DATASET, "RateLimited")
                    await anyio.sleep(wait)
                    continue
                raise RateLimited(
                    f"{provider}: HTTP 429 Too Many Requests, twice",
                    provider=provider,
                    dataset=DATASET,
                    retry_after=max(1, math.ceil(asked or 1)),
                )
            if status >= 500:
                raise UpstreamUnavailable(f"{provider}: HTTP {status}", provider=provider, dataset=DATASET)
            if status in (401, 403) and provider != "searxng":
                raise AuthFailed(f"{provider}: HTTP {status}: the key was refused", provider=provider, dataset=DATASET)
            if status == 403:
                raise BadPayload(
                    "searxng: HTTP 403: is `json` missing from search.formats in its settings.yml?",
                    provider=provider,
                    dataset=DATASET,
                )
            if status != 200:
                raise BadPayload(f"{provider}: HTTP {status}", provider=provider, dataset=DATASET)
            try:
                payload = response.json()
            except ValueError as exc:
                raise BadPayload(f"{provider}: the answer is not JSON", provider=provider, dataset=DATASET) from exc
            if not isinstance(payload, dict):
                raise BadPayload(f"{provider}: the answer is not a JSON object", provider=provider, dataset=DATASET)
            return payload
        raise AssertionError("unreachable")

    def _cap(self) -> float:
        """The longest wait for a 429 inside a tool call: 4 x the backoff (2 s at the default 0.5 s)."""
        return 4 * self.config.backoff


def _retry_after(header: str | None) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _google_date(item: dict[str, Any]) -> object:
    """Google has no date field; pages often carry one in their meta tags."""
    pagemap = item.get("pagemap")
    tags = pagemap.get("metatags") if isinstance(pagemap, dict) else None
    if not isinstance(tags, list):
        return None
    for tag in tags:
        if isinstance(tag, dict):
            for name in ("article:published_time", "og:article:published_time", "datepublished", "pubdate"):
                if tag.get(name):
                    return tag[name]
    return None
