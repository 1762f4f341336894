"""From payment to an answer: a signed ¥198 WeChat Pay notification reaches `twilight serve`,
which provisions a real hermes-agent profile and starts it (runner `process`); the bot, driven
by a scripted local LLM, calls our `fundamentals` tool over MCP and quotes the P/E with its
tool_call_id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_wechatpay import notification_body, signed_headers
from tests.helpers import TWILIGHT, free_port, serve
from tests.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
MCH_ID, KEY_ID, APIV3 = "1900000109", "PUB_KEY_ID_0114232020081800000000000000000001", "0123456789abcdef" * 2
PE_TTM_20251023 = 20.4403  # tushare daily_basic of 600519.SH, the stand-in's fixture


@pytest.fixture
def paid_server(
    hermes: str, fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str], rsa.RSAPrivateKey, ScriptedLLM]]:
    wechat = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "wechatpay_pub.pem"
    pem.write_bytes(wechat.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    llm = ScriptedLLM().start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(tmp_path / "home"), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
        "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
        "TWILIGHT_SCHEDULE": "false", "TWILIGHT_PORT": str(port),
        "TWILIGHT_WECHATPAY_MCH_ID": MCH_ID, "TWILIGHT_WECHATPAY_APIV3_KEY": APIV3,
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_FILE": str(pem), "TWILIGHT_WECHATPAY_PUBLIC_KEY_ID": KEY_ID,
        "TWILIGHT_PROFILE_RUNNER": "process", "TWILIGHT_HERMES_BIN": hermes, "TWILIGHT_LLM_GATEWAY_URL": llm.url,
        "TWILIGHT_LLM_MODEL": "scripted-llm", "TWILIGHT_LLM_KEY_POOL": '["sk-scripted-0123456789"]',
        "TWILIGHT_PROFILE_HEALTH_EVERY": "1",
    }  # fmt: skip
    log_path = tmp_path / "server.log"
    server = serve(env, port, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, env, wechat, llm
    finally:
        server.terminate()  # first: its supervisor would restart a bot stopped before it
        server.wait(timeout=15)
        profiles = subprocess.run([TWILIGHT, "profiles", "list", "--json"], env=env, capture_output=True, text=True)
        for profile in json.loads(profiles.stdout or "[]"):
            if profile["pid"]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(profile["pid"], signal.SIGTERM)
        llm.stop()
        log_text = log_path.read_text()
        for secret in ("sk-scripted-0123456789", APIV3, "td_"):  # no key of any kind in our logs
            assert secret not in log_text


def test_a_payment_ends_in_a_bot_that_quotes_the_pe_with_its_citation(
    paid_server: tuple[str, dict[str, str], rsa.RSAPrivateKey, ScriptedLLM],
) -> None:
    url, env, wechat, llm = paid_server
    order = {
        "mchid": MCH_ID, "appid": "wxd678efh567hg6787", "out_trade_no": "TD20261122000042",
        "transaction_id": "4200000000202611220000000042", "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "attach": "pro", "success_time": "2026-11-22T10:00:00+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9z"},
        "amount": {"total": 19800, "payer_total": 19800, "currency": "CNY", "payer_currency": "CNY"},
    }  # fmt: skip
    body = notification_body(APIV3.encode(), order, notification_id="EV-e2e-1")
    paid_at = time.monotonic()
    reply = httpx.post(url + "/webhooks/wechatpay", content=body,
                       headers=signed_headers(wechat, KEY_ID, body, dt.datetime.now(dt.UTC)), timeout=5)  # fmt: skip
    assert reply.status_code == 204
    replied = time.monotonic() - paid_at
    assert replied < 5  # WeChat's limit

    profile: dict[str, object] = {}
    for _ in range(240):
        listed = subprocess.run([TWILIGHT, "profiles", "list", "--json"], env=env, capture_output=True, text=True)
        found = json.loads(listed.stdout or "[]")
        if found and found[0]["state"] in ("running", "failed"):
            profile = found[0]
            break
        time.sleep(0.5)
    provisioned = time.monotonic() - paid_at
    assert profile.get("state") == "running", profile
    print(f"\nwebhook reply {replied * 1000:.0f} ms; payment to a running bot {provisioned:.1f} s")

    home = Path(str(profile["path"]))
    secrets_env = dict(line.split("=", 1) for line in (home / ".env").read_text().splitlines() if "=" in line)
    asked = httpx.post(
        f"http://127.0.0.1:{secrets_env['API_SERVER_PORT']}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secrets_env['API_SERVER_KEY']}"},
        json={"model": str(profile["profile"]), "messages": [{"role": "user", "content": "What is 600519's P/E?"}]},
        timeout=120,
    )
    assert asked.status_code == 200, asked.text
    text = asked.json()["choices"][0]["message"]["content"]
    cited = re.search(r"P/E \(TTM\) is ([0-9.]+) \[(tc_[0-9a-f]{16})\]", text)
    assert cited is not None, text
    assert float(cited.group(1)) == PE_TTM_20251023
    tool_messages = [m for r in llm.requests for m in r.get("messages", []) if m.get("role") == "tool"]
    assert tool_messages and cited.group(2) in json.dumps(tool_messages)  # the id came from our tool's result
    offered = {t["function"]["name"] for t in llm.requests[0].get("tools", [])} if llm.requests else set()
    assert "mcp__twilight__fundamentals" in offered

    os.killpg(int(str(profile["pid"])), signal.SIGKILL)  # the bot dies: the server starts it again
    for _ in range(120):
        listed = subprocess.run([TWILIGHT, "profiles", "list", "--json"], env=env, capture_output=True, text=True)
        again = json.loads(listed.stdout or "[]")[0]
        if again["state"] == "running" and again["pid"] != profile["pid"] and again["last_health"] == "healthy":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the profile was not restarted: {again}")
