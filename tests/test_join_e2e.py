"""From ¥198 to a cited answer in WeChat, as the payer does it, against stand-ins that speak the real
wire protocols (WeChat Pay v3, Tencent iLink), with the real hermes-agent and a scripted LLM:

the /join page in headless Chromium → an order → the stand-in pays → the signed notification →
the bot provisioned from the pro template → its QR on the page → scanned and confirmed → "查 600519
的 P/E" from the payer through getupdates → the bot's reply through sendmessage with the P/E our
`fundamentals` returned and its tc_ id; a stranger gets nothing. Then the subscription ends: the key
gets 403 and the bot says why and stops; a renewal brings it back; redelivered notifications make
nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import Page, sync_playwright

from tests.fake_eastmoney import FakeEastmoney
from tests.fake_ilink import FakeIlink
from tests.fake_tushare import FakeTushare
from tests.fake_wechatpay import MERCHANT_SERIAL, PUBLIC_KEY_ID, FakeWechatPay
from tests.helpers import TWILIGHT, free_port, serve
from tests.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.slow
MCH_ID, APPID, APIV3 = "1900000109", "wxd678efh567hg6787", "0123456789abcdef" * 2
PAYER_OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
PAYER = "o9cq807dznGqXVUfJ9PRZDiHz0qQ@im.wechat"  # the payer's iLink user, who scans the bot QR
STRANGER = "o9cq80Ab3kLmNoPqRsTuVwXyZ012@im.wechat"
PE_TTM_20251023 = 20.4403  # tushare daily_basic of 600519.SH in the stand-in's fixture
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@dataclass
class Stand:
    url: str
    env: dict[str, str]
    pay: FakeWechatPay
    wechat: FakeIlink
    llm: ScriptedLLM
    home: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TWILIGHT, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.home / "accounts.db")) as db:
            return db.execute(sql).fetchall()

    def profile(self) -> dict[str, Any]:
        found: list[dict[str, Any]] = json.loads(self.cli("profiles", "list", "--json").stdout or "[]")
        return found[0] if found else {}


@pytest.fixture
def stand(hermes: str, fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path: Path) -> Iterator[Stand]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install the distribution's chromium (.ci/run does)")
    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "apiclient_key.pem"
    key_file.write_bytes(merchant.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))  # fmt: skip
    key_file.chmod(0o600)
    pay = FakeWechatPay(MCH_ID, APIV3.encode(), merchant.public_key()).start()
    wechat = FakeIlink(poll_hold=2.0, qr_hold=1.0).start()
    llm = ScriptedLLM().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(home), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
        "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
        "TWILIGHT_SCHEDULE": "false", "TWILIGHT_PORT": str(port), "TWILIGHT_PUBLIC_URL": url,
        "TWILIGHT_WECHATPAY_MCH_ID": MCH_ID, "TWILIGHT_WECHATPAY_APIV3_KEY": APIV3,
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_FILE": str(pay.public_key_pem(tmp_path / "wechatpay_pub.pem")),
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_ID": PUBLIC_KEY_ID, "TWILIGHT_WECHATPAY_APPID": APPID,
        "TWILIGHT_WECHATPAY_MERCHANT_KEY_FILE": str(key_file), "TWILIGHT_WECHATPAY_MERCHANT_SERIAL": MERCHANT_SERIAL,
        "TWILIGHT_WECHATPAY_API_URL": pay.url, "TWILIGHT_ILINK_URL": wechat.url,
        "TWILIGHT_PROFILE_RUNNER": "process", "TWILIGHT_HERMES_BIN": hermes, "TWILIGHT_LLM_GATEWAY_URL": llm.url,
        "TWILIGHT_LLM_MODEL": "scripted-llm", "TWILIGHT_LLM_KEY_POOL": '["sk-scripted-0123456789"]',
        "TWILIGHT_PROFILE_HEALTH_EVERY": "2", "TWILIGHT_SUBSCRIPTION_CHECK_EVERY": "1",
    }  # fmt: skip
    log_path = tmp_path / "server.log"
    server = serve(env, port, log_path)
    stand = Stand(url, env, pay, wechat, llm, home)
    try:
        yield stand
    finally:
        server.terminate()  # first: its supervisor would restart a bot stopped before it
        server.wait(timeout=30)
        pid = stand.profile().get("pid")
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid), signal.SIGTERM)
        for fake in (pay, wechat, llm):
            fake.stop()
        logs = log_path.read_text()
        for secret in ("sk-scripted-0123456789", APIV3, "td_", "@im.bot:"):  # keys, and iLink bot tokens
            assert secret not in logs, secret


def wait_state(page: Page, state: str, timeout: float = 120) -> str:
    page.wait_for_selector(f'#state-text[data-state="{state}"]', timeout=timeout * 1000)
    return page.inner_text("#state-text")


def until(check: Any, timeout: float = 120, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"gave up waiting after {timeout} s")


def test_from_payment_to_a_cited_answer_in_wechat_and_the_subscriptions_life(stand: Stand) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
            page.goto(stand.url + "/join")
            assert "¥198" in page.inner_text("#price")
            page.click("#pay")
            assert "扫码支付" in wait_state(page, "awaiting_payment", 30)
            assert page.get_attribute("#qr", "src", timeout=5000).startswith("data:image/png;base64,")  # type: ignore[union-attr]
            [out_trade_no] = list(stand.pay.orders)
            assert page.get_attribute("#qr", "data-url") == stand.pay.orders[out_trade_no].code_url

            assert stand.pay.pay(out_trade_no, PAYER_OPENID) == 204  # the payer pays; WeChat Pay notifies us
            wait_state(page, "awaiting_scan", 180)  # provisioned from the pro template, the bot QR asked for
            qr = stand.wechat.latest_qr()
            assert page.get_attribute("#qr", "data-url") == qr.url
            stand.wechat.scan(qr.qrcode, PAYER)
            wait_state(page, "scanned", 30)
            assert page.is_hidden("#qr")
            bot = stand.wechat.confirm(qr.qrcode)
            assert "已连接：发送 查 600519 的 P/E 试试" in wait_state(page, "bound", 180)
            assert page.is_hidden("#qr")  # nothing left to scan
            page.screenshot(path=str(stand.home.parent / "join-bound.png"))
        finally:
            browser.close()

    profile = until(lambda: (p := stand.profile()) and p["state"] == "running" and p["pid"] and p)
    home = Path(profile["path"])
    env = dict(line.split("=", 1) for line in (home / ".env").read_text().splitlines() if "=" in line)
    assert (env["WEIXIN_ACCOUNT_ID"], env["WEIXIN_DM_POLICY"]) == (bot.bot_id, "allowlist")
    assert env["WEIXIN_ALLOWED_USERS"] == env["WEIXIN_HOME_CHANNEL"] == PAYER
    assert oct((home / ".env").stat().st_mode & 0o777) == "0o600"
    assert stand.rows("SELECT weixin_bot_id FROM hermes_profiles") == [(bot.bot_id,)]
    owners = (stand.home / "profile-registry" / "OWNERS").read_text()
    assert re.search(rf"{profile['profile']} \| user-\w+ \| payment:42", owners), owners  # claimed for the payment

    stand.wechat.user_says(bot.bot_id, PAYER, "查 600519 的 P/E")
    [reply] = until(lambda: stand.wechat.sent_to(PAYER), 120)
    cited = re.search(r"P/E \(TTM\) is ([0-9.]+) \[(tc_[0-9a-f]{16})\]", reply.text)
    assert cited is not None and float(cited.group(1)) == PE_TTM_20251023, reply.text
    shown = json.loads(stand.cli("ledger", "show", cited.group(2), "--json").stdout)
    assert shown["tool"] == "fundamentals" and shown["caller"].startswith("user:user-")  # our tool's answer
    assert "⚠️" not in reply.text  # verify_answer passed it: delivered unchanged
    stand.wechat.user_says(bot.bot_id, STRANGER, "查 600519 的 P/E")
    time.sleep(10)  # hermes batches text for a few seconds: a reply would be out by now
    assert stand.wechat.sent_to(STRANGER) == []

    key = env["TWILIGHT_API_TOKEN"]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    assert httpx.post(stand.url + "/mcp", json=ping, headers=headers, timeout=10).status_code == 200
    with contextlib.closing(sqlite3.connect(stand.home / "accounts.db")) as db:
        db.execute("UPDATE users SET paid_until = datetime('now', '-1 minute')")  # the subscription ends
        db.commit()
    ended = until(lambda: [s for s in stand.wechat.sent_to(PAYER) if "到期" in s.text], 60)
    assert "/join" in ended[0].text
    until(lambda: stand.profile().get("state") == "expired", 60)
    refused = httpx.post(stand.url + "/mcp", json=ping, headers=headers, timeout=10)
    assert refused.status_code == 403  # at once; with why, once the gate's few seconds of memory of the key pass:
    refused = until(lambda: (r := httpx.post(stand.url + "/mcp", json=ping, headers=headers, timeout=10))
                    .json().get("error") == "subscription_ended" and r, 15)  # fmt: skip
    assert refused.status_code == 403 and "/join" in refused.json()["renew_url"] and "到期" in refused.text

    renewal = httpx.post(stand.url + "/api/orders", json={"plan": "pro"}, timeout=30).json()
    assert stand.pay.pay(renewal["order_id"], PAYER_OPENID) == 204  # the same payer renews
    until(lambda: stand.profile().get("state") == "running", 180)
    assert httpx.post(stand.url + "/mcp", json=ping, headers=headers, timeout=10).status_code == 200
    before = len(stand.wechat.sent_to(PAYER))
    stand.wechat.user_says(bot.bot_id, PAYER, "查 600519 的 P/E")
    until(lambda: len(stand.wechat.sent_to(PAYER)) > before, 120)

    assert stand.pay.redeliver(5) == [204] * 5  # the renewal's notification, five times at once
    counts = {t: stand.rows(f"SELECT count(*) FROM {t}")[0][0]
              for t in ("users", "payments", "api_keys", "hermes_profiles", "orders")}  # fmt: skip
    assert counts == {"users": 1, "payments": 2, "api_keys": 1, "hermes_profiles": 1, "orders": 2}, counts
    assert stand.rows("SELECT state FROM orders ORDER BY id") == [("paid",), ("paid",)]
    listed = json.loads(stand.cli("users", "list", "--json").stdout)
    assert [(u["state"], u["wechat_bound"]) for u in listed] == [("active", True)]


def test_an_unknown_plan_and_a_flood_of_orders_are_refused(stand: Stand) -> None:
    unknown = httpx.post(stand.url + "/api/orders", json={"plan": "platinum"}, timeout=10)
    assert unknown.status_code == 400 and unknown.json()["argument"] == "plan" and "pro" in unknown.json()["remedy"]
    assert httpx.post(stand.url + "/api/orders", content=b"x" * 5000, timeout=10).status_code == 400
    statuses = [httpx.post(stand.url + "/api/orders", json={"plan": "pro"}, timeout=30).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    assert httpx.get(stand.url + "/api/onboarding/" + "x" * 43, timeout=10).status_code == 404
