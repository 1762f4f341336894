"""`verify_answer` and `twilight verify`: a reply checked against the caller's own ledger, in
memory and over real HTTP, with the verdicts counted in the metrics."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from ops.runtime import Runtime
from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.helpers import TWILIGHT, call, error_of, free_port, serve

pytestmark = pytest.mark.anyio


async def _pe_of(rt: Runtime) -> tuple[float, str]:
    body = (await call(rt, "fundamentals", code="600519", trade_date="20251023")).structured_content
    assert body is not None
    pe = next(c["value"] for c in body["claims"] if c["metric"] == "pe_ttm")
    return pe, body["cite"]["tool_call_id"]


async def test_a_right_reply_passes_and_a_wrong_one_fails_with_what_to_quote(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 23)
    rt = make_runtime()
    pe, tc = await _pe_of(rt)
    right = (
        await call(rt, "verify_answer", text=f"贵州茅台 2025-10-23 市盈率(TTM) {pe:.2f} 倍 [{tc}]")
    ).structured_content
    assert right is not None and right["verdict"] == "pass" and right["claims"][0]["matched"] == "pe_ttm"
    assert right["cite"]["receipt"]["alg"] == "Ed25519"
    wrong = (await call(rt, "verify_answer", text=f"P/E (TTM) is {pe + 1:.2f} [{tc}]")).structured_content
    assert wrong is not None and wrong["verdict"] == "fail" and wrong["claims"][0]["status"] == "mismatch"
    assert wrong["citable"][tc]["pe_ttm"]["value"] == pe
    metrics = rt.metrics.render().decode()
    assert 'twilight_verifications_total{verdict="pass"} 1.0' in metrics
    assert 'twilight_verifications_total{verdict="fail"} 1.0' in metrics
    assert 'twilight_verified_claims_total{status="mismatch"} 1.0' in metrics


async def test_an_oversized_text_is_a_parameter_error(runtime: Runtime) -> None:
    error = error_of(await call(runtime, "verify_answer", text="1" * 20_001))
    assert error["category"] == "PARAMETER" and error["argument"] == "text"


async def test_a_number_of_a_thousand_digits_is_no_claim(runtime: Runtime) -> None:
    """Found by the fuzz test: it parsed as inf, which JSON has no word for, and the answer broke its schema."""
    result = await call(runtime, "verify_answer", text="9" * 1000 + " and P/E 20.44")
    assert not result.is_error, result.content
    body = result.structured_content or {}
    assert all(isinstance(c["value"], float | int) for c in body["claims"]), body["claims"]


async def _tools(url: str, token: str, *calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        out = []
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, result.content
            out.append(result.structured_content or {})
        return out


@pytest.mark.slow
async def test_over_http_a_user_checks_only_their_own_answers_and_operators_use_the_cli(
    fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path: Path
) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
           "TWILIGHT_HOME": str(tmp_path / "home"), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
           "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
           "TWILIGHT_SCHEDULE": "false"}  # fmt: skip

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TWILIGHT, *args], env=env, capture_output=True, text=True, timeout=60, input=stdin)

    alice = cli("token", "issue", "--user", "alice").stdout.strip().splitlines()[-1]
    mallory = cli("token", "issue", "--user", "mallory").stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(env, port, tmp_path / "server.log")
    try:
        (price,) = await _tools(url, alice, ("price", {"code": "600519", "trade_date": "2024-06-20"}))
        tc = price["cite"]["tool_call_id"]
        reply = f"贵州茅台 2024-06-20 收盘 {price['close_raw']:,.2f} 元 [{tc}]"
        (own,) = await _tools(url, alice, ("verify_answer", {"text": reply}))
        (probe,) = await _tools(url, mallory, ("verify_answer", {"text": reply}))
        assert own["verdict"] == "pass" and probe["verdict"] == "fail"
        assert probe["claims"][0]["status"] == "unknown_cite" and probe["citable"] == {}
        (reply_file := tmp_path / "reply.txt").write_text(reply)
        passed = cli("verify", "--user", "alice", str(reply_file))
        assert passed.returncode == 0 and passed.stdout.startswith("PASS"), passed.stderr
        tampered = cli("verify", "--user", "alice", "--json", "-", stdin=reply.replace("1,500.10", "1,510.10"))
        assert tampered.returncode == 1 and '"mismatch"' in tampered.stdout
        metrics = httpx.get(url + "/metrics").text
        assert 'twilight_verifications_total{verdict="fail"} 2.0' in metrics  # mallory's probe, the tampered file
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
