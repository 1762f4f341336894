"""Loopback stand-ins for the web search upstreams: SearXNG, Google Custom Search and DashScope.

    FakeSearxng      GET /search?q=..&format=json&language=..&categories=..   (403 without format=json)
    FakeGoogleCSE    GET /customsearch/v1?key=..&cx=..&q=..&num=..&lr=..     (403 on a wrong key)
    FakeDashScope    POST /api/v1/services/aigc/text-generation/generation   (401 on a wrong bearer key)

Each counts its calls, remembers what it was asked, and can be told to fail: `mode` holds for
every request (down: HTTP 503, rate_limit: HTTP 429 with Retry-After, empty: no results,
bad_json: a body cut off), `script(...)` queues one-shot modes used before it.

SearXNG's answer has its real shape: results with `content`, `engines` and `publishedDate` (an ISO
time, a naive "YYYY-MM-DD HH:MM:SS", null, or absent) and `unresponsive_engines` [[engine, reason]].
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from tests.loopback import LoopbackHTTP, respond, run_until_interrupted

SEARXNG_RESULTS: list[dict[str, Any]] = [
    {
        "title": "贵州茅台2024年业绩预告",
        "url": "https://example.com/news/moutai-2024",
        "content": "贵州茅台发布2024年度业绩预告……",
        "engine": "bing",
        "engines": ["bing", "baidu"],
        "publishedDate": "2024-12-30T08:00:00+08:00",
        "category": "news",
    },
    {
        "title": "茅台半年报",
        "url": "https://example.com/news/moutai-h1",
        "content": "上半年营业收入……",
        "engine": "baidu",
        "engines": ["baidu"],
        "publishedDate": "2024-08-09 20:00:00",
        "category": "news",
    },
    {
        "title": "茅台公司简介",
        "url": "https://example.com/moutai",
        "content": "贵州茅台酒股份有限公司……",
        "engine": "bing",
        "engines": ["bing"],
        "publishedDate": None,
        "category": "general",
    },
    {
        "title": "600519 行情",
        "url": "https://example.com/quote/600519",
        "content": "",
        "engine": "sogou",
        "engines": ["sogou"],
        "category": "general",
    },
]
UNRESPONSIVE = [["google", "timeout"], ["duckduckgo", "CAPTCHA"]]

GOOGLE_ITEMS: list[dict[str, Any]] = [
    {
        "kind": "customsearch#result",
        "title": "贵州茅台 - Google",
        "link": "https://example.org/moutai-google",
        "snippet": "茅台……",
        "pagemap": {"metatags": [{"article:published_time": "2024-12-29T10:00:00Z"}]},
    },
    {"kind": "customsearch#result", "title": "茅台百科", "link": "https://example.org/moutai-wiki", "snippet": "百科"},
]

DASHSCOPE_SOURCES: list[dict[str, Any]] = [
    {"index": 1, "title": "茅台新闻", "url": "https://example.net/moutai", "site_name": "新浪财经", "icon": ""},
]


class _Scripted(LoopbackHTTP):
    """Counting, recording and failing on request; `answer` gives the success body."""

    protocol_version = "HTTP/1.1"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.requests: list[dict[str, Any]] = []
            self.mode: str | None = None
            self._script: list[str | None] = []

    def script(self, *modes: str | None) -> None:
        """One-shot modes for the next requests, in order (None: answer normally)."""
        with self._lock:
            self._script.extend(modes)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length)) if length else None
        record = {
            "path": parts.path,
            "query": query,
            "body": body,
            "authorization": request.headers.get("Authorization"),
            "peer": request.client_address,  # the same for requests over one kept-alive connection
        }
        with self._lock:
            self.calls += 1
            self.requests.append(record)
            mode = self._script.pop(0) if self._script else self.mode
        if mode == "down":
            respond(request, 503, b"<html>503 Service Unavailable</html>", {"Content-Type": "text/html"})
            return
        if mode == "rate_limit":
            respond(request, 429, b"Too Many Requests", {"Content-Type": "text/plain", "Retry-After": "1"})
            return
        if mode == "bad_json":
            respond(request, 200, b'{"results": [', {"Content-Type": "application/json"})
            return
        status, document = self.answer(record, empty=mode == "empty")
        respond(request, status, json.dumps(document, ensure_ascii=False).encode(),
                {"Content-Type": "application/json"})  # fmt: skip

    def answer(self, record: dict[str, Any], *, empty: bool) -> tuple[int, Any]:
        raise NotImplementedError


class FakeSearxng(_Scripted):
    def answer(self, record: dict[str, Any], *, empty: bool) -> tuple[int, Any]:
        query = record["query"]
        if record["path"] != "/search":
            return 404, {"error": "not found"}
        if query.get("format") != "json":
            return 403, {"error": "format not allowed"}
        results = [] if empty else SEARXNG_RESULTS
        return 200, {
            "query": query.get("q", ""),
            "number_of_results": 0,
            "results": results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [],
            "unresponsive_engines": UNRESPONSIVE,
        }


class FakeGoogleCSE(_Scripted):
    base_path = "/customsearch/v1"

    def __init__(self, key: str = "google-key", cx: str = "cx-123", port: int = 0) -> None:
        self.key, self.cx = key, cx
        super().__init__(port)

    def settings(self) -> dict[str, Any]:
        """The server settings that point Google Custom Search here."""
        return {"google_cse_api_key": SecretStr(self.key), "google_cse_id": self.cx, "google_cse_url": self.url}

    def answer(self, record: dict[str, Any], *, empty: bool) -> tuple[int, Any]:
        query = record["query"]
        if query.get("key") != self.key:
            return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key."}}
        if query.get("cx") != self.cx:
            return 400, {"error": {"code": 400, "message": "Request contains an invalid argument."}}
        document: dict[str, Any] = {"kind": "customsearch#search", "searchInformation": {"totalResults": "0"}}
        if not empty:
            document["items"] = GOOGLE_ITEMS[: int(query.get("num", "10"))]
        return 200, document


class FakeDashScope(_Scripted):
    methods = ("POST",)
    base_path = "/api/v1/services/aigc/text-generation/generation"

    def __init__(self, key: str = "sk-dashscope", port: int = 0) -> None:
        self.key = key
        super().__init__(port)

    def settings(self) -> dict[str, Any]:
        """The server settings that point DashScope here."""
        return {"dashscope_api_key": SecretStr(self.key), "dashscope_search_url": self.url}

    def answer(self, record: dict[str, Any], *, empty: bool) -> tuple[int, Any]:
        if record["authorization"] != f"Bearer {self.key}":
            return 401, {"code": "InvalidApiKey", "message": "Invalid API-key provided."}
        sources = [] if empty else DASHSCOPE_SOURCES
        return 200, {
            "output": {
                "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "……"}}],
                "search_info": {"search_results": sources},
            },
            "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30},
            "request_id": "fake-request",
        }


if __name__ == "__main__":
    server = FakeSearxng(port=8888).start()
    run_until_interrupted(server, f"fake SearXNG on {server.url}")
