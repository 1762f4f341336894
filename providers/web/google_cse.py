"""Google Custom Search JSON API as a search fallback (GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID).

`GET {url}?key=..&cx=..&q=..&num=..&lr=lang_zh-CN` answers items [{title, link, snippet, pagemap}],
at most 10 per call, and no `items` at all when nothing matched. It has no date field; pages
often carry one in their meta tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.web.client import JsonClient
from providers.web.hits import FIELDS, hits_frame, terms

if TYPE_CHECKING:
    import pandas as pd

DATASET = "search"
MARKETS = frozenset({"web"})
MAX_NUM = 10  # the API's limit per request
_DATE_TAGS = ("article:published_time", "og:article:published_time", "datepublished", "pubdate")


def translate_query(query: Query) -> dict[str, Any]:
    asked = terms(query)
    params = {"q": query.code, "num": str(min(int(asked["max_results"]), MAX_NUM))}
    if asked["language"] not in ("all", "auto"):
        params["lr"] = f"lang_{asked['language']}"
    return params


def fetch(client: JsonClient, params: dict[str, Any]) -> Payload:
    answer = client.ask("GET", client.url, params=params)
    rows = [
        [item.get("title"), item["link"], item.get("snippet"), _page_date(item), ["google"]]
        for item in answer.get("items") or []
        if isinstance(item, dict) and item.get("link")
    ]
    return Payload("google_cse.search", list(FIELDS), rows)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return hits_frame(payload)


def _page_date(item: dict[str, Any]) -> object:
    pagemap = item.get("pagemap")
    tags = pagemap.get("metatags") if isinstance(pagemap, dict) else None
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict):
            for name in _DATE_TAGS:
                if tag.get(name):
                    return tag[name]
    return None
