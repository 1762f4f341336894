"""End to end: the `twilight` CLI starts a real server; the MCP SDK client talks to it over HTTP
(both protocol eras) and over stdio; auth, probes, health, metrics and logs are checked."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import TWILIGHT, free_port, serve

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@dataclass
class Served:
    url: str
    env: dict[str, str]
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TWILIGHT, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def logs(self) -> str:
        return self.log_path.read_text()


@pytest.fixture(scope="module")
def served(
    fake_tushare: FakeTushare,
    fake_eastmoney: FakeEastmoney,
    fake_yahoo: FakeYahoo,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(home),
        "TUSHARE_TOKEN": "test-token",
        "TUSHARE_API_URL": fake_tushare.url,
        "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url,
        "TWILIGHT_YAHOO_URL": fake_yahoo.url,
        "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',  # refused: every upstream stays on this machine
        "TWILIGHT_UPSTREAM_TRIES": "1",
        "TWILIGHT_LLM_KEY_POOL": '["sk-gateway-pool-key-01"]',  # a profile's model key comes from the pool
    }
    issued = subprocess.run(
        [TWILIGHT, "token", "issue", "--user", "hermes-1"], env=env, capture_output=True, text=True, check=True
    )
    token = issued.stdout.strip().splitlines()[-1]
    log_path = home / "server.log"
    process = serve(env, port, log_path)
    url = f"http://127.0.0.1:{port}"
    yield Served(url, env, token, process, log_path)
    process.terminate()
    process.wait(timeout=10)


@contextlib.asynccontextmanager
async def _client(served: Served, token: str | None, mode: str) -> AsyncIterator[Client]:
    """The SDK client over streamable HTTP; it does not close an http client it was given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(served.url + "/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def _envelope(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    body: dict[str, Any] = result.structured_content
    return body


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_price_over_http_in_both_protocol_eras(served: Served, mode: str) -> None:
    async with _client(served, served.token, mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"price", "fundamentals", "ping"} <= names
        body = _envelope(await client.call_tool("price", {"code": "600519", "trade_date": "20240620"}))
    assert body["close_raw"] == 1500.1 and body["adj_factor"] == 8.0204
    assert body["adj_factor_latest"] == 8.4464 and body["cite"]["adj_factor_latest_date"] == "2026-04-15"
    assert body["close_qfq"] == pytest.approx(1500.1 * 8.0204 / 8.4464, abs=1e-4)


def test_missing_or_unknown_token_is_401(served: Served) -> None:
    for headers in ({}, {"Authorization": "Bearer td_not-a-real-token-at-all-0000000000"}):
        response = httpx.post(served.url + "/mcp", json={}, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_revoked_token_is_403_while_the_server_runs(served: Served) -> None:
    raw = served.cli("token", "issue", "--user", "leaver").stdout.strip().splitlines()[-1]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"}
    assert httpx.post(served.url + "/mcp", json=ping, headers=headers).status_code == 200
    assert served.cli("token", "revoke", "--user", "leaver").returncode == 0
    assert httpx.post(served.url + "/mcp", json=ping, headers=headers).status_code == 403
    listing = served.cli("token", "list", "--json")
    assert raw not in listing.stdout
    assert {"user": "leaver"}.items() <= next(r for r in json.loads(listing.stdout) if r["user"] == "leaver").items()


def test_unknown_host_header_is_refused(served: Served) -> None:
    """DNS-rebinding protection: only loopback and TWILIGHT_ALLOWED_HOSTS may name the server."""
    headers = {"Authorization": f"Bearer {served.token}", "Host": "attacker.example"}
    response = httpx.post(served.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
    assert response.status_code == 421


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_probing_mcp_is_json_not_html(served: Served, method: str) -> None:
    for headers in ({}, {"Authorization": f"Bearer {served.token}"}):
        response = httpx.request(method, served.url + "/mcp", headers=headers, timeout=5)
        assert response.status_code == 405
        assert response.headers["content-type"].startswith("application/json")
        assert "<html" not in response.text.lower()


async def test_health_and_metrics_report_the_calls(served: Served) -> None:
    async with _client(served, served.token, "legacy") as client:
        await client.call_tool("price", {"code": "600519", "trade_date": "20240620"})
        assert (await client.call_tool("price", {"code": "600519", "trade_date": "2024-06-22"})).is_error
    health = httpx.get(served.url + "/healthz").json()
    assert health["ok"] is True and health["version"]
    assert health["warehouse"]["estimated_rows"]["norm_daily"] > 0
    assert health["providers"]["tushare"]["last_success"] is not None
    metrics = httpx.get(served.url + "/metrics").text
    assert 'twilight_tool_calls_total{outcome="ok",tool="price"}' in metrics
    assert 'twilight_tool_calls_total{outcome="PARAMETER",tool="price"}' in metrics
    assert 'twilight_upstream_calls_total{dataset="daily",outcome="ok",provider="tushare"}' in metrics
    assert 'twilight_store_lookups_total{dataset="daily",outcome="hit"}' in metrics
    assert "twilight_tool_latency_seconds_bucket" in metrics


async def test_global_ticker_and_total_upstream_failure_over_http(
    served: Served, fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney
) -> None:
    async with _client(served, served.token, "legacy") as client:
        aapl = _envelope(await client.call_tool("price", {"code": "AAPL", "trade_date": "2020-06-15"}))
        assert aapl["source"] == "yahoo" and aapl["units"]["price"] == "USD"
        fake_tushare.mode, fake_eastmoney.mode = "rate_limit", "down"
        try:
            failed = await client.call_tool("price", {"code": "000858", "trade_date": "2023-03-15"})
        finally:
            fake_tushare.mode, fake_eastmoney.mode = None, None
    assert failed.is_error
    error = json.loads(failed.content[0].text)["error"]  # type: ignore[union-attr]
    assert error["category"] == "SERVICE"
    assert all(name in error["message"] for name in ("tushare: RateLimited", "akshare", "pytdx"))
    health = httpx.get(served.url + "/healthz").json()
    assert health["ok"] is True and health["providers"]["akshare"]["last_error"]["kind"] == "UpstreamUnavailable"


def test_logs_are_json_with_request_ids_and_no_secrets(served: Served) -> None:
    httpx.get(served.url + "/healthz", headers={"X-Request-ID": "probe-42"})
    time.sleep(0.2)
    logs = served.logs()
    assert served.token not in logs and "test-token" not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    http_lines = [line for line in lines if line.get("event") == "http"]
    assert http_lines and all(line.get("request_id") for line in http_lines)
    assert any(line["request_id"] == "probe-42" for line in http_lines)


async def test_stdio_runs_as_the_local_operator(served: Served) -> None:
    env = {**served.env, "TWILIGHT_HOME": served.env["TWILIGHT_HOME"] + "-stdio"}
    params = StdioServerParameters(command=TWILIGHT, args=["serve", "--transport", "stdio"], env=env)
    async with Client(params) as client:
        body = _envelope(await client.call_tool("price", {"code": "000858.SZ", "trade_date": "2024-06-20"}))
    assert body["ts_code"] == "000858.SZ" and body["close_raw"] > 0


async def test_cli_warehouse_jobs_reach_the_running_server(served: Served, tmp_path: Path) -> None:
    """The server holds the warehouse; CLI jobs go to it and never meet a DuckDB lock error."""
    daily = served.cli("ingest", "daily", "--date", "20260415", "--json")
    assert daily.returncode == 0, daily.stderr
    assert json.loads(daily.stdout)["rows_loaded"]["daily"] == 5473
    backfill = served.cli("ingest", "backfill", "--start", "20200101", "--end", "20241231", "--codes", "600519")
    assert backfill.returncode == 0 and "1 loaded" in backfill.stdout, backfill.stderr
    stats = json.loads(served.cli("warehouse", "stats", "--json").stdout)
    assert stats["layers"]["curated"]["tables"]["cur_daily"]["rows"] >= 5473 + 1212
    snapshot = served.cli("warehouse", "snapshot", str(tmp_path / "replica.duckdb"))
    assert snapshot.returncode == 0 and (tmp_path / "replica.duckdb").stat().st_size > 0
    bad = served.cli("ingest", "backfill", "--start", "20241231", "--end", "20200101")
    assert bad.returncode == 2 and "--start" in bad.stderr
    checked = served.cli("quality", "run", "--date", "20260415")
    assert checked.returncode == 0 and checked.stdout.startswith("quality 2026-04-15: "), checked.stderr
    assert "completeness" in checked.stdout  # the stand-in has no daily_basic for that day
    for output in (daily, backfill, snapshot, bad, checked):
        assert "lock" not in (output.stdout + output.stderr).lower()
    async with _client(served, served.token, "auto") as client:
        body = (await client.call_tool("warehouse_daily", {"code": "600519", "start": "20200101"})).structured_content
        status = (await client.call_tool("quality_status", {})).structured_content
    assert body is not None and body["row_count"] == 1212 + 1
    # Too long to send whole: the rest is a CSV for the key that asked, and for nobody else.
    link = body["full_result"]["csv_url"]
    assert link == f"{served.url}/results/{body['cite']['tool_call_id']}.csv", body["full_result"]
    whole = httpx.get(link, headers={"Authorization": f"Bearer {served.token}"}, timeout=10)
    assert whole.status_code == 200 and whole.text.count("\n") == 1212 + 2, whole.text[:200]
    assert httpx.get(link, timeout=10).status_code == 401
    other = served.cli("token", "issue", "--user", "someone-else").stdout.strip().splitlines()[-1]
    assert httpx.get(link, headers={"Authorization": f"Bearer {other}"}, timeout=10).status_code == 404
    assert status is not None and any(s["source"] == "tushare" for s in status["sources"])


def _ping(served: Served, token: str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
    return httpx.post(served.url + "/mcp", json=body, headers=headers, timeout=10)


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(served: Served) -> None:
    raw = served.cli("token", "issue", "--user", "looper").stdout.strip().splitlines()[-1]
    db = sqlite3.connect(Path(served.env["TWILIGHT_HOME"]) / "accounts.db")
    with db:
        db.execute("UPDATE api_keys SET rate_limit_per_min = 3 WHERE prefix = ?", (raw[:7],))
    db.close()
    statuses = [_ping(served, raw) for _ in range(4)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = statuses[3]
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "3 requests a minute" in limited.json()["error_description"]
    assert _ping(served, served.token).status_code == 200  # other keys are not affected


def test_a_provisioned_profile_key_calls_price_until_revoked_and_usage_is_logged(served: Served) -> None:
    done = served.cli("provision", "--user", "payer-1", "--plan", "pro", "--json")
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout)
    assert profile["state"] == "provisioned" and profile["runner"] == "none" and profile["key_created"]
    env = dict(line.split("=", 1) for line in (Path(profile["path"]) / ".env").read_text().splitlines() if "=" in line)
    token = env["TWILIGHT_API_TOKEN"]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "price", "arguments": {"code": "600519", "trade_date": "20240620"}}}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
    answer = httpx.post(served.url + "/mcp", json=body, headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.json()["result"]["structuredContent"]["close_raw"] == 1500.1
    for _ in range(50):  # usage rows are written every couple of seconds
        usage = json.loads(served.cli("usage", "--user", "payer-1", "--json").stdout)
        if usage:
            break
        time.sleep(0.2)
    attempts = answer.json()["result"]["structuredContent"]["cite"]["attempts"]
    upstream = sum(1 for a in attempts if a["provider"] != "warehouse")
    assert usage[0]["tool"] == "price" and usage[0]["calls"] == 1 and usage[0]["upstream_calls"] == upstream
    listed = json.loads(served.cli("profiles", "list", "--json").stdout)
    assert [p["user"] for p in listed] == ["payer-1"] and listed[0]["path"] == profile["path"]
    assert served.cli("token", "revoke", "--user", "payer-1").returncode == 0
    assert httpx.post(served.url + "/mcp", json=body, headers=headers, timeout=30).status_code == 403
    assert token not in served.logs()
