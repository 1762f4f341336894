"""A loopback stand-in for Tencent's iLink bot API, speaking what hermes-agent 0.19.0's Weixin adapter
(`gateway/platforms/weixin.py`) sends and expects, so that the real hermes gateway and our binding
client run unmodified against it.

The wire, as the stand-in checks it:

- QR binding, unauthenticated: `GET /ilink/bot/get_bot_qrcode?bot_type=3` answers
  `{ret: 0, qrcode, qrcode_img_content}` (the content is the URL a phone scans);
  `GET /ilink/bot/get_qrcode_status?qrcode=…` is a long poll, held while the status is `wait`, then
  `{status: wait|scaned|scaned_but_redirect|expired|confirmed}`; `scaned_but_redirect` carries
  `redirect_host` (asked anywhere else than there); `confirmed` carries `ilink_bot_id`, `bot_token`,
  `baseurl` and `ilink_user_id` (the scanner).
- The bot API, `POST /ilink/bot/{getupdates,sendmessage,sendtyping,getconfig}`: JSON bodies with
  `base_info.channel_version`; headers `Content-Type: application/json`,
  `AuthorizationType: ilink_bot_token`, `Authorization: Bearer <bot_token>` and `X-WECHAT-UIN` (base64
  of a decimal uint32). A request without them is answered 400; an unknown token gets
  `{ret: -14, errcode: -14, errmsg: "session timeout"}` with HTTP 200, which hermes treats as an
  expired session (it pauses that bot's polling for ten minutes).
- `getupdates {get_updates_buf}` is a long poll: held until a message past the cursor is queued for
  that bot (or `poll_hold` seconds), answered `{ret: 0, msgs, get_updates_buf, longpolling_timeout_ms}`;
  the cursor is opaque, a message is delivered again until a later cursor acknowledges it.
- `sendmessage {msg: {to_user_id, client_id, message_type: 2, message_state: 2, item_list: [{type: 1,
  text_item: {text}}], context_token?}}`: a context token, when sent, must be the one the user's last
  message carried (else -14, as for a stale one); `getconfig {ilink_user_id}` answers a `typing_ticket`
  that `sendtyping {ilink_user_id, typing_ticket, status: 1|2}` must carry.

Every held request ends at once when the stand-in stops. Tests drive it with `scan`, `confirm`,
`expire`, `redirect`, `user_says` and read `sent`, `typed`, `requests`. Run it by hand with
`python -m tests.fake_ilink --port 7780 [--auto-bind USER]`; `POST /_fake/{scan,confirm,expire,say}`
with the methods' arguments as JSON and `GET /_fake/sent` drive it from curl.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackHTTP, respond, run_until_interrupted

SESSION_TIMEOUT = {"ret": -14, "errcode": -14, "errmsg": "session timeout"}
LONG_POLL_MS = 35_000  # what iLink suggests as the client's long-poll timeout
BOT_PATHS = ("getupdates", "sendmessage", "sendtyping", "getconfig")
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Bot:
    bot_id: str  # ilink_bot_id, e.g. "1f0c…@im.bot" (WEIXIN_ACCOUNT_ID)
    token: str = field(repr=False)  # bot_token (WEIXIN_TOKEN)
    owner: str  # the ilink_user_id that scanned and confirmed (WEIXIN_ALLOWED_USERS)


@dataclass
class Qr:
    qrcode: str
    url: str  # qrcode_img_content
    status: str = "wait"
    scanner: str | None = None
    redirect_host: str | None = None
    bot: Bot | None = None
    base_url: str | None = None  # baseurl answered on confirmation


@dataclass(frozen=True)
class Sent:
    """One sendmessage call, as the stand-in received it."""

    bot_id: str
    to_user: str
    text: str
    context_token: str | None
    client_id: str
    at: float  # time.monotonic()
    body: dict[str, Any]


@dataclass(frozen=True)
class Typed:
    bot_id: str
    to_user: str
    status: int  # 1 typing, 2 stopped
    at: float


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    host: str  # the Host header: which listener (see `mirror`) was asked
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class _Queued:
    seq: int
    message: dict[str, Any]
    delivered_at: float | None = None  # when a getupdates first answered it


class FakeIlink(LoopbackHTTP):
    """Start with `start()`; `url` is both the QR host and the bot API base (WEIXIN_BASE_URL)."""

    methods = ("GET", "POST")

    def __init__(self, port: int = 0, *, poll_hold: float = 25.0, qr_hold: float = 25.0, echo: bool = False) -> None:
        super().__init__(port)
        self._changed = threading.Condition(self._lock)
        self._stopping = False
        self.poll_hold = poll_hold  # seconds a getupdates is held with nothing to deliver
        self.qr_hold = qr_hold  # seconds a get_qrcode_status is held while the QR waits
        self.echo = echo  # print each message the bots send (by hand)
        self.mode: str | None = None  # down (HTTP 503) | garbled (200, not JSON) | slow (answers after 5 s)
        self.auto_bind: str | None = None  # by hand: every QR is scanned and confirmed by this user
        self.qrs: dict[str, Qr] = {}
        self.bots: dict[str, Bot] = {}  # by token
        self.sent: list[Sent] = []
        self.typed: list[Typed] = []
        self.requests: list[Request] = []
        self._queues: dict[str, list[_Queued]] = {}  # bot_id -> messages
        self._seq = 0
        self._context: dict[tuple[str, str], str] = {}  # (bot_id, user) -> context_token
        self._tickets: dict[tuple[str, str], str] = {}  # (bot_id, user) -> typing_ticket
        self._mirrors: list[_Mirror] = []

    # -- driving it -------------------------------------------------------------------------------

    def issue_qr(self) -> Qr:
        """A new QR, as get_bot_qrcode issues one (the endpoint calls this)."""
        qrcode = secrets.token_hex(16)
        qr = Qr(qrcode, f"https://liteapp.weixin.qq.com/q/{secrets.token_urlsafe(4)}?qrcode={qrcode}&bot_type=3")
        with self._changed:
            self.qrs[qrcode] = qr
        if self.auto_bind:
            threading.Thread(target=self._auto_bind, args=(qrcode, self.auto_bind), daemon=True).start()
        return qr

    def latest_qr(self) -> Qr:
        with self._lock:
            return list(self.qrs.values())[-1]

    def scan(self, qrcode: str, user_id: str) -> None:
        """`user_id` scanned the QR in WeChat: status `scaned` until confirmed."""
        self._update(qrcode, status="scaned", scanner=user_id)

    def confirm(self, qrcode: str, *, base_url: str | None = None) -> Bot:
        """The scanner confirmed: a bot is minted for them, and status turns `confirmed` with its credentials."""
        with self._changed:
            qr = self.qrs[qrcode]
            if qr.scanner is None:
                raise ValueError("a QR is confirmed by the user who scanned it: scan() first")
            bot_id = f"{secrets.token_hex(6)}@im.bot"
            bot = Bot(bot_id, f"{bot_id}:{secrets.token_hex(20)}", qr.scanner)
            self.bots[bot.token] = bot
            self._queues[bot_id] = []
            qr.status, qr.bot, qr.base_url = "confirmed", bot, base_url or self.url
            self._changed.notify_all()
        return bot

    def expire(self, qrcode: str) -> None:
        self._update(qrcode, status="expired")

    def redirect(self, qrcode: str, host: str) -> None:
        """The scanner's data centre is `host` ("127.0.0.1:PORT", see `mirror`): polls anywhere else
        answer `scaned_but_redirect` with `redirect_host`; polls there see the real status."""
        self._update(qrcode, redirect_host=host)

    def revoke(self, bot_id: str) -> None:
        """The user unbound the bot: its token now gets the session-timeout error."""
        with self._changed:
            for token, bot in list(self.bots.items()):
                if bot.bot_id == bot_id:
                    del self.bots[token]

    def user_says(self, bot_id: str, from_user: str, text: str) -> dict[str, Any]:
        """A WeChat user's text message to the bot, delivered through that bot's getupdates."""
        with self._changed:
            self._seq += 1
            context = self._context.setdefault((bot_id, from_user), base64.b64encode(secrets.token_bytes(24)).decode())
            now_ms = int(time.time() * 1000)
            message = {
                "seq": self._seq, "message_id": 7_000_000_000 + self._seq, "from_user_id": from_user,
                "to_user_id": bot_id, "client_id": "", "create_time_ms": now_ms, "update_time_ms": now_ms,
                "session_id": f"{from_user}#{bot_id}", "message_type": 1, "message_state": 2,
                "item_list": [{"type": 1, "create_time_ms": now_ms, "is_completed": True,
                               "text_item": {"text": text}}],
                "context_token": context,
            }  # fmt: skip
            self._queues.setdefault(bot_id, []).append(_Queued(self._seq, message))
            self._changed.notify_all()
        return message

    def context_token(self, bot_id: str, user: str) -> str | None:
        with self._lock:
            return self._context.get((bot_id, user))

    def delivered_at(self, message: dict[str, Any]) -> float | None:
        """When a getupdates first answered `message` (time.monotonic()), or None while it waits."""
        with self._lock:
            for queued in self._queues.get(str(message["to_user_id"]), []):
                if queued.seq == message["seq"]:
                    return queued.delivered_at
        return None

    def sent_to(self, user: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to_user == user]

    def wait_sent(self, user: str, count: int = 1, timeout: float = 60.0) -> list[Sent]:
        """The messages sent to `user`, once there are at least `count` (else those there are at `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(s.to_user == user for s in self.sent) < count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return [s for s in self.sent if s.to_user == user]

    def wait_polled(self, bot: Bot, timeout: float = 60.0) -> bool:
        """True once that bot's token has asked getupdates (its gateway is connected)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._polled(bot) and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._polled(bot)

    def mirror(self) -> LoopbackHTTP:
        """A second listener serving the same state (another data centre, for `redirect`)."""
        other = _Mirror(self)
        self._mirrors.append(other)
        return other.start()

    def host_of(self, server: LoopbackHTTP) -> str:
        return urlsplit(server.url).netloc

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        for other in self._mirrors:
            other.stop()
        super().stop()

    # -- the wire ---------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        seen = Request(request.command, parts.path, query, request.headers.get("Host", ""),
                       dict(request.headers.items()), body, time.monotonic())  # fmt: skip
        with self._changed:
            self.requests.append(seen)
            self._changed.notify_all()
        if parts.path.startswith("/_fake/"):
            return self._control(request, parts.path.removeprefix("/_fake/"), body)
        if self.mode == "down":
            return respond(request, 503, b"<html>503 Service Temporarily Unavailable</html>", {})
        if self.mode == "garbled":
            return respond(request, 200, b"<html>\xe7\xbd\x91\xe5\x85\xb3\xe9\x94\x99\xe8\xaf\xaf</html>", JSON)
        if self.mode == "slow":
            time.sleep(5)
        status, answer = self._answer(seen)
        respond(request, status, json.dumps(answer, ensure_ascii=False).encode(), JSON)

    def _answer(self, seen: Request) -> tuple[int, dict[str, Any]]:
        endpoint = seen.path.removeprefix("/ilink/bot/")
        if endpoint == "get_bot_qrcode" and seen.method in ("GET", "POST"):  # hermes GETs; newer clients POST
            if seen.query.get("bot_type") != "3":
                return 200, {"ret": -1, "errmsg": "invalid bot_type"}
            qr = self.issue_qr()
            return 200, {"ret": 0, "qrcode": qr.qrcode, "qrcode_img_content": qr.url}
        if endpoint == "get_qrcode_status" and seen.method == "GET":
            return 200, self._qr_status(seen)
        if endpoint not in BOT_PATHS or seen.method != "POST":
            return 404, {"ret": -1, "errmsg": f"no such API: {seen.method} {seen.path}"}
        problem = _malformed(seen)
        if problem:
            return 400, {"ret": -1, "errmsg": problem}
        with self._lock:
            bot = self.bots.get(seen.headers.get("Authorization", "").removeprefix("Bearer "))
        if bot is None:
            return 200, dict(SESSION_TIMEOUT)
        handler: Callable[[Bot, dict[str, Any]], dict[str, Any]] = getattr(self, f"_{endpoint}")
        return 200, handler(bot, seen.body)

    def _qr_status(self, seen: Request) -> dict[str, Any]:
        qrcode = seen.query.get("qrcode", "")
        deadline = time.monotonic() + self.qr_hold
        with self._changed:
            qr = self.qrs.get(qrcode)
            if qr is None:
                return {"ret": 0, "status": "expired"}
            if qr.redirect_host and seen.host != qr.redirect_host:
                return {"ret": 0, "status": "scaned_but_redirect", "redirect_host": qr.redirect_host}
            while qr.status == "wait" and not self._stopping and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            answer: dict[str, Any] = {"ret": 0, "status": qr.status}
            if qr.status == "confirmed" and qr.bot is not None:
                answer |= {"ilink_bot_id": qr.bot.bot_id, "bot_token": qr.bot.token, "baseurl": qr.base_url,
                           "ilink_user_id": qr.bot.owner}  # fmt: skip
            return answer

    def _getupdates(self, bot: Bot, body: dict[str, Any]) -> dict[str, Any]:
        buf = body.get("get_updates_buf")
        if not isinstance(buf, str):
            return {"ret": -1, "errmsg": "get_updates_buf must be a string"}
        cursor = _cursor(buf)
        deadline = time.monotonic() + self.poll_hold
        with self._changed:
            queue = self._queues.setdefault(bot.bot_id, [])
            while (not self._stopping and not any(q.seq > cursor for q in queue)
                   and (left := deadline - time.monotonic()) > 0):  # fmt: skip
                self._changed.wait(left)
            pending = [q for q in queue if q.seq > cursor]
            now = time.monotonic()
            for q in pending:
                q.delivered_at = q.delivered_at or now
            last = pending[-1].seq if pending else cursor
            self._changed.notify_all()
        new_buf = base64.b64encode(json.dumps({"seq": last}).encode()).decode() if last else buf
        return {"ret": 0, "msgs": [q.message for q in pending], "get_updates_buf": new_buf,
                "longpolling_timeout_ms": LONG_POLL_MS}  # fmt: skip

    def _sendmessage(self, bot: Bot, body: dict[str, Any]) -> dict[str, Any]:
        msg = body.get("msg")
        if not isinstance(msg, dict):
            return {"ret": -1, "errmsg": "msg is required"}
        to_user, items = msg.get("to_user_id"), msg.get("item_list")
        texts = [i.get("text_item", {}).get("text") for i in items or [] if isinstance(i, dict) and i.get("type") == 1]
        if (not to_user or msg.get("message_type") != 2 or msg.get("message_state") != 2 or not msg.get("client_id")
                or not texts or not all(isinstance(t, str) and t for t in texts)):  # fmt: skip
            return {"ret": -1, "errmsg": "bad msg: to_user_id, client_id, message_type 2, message_state 2, text items"}
        context = msg.get("context_token")
        with self._changed:
            if context is not None and context != self._context.get((bot.bot_id, to_user)):
                return dict(SESSION_TIMEOUT)
            self.sent.append(Sent(bot.bot_id, to_user, "".join(texts), context, msg["client_id"], time.monotonic(),
                                  body))  # fmt: skip
            self._changed.notify_all()
        if self.echo:
            print(f"{bot.bot_id} -> {to_user}: {''.join(texts)}", flush=True)
        return {"ret": 0, "errmsg": ""}

    def _getconfig(self, bot: Bot, body: dict[str, Any]) -> dict[str, Any]:
        user = body.get("ilink_user_id")
        if not isinstance(user, str) or not user:
            return {"ret": -1, "errmsg": "ilink_user_id is required"}
        with self._lock:
            ticket = self._tickets.setdefault((bot.bot_id, user), base64.b64encode(secrets.token_bytes(16)).decode())
        return {"ret": 0, "errmsg": "", "typing_ticket": ticket}

    def _sendtyping(self, bot: Bot, body: dict[str, Any]) -> dict[str, Any]:
        user, status = body.get("ilink_user_id"), body.get("status")
        with self._changed:
            if not user or body.get("typing_ticket") != self._tickets.get((bot.bot_id, str(user))):
                return {"ret": -1, "errmsg": "invalid typing_ticket"}
            if status not in (1, 2):
                return {"ret": -1, "errmsg": "status must be 1 or 2"}
            self.typed.append(Typed(bot.bot_id, str(user), int(status), time.monotonic()))
            self._changed.notify_all()
        return {"ret": 0, "errmsg": ""}

    # -- helpers ----------------------------------------------------------------------------------

    def _update(self, qrcode: str, **changes: Any) -> None:
        with self._changed:
            qr = self.qrs[qrcode]
            for name, value in changes.items():
                setattr(qr, name, value)
            self._changed.notify_all()

    def _polled(self, bot: Bot) -> bool:
        return any(r.path == "/ilink/bot/getupdates" and r.headers.get("Authorization") == f"Bearer {bot.token}"
                   for r in self.requests)  # fmt: skip

    def _auto_bind(self, qrcode: str, user: str) -> None:
        time.sleep(2)
        self.scan(qrcode, user)
        time.sleep(2)
        bot = self.confirm(qrcode)
        print(f"bound {bot.bot_id} to {user}", flush=True)

    def _control(self, request: BaseHTTPRequestHandler, action: str, body: Any) -> None:
        """By hand: POST /_fake/{scan,confirm,expire,say} with the method's arguments; GET /_fake/sent."""
        args = body if isinstance(body, dict) else {}
        result: Any
        try:
            if action == "sent":
                result = [{"bot_id": s.bot_id, "to_user": s.to_user, "text": s.text} for s in self.sent]
            elif action == "say":
                result = self.user_says(args["bot_id"], args["from_user"], args["text"])
            elif action in ("scan", "confirm", "expire"):
                answer = getattr(self, action)(**args)
                result = {"bot_id": answer.bot_id, "owner": answer.owner} if isinstance(answer, Bot) else {}
            else:
                return respond(request, 404, b'{"error": "unknown action"}', JSON)
        except (KeyError, TypeError, ValueError) as exc:
            return respond(request, 400, json.dumps({"error": repr(exc)}).encode(), JSON)
        respond(request, 200, json.dumps(result, ensure_ascii=False).encode(), JSON)


class _Mirror(LoopbackHTTP):
    methods = ("GET", "POST")

    def __init__(self, origin: FakeIlink) -> None:
        super().__init__(0)
        self._origin = origin

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        self._origin.handle(request)


def _malformed(seen: Request) -> str | None:
    """What hermes always sends on the bot API and a request lacks, if anything."""
    headers = {k.lower(): v for k, v in seen.headers.items()}
    if not headers.get("content-type", "").startswith("application/json"):
        return "Content-Type must be application/json"
    if headers.get("authorizationtype") != "ilink_bot_token":
        return "AuthorizationType must be ilink_bot_token"
    try:
        uin = base64.b64decode(headers.get("x-wechat-uin", ""), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        uin = ""
    if not uin.isdigit():
        return "X-WECHAT-UIN must be the base64 of a decimal uint32"
    if not isinstance(seen.body, dict) or not isinstance(seen.body.get("base_info"), dict):
        return "a JSON body with base_info is required"
    if not seen.body["base_info"].get("channel_version"):
        return "base_info.channel_version is required"
    return None


def _cursor(buf: str) -> int:
    if not buf:
        return 0
    try:
        return int(json.loads(base64.b64decode(buf))["seq"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return 0  # a cursor we never issued: start over, as after a reset


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback stand-in for Tencent's iLink bot API.")
    parser.add_argument("--port", type=int, default=7780)
    parser.add_argument("--auto-bind", metavar="USER", help="scan and confirm every QR as this ilink_user_id")
    args = parser.parse_args()
    fake = FakeIlink(args.port, echo=True)
    fake.auto_bind = args.auto_bind
    run_until_interrupted(fake.start(), f"fake iLink on {fake.url}")


if __name__ == "__main__":
    main()
