"""SearXNG's JSON API: `GET {SEARXNG_URL}/search?q=..&format=json&language=..&categories=..`.

It answers `results` [{title, url, content, publishedDate, engine, engines}] and
`unresponsive_engines` [[engine, reason], ...]; the instance must list `json` in `search.formats`
or it answers 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import BadPayload
from providers.web.client import JsonClient
from providers.web.hits import FIELDS, hits_frame, terms

if TYPE_CHECKING:
    import pandas as pd

DATASET = "search"
MARKETS = frozenset({"web"})
NAME = "searxng"


def translate_query(query: Query) -> dict[str, Any]:
    asked = terms(query)
    params = {"q": query.code, "format": "json", "language": asked["language"]}
    if asked["categories"]:
        params["categories"] = asked["categories"]
    return params


def fetch(client: JsonClient, params: dict[str, Any]) -> Payload:
    answer = client.ask("GET", f"{client.url.rstrip('/')}/search", params=params)
    items = answer.get("results")
    if not isinstance(items, list):
        raise BadPayload("searxng: the answer has no `results` list", provider=NAME, dataset=DATASET)
    rows = []
    for item in items:
        if not isinstance(item, dict) or not item.get("url"):
            continue
        engines = item.get("engines") or ([item["engine"]] if item.get("engine") else [])
        rows.append([item.get("title"), item["url"], item.get("content"), item.get("publishedDate"), engines])
    unresponsive = [
        [str(entry[0]), str(entry[1]) if len(entry) > 1 else ""]
        for entry in answer.get("unresponsive_engines") or []
        if isinstance(entry, list | tuple) and entry
    ]
    return Payload("searxng.search", list(FIELDS), rows, {"unresponsive": unresponsive})


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return hits_frame(payload)
