"""Issue 15, holes 4, 7 and 8: what a caller's arguments can make the tools say, log and accept.

4: a 4 MB argument gets a short error and a short log line (the real JSON log handler).
7: arguments the SDK's signature check refuses are PARAMETER errors in our shape, not pydantic's text.
8: a boolean is no code, "" / 0 / false are no dates, a 64 KB search query is a PARAMETER error, and a
   global ticker's early date is asked of Yahoo rather than refused by the A-share calendar.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from ops.logging import configure_logging
from tests.conftest import RuntimeFactory
from tests.fake_searxng import FakeSearxng
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
HUGE = 4 * 1024 * 1024  # the 4 MB argument


class Logs:
    """What the server's own log configuration wrote (to a file standing in for stderr)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture
def json_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Logs]:
    """configure_logging as `twilight serve` calls it, its stderr a file; everything put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    path = tmp_path / "stderr.log"
    with path.open("w", encoding="utf-8") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        configure_logging("INFO")
        structlog.configure(cache_logger_on_first_use=False)  # module loggers must not keep this stream
        yield Logs(path)
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


def _shape(error: dict[str, Any]) -> None:
    assert set(error) >= {"category", "message", "remedy", "tool_call_id"}
    assert error["tool_call_id"].startswith("tc_")
    assert "validation error" not in error["message"] and "pydantic" not in json.dumps(error)


# --- hole 4 -------------------------------------------------------------------------------------


async def test_a_4mb_argument_gets_a_short_error_and_a_short_log_line(
    make_runtime: RuntimeFactory, json_logs: Logs
) -> None:
    rt = make_runtime()
    for tool, arguments, argument in [
        ("price", {"code": "x" * HUGE}, "code"),
        ("warehouse_daily", {"code": "600519", "start": "2" * HUGE}, "start"),
        ("search", {"query": "q", "language": "z" * HUGE}, "language"),
        ("quality_logs", {"limit": "9" * HUGE}, "limit"),  # refused by the schema, before our code
    ]:
        error = error_of(await call(rt, tool, **arguments))
        _shape(error)
        assert error["category"] == "PARAMETER" and error["argument"] == argument
        assert len(error["message"]) < 300, (tool, len(error["message"]))
        assert f"({HUGE} chars)" in error["message"]  # what was sent is still told, by its length
    logged = json_logs.read()
    assert "tool_failed" in logged and len(logged) < 8_000, len(logged)


def test_the_log_formatter_caps_any_line(json_logs: Logs) -> None:
    """The SDK's own loggers write what a peer sent (`Tool %r failed: %r`); the formatter bounds it."""
    logging.getLogger("mcp.server.mcpserver.server").info("Tool %r failed: %r", "price", "x" * HUGE)
    structlog.get_logger("mcp_server.answering").info("tool_failed", reason="y" * HUGE, extra=["z" * 1000] * 4000)
    lines = json_logs.read().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert len(line) < 8_000, len(line)
        assert json.loads(line)["level"] == "info"  # still one JSON object per line
    assert "Tool 'price' failed" in lines[0] and "chars)" in lines[0]


# --- hole 7 -------------------------------------------------------------------------------------


async def test_a_missing_argument_is_a_parameter_error_in_our_shape(runtime: Any) -> None:
    result = await call(runtime, "warehouse_daily", code="600519")
    error = error_of(result)
    _shape(error)
    assert error["category"] == "PARAMETER" and error["argument"] == "start"
    assert error["message"] == "start is required"
    assert "YYYYMMDD or YYYY-MM-DD" in error["remedy"]


async def test_a_value_outside_an_enum_names_the_allowed_values(runtime: Any) -> None:
    error = error_of(await call(runtime, "warehouse_daily", code="600519", start="2024-06-20", layer="gold"))
    _shape(error)
    assert error["category"] == "PARAMETER" and error["argument"] == "layer"
    assert "'gold'" in error["message"]
    assert all(f'"{v}"' in error["remedy"] for v in ("curated", "normalized", "raw"))
    error = error_of(await call(runtime, "quality_logs", severity="fatal"))
    assert error["argument"] == "severity" and '"info", "warning", "error"' in error["remedy"]


async def test_wrong_types_are_parameter_errors_naming_each_argument(runtime: Any) -> None:
    error = error_of(await call(runtime, "price", code=[600519], trade_date=20240620.5))
    _shape(error)
    assert error["category"] == "PARAMETER" and error["argument"] == "code"
    assert "code must be a string or an integer, not [600519] (a list)" in error["message"]
    assert "trade_date must be" in error["message"] and "pass trade_date as" in error["remedy"]
    error = error_of(await call(runtime, "search", query="茅台", categories="news"))
    assert error["argument"] == "categories" and "a list (each item a string)" in error["remedy"]


# --- hole 8 -------------------------------------------------------------------------------------


async def test_a_boolean_is_not_a_code(runtime: Any, upstream: FakeTushare) -> None:
    for flag in (True, False):
        error = error_of(await call(runtime, "price", code=flag))
        _shape(error)
        assert error["category"] == "PARAMETER" and error["argument"] == "code"
        assert "00000" not in json.dumps(error)  # neither 000001.SZ nor 000000.SZ was looked up
    assert sum(upstream.calls.values()) == 0


async def test_an_empty_zero_or_false_date_is_an_error_not_latest(runtime: Any) -> None:
    for tool, argument in [("price", "trade_date"), ("warehouse_features", "date"), ("fundamentals", "period")]:
        for value in ("", 0, False, "  "):
            error = error_of(await call(runtime, tool, code="600519", **{argument: value}))
            _shape(error)
            assert error["category"] == "PARAMETER" and error["argument"] == argument, (tool, value, error)
    error = error_of(await call(runtime, "quality_logs", since=""))
    assert error["argument"] == "since"
    error = error_of(await call(runtime, "quality_logs", limit=True))
    assert error["argument"] == "limit"
    # only an absent or null date means the latest
    for arguments in ({}, {"trade_date": None}):
        result = await call(runtime, "price", code="600519", **arguments)
        assert not result.is_error and (result.structured_content or {})["trade_date"] == "2024-12-31"


async def test_a_64kb_search_query_is_a_parameter_error(make_runtime: RuntimeFactory, searxng: FakeSearxng) -> None:
    rt = make_runtime(searxng_url=searxng.url)
    error = error_of(await call(rt, "search", query="茅台" * 32 * 1024))
    _shape(error)
    assert error["category"] == "PARAMETER" and error["argument"] == "query"
    assert "65536 characters, over 500" in error["message"]
    assert searxng.calls == 0
    ok = await call(rt, "search", query="茅台" * 250)  # at the cap: asked upstream
    assert not ok.is_error and searxng.calls == 1


async def test_a_global_tickers_early_date_is_asked_of_yahoo(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    rt = make_runtime(token=None)
    error = error_of(await call(rt, "price", code="AAPL", trade_date="1985-06-03"))
    _shape(error)
    assert "A-share" not in error["message"], error
    assert error["category"] == "PARAMETER" and error["argument"] == "trade_date"
    assert yahoo.charts("AAPL"), "Yahoo was not asked"
    # an A-share's date before 1990-12-19 is still refused at once
    error = error_of(await call(rt, "price", code="600519", trade_date="1985-06-03"))
    assert "before the first A-share trading day" in error["message"]


async def test_only_ascii_digits_make_a_code(runtime: Any, upstream: FakeTushare) -> None:
    """Found by the fuzz test: `\\d` matched any script's digits, and ६००५१९.SH was asked upstream."""
    for code in ("६००५१९.SH", "८🯶𝟶𑓔2३.SZ"):
        error = error_of(await call(runtime, "price", code=code))
        assert (
            error["category"] == "PARAMETER" and error["argument"] == "code" and "not a stock code" in error["message"]
        )
    assert sum(upstream.calls.values()) == 0
    result = await call(
        runtime, "price", code="６００５１９", trade_date="２０２４-１２-３１"
    )  # full width, as typed in Chinese
    assert not result.is_error and (result.structured_content or {})["ts_code"] == "600519.SH"


async def test_an_argument_the_tool_does_not_take_is_refused_not_ignored(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    """A misspelt `trade_dte` used to be dropped, so the answer was the latest bar: another day than the one asked."""
    rt = make_runtime()
    error = error_of(await call(rt, "price", code="600519", trade_dte="2024-06-20"))
    assert error["category"] == "PARAMETER" and error["argument"] == "trade_dte"
    assert "did you mean trade_date" in error["message"] and "code, trade_date" in error["remedy"]
    assert upstream.calls["daily"] == 0  # refused before anything was asked
    huge = error_of(await call(rt, "ping", **{"x" * 100_000: 1}))
    assert huge["category"] == "PARAMETER" and len(huge["message"]) < 300
