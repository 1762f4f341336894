"""One pooled HTTP client per web search upstream: JSON answers as dicts, refusals as our errors.

An HTTP 429 becomes `RateLimited` carrying the upstream's Retry-After (`asked_wait`), which the
guard waits out once when it is short; a 5xx or a connection failure is `UpstreamUnavailable`,
retried in place by the guard. Error texts never quote the URL: Google's carries the key.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from typing import Any

import httpx

from providers.errors import AuthFailed, BadPayload, ProviderError, RateLimited, UpstreamUnavailable

DATASET = "search"


class JsonClient:
    def __init__(
        self, name: str, url: str, timeout: float, *, headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        """`headers` and `params` go with every request: where a key travels, so that it stays out of
        the questions (and their logs); with a key, a 401 or 403 means the key was refused."""
        self.name = name
        self.url = url
        self._keyed = bool(headers or params)
        self._http = httpx.Client(timeout=timeout, headers=headers, params=params)

    def close(self) -> None:
        self._http.close()

    def ask(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request; its JSON object, or the typed error its status means."""
        name = self.name
        try:
            response = self._http.request(method, url, params=params, json=json_body)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise UpstreamUnavailable(f"{name}: {type(exc).__name__}: {exc}", provider=name, dataset=DATASET) from exc
        status = response.status_code
        if status == 429:
            asked = retry_after(response.headers.get("Retry-After"))
            raise RateLimited(
                f"{name}: HTTP 429 Too Many Requests", provider=name, dataset=DATASET,
                retry_after=max(1, math.ceil(asked or 1)), asked_wait=asked or 0.0,
            )  # fmt: skip
        if status >= 500:
            raise UpstreamUnavailable(f"{name}: HTTP {status}", provider=name, dataset=DATASET)
        if status in (401, 403) and self._keyed:
            raise AuthFailed(f"{name}: HTTP {status}: the key was refused", provider=name, dataset=DATASET)
        if status == 403:
            raise BadPayload(
                f"{name}: HTTP 403: is `json` missing from search.formats in its settings.yml?",
                provider=name,
                dataset=DATASET,
            )
        if status != 200:
            raise BadPayload(f"{name}: HTTP {status}", provider=name, dataset=DATASET)
        try:
            payload = response.json()
        except ValueError as exc:
            raise BadPayload(f"{name}: the answer is not JSON", provider=name, dataset=DATASET) from exc
        if not isinstance(payload, dict):
            raise BadPayload(f"{name}: the answer is not a JSON object", provider=name, dataset=DATASET)
        return payload


def classify(provider: str, dataset: str, exc: Exception) -> ProviderError:
    """What a dataset module raised beyond the client's own errors: an answer we could not read."""
    return BadPayload(f"{provider} {dataset}: {type(exc).__name__}: {exc}", provider=provider, dataset=dataset)


def retry_after(header: str | None) -> float | None:
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
