"""Ad-hoc tushare questions (the catalog's `tushare_query`): asked upstream, kept in the raw layer.

An interface outside the declared datasets has no normalized table, no coverage and no curation,
so its answer is not a store read: every question is asked upstream, through the provider's guard,
and its payload appended to `raw_payloads` (source, api, params, fetched_at, request id) before it
is served, so that what an agent was told stays auditable like any other upstream answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import RawPayload
from providers.errors import CredentialsMissing, ProviderError
from providers.tushare import adhoc
from providers.tushare.catalog import Interface
from warehouse.store import Warehouse, insert_raw

SOURCE = "tushare"


@dataclass(frozen=True, slots=True)
class Answered:
    raw: RawPayload
    raw_id: int | None  # its row in raw_payloads
    pages: adhoc.Pages


class AdhocQueries:
    def __init__(self, store: Warehouse, composer: Composer, now: Callable[[], dt.datetime], *,
                 page_rows: int | None = None, max_pages: int = 10) -> None:  # fmt: skip
        """`page_rows` overrides the rows asked per request (a mirror with a smaller cap than the docs');
        `max_pages` bounds the requests one question may cost."""
        self._store = store
        self._composer = composer
        self._now = now
        self.page_rows = page_rows
        self.max_pages = max_pages

    def ask(self, item: Interface, params: dict[str, Any], fields: list[str] | None, attempts: Attempts,
            request_id: str | None) -> Answered:  # fmt: skip
        """Every page of the question, stored raw (blocking: run it in a worker thread)."""
        provider = self._composer.providers.get(SOURCE)
        if provider is None or provider.missing is not None:
            lacking = provider.missing if provider is not None else "TUSHARE_TOKEN"
            raise CredentialsMissing(f"tushare_query asks tushare, which needs {lacking}", provider=SOURCE,
                                     dataset=item.name)  # fmt: skip
        try:
            pages = adhoc.fetch(provider, item, params, fields, page_rows=self.page_rows, max_pages=self.max_pages)
        except ProviderError as exc:
            attempts.add(SOURCE, item.name, type(exc).__name__, str(exc))
            raise
        attempts.add(SOURCE, item.name, "ok" if pages.payload.items else "empty")
        payload = pages.payload
        raw = RawPayload(SOURCE, item.name, {**pages.asked, "pages": pages.requests}, payload.fields, payload.items,
                         self._now(), request_id)  # fmt: skip
        return Answered(raw, self._keep(raw), pages)

    def _keep(self, raw: RawPayload) -> int | None:
        kept: list[int | None] = [None]

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            kept[0] = insert_raw(cur, raw)
            return {"raw_payloads"}

        self._store.write(work)
        return kept[0]
