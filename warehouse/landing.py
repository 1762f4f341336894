"""One way from upstream into the warehouse, whoever asks: a question's fetch-through, the
calendar, or an ingestion job.

The composer answers a query; the payload, its normalized rows, the rows it rejected, its
coverage, whatever `derive` builds on top of them, and the source's success in source_freshness land
in one transaction; failed tries of other sources are recorded either way. Keeping this in one
place keeps coverage and freshness meaning the same thing for every caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import Query
from providers.models import DATASETS
from providers.provider import Fetched
from warehouse import freshness
from warehouse.batch import Batch
from warehouse.store import Coverage, Landing, Warehouse


def land(
    store: Warehouse, composer: Composer, query: Query, attempts: Attempts, request_id: str | None,
    now: Callable[[], dt.datetime], *, scope: str | None = None, only: str | None = None, lenient: bool = False,
    derive: Callable[[Batch, Fetched], Iterable[str]] | None = None,
) -> Fetched:  # fmt: skip
    """Fetch `query` and load it through the layers (blocking: run it in a worker thread).

    `scope` names the coverage (default: the dataset); `only` asks one provider; `lenient`
    loads the good rows of a payload and quarantines the bad ones; `derive(cursor, fetched)`
    builds the layers above inside the load's transaction. Raises the composer's
    ProviderError when no source answered.
    """
    fetched, landing = fetch(store, composer, query, attempts, request_id, now, scope=scope, only=only,
                             lenient=lenient, derive=derive)  # fmt: skip
    store.write_all([landing])
    return fetched


def fetch(
    store: Warehouse, composer: Composer, query: Query, attempts: Attempts, request_id: str | None,
    now: Callable[[], dt.datetime], *, scope: str | None = None, only: str | None = None, lenient: bool = False,
    derive: Callable[[Batch, Fetched], Iterable[str]] | None = None,
) -> tuple[Fetched, Landing]:  # fmt: skip
    """`land` without the write: the answer, and its landing for `Warehouse.write_all` or `write_behind`."""
    tried = len(attempts.log)
    try:
        fetched = composer.fetch(query, attempts, request_id, only=only, lenient=lenient)
    finally:
        freshness.record_failures(store, query.dataset, attempts.log[tried:], now())

    def then(batch: Batch) -> Iterable[str]:
        written = set(derive(batch, fetched)) if derive is not None else set()
        raw = fetched.raw
        written.update(freshness.stage(batch, raw.source, query.dataset, raw.fetched_at, rows=len(fetched.rows)))
        return written

    coverage = Coverage(scope or query.dataset, query.code, query.start, query.end)
    landing = store.landing(DATASETS[query.dataset].table, fetched.rows, fetched.raw, coverage,
                            rejected=fetched.rejected, derive=then)  # fmt: skip
    return fetched, landing
