"""Web search answers: the warehouse's `search_cache` first, then the composer's web providers.

An answer is cached by its question (words, language, since, max_results, categories) for
`ttl` seconds; a hit costs no upstream call and counts as a store lookup hit for "search".
Empty answers are not cached: the next question asks again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import Query
from providers.provider import Provider
from warehouse.store import Warehouse, utc_aware, utc_naive

DATASET = "search"
MARKET = "web"
_KEY = "query = ? AND language = ? AND since = ? AND max_results = ? AND categories = ?"

Hit = dict[str, Any]  # {title, url, snippet, published_at, engines}


@dataclass(frozen=True)
class Question:
    words: str
    language: str
    since: dt.date | None
    max_results: int
    categories: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.words, self.language, self.since.isoformat() if self.since else "", self.max_results,
                ",".join(self.categories))  # fmt: skip


@dataclass
class Found:
    provider: str
    hits: list[Hit]
    fetched_at: dt.datetime  # aware, UTC
    unresponsive: list[tuple[str, str]] = field(default_factory=list)
    cached: bool = False


class NotConfigured(Exception):
    """No web search provider is configured."""


class WebSearch:
    def __init__(
        self, store: Warehouse, composer: Composer, ttl_seconds: int, now: Callable[[], dt.datetime],
        lookup: Callable[[str, str], None],
    ) -> None:  # fmt: skip
        """`lookup(dataset, outcome)` after every cache lookup (hit or miss)."""
        self.store = store
        self.composer = composer
        self.ttl = ttl_seconds
        self.now = now
        self.lookup = lookup

    def missing(self) -> list[str]:
        """What is not configured, as the environment variables that would configure it."""
        return [p.missing for p in self._providers() if p.missing is not None]

    @property
    def searxng_url(self) -> str | None:
        searxng = self.composer.providers.get("searxng")
        return searxng.client.url if searxng is not None and searxng.missing is None else None

    def answer(self, question: Question, attempts: Attempts, request_id: str | None) -> Found:
        """The cached answer while young, else the first provider's non-empty one (blocking: a worker thread).

        Raises NotConfigured, or the composer's ProviderError when no provider answered.
        """
        cached = self._cached(question, attempts)
        if cached is not None:
            return cached
        if not self.composer.order(DATASET, MARKET):
            raise NotConfigured("no web search provider is configured")
        today = self.now().date()
        terms = (("language", question.language), ("categories", ",".join(question.categories)),
                 ("max_results", str(question.max_results)))  # fmt: skip
        query = Query(DATASET, question.words, MARKET, today, today, extra=terms)
        fetched = self.composer.fetch(query, attempts, request_id)
        unresponsive = [(str(e), str(r)) for e, r in fetched.meta.get("unresponsive", [])]
        hits = [_hit(row) for row in fetched.rows.to_dict("records")]
        found = Found(fetched.raw.source, hits, fetched.raw.fetched_at, unresponsive)
        if hits:
            self._store(question, found)
        return found

    def _providers(self) -> list[Provider]:
        return [p for p in self.composer.providers.values() if p.supports(DATASET, MARKET)]

    def _cached(self, question: Question, attempts: Attempts) -> Found | None:
        """The stored answer to this exact question while younger than the TTL, else None (a miss)."""
        rows = self.store.read(
            ("search_cache",), f"SELECT results, provider, fetched_at FROM search_cache WHERE {_KEY}", question.key
        )
        if rows and self.ttl > 0:
            results, provider, fetched_at = rows[0]
            fetched = utc_aware(fetched_at)
            age = (self.now() - fetched).total_seconds()
            if age < self.ttl:
                self.lookup(DATASET, "hit")
                attempts.add("warehouse", DATASET, "hit", f"cached {int(age)} s ago from {provider}")
                payload = json.loads(results)
                unresponsive = [(str(e), str(r)) for e, r in payload.get("unresponsive_engines", [])]
                return Found(provider, payload["hits"], fetched, unresponsive, cached=True)
        self.lookup(DATASET, "miss")
        attempts.add("warehouse", DATASET, "miss")
        return None

    def _store(self, question: Question, found: Found) -> None:
        payload = json.dumps(
            {"hits": found.hits, "unresponsive_engines": [list(e) for e in found.unresponsive]}, ensure_ascii=False
        )

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            cur.execute(f"DELETE FROM search_cache WHERE {_KEY}", list(question.key))
            cur.execute(
                "INSERT INTO search_cache (query, language, since, max_results, categories, results, provider,"
                " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [*question.key, payload, found.provider, utc_naive(found.fetched_at)],
            )
            return {"search_cache"}

        self.store.write(work)


def _hit(row: Mapping[Hashable, Any]) -> Hit:
    published = row["published_at"]
    return {
        "title": row["title"],
        "url": row["url"],
        "snippet": row["snippet"],
        "published_at": published if isinstance(published, str) else None,
        "engines": json.loads(row["engines"]),
    }
