"""DashScope (Model Studio) as a search fallback: a qwen text-generation call with `enable_search`.

With `search_options.enable_source`, `output.search_info.search_results` [{index, title, url,
site_name, icon}] are the sources the model searched (Model Studio's "web search" guide). They
have no snippets or dates, and each call costs model tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.web.client import JsonClient
from providers.web.hits import FIELDS, hits_frame

if TYPE_CHECKING:
    import pandas as pd

DATASET = "search"
MARKETS = frozenset({"web"})
MODEL = "qwen-plus"


def translate_query(query: Query) -> dict[str, Any]:
    return {
        "model": MODEL,
        "input": {"messages": [{"role": "user", "content": query.code}]},
        "parameters": {
            "result_format": "message",
            "enable_search": True,
            "search_options": {"enable_source": True, "forced_search": True},
        },
    }


def fetch(client: JsonClient, params: dict[str, Any]) -> Payload:
    answer = client.ask("POST", client.url, json_body=params)
    output = answer.get("output")
    info = output.get("search_info") if isinstance(output, dict) else None
    items = info.get("search_results") if isinstance(info, dict) else None
    rows = [
        [
            item.get("title"),
            item["url"],
            "",
            None,
            ["dashscope", *([item["site_name"]] if item.get("site_name") else [])],
        ]
        for item in (items if isinstance(items, list) else [])  # none: the model chose not to search
        if isinstance(item, dict) and item.get("url")
    ]
    return Payload("dashscope.search", list(FIELDS), rows)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return hits_frame(payload)
