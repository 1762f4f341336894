"""Typed upstream failures. Callers decide retries and fallbacks by class, never by message.

    ProviderError
     ├── CredentialsMissing      no token configured for a provider that needs one
     ├── AuthFailed              the upstream rejected the token
     ├── PermissionDenied        the token lacks points/permission for this dataset
     ├── RateLimited             per-minute quota hit (retry_after seconds)
     │    └── DailyQuotaExhausted per-day quota hit (retry after midnight Asia/Shanghai)
     ├── UpstreamUnavailable     network error, timeout, HTTP 5xx, circuit open  (transient)
     └── BadPayload              a response we cannot trust (not JSON, missing fields, wrong units)

Only `UpstreamUnavailable` is retried in place; `RateLimited` is surfaced with its wait,
because sleeping through a per-minute window inside a tool call would stall the agent.
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
    def __init__(self, message: str, *, provider: str, dataset: str, retry_after: int) -> None:
        super().__init__(message, provider=provider, dataset=dataset)
        self.retry_after = retry_after


class DailyQuotaExhausted(RateLimited):
    pass


class UpstreamUnavailable(ProviderError):
    pass


class BadPayload(ProviderError):
    pass
