"""tushare's failures become typed errors, then the tool categories of DESIGN.md, with remedies.

These runtimes try tushare alone, so that each failure is the answer; fallback to the other
providers is tests/test_composer.py's subject.
"""

from __future__ import annotations

import pytest

from ops.runtime import Runtime
from tests.conftest import RuntimeFactory
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
TUSHARE_ONLY = {"daily": ["tushare"], "adj_factor": ["tushare"], "daily_basic": ["tushare"]}


@pytest.fixture
def make_runtime(make_runtime: RuntimeFactory) -> RuntimeFactory:
    def factory(token: str | None = "test-token", **overrides: object) -> Runtime:
        return make_runtime(token, provider_order=TUSHARE_ONLY, **overrides)

    return factory


async def test_missing_token_says_set_tushare_token(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    error = error_of(await call(make_runtime(token=None), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "AUTH" and "TUSHARE_TOKEN" in error["message"] + error["remedy"]
    assert sum(upstream.calls.values()) == 0


async def test_rejected_token_is_auth(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    error = error_of(await call(make_runtime(token="wrong"), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "AUTH" and "TUSHARE_TOKEN" in error["remedy"]
    assert upstream.calls["daily"] == 1  # not retried: a bad token stays bad


async def test_no_permission_is_auth(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "no_permission"
    error = error_of(await call(make_runtime(), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "AUTH" and "points" in error["remedy"]


async def test_per_minute_limit_is_rate_limit_with_retry_after(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    upstream.mode = "rate_limit"
    error = error_of(await call(make_runtime(), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "RATE_LIMIT" and error["retry_after_seconds"] == 60
    assert upstream.calls["daily"] == 1


async def test_daily_quota_waits_until_midnight(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "daily_limit"
    error = error_of(await call(make_runtime(), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "RATE_LIMIT" and 0 < error["retry_after_seconds"] <= 86400


async def test_upstream_down_is_service_after_bounded_retries(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    upstream.mode = "down"
    rt = make_runtime(upstream_tries=3)
    error = error_of(await call(rt, "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "SERVICE"
    assert [a["provider"] for a in error["attempts"]] == ["warehouse", "tushare"]
    assert error["attempts"][1]["outcome"] == "UpstreamUnavailable"
    assert upstream.calls["daily"] == 3
    health = rt.health.snapshot()["tushare"]
    assert health["last_error"]["kind"] == "UpstreamUnavailable"


async def test_transient_failure_is_retried_then_served(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.fail_next = 1
    rt = make_runtime()
    result = await call(rt, "price", code="600519", trade_date="2024-06-20")
    assert not result.is_error and upstream.calls["daily"] == 2
    assert rt.health.snapshot()["tushare"]["last_success"] is not None


async def test_malformed_payload_is_service(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "bad_json"
    error = error_of(await call(make_runtime(upstream_tries=1), "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "SERVICE" and "malformed" in error["message"]


async def test_timeout_is_service(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "slow"
    rt = make_runtime(upstream_timeout=0.2, upstream_tries=1)
    error = error_of(await call(rt, "price", code="600519", trade_date="2024-06-20"))
    assert error["category"] == "SERVICE" and "timed out" in error["message"]


async def test_failure_does_not_poison_the_store(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime(upstream_tries=1)
    upstream.mode = "down"
    assert (await call(rt, "price", code="600519", trade_date="2024-06-20")).is_error
    upstream.mode = None
    body = (await call(rt, "price", code="600519", trade_date="2024-06-20")).structured_content
    assert body is not None and body["close_raw"] == 1500.1
