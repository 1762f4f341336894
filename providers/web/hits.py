"""What every web search module shares: the question's terms and the normalized result rows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.models import DATASETS
from providers.web.client import normalize_date

if TYPE_CHECKING:
    import pandas as pd

FIELDS = DATASETS["search"].columns  # the modules' payloads carry them in this order too


def terms(query: Query) -> dict[str, str]:
    """The search's own terms beside the words (`Query.code`): language, categories, max_results."""
    return dict(query.extra)


def hits_frame(payload: Payload) -> pd.DataFrame:
    """The payload's rows as the `search` dataset's columns: titles filled in, dates in UTC ISO 8601,
    the engines as a JSON list (a text column)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for title, url, snippet, published, engines in payload.items:
        rows.append(
            {
                "title": str(title or url),
                "url": str(url),
                "snippet": str(snippet or ""),
                "published_at": normalize_date(published),
                "engines": json.dumps([str(e) for e in engines or []], ensure_ascii=False),
            }
        )
    return pd.DataFrame(rows, columns=list(FIELDS))
