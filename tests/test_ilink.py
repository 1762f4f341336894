"""The iLink client (provisioning/ilink.py) against the loopback stand-in of Tencent's bot API: the QR
binding as hermes' qr_login runs it (wait, scaned, redirect, expired, confirmed), failing upstreams,
and the proactive message in the shape hermes' own _send_message gives it."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog.testing

from provisioning import ilink
from provisioning.ilink import IlinkGarbled, IlinkRefused, IlinkSessionExpired, IlinkUnreachable
from tests.conftest import CLOSED
from tests.fake_ilink import Bot, FakeIlink

OWNER = "o9cq807dznGqXVUfJ9PRZDiHz0qQ@im.wechat"
STRANGER = "o9cq80zzzzzzzzzzzzzzzzzzzzzz@im.wechat"


@pytest.fixture
def fake() -> Iterator[FakeIlink]:
    server = FakeIlink(qr_hold=0.2, poll_hold=0.5).start()
    yield server
    server.stop()


def bind(fake: FakeIlink, user: str = OWNER) -> tuple[Bot, ilink.QrStatus]:
    qr = ilink.bot_qrcode(fake.url)
    fake.scan(qr.qrcode, user)
    bot = fake.confirm(qr.qrcode)
    return bot, ilink.qrcode_status(fake.url, qr.qrcode)


def bot_call(fake: FakeIlink, token: str, endpoint: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A bot API call with hermes' headers and base_info, to test the stand-in itself."""
    body = json.dumps({**payload, "base_info": {"channel_version": "2.2.0"}})
    headers = {"Content-Type": "application/json", "AuthorizationType": "ilink_bot_token",
               "X-WECHAT-UIN": base64.b64encode(b"123456").decode(), "Authorization": f"Bearer {token}"}  # fmt: skip
    answer: dict[str, Any] = httpx.post(f"{fake.url}/ilink/bot/{endpoint}", content=body, headers=headers,
                                        timeout=kw.get("timeout", 5)).json()  # fmt: skip
    return answer


def test_a_qr_is_scanned_then_confirmed_with_the_bots_credentials(fake: FakeIlink) -> None:
    qr = ilink.bot_qrcode(fake.url)
    assert qr.url.startswith("https://liteapp.weixin.qq.com/q/") and f"qrcode={qr.qrcode}" in qr.url
    asked = fake.requests[-1]
    assert (asked.method, asked.path, asked.query) == ("GET", "/ilink/bot/get_bot_qrcode", {"bot_type": "3"})
    assert asked.headers["iLink-App-Id"] == "bot" and asked.headers["iLink-App-ClientVersion"] == str(0x020200)

    assert ilink.qrcode_status(fake.url, qr.qrcode) == ilink.QrStatus("wait")  # held qr_hold, then wait
    fake.scan(qr.qrcode, OWNER)
    assert ilink.qrcode_status(fake.url, qr.qrcode) == ilink.QrStatus("scaned")
    bot = fake.confirm(qr.qrcode)
    confirmed = ilink.qrcode_status(fake.url, qr.qrcode)
    assert confirmed == ilink.QrStatus("confirmed", bot_id=bot.bot_id, bot_token=bot.token, base_url=fake.url,
                                       user_id=OWNER)  # fmt: skip
    assert bot.bot_id.endswith("@im.bot") and bot.owner == OWNER
    polled = fake.requests[-1]
    assert (polled.path, polled.query) == ("/ilink/bot/get_qrcode_status", {"qrcode": qr.qrcode})
    assert bot.token not in repr(confirmed) and qr.qrcode not in repr(qr)  # secrets stay out of reprs


def test_a_status_poll_is_held_until_something_happens(fake: FakeIlink) -> None:
    fake.qr_hold = 10
    qr = ilink.bot_qrcode(fake.url)
    started = time.monotonic()
    assert ilink.qrcode_status(fake.url, qr.qrcode, timeout=0.3).status == "wait"  # still held: a wait
    assert time.monotonic() - started < 2
    threading.Timer(0.3, fake.scan, (qr.qrcode, OWNER)).start()
    started = time.monotonic()
    assert ilink.qrcode_status(fake.url, qr.qrcode, timeout=10).status == "scaned"
    assert time.monotonic() - started < 2  # answered on the scan, not at the end of the hold


def test_an_expired_qr_is_replaced_by_asking_again(fake: FakeIlink) -> None:
    first = ilink.bot_qrcode(fake.url)
    fake.expire(first.qrcode)
    assert ilink.qrcode_status(fake.url, first.qrcode).status == "expired"
    second = ilink.bot_qrcode(fake.url)
    assert second.qrcode != first.qrcode and second.url != first.url
    assert ilink.qrcode_status(fake.url, second.qrcode).status == "wait"
    assert ilink.qrcode_status(fake.url, "no-such-qr").status == "expired"


def test_scaned_but_redirect_moves_the_poll_to_the_scanners_host(fake: FakeIlink) -> None:
    idc = fake.mirror()
    qr = ilink.bot_qrcode(fake.url)
    fake.scan(qr.qrcode, OWNER)
    fake.redirect(qr.qrcode, fake.host_of(idc))
    moved = ilink.qrcode_status(fake.url, qr.qrcode)
    assert moved == ilink.QrStatus("scaned_but_redirect", redirect_base=idc.url)
    assert moved.redirect_base is not None
    assert ilink.qrcode_status(moved.redirect_base, qr.qrcode).status == "scaned"
    bot = fake.confirm(qr.qrcode)
    assert ilink.qrcode_status(fake.url, qr.qrcode).status == "scaned_but_redirect"  # the old host still says so
    confirmed = ilink.qrcode_status(moved.redirect_base, qr.qrcode)
    assert (confirmed.status, confirmed.bot_token, confirmed.base_url) == ("confirmed", bot.token, fake.url)
    hosts = [r.host for r in fake.requests if r.path.endswith("get_qrcode_status")]
    assert hosts == [fake.host_of(fake), fake.host_of(idc), fake.host_of(fake), fake.host_of(idc)]


def test_a_confirmation_without_credentials_is_garbled(fake: FakeIlink) -> None:
    qr = ilink.bot_qrcode(fake.url)
    fake.scan(qr.qrcode, OWNER)
    bot = fake.confirm(qr.qrcode)
    fake.qrs[qr.qrcode].bot = Bot(bot.bot_id, "", bot.owner)  # iLink answering without bot_token
    with pytest.raises(IlinkGarbled, match="without bot_token"):
        ilink.qrcode_status(fake.url, qr.qrcode)


def test_a_garbled_upstream_is_garbled_everywhere(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    fake.mode = "garbled"
    with pytest.raises(IlinkGarbled):
        ilink.bot_qrcode(fake.url)
    with pytest.raises(IlinkGarbled):
        ilink.qrcode_status(fake.url, "any")
    with pytest.raises(IlinkGarbled):
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello")


def test_a_down_or_silent_upstream_is_unreachable(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    fake.mode = "down"  # HTTP 503
    with pytest.raises(IlinkUnreachable, match="HTTP 503"):
        ilink.bot_qrcode(fake.url)
    with pytest.raises(IlinkUnreachable):
        ilink.qrcode_status(fake.url, "any")
    with pytest.raises(IlinkUnreachable):
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello")
    started = time.monotonic()
    for call in (lambda: ilink.bot_qrcode(f"http://{CLOSED}"), lambda: ilink.qrcode_status(f"http://{CLOSED}", "q"),
                 lambda: ilink.send_text(f"http://{CLOSED}", "t", "b", OWNER, "hello")):  # fmt: skip
        with pytest.raises(IlinkUnreachable, match="ConnectError"):
            call()
    assert time.monotonic() - started < 2  # refused at once
    fake.mode = "slow"  # answers after 5 s
    started = time.monotonic()
    with pytest.raises(IlinkUnreachable, match="timed out"):
        ilink.bot_qrcode(fake.url, timeout=0.3)
    with pytest.raises(IlinkUnreachable, match="timed out"):
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello", timeout=0.3)
    assert ilink.qrcode_status(fake.url, "any", timeout=0.3).status == "wait"  # a long poll still held
    assert time.monotonic() - started < 3


def test_send_text_reaches_the_user_as_a_bot_message(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    renew = "订阅已到期，续费请访问 https://example.cn/join"
    client_id = ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, renew)
    [sent] = fake.sent_to(OWNER)
    assert (sent.bot_id, sent.text, sent.context_token, sent.client_id) == (bot.bot_id, renew, None, client_id)
    assert sent.body == {
        "msg": {"from_user_id": "", "to_user_id": OWNER, "client_id": client_id, "message_type": 2,
                "message_state": 2, "item_list": [{"type": 1, "text_item": {"text": sent.text}}]},
        "base_info": {"channel_version": "2.2.0"},
    }  # fmt: skip
    ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "again")
    first, second = (r.headers for r in fake.requests if r.path == "/ilink/bot/sendmessage")
    for headers in (first, second):
        assert headers["AuthorizationType"] == "ilink_bot_token"
        assert headers["Authorization"] == f"Bearer {bot.token}"
        assert base64.b64decode(headers["X-WECHAT-UIN"]).decode().isdigit()
        assert headers["Content-Type"] == "application/json" and headers["iLink-App-Id"] == "bot"
    assert first["X-WECHAT-UIN"] != second["X-WECHAT-UIN"]  # random per call, as hermes makes it


def test_send_text_carries_the_users_context_token_when_given(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    fake.user_says(bot.bot_id, OWNER, "hi")
    context = fake.context_token(bot.bot_id, OWNER)
    ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "with context", context_token=context)
    assert fake.sent_to(OWNER)[-1].context_token == context
    with pytest.raises(IlinkSessionExpired):  # a stale context token: iLink's -14, as hermes reads it
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "stale", context_token="c3RhbGU=")


def test_a_dead_bot_token_is_a_session_expiry(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    with pytest.raises(IlinkSessionExpired) as unknown:
        ilink.send_text(fake.url, "never-issued", bot.bot_id, OWNER, "hello")
    assert (unknown.value.code, unknown.value.endpoint) == (-14, "sendmessage")
    fake.revoke(bot.bot_id)  # the user unbound the bot
    with pytest.raises(IlinkSessionExpired):
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello")
    assert isinstance(unknown.value, IlinkRefused) and fake.sent == []


def test_send_text_sends_one_non_empty_message() -> None:
    with pytest.raises(ValueError, match="empty"):
        ilink.send_text("http://127.0.0.1:9", "t", "b", OWNER, "  ")
    with pytest.raises(ValueError, match="2000"):
        ilink.send_text("http://127.0.0.1:9", "t", "b", OWNER, "字" * 2001)


def test_no_token_or_qr_value_is_logged(fake: FakeIlink) -> None:
    with structlog.testing.capture_logs() as logged:
        bot, status = bind(fake)
        ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello")
        fake.mode = "garbled"
        with pytest.raises(IlinkGarbled) as garbled:
            ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "hello")
    qrcode = fake.latest_qr().qrcode
    text = json.dumps(logged, default=str) + str(garbled.value)
    assert {e["event"] for e in logged} >= {"ilink_qr_issued", "ilink_qr_confirmed", "ilink_message_sent"}
    assert status.bot_token == bot.token and bot.token not in text and qrcode not in text


def test_the_stand_ins_getupdates_cursor_and_long_poll(fake: FakeIlink) -> None:
    bot, _ = bind(fake)
    said = fake.user_says(bot.bot_id, OWNER, "你好")
    first = bot_call(fake, bot.token, "getupdates", {"get_updates_buf": ""})
    assert first["ret"] == 0 and [m["item_list"][0]["text_item"]["text"] for m in first["msgs"]] == ["你好"]
    assert first["msgs"][0]["context_token"] == fake.context_token(bot.bot_id, OWNER) == said["context_token"]
    assert first["longpolling_timeout_ms"] == 35_000 and fake.delivered_at(said) is not None
    again = bot_call(fake, bot.token, "getupdates", {"get_updates_buf": ""})  # not acknowledged: sent again
    assert [m["seq"] for m in again["msgs"]] == [said["seq"]]
    started = time.monotonic()
    empty = bot_call(fake, bot.token, "getupdates", {"get_updates_buf": first["get_updates_buf"]})
    assert empty["msgs"] == [] and empty["get_updates_buf"] == first["get_updates_buf"]
    assert 0.4 < time.monotonic() - started < 2  # held poll_hold (0.5 s)
    assert bot_call(fake, "never-issued", "getupdates", {"get_updates_buf": ""})["errcode"] == -14
    bare = httpx.post(f"{fake.url}/ilink/bot/getupdates", json={"get_updates_buf": ""}, timeout=5)
    assert bare.status_code == 400 and "AuthorizationType" in bare.json()["errmsg"]


def test_the_stand_ins_held_polls_end_when_it_stops() -> None:
    fake = FakeIlink(poll_hold=60, qr_hold=60).start()
    qr = ilink.bot_qrcode(fake.url)
    fake.scan(qr.qrcode, OWNER)
    bot = fake.confirm(qr.qrcode)
    waiting = ilink.bot_qrcode(fake.url)
    answers: list[Any] = []

    def updates() -> None:
        answers.append(bot_call(fake, bot.token, "getupdates", {"get_updates_buf": ""}, timeout=30))

    def status() -> None:
        answers.append(ilink.qrcode_status(fake.url, waiting.qrcode))

    polls = [threading.Thread(target=updates), threading.Thread(target=status)]
    for poll in polls:
        poll.start()
    time.sleep(0.3)
    started = time.monotonic()
    fake.stop()
    for poll in polls:
        poll.join(timeout=5)
    assert time.monotonic() - started < 2 and len(answers) == 2


@pytest.mark.slow
def test_send_text_has_the_shape_of_hermes_own_send_message(fake: FakeIlink, hermes: str) -> None:
    """hermes 0.19.0's `_send_message`, run in its own interpreter against the stand-in, and ours send
    the same headers and the same body, but for the client id and the text."""
    python = Path(hermes).with_name("python")
    if not python.exists():
        pytest.skip(f"no interpreter beside {hermes}")
    bot, _ = bind(fake)
    script = (
        "import asyncio, aiohttp, sys\n"
        "from gateway.platforms.weixin import _send_message\n"
        "async def main():\n"
        "    async with aiohttp.ClientSession() as session:\n"
        "        print(await _send_message(session, base_url=sys.argv[1], token=sys.argv[2], to=sys.argv[3],\n"
        "                                  text='from hermes', context_token=None, client_id='hermes-weixin-1'))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([str(python), "-c", script, fake.url, bot.token, OWNER], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ilink.send_text(fake.url, bot.token, bot.bot_id, OWNER, "from us")
    theirs, ours = (r for r in fake.requests if r.path == "/ilink/bot/sendmessage")
    assert [s.text for s in fake.sent_to(OWNER)] == ["from hermes", "from us"]
    assert _shape(theirs.body) == _shape(ours.body)
    wire = {"content-type", "authorizationtype", "authorization", "x-wechat-uin", "ilink-app-id",
            "ilink-app-clientversion"}  # fmt: skip
    assert {k.lower() for k in theirs.headers} & wire == {k.lower() for k in ours.headers} & wire == wire
    for name in ("AuthorizationType", "Authorization", "Content-Type", "iLink-App-Id", "iLink-App-ClientVersion"):
        assert theirs.headers[name] == ours.headers[name]


def _shape(value: Any) -> Any:
    """The JSON's structure and every value but the free-form ones (client id, text)."""
    if isinstance(value, dict):
        return {k: "*" if k in ("client_id", "text") else _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value
