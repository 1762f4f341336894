"""Typed upstream failures. Callers decide retries and fallbacks by class, never by message.

    ProviderError
     ├── CredentialsMissing      no token configured for a provider that needs one
     ├── AuthFailed              the upstream rejected the token
     ├── PermissionDenied        the token lacks points/permission for this dataset
     ├── RateLimited             per-minute quota hit (retry_after seconds)
     │    └── DailyQuotaExhausted per-day quota hit (retry after midnight Asia/Shanghai)
     ├── UpstreamUnavailable     network error, timeout, HTTP 5xx  (transient)
     │    └── CircuitOpen         too many consecutive failures: not asked until retry_after
     ├── BadPayload              a response we cannot trust (not JSON, missing fields, wrong units)
     ├── NoData                  the upstream answered, with no rows for the question
     └── AllProvidersFailed      every provider able to answer was tried; `failures` says why

The composer moves to the next provider on any of these but AllProvidersFailed.

`UpstreamUnavailable` is retried in place. `RateLimited` is surfaced with its wait, because
sleeping through a per-minute window inside a tool call would stall the agent, unless the
upstream itself asked for a short wait (HTTP 429 with Retry-After): that is waited out once.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base class; `provider` and `dataset` say where it happened."""

    def __init__(self, message: str, *, provider: str, dataset: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.dataset = dataset


class CredentialsMissing(ProviderError):
    pass


class AuthFailed(ProviderError):
    pass


class PermissionDenied(ProviderError):
    pass


class RateLimited(ProviderError):
    def __init__(
        self, message: str, *, provider: str, dataset: str, retry_after: int, asked_wait: float | None = None
    ) -> None:
        """`asked_wait`: the seconds the upstream itself asked for (an HTTP 429's Retry-After), when it did."""
        super().__init__(message, provider=provider, dataset=dataset)
        self.retry_after = retry_after
        self.asked_wait = asked_wait


class DailyQuotaExhausted(RateLimited):
    pass


class UpstreamUnavailable(ProviderError):
    pass


class CircuitOpen(UpstreamUnavailable):
    def __init__(self, message: str, *, provider: str, dataset: str, retry_after: int) -> None:
        super().__init__(message, provider=provider, dataset=dataset)
        self.retry_after = retry_after


class BadPayload(ProviderError):
    pass


class NoData(ProviderError):
    pass


class AllProvidersFailed(ProviderError):
    """Raised by the composer; the category of the tool error follows the failures' classes."""

    def __init__(self, message: str, *, dataset: str, failures: list[ProviderError]) -> None:
        super().__init__(message, provider="composer", dataset=dataset)
        self.failures = failures

    @property
    def retry_after(self) -> int | None:
        """The shortest wait after which some provider may answer, when all were only throttled."""
        waits: list[int | None] = [getattr(f, "retry_after", None) for f in self.failures]
        known = [w for w in waits if w is not None]
        return min(known) if known and len(known) == len(waits) else None
