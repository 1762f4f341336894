"""Property: whatever arguments a caller sends, every tool answers a cited result or a categorized
error in our shape; never UNKNOWN, never a crash, never pydantic's own text (issue 15).

Arguments are drawn from each tool's published inputSchema (valid values, plus the codes and dates
the tools read), mixed with wrong types, missing and extra fields, huge strings, odd unicode,
numbers, booleans and nulls. Every call goes through the real SDK client, in memory, to a server
whose upstreams are the loopback stand-ins: nothing dials out. One session serves all calls (a
blocking portal runs it), so 1,100 calls take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult

from mcp_server.server import build_server
from tests.conftest import RuntimeFactory
from tests.fake_searxng import FakeSearxng

CALLS = 1_100
CATEGORIES = {"PARAMETER", "SERVICE", "AUTH", "RATE_LIMIT"}  # UNKNOWN is a bug: nothing sent here is one

ODD = st.sampled_from(
    ["\x00", "\u200b600519", "６００５１９", "600519\n", " 600519 ", "\u202eAAPL", "😀", "NaN", "null", "[1]",
     "{}", "true", "2024-06-20T00:00:00", "-1", "0x10", "600519.sh", "SH600519 ", "'; DROP TABLE daily; --"]
) | st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # fmt: skip
HUGE = st.tuples(st.sampled_from("x9界-"), st.integers(1_000, 200_000)).map(lambda p: p[0] * p[1])
JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    ODD,
    HUGE,
    st.lists(st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
CODES = st.one_of(
    st.sampled_from(["600519", "600519.SH", "sh600519", "600519.SS", "000858.SZ", "AAPL", "aapl", "0700.HK",
                     "830799.BJ", "000001.SZ", "NOSUCHTICKER"]),
    st.integers(0, 999_999),
    st.from_regex(r"\A\d{6}(\.(SH|SZ|BJ|SS))?\Z"),
)  # fmt: skip
DAYS = st.dates(dt.date(1900, 1, 1), dt.date(2031, 12, 31))
DATES = st.one_of(
    st.sampled_from(["2024-06-20", "20240620", "2020-06-15", "2024-06-30", "1985-06-03", "2030-01-01", "2024-02-30",
                     "", "latest", "2024/06/20"]),
    DAYS.map(dt.date.isoformat),
    DAYS.map(lambda d: d.strftime("%Y%m%d")),
    st.integers(19_000_101, 20_311_231),
)  # fmt: skip
NAMED: dict[str, st.SearchStrategy[Any]] = {
    "code": CODES,
    "query": st.sampled_from(["贵州茅台 业绩", "600519", "Apple earnings"]) | st.text(min_size=1, max_size=60),
    "language": st.sampled_from(["zh-CN", "en", "all", "auto", "zh", "xx-YY-ZZ"]),
    "text": st.sampled_from(["贵州茅台 2024-06-20 收盘 1,500.10 元 [tc_0123456789abcdef]", "没有数字", ""])
    | st.text(max_size=200),
    **{name: DATES for name in ("trade_date", "start", "end", "date", "period", "since")},
}

# Arguments a well-behaved agent sends (codes and days the stand-ins hold), so that the answering
# paths are fuzzed too, not only the refusals.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "code": st.sampled_from(["600519", "600519.SH", "sh600519", "000858.SZ", "AAPL", 600519]),
    "query": st.sampled_from(["贵州茅台 业绩", "五粮液"]),
    "language": st.sampled_from(["zh-CN", "en", "all"]),
    "period": st.sampled_from(["20240630", "2023-12-31", "20240331", None]),
    "severity": st.sampled_from(["info", "warning", "error", None]),
    "limit": st.integers(1, 500),
    "max_results": st.integers(1, 50),
    **{
        name: st.sampled_from(["2024-06-20", "20240620", "2024-12-31", "2020-06-15", "2024-01-02", None])
        for name in ("trade_date", "end", "date", "since")
    },
    "start": st.sampled_from(["2024-06-03", "20240101", "2020-06-01"]),
}


def valid(prop: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the kind a schema property declares."""
    if "enum" in prop:
        return st.sampled_from(list(prop["enum"]))
    if "anyOf" in prop:
        return st.one_of([valid(p) for p in prop["anyOf"]])
    kind = prop.get("type")
    if kind == "array":
        return st.lists(valid(prop.get("items") or {}), max_size=4)
    simple: dict[str, st.SearchStrategy[Any]] = {
        "string": st.text(max_size=20),
        "integer": st.integers(-10, 600),
        "number": st.floats(-1e6, 1e6),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return simple.get(str(kind), JUNK)


def arguments_for(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if draw(st.integers(0, 3)) == 0:
            for name, prop in properties.items():
                if name in required or draw(st.booleans()):
                    arguments[name] = draw(PLAUSIBLE.get(name, NAMED.get(name, valid(prop))))
            return arguments
        for name, prop in properties.items():
            if draw(st.integers(0, 9)) < (9 if name in required else 6):  # mostly present, sometimes missing
                named = NAMED.get(name, valid(prop))
                arguments[name] = draw(st.one_of(named, named, valid(prop), JUNK))
        keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in properties)
        return {**arguments, **draw(st.dictionaries(keys, JUNK, max_size=2))}

    return build()


def check(tool: str, arguments: dict[str, Any], result: CallToolResult) -> None:
    """A cited result, or an error in our shape whose category says whose fault it is."""
    shown = {k: (v if len(repr(v)) < 200 else f"<{len(repr(v))} chars>") for k, v in arguments.items()}
    assert result.content and result.content[0].type == "text", (tool, shown)
    text = result.content[0].text
    assert "validation error" not in text and "Input should be" not in text, (tool, shown, text[:500])
    if not result.is_error:
        body = result.structured_content
        assert isinstance(body, dict) and body["cite"]["tool_call_id"].startswith("tc_"), (tool, shown)
        return
    error = json.loads(text)["error"]
    assert error["category"] in CATEGORIES, (tool, shown, error)
    assert error["message"] and error["remedy"] and error["tool_call_id"].startswith("tc_"), (tool, shown, error)
    assert len(error["message"]) < 2_000, (tool, shown, len(error["message"]))
    if error["category"] == "PARAMETER":
        assert error.get("argument"), (tool, shown, error)


@pytest.fixture(scope="module")
def searxng() -> Iterator[FakeSearxng]:
    fake = FakeSearxng().start()
    yield fake
    fake.stop()


@pytest.mark.slow
def test_fuzzed_calls_answer_a_result_or_an_error_in_our_shape(
    make_runtime: RuntimeFactory, searxng: FakeSearxng, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DASHSCOPE_API_KEY", "GOOGLE_CSE_API_KEY", "GOOGLE_CSE_ID"):
        monkeypatch.delenv(name, raising=False)
    rt = make_runtime(searxng_url=searxng.url)
    seen: Counter[str] = Counter()
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(build_server(rt, http_auth=False))) as client,
    ):
        schemas = {t.name: t.input_schema for t in portal.call(client.list_tools).tools}

        @settings(
            max_examples=CALLS,
            deadline=None,
            database=None,  # nothing written into the checkout
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        )
        @given(st.data())
        def property(data: st.DataObject) -> None:
            tool = data.draw(st.sampled_from(sorted(schemas)), label="tool")
            arguments = data.draw(arguments_for(schemas[tool]), label="arguments")
            result = portal.call(client.call_tool, tool, arguments)
            seen[tool] += 1
            check(tool, arguments, result)

        property()
    assert set(seen) == set(schemas) and len(schemas) >= 10
    assert sum(seen.values()) >= 1_000, seen
