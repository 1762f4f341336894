"""The real hermes gateway (`hermes -p desk gateway run`, hermes-agent 0.19.0) talking WeChat through
the loopback iLink stand-in: bound as our server binds a paid user's bot (provisioning/ilink.py's QR
flow, its credentials written into the profile's .env by hand here), it answers the allowed user's
message through sendmessage, ignores every other WeChat user, splits replies the way its adapter does,
and tells the home channel when it stops.

What hermes needs for Weixin, found here: WEIXIN_ACCOUNT_ID and WEIXIN_TOKEN in .env (either enables
the platform; both make it connect), no `platforms:` in config.yaml; WEIXIN_BASE_URL moves the API;
WEIXIN_DM_POLICY=allowlist with WEIXIN_ALLOWED_USERS drops strangers at intake, silently;
WEIXIN_HOME_CHANNEL spares the user hermes' "/sethome" notice on their first message.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from provisioning import ilink
from tests.fake_ilink import Bot, FakeIlink, Sent
from tests.loopback import respond
from tests.scripted_llm import MODEL, ScriptedLLM

pytestmark = pytest.mark.slow
OWNER = "o9cq807dznGqXVUfJ9PRZDiHz0qQ@im.wechat"  # the payer, who scanned the QR
STRANGER = "o9cq80Ab3kLmNoPqRsTuVwXyZ012@im.wechat"
LLM_KEY = "sk-scripted-0123456789"
QUIET = 10.0  # seconds a stranger's message is given to draw a reply (hermes batches text for 3 s first)
CHATTY = "好的。\n我查一下。\n稍等片刻。"  # 2-6 short lines: hermes sends each as its own bubble
LISTED = "贵州茅台估值：\n- 市盈率 (TTM) 20.44 倍\n- 市净率 7.1 倍"  # a heading and a list: one message
LONG = "\n\n".join(f"第{n}段：" + "估值与现金流。" * 130 for n in range(1, 4))  # 3 × 914 characters


class ChatLLM(ScriptedLLM):
    """Answers each chat request from its last user message: `三句` → CHATTY, `列表` → LISTED,
    `长文` → LONG, anything else → 收到：<the message>. Non-streamed requests (hermes' title
    generation) get a plain chat.completion."""

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.command == "GET":
            return super().handle(request)
        body = json.loads(request.rfile.read(int(request.headers.get("Content-Length") or 0)) or b"{}")
        with self._lock:
            self.requests.append(body)
        said = next((_said(m) for m in reversed(body.get("messages") or []) if m.get("role") == "user"), "")
        text = next((r for key, r in (("三句", CHATTY), ("列表", LISTED), ("长文", LONG)) if key in said),
                    f"收到：{said}")  # fmt: skip
        if body.get("stream"):
            return self._stream(request, body, text=text)
        completion = {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                      "model": MODEL, "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": text}}],
                      "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}  # fmt: skip
        respond(request, 200, json.dumps(completion).encode(), {"Content-Type": "application/json"})

    def said(self) -> list[str]:
        with self._lock:
            return [_said(m) for r in self.requests for m in r.get("messages") or [] if m.get("role") == "user"]


def _said(message: dict[str, Any]) -> str:
    """What the user wrote: hermes appends a "[System note: …]" to the very first message ever."""
    content = message.get("content") or ""
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content).split("\n\n[System note:")[0]


@dataclass
class Desk:
    fake: FakeIlink
    llm: ChatLLM
    bot: Bot
    home: Path
    process: subprocess.Popen[bytes]
    connected_after: float  # seconds from the start of hermes to its first getupdates

    def say(self, user: str, text: str) -> dict[str, Any]:
        return self.fake.user_says(self.bot.bot_id, user, text)

    def stop(self) -> float:
        """SIGTERM to hermes' process group, as the runners stop it; the seconds it took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return time.monotonic() - started

    def logs(self) -> str:
        return "".join(p.read_text(errors="ignore") for p in sorted((self.home / "logs").glob("*.log")))


def bind(fake: FakeIlink) -> ilink.QrStatus:
    """The payer scans our QR and confirms, as the server-side binding sees it."""
    qr = ilink.bot_qrcode(fake.url)
    fake.scan(qr.qrcode, OWNER)
    assert ilink.qrcode_status(fake.url, qr.qrcode).status == "scaned"
    fake.confirm(qr.qrcode)
    confirmed = ilink.qrcode_status(fake.url, qr.qrcode)
    assert confirmed.status == "confirmed"
    return confirmed


def write_profile(home: Path, llm_url: str, bound: ilink.QrStatus, *, home_channel: bool) -> None:
    """config.yaml names only the model (plus two switches that keep hermes off the internet);
    everything WeChat is in .env, as the binding writes it."""
    home.mkdir(parents=True)
    (home / "config.yaml").write_text(
        "model:\n  provider: custom\n  default: scripted-llm\n"
        f"  base_url: {llm_url}\n  api_key: ${{TWILIGHT_LLM_API_KEY}}\n"
        "  context_length: 131072  # known: hermes need not ask openrouter.ai for it\n"
        "security:\n  tirith_enabled: false  # it would download its command scanner\n"
        "  allow_lazy_installs: false  # it would pip-install edge-tts on the first message\n"
    )
    values = {
        "TWILIGHT_LLM_API_KEY": LLM_KEY, "WEIXIN_ACCOUNT_ID": bound.bot_id, "WEIXIN_TOKEN": bound.bot_token,
        "WEIXIN_BASE_URL": bound.base_url, "WEIXIN_DM_POLICY": "allowlist", "WEIXIN_ALLOWED_USERS": bound.user_id,
    }  # fmt: skip
    if home_channel:
        values["WEIXIN_HOME_CHANNEL"] = bound.user_id
    env_file = home / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env_file.chmod(0o600)


@pytest.fixture
def start_desk(hermes: str, tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    """Starts `hermes -p desk gateway run` on a fresh profile bound to OWNER, once it polls iLink."""
    fake = FakeIlink().start()
    llm = ChatLLM().start()
    desks: list[Desk] = []

    def start(*, home_channel: bool = True, unbound: bool = False) -> Desk:
        bound = bind(fake)
        bot = next(b for b in fake.bots.values() if b.bot_id == bound.bot_id)
        if unbound:
            fake.revoke(bot.bot_id)  # the user unbound the bot before its gateway started
        root = tmp_path / f"hermes{len(desks)}"
        home = root / "profiles" / "desk"
        write_profile(home, llm.url, bound, home_channel=home_channel)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "HERMES_HOME": str(root)}
        started = time.monotonic()
        with (tmp_path / f"gateway{len(desks)}.log").open("wb") as log:
            process = subprocess.Popen([hermes, "-p", "desk", "gateway", "run"], env=env, cwd=home,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
        desk = Desk(fake, llm, bot, home, process, 0.0)
        desks.append(desk)
        if not fake.wait_polled(bot, timeout=120):
            pytest.fail("hermes never polled iLink:\n" + desk.logs()[-3000:])
        desk.connected_after = time.monotonic() - started
        return desk

    try:
        yield start
    finally:
        for desk in desks:
            desk.stop()
        stopping = time.monotonic()
        fake.stop()
        llm.stop()
        assert time.monotonic() - stopping < 5  # held long polls end with the stand-in
        for desk in desks:
            assert desk.bot.token not in desk.logs() and LLM_KEY not in desk.logs()


def test_the_allowed_user_is_answered_and_a_stranger_is_not(start_desk: Callable[..., Desk]) -> None:
    desk = start_desk()
    fake, bot = desk.fake, desk.bot
    said = desk.say(OWNER, "你好，desk")
    said_at = time.monotonic()
    [reply] = fake.wait_sent(OWNER, timeout=90)
    replied = reply.at - said_at
    picked_up = (fake.delivered_at(said) or float("nan")) - said_at
    assert (reply.bot_id, reply.text) == (bot.bot_id, "收到：你好，desk")
    assert reply.context_token == said["context_token"]  # the token the user's message carried
    assert reply.body["msg"]["message_type"] == 2 and reply.client_id.startswith("hermes-weixin-")
    assert any(r.path == "/ilink/bot/getconfig" and r.body["ilink_user_id"] == OWNER for r in fake.requests)
    time.sleep(2)
    assert len(fake.sent_to(OWNER)) == 1  # the reply only: no "/sethome" notice with a home channel set
    typing = [t.status for t in fake.typed if t.to_user == OWNER]  # on while it works, off after the reply
    assert typing[:1] == [1] and typing[-1] == 2, typing

    stranger = desk.say(STRANGER, "你好，我也想用")
    stranger_at = time.monotonic()
    time.sleep(QUIET)
    delivered = fake.delivered_at(stranger)
    assert delivered is not None and delivered - stranger_at < 2  # hermes took it from getupdates at once
    assert fake.sent_to(STRANGER) == [] and [t for t in fake.typed if t.to_user == STRANGER] == []
    assert not any(r.path == "/ilink/bot/getconfig" and r.body["ilink_user_id"] == STRANGER for r in fake.requests)
    assert not any("我也想用" in s for s in desk.llm.said())  # dropped at intake: the model never saw it

    stopped_in = desk.stop()
    notices = fake.sent_to(OWNER)[1:]
    assert [n.text for n in notices] == ["⚠️ Gateway shutting down — Your current task will be interrupted."]
    assert fake.sent_to(STRANGER) == []
    print(f"\nconnected {desk.connected_after:.1f} s after start; message picked up in {picked_up * 1000:.0f} ms,",
          f"replied in {replied:.1f} s; a stranger got nothing in {QUIET:.0f} s;",
          f"stopped in {stopped_in:.1f} s")  # fmt: skip


def test_replies_are_split_into_messages_as_hermes_adapter_splits_them(start_desk: Callable[..., Desk]) -> None:
    desk = start_desk()

    took: list[float] = []

    def ask(text: str, count: int) -> list[Sent]:
        before = len(desk.fake.sent_to(OWNER))
        desk.say(OWNER, text)
        started = time.monotonic()
        desk.fake.wait_sent(OWNER, count=before + 1, timeout=90)
        took.append(time.monotonic() - started)
        desk.fake.wait_sent(OWNER, count=before + count, timeout=30)
        time.sleep(2.5)  # longer than hermes' 1.5 s between the parts of one reply: nothing more comes
        return desk.fake.sent_to(OWNER)[before:]

    chatty = ask("三句", 3)
    assert [s.text for s in chatty] == CHATTY.split("\n")  # short chat lines: one bubble each
    gaps = [b.at - a.at for a, b in itertools.pairwise(chatty)]
    assert all(1.3 < gap < 3 for gap in gaps), gaps  # WEIXIN_SEND_CHUNK_DELAY_SECONDS, 1.5 s by default
    assert [s.text for s in ask("列表", 1)] == [LISTED]  # a heading and a list stay one message
    long = ask("长文", 2)
    paragraphs = LONG.split("\n\n")
    assert [s.text for s in long] == ["\n\n".join(paragraphs[:2]), paragraphs[2]]  # packed by paragraph ≤ 2000
    assert all(len(s.text) <= 2000 for s in long)
    print(f"\nsplit: chatty {len(chatty)} messages {[f'{g:.1f}' for g in gaps]} s apart; {len(LONG)} characters",
          f"in {len(long)} messages of {[len(s.text) for s in long]}; first part after",
          ", ".join(f"{t:.1f}" for t in took), "s")  # fmt: skip


def test_without_a_home_channel_hermes_asks_the_user_to_sethome(start_desk: Callable[..., Desk]) -> None:
    desk = start_desk(home_channel=False)
    desk.say(OWNER, "你好")
    sent = desk.fake.wait_sent(OWNER, count=2, timeout=90)
    assert any("/sethome" in s.text for s in sent) and any(s.text == "收到：你好" for s in sent)
    desk.stop()
    assert not any("shutting down" in s.text for s in desk.fake.sent_to(OWNER))  # no home channel to tell


def test_a_dead_bot_token_is_an_expired_session_to_hermes(start_desk: Callable[..., Desk]) -> None:
    """The stand-in's answer to an unknown token is the one hermes reads as an expired session: it
    stays up, stops polling for ten minutes and says so in its log (nothing reaches the user)."""
    desk = start_desk(unbound=True, home_channel=False)  # with one, its stop notice retries for 10 s
    deadline = time.monotonic() + 30
    while "Session expired; pausing for 10 minutes" not in desk.logs() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "Session expired; pausing for 10 minutes" in desk.logs()
    polls = [r for r in desk.fake.requests if r.path == "/ilink/bot/getupdates"]
    time.sleep(3)
    assert [r for r in desk.fake.requests if r.path == "/ilink/bot/getupdates"] == polls  # paused
    assert desk.process.poll() is None and desk.fake.sent == []
