"""Web search upstreams (SearXNG first, then DashScope and Google Custom Search when configured).

Each is a provider like the market ones: a pooled JSON client (`client`), one `search` dataset
module, and its guard (budget, breaker, retries) in the composer, which tries them in order
for the market "web". A result is normalized to {title, url, snippet, published_at, engines};
published_at is UTC ISO 8601 (a time without a zone is taken as UTC), or missing where the
provider gives no date.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr


@dataclass(frozen=True)
class SearchConfig:
    """The search providers' addresses and keys (the roof, `ops.runtime`, makes it from the settings)."""

    searxng_url: str | None
    dashscope_api_key: SecretStr | None
    dashscope_search_url: str
    google_cse_api_key: SecretStr | None
    google_cse_id: str | None
    google_cse_url: str
