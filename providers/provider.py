"""One upstream as the composer sees it: its client, its dataset modules, its guard.

`call` runs a module's three steps inside the guard, so that a payload which fails to
translate or whose units are wrong counts as a failed request (for the breaker) exactly
like a timeout does, and is never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pandas as pd

from providers import transport, units
from providers.contract import Payload, Query, conform
from providers.errors import BadPayload, ProviderError
from providers.guard import Guard
from providers.health import ProviderHealth
from providers.models import DATASETS
from warehouse.store import RawPayload

Classify = Callable[[str, Exception], ProviderError]  # (dataset, what the library raised)
Observe = Callable[[str, str, str], None]  # (provider, dataset, outcome) after every request


@dataclass(frozen=True, slots=True)
class Fetched:
    rows: pd.DataFrame  # the dataset's standard columns, canonical units
    raw: RawPayload
    meta: dict[str, Any]


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

    def supports(self, dataset: str, market: str) -> bool:
        module = self.modules.get(dataset)
        return module is not None and market in module.MARKETS

    def call(self, query: Query, request_id: str | None = None) -> Fetched:
        """Ask this upstream one question (blocking: run it in a worker thread)."""
        module = self.modules[query.dataset]
        params = module.translate_query(query)
        spec = DATASETS[query.dataset]

        def request() -> tuple[Payload, pd.DataFrame]:
            transport.forget_status()
            try:
                payload = module.fetch(self.client, params)
            except ProviderError:
                raise
            except Exception as exc:
                raise self._classify(query.dataset, exc) from exc
            try:
                rows = conform(module.translate_result(payload, query), spec, self.name)
            except ProviderError:
                raise
            except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
                raise BadPayload(
                    f"{self.name} {query.dataset} answered a payload we cannot read: {exc!r}",
                    provider=self.name,
                    dataset=query.dataset,
                ) from exc
            units.check(query.dataset, query.market, rows, self.name)
            return payload, rows

        try:
            payload, rows = self.guard.run(
                query.dataset, request, lambda outcome: self._observe(self.name, query.dataset, outcome)
            )
        except ProviderError as exc:
            self._health.failure(self.name, query.dataset, exc)
            raise
        self._health.success(self.name)
        raw = RawPayload(
            source=self.name,
            api_name=payload.api_name,
            params=params,
            fields=payload.fields,
            items=payload.items,
            fetched_at=self._clock(),
            request_id=request_id,
        )
        return Fetched(rows, raw, payload.meta)
