"""One upstream as the composer sees it: its client, its dataset modules, its guard.

`call` runs a module's three steps inside the guard, so that a payload which fails to
translate or whose units are wrong counts as a failed request (for the breaker) exactly
like a timeout does, and is never stored. A bulk question (`lenient=True`) keeps the good
rows of a payload and hands back the rows that fail, with the reason, for quarantine.
A whole-market question to an upstream with a row cap is asked page by page, each page one
guarded request; the pages are stored as one raw payload.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from providers import transport, units
from providers.contract import ALL, Payload, Query, RawPayload, Rejected, conform, conform_rows
from providers.errors import BadPayload, ProviderError
from providers.guard import Guard
from providers.health import ProviderHealth
from providers.models import DATASETS

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
Classify = Callable[[str, Exception], ProviderError]  # (dataset, what the library raised)
Observe = Callable[[str, str, str], None]  # (provider, dataset, outcome) after every request


@dataclass(frozen=True, slots=True)
class Fetched:
    rows: pd.DataFrame  # the dataset's standard columns, canonical units
    raw: RawPayload
    meta: dict[str, Any]
    rejected: Rejected = field(default_factory=list)  # rows left out by a lenient call, and why
    requests: int = 1  # upstream requests it took (pages)


class Provider:
    def __init__(
        self,
        name: str,
        client: Any,
        modules: Iterable[ModuleType],  # each follows providers.contract's DatasetModule
        *,
        classify: Classify,
        guard: Guard,
        health: ProviderHealth,
        observe: Observe,
        clock: Callable[[], dt.datetime],
        missing: str | None = None,
    ) -> None:
        """`missing` says what the provider lacks to be usable (e.g. "TUSHARE_TOKEN"), if anything."""
        self.name = name
        self.client = client
        self.modules = {m.DATASET: m for m in modules}
        self.guard = guard
        self.missing = missing
        self._classify = classify
        self._health = health
        self._observe = observe
        self._clock = clock
        health.register(name, configured=missing is None)

    def close(self) -> None:
        """Release what the client holds open (pytdx keeps a socket, yahoo a session)."""
        close = getattr(self.client, "close", None)
        if callable(close):
            close()

    def supports(self, dataset: str, market: str, code: str | None = None) -> bool:
        """Whether a module answers `dataset` for `market` (and for the whole market, if code is ALL)."""
        module = self.modules.get(dataset)
        if module is None or market not in module.MARKETS:
            return False
        return code != ALL or getattr(module, "WHOLE_MARKET", False)

    def call(self, query: Query, request_id: str | None = None, *, lenient: bool = False) -> Fetched:
        """Ask this upstream one question (blocking: run it in a worker thread)."""
        module = self.modules[query.dataset]
        params = module.translate_query(query)
        page_size: int | None = getattr(module, "PAGE_SIZE", None) if query.code == ALL else None

        def request(page_params: dict[str, Any]) -> Payload:
            transport.forget_status()
            try:
                return module.fetch(self.client, page_params)  # type: ignore[no-any-return]
            except ProviderError:
                raise
            except Exception as exc:
                raise self._classify(query.dataset, exc) from exc

        def paged(offset: int) -> dict[str, Any]:
            return params if page_size is None else {**params, "limit": page_size, "offset": offset}

        def step(earlier: list[Payload]) -> tuple[list[Payload], tuple[pd.DataFrame, Rejected] | None]:
            """One request (the next page); the last one also translates and checks all pages."""
            pages = [*earlier, request(paged((page_size or 0) * len(earlier)))]
            if page_size is not None and len(pages[-1].items) >= page_size:
                return pages, None
            return pages, self._standard(module, _joined(pages), query, lenient)

        pages: list[Payload] = []
        standard: tuple[pd.DataFrame, Rejected] | None = None
        try:
            while standard is None:
                pages, standard = self.guard.run(
                    query.dataset,
                    functools.partial(step, pages),
                    lambda outcome: self._observe(self.name, query.dataset, outcome),
                )
        except ProviderError as exc:
            self._health.failure(self.name, query.dataset, exc)
            raise
        self._health.success(self.name)
        rows, rejected = standard
        payload = _joined(pages)
        raw = RawPayload(
            source=self.name,
            api_name=payload.api_name,
            params=params if page_size is None else {**params, "limit": page_size, "pages": len(pages)},
            fields=payload.fields,
            items=payload.items,
            fetched_at=self._clock(),
            request_id=request_id,
        )
        return Fetched(rows, raw, payload.meta, rejected, len(pages))

    def request(self, dataset: str, request: Callable[[], T]) -> T:
        """One request outside the dataset modules (the catalog's ad-hoc questions, a page each), under
        the same budget, breaker and retries as `call`, its failure typed, health and metrics kept."""

        def once() -> T:
            transport.forget_status()
            try:
                return request()
            except ProviderError:
                raise
            except Exception as exc:
                raise self._classify(dataset, exc) from exc

        try:
            result = self.guard.run(dataset, once, lambda outcome: self._observe(self.name, dataset, outcome))
        except ProviderError as exc:
            self._health.failure(self.name, dataset, exc)
            raise
        self._health.success(self.name)
        return result

    def _standard(self, module: Any, payload: Payload, query: Query, lenient: bool) -> tuple[pd.DataFrame, Rejected]:
        """The payload as the dataset's standard rows; a lenient call sets bad rows aside instead of failing."""
        spec = DATASETS[query.dataset]
        try:
            frame = module.translate_result(payload, query)
            if not lenient:
                rows = conform(frame, spec, self.name)
                units.check(query.dataset, query.market, rows, self.name)
                return rows, []
            rows, rejected = conform_rows(frame, spec, self.name)
        except ProviderError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise BadPayload(
                f"{self.name} {query.dataset} answered a payload we cannot read: {exc!r}",
                provider=self.name,
                dataset=query.dataset,
            ) from exc
        problems = units.row_problems(query.dataset, query.market, rows, zero_prices_pass=True)
        bad = problems.notna()
        for i in rows.index[bad]:
            rejected.append(({str(k): v for k, v in rows.loc[i].items()}, f"{query.dataset} {problems.loc[i]}"))
        return rows[~bad].reset_index(drop=True), rejected


def _joined(pages: list[Payload]) -> Payload:
    """Pages of one question as the one payload they make up."""
    if len(pages) == 1:
        return pages[0]
    first = pages[0]
    return Payload(first.api_name, first.fields, [item for page in pages for item in page.items], first.meta)
