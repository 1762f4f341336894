"""The twilight_verify plugin: the real hermes-agent discovers it in an applied profile and files its
hook; its marking of realistic `verify_answer` answers; its MCP exchange with a real `twilight serve`;
and its failing open (server down, silent, refusing the key, or not configured).

The answers are shaped as `citation/verdict.py` declares the tool's output (claims with their ids as
a list, `matched` a field name, `expected` a list of cited values); the figures are the stand-in's:
600519.SH's P/E (TTM) on 2025-10-23 is 20.4403.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from profiles.envfile import read_env
from profiles.plugins import twilight_verify
from profiles.plugins.twilight_verify import client, marking
from profiles.templates import TEMPLATES_DIR, apply
from tests import scripted_llm
from tests.conftest import CLOSED
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.helpers import TWILIGHT, free_port, serve
from tests.scripted_llm import TOOL_ARGUMENTS, ScriptedLLM

TC = "tc_1a2b3c4d5e6f7a8b"
OTHER_TC = "tc_9f8e7d6c5b4a3921"
VALUES = {"LLM_GATEWAY_URL": "http://127.0.0.1:9/v1", "LLM_MODEL": "scripted-llm"}
POOLS = {"llm": ["sk-pool-first-0123456789"]}
LOGGER = "profiles.plugins.twilight_verify"
COUNTS_ZERO = dict.fromkeys(("verified", "derived_verified", "mismatch", "unit_mismatch", "date_mismatch",
                             "uncited", "unknown_cite"), 0)  # fmt: skip


def claim(text: str, value: float, unit: str | None, ids: list[str], status: str, **more: Any) -> dict[str, Any]:
    return {"text": text, "value": value, "unit": unit, "tool_call_id": ids, "status": status,
            "matched": more.get("matched"), "expected": more.get("expected"),
            "reason": more.get("reason", "")}  # fmt: skip


def answer(verdict: str, claims: list[dict[str, Any]]) -> dict[str, Any]:
    counts = dict(COUNTS_ZERO)
    for one in claims:
        counts[one["status"]] += 1
    return {"verdict": verdict, "claims": claims, "counts": counts, "citable": {}}


PE = {"tool_call_id": TC, "field": "pe_ttm", "value": 20.4403, "unit": "倍", "date": "2025-10-23"}
REPLY = (f"贵州茅台 (600519.SH) 2025-10-23 收盘 1,520.00 元 [{TC}]，市盈率 (TTM) 20.50 倍 [{TC}]。\n"
         f"较前一交易日 1,488.75 元 [{OTHER_TC}] 上涨 2.10%（(1,520.00 − 1,488.75) / 1,488.75）。\n"
         f"总市值约 1.9 万亿元 [{TC}]，近 20 日成交 120.50 亿元。")  # fmt: skip
FAILED = answer("fail", [
    claim("1,520.00 元", 1520.0, "元", [TC], "verified", matched="close_raw"),
    claim("20.50 倍", 20.5, "倍", [TC], "mismatch", expected=[PE], reason="the cited pe_ttm is 20.4403"),
    claim("1,488.75 元", 1488.75, "元", [OTHER_TC], "unknown_cite", reason="no such tool call of yours"),
    claim("2.10%", 2.1, "%", [TC, OTHER_TC], "derived_verified", matched="pct_change"),
    claim("1.9 万亿元", 1.9, "万亿元", [TC], "mismatch", expected=[]),
    claim("120.50 亿元", 120.5, "亿元", [], "uncited"),
])  # fmt: skip


# -- marking: what the WeChat user reads -------------------------------------------------------------
def test_a_passing_reply_is_left_to_hermes_unchanged() -> None:
    passed = answer("pass", [claim("1,520.00 元", 1520.0, "元", [TC], "verified", matched="close_raw"),
                             claim("20.44 倍", 20.44, "倍", [TC], "verified", matched="pe_ttm")])  # fmt: skip
    assert marking.mark(f"收盘 1,520.00 元 [{TC}]，市盈率 20.44 倍 [{TC}]", passed) is None  # None: hermes keeps it


def test_a_failing_reply_has_each_failing_number_marked_and_a_note_chinese_first() -> None:
    marked = marking.mark(REPLY, FAILED)
    assert marked is not None
    body, note = marked.split("\n\n⚠️ ", 1)
    assert body == (f"贵州茅台 (600519.SH) 2025-10-23 收盘 1,520.00 元 [{TC}]，市盈率 (TTM) 20.50 倍⚠️ [{TC}]。\n"
                    f"较前一交易日 1,488.75 元⚠️ [{OTHER_TC}] 上涨 2.10%（(1,520.00 − 1,488.75) / 1,488.75）。\n"
                    f"总市值约 1.9 万亿元⚠️ [{TC}]，近 20 日成交 120.50 亿元⚠️。")  # fmt: skip
    assert note.splitlines() == [
        "以下数字未能核实：",
        f"• 20.50 倍（pe_ttm，引用 {TC} 的值为 20.4403 倍，日期 2025-10-23）",
        f"• 1,488.75 元（引用 {OTHER_TC} 不是本次对话的工具结果）",
        f"• 1.9 万亿元（引用 {TC} 中没有这一数据）",
        "• 120.50 亿元（未注明出处）",
        f"⚠️ Not verified: 20.50 倍 (pe_ttm: {TC} says 20.4403 倍 on 2025-10-23); 1,488.75 元 ({OTHER_TC} is not"
        f" a tool result of this conversation); 1.9 万亿元 ({TC} holds no such figure); 120.50 亿元 (no citation).",
    ]


def test_unit_and_date_mismatches_say_what_the_cited_result_holds() -> None:
    reply = f"成交额 5.32 亿元 [{TC}]；2024 年报 ROE 31.20% [{OTHER_TC}]"
    roe = {"tool_call_id": OTHER_TC, "field": "roe", "value": 34.19, "unit": "%", "date": "2024-12-31"}
    amount = {"tool_call_id": TC, "field": "amount", "value": 532000.0, "unit": "thousand_CNY", "date": "2025-10-23"}
    verdict = answer("fail", [claim("5.32 亿元", 5.32, "亿元", [TC], "unit_mismatch", expected=[amount]),
                              claim("31.20%", 31.2, "%", [OTHER_TC], "date_mismatch", expected=[roe])])  # fmt: skip
    marked = marking.mark(reply, verdict)
    assert marked is not None
    assert marked.startswith(f"成交额 5.32 亿元⚠️ [{TC}]；2024 年报 ROE 31.20%⚠️ [{OTHER_TC}]\n\n")
    assert f"• 5.32 亿元（amount，单位不符，引用 {TC} 为 532,000 thousand_CNY，日期 2025-10-23）" in marked
    assert f"• 31.20%（roe，日期不符，引用 {OTHER_TC} 为 34.19 %，日期 2024-12-31）" in marked


def test_numbers_are_found_in_order_and_never_inside_longer_ones() -> None:
    reply = f"目标 120.50 元不是数据；收盘 20.50 元 [{TC}]，前收 20.50 元 [{OTHER_TC}]"
    verdict = answer("fail", [claim("20.50 元", 20.5, "元", [TC], "verified", matched="close_raw"),
                              claim("20.50 元", 20.5, "元", [OTHER_TC], "unknown_cite")])  # fmt: skip
    marked = marking.mark(reply, verdict)
    assert marked is not None
    assert marked.startswith(f"目标 120.50 元不是数据；收盘 20.50 元 [{TC}]，前收 20.50 元⚠️ [{OTHER_TC}]\n\n")


def test_a_claim_not_found_in_the_reply_is_still_listed_and_a_bare_fail_still_says_so() -> None:
    verdict = answer("fail", [claim("3.14 倍", 3.14, "倍", [], "uncited")])
    assert marking.mark("市净率 3.140 倍", verdict) == "市净率 3.140 倍\n\n" + marking.note(verdict["claims"])
    bare = marking.mark("收盘 1,520.00 元", answer("fail", []))
    assert bare == "收盘 1,520.00 元\n\n⚠️ 自动核实未通过，请以工具结果为准。\n⚠️ Automatic verification did not pass."


@pytest.mark.parametrize("body", [{}, {"verdict": "maybe", "claims": []}, {"verdict": "fail", "claims": "none"}])
def test_an_answer_of_another_shape_is_refused_not_guessed(body: dict[str, Any]) -> None:
    with pytest.raises(marking.MalformedVerdict):
        marking.mark("收盘 1,520.00 元", body)


# -- failing open ------------------------------------------------------------------------------------
def profile(tmp_path: Path, url: str, token: str | None = "td_test_token_0123456789") -> Path:
    """A profile from the pro template, its MCP URL `url`, its key `token` (None: no .env at all)."""
    home = apply(TEMPLATES_DIR / "template-stock-research-pro", tmp_path / "desk", {**VALUES, "MCP_URL": url},
                 POOLS).path  # fmt: skip
    env = home / ".env"
    if token is None:
        env.unlink()
    else:
        env.write_text(re.sub(r"(?m)^TWILIGHT_API_TOKEN=.*$", f"TWILIGHT_API_TOKEN={token}", env.read_text()))
    return home


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def test_an_unreachable_server_delivers_the_reply_unchanged_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = profile(tmp_path, f"http://{CLOSED}/mcp")
    assert twilight_verify.check_reply(REPLY, home=home, platform="weixin") is None
    [warning] = warnings_of(caplog)
    assert warning.startswith(
        "twilight_verify: weixin not checked, delivered as it is: cannot reach http://127.0.0.1:9"
    )
    assert "td_test_token" not in caplog.text


def test_a_silent_server_is_given_up_on_within_the_timeout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever answers
        home = profile(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}/mcp")
        started = time.monotonic()
        assert twilight_verify.check_reply(REPLY, home=home, timeout=0.5) is None
        assert time.monotonic() - started < 1.5
    [warning] = warnings_of(caplog)
    assert "no answer within 0.5 s" in warning or "timed out" in warning


def test_a_profile_without_server_or_key_is_not_checked_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIGHT_API_TOKEN", raising=False)
    home = profile(tmp_path, f"http://{CLOSED}/mcp", token=None)
    assert twilight_verify.check_reply(REPLY, home=home) is None
    assert twilight_verify.check_reply(REPLY, home=tmp_path / "nowhere") is None
    first, second = warnings_of(caplog)
    assert "needs TWILIGHT_API_TOKEN, set in neither .env nor the env" in first
    assert "cannot read" in second and "config.yaml" in second


def test_a_reply_without_numbers_costs_no_call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    home = profile(tmp_path, f"http://{CLOSED}/mcp")
    assert twilight_verify.check_reply("暂无数据 / not available: fundamentals 无估值。", home=home) is None
    assert warnings_of(caplog) == []


def test_the_token_comes_from_the_environment_when_env_lacks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIGHT_API_TOKEN", "td_from_the_environment_01")
    home = profile(tmp_path, "http://127.0.0.1:9100/mcp", token=None)
    endpoint = client.find_endpoint(home)
    assert endpoint.url == "http://127.0.0.1:9100/mcp"
    assert endpoint.headers == {"Authorization": "Bearer td_from_the_environment_01"}
    (home / ".env").write_text("TWILIGHT_API_TOKEN=td_from_the_profile_env_01\n")  # .env wins, as in hermes
    assert client.find_endpoint(home).headers == {"Authorization": "Bearer td_from_the_profile_env_01"}


# -- against a real twilight serve -------------------------------------------------------------------
@dataclass(frozen=True)
class Served:
    url: str  # the MCP endpoint
    token: str
    tools: frozenset[str]


@pytest.fixture(scope="module")
def twilight(
    fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("twilight")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(root / "home"), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
        "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": f'["{CLOSED}"]',
        "TWILIGHT_SCHEDULE": "false", "TWILIGHT_PORT": str(port),
    }  # fmt: skip
    issued = subprocess.run([TWILIGHT, "token", "issue", "--user", "alice"], env=env, capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    token = re.findall(r"td_\S+", issued.stdout)[-1]
    server = serve(env, port, root / "server.log")
    url = f"http://127.0.0.1:{port}/mcp"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    listed = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers, timeout=10)
    tools = frozenset(tool["name"] for tool in listed.json()["result"]["tools"])
    try:
        yield Served(url, token, tools)
    finally:
        server.terminate()
        server.wait(timeout=15)
        assert token not in (root / "server.log").read_text()


@pytest.mark.slow
def test_the_exchange_works_with_a_real_twilight_serve(twilight: Served, tmp_path: Path) -> None:
    endpoint = client.find_endpoint(profile(tmp_path, twilight.url, twilight.token))
    pong = client.call_tool(endpoint, "ping", {}, timeout=5)
    assert pong["ok"] is True and pong["served_by"].startswith("twilight-drive/")
    with pytest.raises(client.Unavailable, match="no_such_tool answered an error: Unknown tool: no_such_tool"):
        client.call_tool(endpoint, "no_such_tool", {}, timeout=5)


@pytest.mark.slow
def test_a_refused_key_delivers_the_reply_unchanged(
    twilight: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = profile(tmp_path, twilight.url, "td_not_a_key_of_anyone_0123456789")
    assert twilight_verify.check_reply(REPLY, home=home) is None
    [warning] = warnings_of(caplog)
    assert "initialize: HTTP 401" in warning and "td_not_a_key" not in caplog.text


@pytest.mark.slow
def test_replies_checked_by_the_real_verify_answer(twilight: Served, tmp_path: Path) -> None:
    """End to end: a P/E fetched with `fundamentals`, then quoted right and wrong."""
    assert twilight_verify.TOOL in twilight.tools
    home = profile(tmp_path, twilight.url, twilight.token)
    found = client.call_tool(client.find_endpoint(home), "fundamentals", {"code": "600519", "trade_date": "20251023"},
                             timeout=30)  # fmt: skip
    tc = found["cite"]["tool_call_id"]
    pe = next(c["value"] for c in found["claims"] if c["metric"] == "pe_ttm")
    assert pe == 20.4403
    right = f"贵州茅台 (600519.SH) 2025-10-23 市盈率 (TTM) 20.44 倍 [{tc}]"
    assert twilight_verify.check_reply(right, home=home) is None
    wrong = f"贵州茅台 (600519.SH) 2025-10-23 市盈率 (TTM) 25.10 倍 [{tc}]"
    marked = twilight_verify.check_reply(wrong, home=home)
    assert marked is not None and re.search(r"25\.10( 倍)?⚠️", marked), marked
    assert "以下数字未能核实" in marked and tc in marked.split("\n\n", 1)[1]


# -- in the real hermes ------------------------------------------------------------------------------
PROBE = """
import json, logging, sys
from hermes_cli.env_loader import load_hermes_dotenv
load_hermes_dotenv()  # as the gateway does at start: the profile's .env into the environment
from hermes_cli.plugins import discover_plugins, get_plugin_manager, invoke_hook
discover_plugins()
manager = get_plugin_manager()
found = [p for p in manager.list_plugins() if p["name"] == "twilight_verify"]
out = {"plugin": found[0] if found else None, "has_hook": manager.has_hook("transform_llm_output"),
       "callbacks": [f"{cb.__module__}.{cb.__name__}" for cb in manager._hooks.get("transform_llm_output", [])]}
if out["callbacks"] and len(sys.argv) > 1:
    plugin = sys.modules["hermes_plugins.twilight_verify"]
    client = plugin.client
    out["ping"] = client.call_tool(client.find_endpoint(client.hermes_home()), "ping", {}, timeout=5)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    out["no_number"] = invoke_hook("transform_llm_output", response_text="ok", session_id="s", model="m",
                                   platform="weixin")
    out["reply"] = invoke_hook("transform_llm_output", response_text=sys.argv[1], session_id="s", model="m",
                               platform="weixin")
print(json.dumps(out))
"""


def hermes_probe(hermes: str, home: Path, *args: str) -> tuple[dict[str, Any], str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home.parent), "HERMES_HOME": str(home)}
    python = Path(hermes).with_name("python")  # the interpreter of hermes' own environment
    done = subprocess.run([str(python), "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("template", ["template-stock-research-pro", "template-stock-research-lite", "template-crypto"])
def test_hermes_discovers_the_plugin_in_an_applied_profile_and_files_its_hook(
    hermes: str, template: str, tmp_path: Path
) -> None:
    home = apply(TEMPLATES_DIR / template, tmp_path / "desk", {**VALUES, "MCP_URL": f"http://{CLOSED}/mcp"},
                 POOLS).path  # fmt: skip
    seen, _ = hermes_probe(hermes, home)
    assert seen["plugin"]["source"] == "user" and seen["plugin"]["enabled"] is True, seen
    assert seen["plugin"]["hooks"] == 1 and seen["plugin"]["error"] is None
    assert seen["callbacks"] == ["hermes_plugins.twilight_verify.transform_llm_output"]

    config = home / "config.yaml"
    config.write_text(config.read_text().split("\nplugins:", 1)[0] + "\n")  # not enabled: hermes skips it
    seen, _ = hermes_probe(hermes, home)
    assert seen["plugin"]["enabled"] is False and "not enabled in config" in seen["plugin"]["error"]
    assert seen["callbacks"] == []


@pytest.mark.slow
def test_in_hermes_the_hook_asks_the_profiles_server_with_the_profiles_key(
    hermes: str, twilight: Served, tmp_path: Path
) -> None:
    home = profile(tmp_path, twilight.url, twilight.token)
    reply = f"市盈率 (TTM) 20.44 倍 [{OTHER_TC}]"  # an id no tool call of this user made
    seen, log = hermes_probe(hermes, home, reply)
    assert seen["ping"]["ok"] is True  # hermes' interpreter, the URL of config.yaml, the key of .env
    assert seen["no_number"] == []
    [marked] = seen["reply"]
    assert re.match(r"市盈率 \(TTM\) 20\.44( 倍)?⚠️", marked) and OTHER_TC in marked.split("\n\n", 1)[1]
    assert twilight.token not in log


# -- through a real hermes gateway (its API server platform) -----------------------------------------
class MisquotingLLM(ScriptedLLM):
    """The scripted LLM calls `fundamentals` on 600519 as before, then answers with the P/E the tool
    gave (`right`) or quotes 25.10 (the tool said 20.4403) beside the tool's own id: the reply the
    plugin exists to catch."""

    right = False

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.command != "POST":
            super().handle(request)  # GET /v1/models
            return
        body = json.loads(request.rfile.read(int(request.headers.get("Content-Length") or 0)) or b"{}")
        with self._lock:
            self.requests.append(body)
        results = [m for m in body.get("messages") or [] if m.get("role") == "tool"]
        tool = next((t["function"]["name"] for t in body.get("tools") or []
                     if t.get("function", {}).get("name", "").endswith("__fundamentals")), None)  # fmt: skip
        if results and self.right:
            self._stream(request, body, text=scripted_llm.answer(results[-1]))
        elif results:
            cite = re.search(r"tc_[0-9a-f]{16}", json.dumps(results[-1]))
            self._stream(request, body, text=misquote(cite.group(0) if cite else "tc_missing"))
        elif tool:
            self._stream(request, body, call={"id": "call_1", "name": tool, "arguments": json.dumps(TOOL_ARGUMENTS)})
        else:
            self._stream(request, body, text="ok")


def misquote(tc: str) -> str:
    return f"贵州茅台 (600519.SH) 2025-10-23 市盈率 (TTM) 25.10 倍 [{tc}]。"


@pytest.fixture
def gateway(hermes: str, twilight: Served, tmp_path: Path) -> Iterator[tuple[str, str, Path, MisquotingLLM]]:
    """`hermes -p desk gateway run` on a profile from the pro template, as the process runner starts it,
    its API server on a free loopback port; (API URL, API key, profile, LLM)."""
    llm = MisquotingLLM().start()
    root = tmp_path / "hermes"
    values = {"MCP_URL": twilight.url, "LLM_GATEWAY_URL": llm.url, "LLM_MODEL": "scripted-llm"}
    home = apply(TEMPLATES_DIR / "template-stock-research-pro", root / "profiles" / "desk", values, POOLS).path
    port = free_port()
    env_file = home / ".env"
    env_text = re.sub(r"(?m)^TWILIGHT_API_TOKEN=.*$", f"TWILIGHT_API_TOKEN={twilight.token}", env_file.read_text())
    env_file.write_text(env_text + f"API_SERVER_ENABLED=true\nAPI_SERVER_HOST=127.0.0.1\nAPI_SERVER_PORT={port}\n")
    key = read_env(env_file)["API_SERVER_KEY"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "HERMES_HOME": str(root)}
    with (tmp_path / "gateway.log").open("wb") as log:
        process = subprocess.Popen([hermes, "-p", "desk", "gateway", "run"], env=env, cwd=home / "workspace",
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("hermes gateway did not come up:\n" + (tmp_path / "gateway.log").read_text()[-3000:])
        yield f"http://127.0.0.1:{port}", key, home, llm
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        llm.stop()


@pytest.mark.slow
def test_the_gateway_delivers_a_right_pe_unchanged_and_marks_a_wrong_one(
    gateway: tuple[str, str, Path, MisquotingLLM], twilight: Served
) -> None:
    api, key, home, llm = gateway

    def ask() -> str:
        question = {"model": "desk", "messages": [{"role": "user", "content": "600519 的市盈率是多少？"}]}
        asked = httpx.post(f"{api}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=question,
                           timeout=180)  # fmt: skip
        assert asked.status_code == 200, asked.text
        text: str = asked.json()["choices"][0]["message"]["content"]
        return text

    llm.right = True
    right = ask()
    tool_results = [m for r in llm.requests for m in r.get("messages", []) if m.get("role") == "tool"]
    tc = re.findall(r"tc_[0-9a-f]{16}", json.dumps(tool_results))[0]  # the id our fundamentals answered
    assert right == scripted_llm.answer(tool_results[-1]) and "20.4403" in right and tc in right  # unchanged: it passed
    llm.right = False
    wrong = ask()
    assert re.match(r"贵州茅台 \(600519\.SH\) 2025-10-23 市盈率 \(TTM\) 25\.10( 倍)?⚠️", wrong), wrong
    assert "以下数字未能核实" in wrong and "20.4403" in wrong.split("\n\n", 1)[1]
    metrics = httpx.get(twilight.url.removesuffix("/mcp") + "/metrics", timeout=5).text
    assert 'twilight_verifications_total{verdict="pass"}' in metrics
    assert 'twilight_verifications_total{verdict="fail"}' in metrics
    assert 'twilight_verified_claims_total{status="mismatch"}' in metrics
    logs = "".join(p.read_text(errors="ignore") for p in (home / "logs").glob("*.log"))
    assert twilight.token not in logs
