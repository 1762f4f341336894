"""The `search` tool against loopback SearXNG, Google Custom Search and DashScope stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CLOSED, RuntimeFactory, SettableClock
from tests.fake_searxng import FakeDashScope, FakeGoogleCSE, FakeSearxng
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
QUERY = "贵州茅台 业绩"


@pytest.fixture(autouse=True)
def _no_search_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SEARXNG_URL", "DASHSCOPE_API_KEY", "GOOGLE_CSE_API_KEY", "GOOGLE_CSE_ID"):
        monkeypatch.delenv(name, raising=False)


async def answer(rt: Any, **arguments: Any) -> dict[str, Any]:
    result = await call(rt, "search", **arguments)
    assert not result.is_error, result.content
    body: dict[str, Any] | None = result.structured_content
    assert body is not None
    return body


async def test_results_are_normalized_and_cited(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    body = await answer(rt, query=QUERY, categories=["news", "general"])

    asked = searxng.requests[0]["query"]
    assert asked == {"q": QUERY, "format": "json", "language": "zh-CN", "categories": "general,news"}
    assert body["provider"] == "searxng" and body["cached"] is False
    assert body["result_count"] == 4 and body["undated_count"] == 2 and body["dropped_before_since"] == 0
    first, second, third, fourth = body["results"]
    assert first["title"] == "贵州茅台2024年业绩预告"
    assert first["snippet"] == "贵州茅台发布2024年度业绩预告……"
    assert first["published_at"] == "2024-12-30T00:00:00Z"  # +08:00 normalized to UTC
    assert second["published_at"] == "2024-08-09T20:00:00Z"  # naive: taken as UTC
    assert third["published_at"] is None and fourth["published_at"] is None
    assert first["engines"] == ["bing", "baidu"]
    tool_call_id = body["cite"]["tool_call_id"]
    assert tool_call_id.startswith("tc_")
    for result in body["results"]:
        cite = result["cite"]
        assert cite["source"] == "searxng" and cite["tool_call_id"] == tool_call_id
        assert cite["original_url"] == result["url"] and cite["engines"] == result["engines"]
        assert cite["served_by"].startswith("twilight-drive/")
        assert cite["warnings"] == []  # no `since`: nothing left unchecked
        assert result["fetched_at"] == "2024-12-31T12:00:00Z"  # the runtime's clock
    assert body["unresponsive_engines"] == [
        {"engine": "google", "reason": "timeout"},
        {"engine": "duckduckgo", "reason": "CAPTCHA"},
    ]
    assert any("google did not answer: timeout" in w for w in body["cite"]["warnings"])
    assert [a["outcome"] for a in body["cite"]["attempts"]] == ["miss", "ok"]


async def test_max_results_truncates(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    body = await answer(rt, query=QUERY, max_results=2)
    assert [r["url"] for r in body["results"]] == [
        "https://example.com/news/moutai-2024",
        "https://example.com/news/moutai-h1",
    ]


async def test_since_filters_dated_results_and_keeps_undated_ones_flagged(
    make_runtime: RuntimeFactory, searxng: FakeSearxng
) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    body = await answer(rt, query=QUERY, since="20241201")
    urls = [r["url"] for r in body["results"]]
    assert "https://example.com/news/moutai-h1" not in urls  # published 2024-08-09
    assert urls == [
        "https://example.com/news/moutai-2024",
        "https://example.com/moutai",
        "https://example.com/quote/600519",
    ]
    assert body["dropped_before_since"] == 1 and body["undated_count"] == 2
    undated = [r for r in body["results"] if r["published_at"] is None]
    assert all(any("could not be checked" in w for w in r["cite"]["warnings"]) for r in undated)
    dated = body["results"][0]
    assert dated["cite"]["warnings"] == []


async def test_429_waits_and_retries_once(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    searxng.script("rate_limit")
    body = await answer(rt, query=QUERY)
    assert searxng.calls == 2
    assert body["provider"] == "searxng" and body["result_count"] == 4
    outcomes = [(a["provider"], a["outcome"]) for a in body["cite"]["attempts"]]
    assert outcomes == [("warehouse", "miss"), ("searxng", "ok")]  # the guard's wait, as for every upstream
    metrics = rt.metrics.render().decode()
    assert 'twilight_upstream_calls_total{dataset="search",outcome="RateLimited",provider="searxng"} 1.0' in metrics


async def test_429_twice_without_fallback_is_a_rate_limit(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    searxng.mode = "rate_limit"
    error = error_of(await call(rt, "search", query=QUERY))
    assert searxng.calls == 2  # one retry, no more
    assert error["category"] == "RATE_LIMIT" and error["retry_after_seconds"] == 1


async def test_searxng_down_falls_back_to_google(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, google: FakeGoogleCSE
) -> None:
    rt = make_runtime(searxng_url=searxng.url, **google.settings())
    searxng.mode = "down"
    body = await answer(rt, query=QUERY, max_results=5)
    assert searxng.calls == 3 and google.calls == 1  # a 5xx is retried in place (TWILIGHT_UPSTREAM_TRIES) first
    asked = google.requests[0]["query"]
    assert asked["q"] == QUERY and asked["num"] == "5" and asked["lr"] == "lang_zh-CN" and asked["cx"] == google.cx
    assert body["provider"] == "google_cse"
    assert {r["cite"]["source"] for r in body["results"]} == {"google_cse"}
    assert body["results"][0]["published_at"] == "2024-12-29T10:00:00Z"  # from the page's meta tags
    assert body["results"][0]["url"] == "https://example.org/moutai-google"
    attempts = body["cite"]["attempts"]
    assert (attempts[1]["provider"], attempts[1]["outcome"]) == ("searxng", "UpstreamUnavailable")
    assert "HTTP 503" in attempts[1]["detail"]
    assert body["cite"]["source_chain"] == ["warehouse", "searxng", "google_cse"]
    assert any("fallback google_cse" in w for w in body["cite"]["warnings"])


async def test_searxng_unreachable_or_empty_falls_back(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, dashscope: FakeDashScope, google: FakeGoogleCSE
) -> None:
    rt = make_runtime(searxng_url=f"http://{CLOSED}", **dashscope.settings(), **google.settings())
    body = await answer(rt, query=QUERY)
    assert body["provider"] == "dashscope" and google.calls == 0
    assert dashscope.requests[0]["authorization"] == f"Bearer {dashscope.key}"
    sent = dashscope.requests[0]["body"]
    assert sent["parameters"]["enable_search"] is True and sent["input"]["messages"][0]["content"] == QUERY
    assert body["results"][0]["cite"]["source"] == "dashscope"
    assert body["results"][0]["url"] == "https://example.net/moutai"

    rt = make_runtime(searxng_url=searxng.url, **dashscope.settings(), **google.settings())
    searxng.mode = "empty"
    dashscope.mode = "empty"
    body = await answer(rt, query=QUERY)
    assert body["provider"] == "google_cse" and google.calls == 1
    outcomes = [(a["provider"], a["outcome"]) for a in body["cite"]["attempts"]]
    assert outcomes == [("warehouse", "miss"), ("searxng", "empty"), ("dashscope", "empty"), ("google_cse", "ok")]


async def test_questions_share_one_kept_alive_connection(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    for n in range(3):
        await answer(rt, query=f"{QUERY} {n}")
    assert searxng.calls == 3
    assert len({r["peer"] for r in searxng.requests}) == 1  # one pooled client, not one per request


async def test_a_failing_searxng_opens_its_breaker_and_is_not_asked_until_the_cooldown(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, google: FakeGoogleCSE
) -> None:
    rt = make_runtime(searxng_url=searxng.url, upstream_tries=1, breaker_failures=2, **google.settings())
    searxng.mode = "down"
    for n in range(2):
        await answer(rt, query=f"{QUERY} {n}")
    assert searxng.calls == 2 and google.calls == 2
    body = await answer(rt, query=f"{QUERY} 2")
    assert searxng.calls == 2 and google.calls == 3  # the open breaker answers for SearXNG
    attempts = body["cite"]["attempts"]
    assert (attempts[1]["provider"], attempts[1]["outcome"]) == ("searxng", "CircuitOpen")
    assert rt.composer.status({})["searxng"]["breaker"] == "open"


async def test_everything_down_is_a_service_error_naming_the_settings(
    make_runtime: RuntimeFactory, searxng: FakeSearxng
) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    searxng.mode = "down"
    error = error_of(await call(rt, "search", query=QUERY))
    assert error["category"] == "SERVICE"
    assert "searxng" in error["message"] and "HTTP 503" in error["message"]
    assert "DASHSCOPE_API_KEY" in error["remedy"] and "GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID" in error["remedy"]
    assert error["tool_call_id"].startswith("tc_")
    assert [a["provider"] for a in error["attempts"]] == ["warehouse", "searxng"]


async def test_nothing_configured_says_to_set_searxng_url(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    error = error_of(await call(rt, "search", query=QUERY))
    assert error["category"] == "SERVICE"
    assert "SEARXNG_URL" in error["remedy"] and "DASHSCOPE_API_KEY" in error["remedy"]


async def test_second_identical_call_is_a_cache_hit(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, clock: SettableClock
) -> None:
    rt = make_runtime(searxng_url=searxng.url, search_cache_ttl_seconds=900)
    first = await answer(rt, query=QUERY, since="2024-12-01")
    second = await answer(rt, query=QUERY, since="2024-12-01")
    assert searxng.calls == 1
    assert second["cached"] is True and first["cached"] is False
    assert [r["url"] for r in second["results"]] == [r["url"] for r in first["results"]]
    assert second["unresponsive_engines"] == first["unresponsive_engines"]
    assert second["cite"]["tool_call_id"] != first["cite"]["tool_call_id"]
    assert {r["cite"]["tool_call_id"] for r in second["results"]} == {second["cite"]["tool_call_id"]}
    assert [(a["provider"], a["outcome"]) for a in second["cite"]["attempts"]] == [("warehouse", "hit")]
    metrics = rt.metrics.render().decode()
    assert 'twilight_store_lookups_total{dataset="search",outcome="hit"} 1.0' in metrics
    assert 'twilight_store_lookups_total{dataset="search",outcome="miss"} 1.0' in metrics

    await answer(rt, query=QUERY, since="2024-12-02")  # another question: another upstream call
    assert searxng.calls == 2
    clock.set(2024, 12, 31, 20, 16)  # past the TTL
    third = await answer(rt, query=QUERY, since="2024-12-01")
    assert searxng.calls == 3 and third["cached"] is False


async def test_empty_answers_are_not_cached(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    searxng.mode = "empty"
    body = await answer(rt, query=QUERY)
    assert body["results"] == [] and body["result_count"] == 0
    await answer(rt, query=QUERY)
    assert searxng.calls == 2


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"query": "   "}, "query"),
        ({"query": QUERY, "max_results": 0}, "max_results"),
        ({"query": QUERY, "max_results": 51}, "max_results"),
        ({"query": QUERY, "since": "yesterday"}, "since"),
        ({"query": QUERY, "since": "2024-02-30"}, "since"),
        ({"query": QUERY, "since": "20990101"}, "since"),
        ({"query": QUERY, "language": "zh CN; drop"}, "language"),
    ],
)
async def test_bad_arguments_are_parameter_errors(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, arguments: dict[str, Any], argument: str
) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    error = error_of(await call(rt, "search", **arguments))
    assert error["category"] == "PARAMETER" and error["argument"] == argument
    assert searxng.calls == 0


async def test_the_tool_is_listed_read_only(make_runtime: RuntimeFactory) -> None:
    from mcp import Client

    from mcp_server.server import build_server

    rt = make_runtime()
    async with Client(build_server(rt, http_auth=False)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    tool = tools["search"]
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tool.output_schema is not None and "unresponsive_engines" in tool.output_schema["properties"]
