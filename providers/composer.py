"""The composer: which providers may answer a dataset for a market, in which order, and the fallback.

The capability matrix is what each provider's dataset modules declare (dataset x market).
The order per dataset and market comes from settings (`TWILIGHT_PROVIDER_ORDER`), by default
tushare first when it has a token, then akshare, then pytdx for A-share bars; yahoo for
global tickers; SearXNG, then DashScope, then Google Custom Search for the web. A provider
that is not configured is left out, and said so when nothing else can answer.

`fetch` tries the providers in order and moves on by error class: unavailable (including an
open breaker), rate-limited, no permission, rejected credentials, bad payload, or no rows.
Every try lands in the attempt log with its outcome. Rows from the first provider that has
some win; when all answered but none had rows, the first empty answer is returned, so that
the store records that upstream was asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from citation.attempts import Attempts
from providers.contract import Query
from providers.errors import AllProvidersFailed, CredentialsMissing, NoData, ProviderError
from providers.provider import Fetched, Provider

DEFAULT_ORDER = {
    "cn": ("tushare", "akshare", "pytdx"),
    "global": ("yahoo",),
    "web": ("searxng", "dashscope", "google_cse"),
}


class Composer:
    def __init__(self, providers: Iterable[Provider], order: Mapping[str, list[str]] | None = None) -> None:
        """`order` maps "dataset" or "dataset.market" to provider names; the rest follow DEFAULT_ORDER.

        A provider left out of an order is not tried for it, though it may still be asked by
        name (`only`) for a cross-check.
        """
        self.providers = {p.name: p for p in providers}
        self._order = dict(order or {})
        self._resolved: dict[tuple[str, str], list[Provider]] = {}

    def order(self, dataset: str, market: str) -> list[Provider]:
        """Providers able and configured to answer, in the order they are tried."""
        key = (dataset, market)
        cached = self._resolved.get(key)
        if cached is None:
            names = self._order.get(f"{dataset}.{market}") or self._order.get(dataset) or DEFAULT_ORDER[market]
            chosen = [self.providers[n] for n in names if n in self.providers]
            cached = self._resolved[key] = [p for p in chosen if p.supports(dataset, market) and p.missing is None]
        return cached

    def close(self) -> None:
        for provider in self.providers.values():
            provider.close()

    def can(self, name: str, dataset: str, market: str) -> bool:
        """Whether the named provider is configured and able to answer, whatever the order."""
        provider = self.providers.get(name)
        return provider is not None and provider.missing is None and provider.supports(dataset, market)

    def status(self, health: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Per provider: its health record, what it lacks, its breaker and its request budget."""
        return {
            name: {
                **health.get(name, {}),
                "missing": p.missing,
                "breaker": p.guard.breaker.state,
                "rate_per_minute": p.guard.limits.rate,
            }
            for name, p in self.providers.items()
        }

    def matrix(self) -> dict[str, dict[str, list[str]]]:
        """dataset -> market -> providers in order (the capability matrix as configured)."""
        out: dict[str, dict[str, list[str]]] = {}
        for provider in self.providers.values():
            for dataset, module in provider.modules.items():
                for market in sorted(module.MARKETS):
                    out.setdefault(dataset, {})[market] = [p.name for p in self.order(dataset, market)]
        return out

    def fetch(
        self, query: Query, attempts: Attempts, request_id: str | None = None, *, only: str | None = None,
        lenient: bool = False,
    ) -> Fetched:  # fmt: skip
        """The first useful answer in order (blocking: run it in a worker thread).

        `lenient` keeps a payload's good rows and returns the bad ones in `rejected` (bulk loads).
        """
        candidates = self.order(query.dataset, query.market)
        if only is not None:
            candidates = [self.providers[only]] if self.can(only, query.dataset, query.market) else []
        candidates = [p for p in candidates if p.supports(query.dataset, query.market, query.code)]
        if not candidates:
            raise self._nobody(query, only)
        failures: list[ProviderError] = []
        empty: Fetched | None = None
        for provider in candidates:
            try:
                fetched = provider.call(query, request_id, lenient=lenient)
            except ProviderError as exc:
                attempts.add(provider.name, query.dataset, type(exc).__name__, str(exc))
                failures.append(exc)
                continue
            if len(fetched.rows) == 0:
                attempts.add(provider.name, query.dataset, "empty")
                failures.append(NoData("no rows", provider=provider.name, dataset=query.dataset))
                empty = empty or fetched
                continue
            attempts.add(provider.name, query.dataset, "ok")
            return fetched
        if empty is not None:
            return empty
        why = "; ".join(f"{f.provider}: {type(f).__name__}" for f in failures)
        raise AllProvidersFailed(
            f"no provider could answer {query.dataset} for {query.code} ({why})",
            dataset=query.dataset,
            failures=failures,
        )

    def _nobody(self, query: Query, only: str | None) -> ProviderError:
        able = [p for p in self.providers.values() if p.supports(query.dataset, query.market, query.code)]
        if only is not None:
            able = [p for p in able if p.name == only]
        lacking = [p for p in able if p.missing is not None]
        if lacking:
            needs = " or ".join(f"{p.missing} (for {p.name})" for p in lacking)
            return CredentialsMissing(
                f"{query.dataset} for {query.code} needs {needs}", provider=lacking[0].name, dataset=query.dataset
            )
        return AllProvidersFailed(
            f"no configured provider serves {query.dataset} for {query.market} codes such as {query.code}",
            dataset=query.dataset,
            failures=[],
        )
