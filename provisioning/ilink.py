"""The wire half of binding a paid user's bot to their WeChat: Tencent's iLink bot API, spoken as
hermes-agent 0.19.0 speaks it (`gateway/platforms/weixin.py`).

hermes' own `qr_login` runs on a terminal; we run the same exchange on the server and show the QR to
the payer: `bot_qrcode` asks for a bot QR, `qrcode_status` long-polls its status until the payer
confirms, and the confirmed credentials (`bot_id`, `bot_token`, `base_url`, `user_id`) become the
profile's WEIXIN_* settings. `send_text` is the one message we send as the bot ourselves (the
subscription ended, renew at …), shaped like hermes' `_send_message` so iLink sees one client.
The binding's state machine, its storage and the `.env` live elsewhere; nothing here keeps state.

Failures are typed, for callers to decide by class:

    IlinkError
     ├── IlinkUnreachable        no answer: refused, timed out, HTTP 5xx (transient: try again later)
     ├── IlinkRefused            iLink answered an error: `ret`/`errcode` non-zero or HTTP 4xx (`code`)
     │    └── IlinkSessionExpired  errcode -14: the bot token is dead (unbound or expired): bind again
     └── IlinkGarbled            an answer we cannot read: not JSON, or a field the step needs missing

Tokens and QR values are secrets: they appear in no log line and no error message.
"""

from __future__ import annotations

import base64
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import structlog

ILINK_BASE_URL = "https://ilinkai.weixin.qq.com"
BOT_TYPE = "3"  # the bot kind hermes' qr_login asks for
# hermes 0.19.0's client identity: the bot's gateway and this module then look like one client to iLink.
CHANNEL_VERSION = "2.2.0"
APP_ID = "bot"
APP_CLIENT_VERSION = (2 << 16) | (2 << 8) | 0
CONNECT_TIMEOUT = 5.0
CALL_TIMEOUT = 10.0  # a QR or a send: iLink answers these at once
QR_POLL_TIMEOUT = 35.0  # get_qrcode_status is a long poll; hermes and Tencent's plugin wait 35 s for it
MAX_TEXT = 2000  # hermes' MAX_MESSAGE_LENGTH for one Weixin message (it splits longer replies)
SESSION_EXPIRED = -14
RATE_LIMITED = -2  # also a stale session when its errmsg is "unknown error" (as hermes reads it)

QrState = Literal["wait", "scaned", "scaned_but_redirect", "expired", "confirmed"]
_KNOWN: dict[str, QrState] = {s: s for s in ("wait", "scaned", "scaned_but_redirect", "expired", "confirmed")}

log = structlog.get_logger("provisioning.ilink")


class IlinkError(Exception):
    """Base class; `endpoint` names the iLink call (e.g. "get_qrcode_status")."""

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class IlinkUnreachable(IlinkError):
    pass


class IlinkRefused(IlinkError):
    """`code` is iLink's errcode (or ret), or the HTTP status of a 4xx."""

    def __init__(self, message: str, *, endpoint: str, code: int) -> None:
        super().__init__(message, endpoint=endpoint)
        self.code = code


class IlinkSessionExpired(IlinkRefused):
    pass


class IlinkGarbled(IlinkError):
    pass


@dataclass(frozen=True)
class BotQr:
    """`url` is what the payer's phone scans (qrcode_img_content); `qrcode` is the handle to poll with."""

    qrcode: str = field(repr=False)
    url: str = field(repr=False)


@dataclass(frozen=True)
class QrStatus:
    """Where a QR is. Only `confirmed` carries the credentials; `scaned_but_redirect` may carry
    `redirect_base`, the host to poll from then on (the scanner's data centre)."""

    status: QrState
    bot_id: str | None = None  # ilink_bot_id -> WEIXIN_ACCOUNT_ID
    bot_token: str | None = field(default=None, repr=False)  # bot_token -> WEIXIN_TOKEN
    base_url: str | None = None  # baseurl -> WEIXIN_BASE_URL
    user_id: str | None = None  # ilink_user_id, the scanner -> WEIXIN_ALLOWED_USERS, WEIXIN_HOME_CHANNEL
    redirect_base: str | None = None


def bot_qrcode(base: str, *, timeout: float = CALL_TIMEOUT) -> BotQr:
    """A fresh bot QR from `base` (ILINK_BASE_URL unless configured). Ask again when one expires."""
    answer = _get(base, "get_bot_qrcode", {"bot_type": BOT_TYPE}, timeout=timeout)
    qrcode, url = answer.get("qrcode"), answer.get("qrcode_img_content")
    if not isinstance(qrcode, str) or not qrcode:
        raise IlinkGarbled("iLink answered a QR without a qrcode", endpoint="get_bot_qrcode")
    # hermes falls back to the bare value when there is no URL; WeChat only understands the URL
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise IlinkGarbled("iLink answered a QR without a scannable URL", endpoint="get_bot_qrcode")
    log.info("ilink_qr_issued", host=_host(base))
    return BotQr(qrcode, url)


def qrcode_status(base: str, qrcode: str, *, timeout: float = QR_POLL_TIMEOUT) -> QrStatus:
    """One long poll of a QR's status at `base` (the redirect_base once one was given).

    iLink holds the request while nothing happens; a poll it holds past `timeout` is a `wait`, as
    hermes reads it. A status this client does not know (newer iLink) is a `wait` too, logged.
    """
    try:
        answer = _get(base, "get_qrcode_status", {"qrcode": qrcode}, timeout=timeout, long_poll=True)
    except _HeldPastTimeout:
        return QrStatus("wait")
    status = str(answer.get("status") or "wait")
    if status == "confirmed":
        return _confirmed(answer, base)
    if status == "scaned_but_redirect":
        host = str(answer.get("redirect_host") or "")
        # hermes polls https://{redirect_host}; the scheme follows the host that redirected us, so that is
        # https against Tencent, and a loopback stand-in can redirect too
        redirect = f"{urlsplit(base).scheme or 'https'}://{host}" if host else None
        log.info("ilink_qr_redirected", host=_host(base), to=host or None)
        return QrStatus("scaned_but_redirect", redirect_base=redirect)
    known = _KNOWN.get(status)
    if known is None:
        log.warning("ilink_qr_status_unknown", host=_host(base), status=status[:40])
        return QrStatus("wait")
    return QrStatus(known)


def send_text(base: str, bot_token: str, account_id: str, to_user: str, text: str, *,
              context_token: str | None = None, timeout: float = CALL_TIMEOUT) -> str:  # fmt: skip
    """Send `text` from the bot `account_id` to `to_user`, as hermes' `_send_message` does; the client_id.

    A proactive message has no `context_token` unless one is passed (hermes keeps the user's latest in
    its profile); iLink accepts a send without one. One message: at most MAX_TEXT characters.
    """
    if not text.strip():
        raise ValueError("send_text: text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"send_text: one message holds at most {MAX_TEXT} characters, got {len(text)}")
    client_id = f"twilight-{secrets.token_hex(16)}"
    msg: dict[str, Any] = {
        "from_user_id": "", "to_user_id": to_user, "client_id": client_id, "message_type": 2,
        "message_state": 2, "item_list": [{"type": 1, "text_item": {"text": text}}],
    }  # fmt: skip
    if context_token:
        msg["context_token"] = context_token
    _post(base, "sendmessage", {"msg": msg}, bot_token, timeout=timeout)
    log.info("ilink_message_sent", host=_host(base), bot=account_id[:8], to=to_user[:8], chars=len(text))
    return client_id


def _confirmed(answer: dict[str, Any], base: str) -> QrStatus:
    bot_id, token, user = (str(answer.get(k) or "") for k in ("ilink_bot_id", "bot_token", "ilink_user_id"))
    missing = [name for name, value in (("ilink_bot_id", bot_id), ("bot_token", token), ("ilink_user_id", user))
               if not value]  # fmt: skip
    if missing:
        raise IlinkGarbled(f"iLink confirmed a QR without {', '.join(missing)}", endpoint="get_qrcode_status")
    base_url = str(answer.get("baseurl") or base).rstrip("/")  # hermes: the baseurl, else where we asked
    log.info("ilink_qr_confirmed", host=_host(base), bot=bot_id[:8])
    return QrStatus("confirmed", bot_id=bot_id, bot_token=token, base_url=base_url, user_id=user)


class _HeldPastTimeout(Exception):
    """A long poll iLink was still holding when our read timeout came: nothing happened meanwhile."""


def _get(
    base: str, endpoint: str, params: dict[str, str], *, timeout: float, long_poll: bool = False
) -> dict[str, Any]:
    """The QR calls: unauthenticated, with hermes' app headers only."""
    headers = {"iLink-App-Id": APP_ID, "iLink-App-ClientVersion": str(APP_CLIENT_VERSION)}
    try:
        response = httpx.get(_url(base, endpoint), params=params, headers=headers, timeout=_timeout(timeout))
    except httpx.ReadTimeout:
        if long_poll:
            raise _HeldPastTimeout from None
        raise _unreachable(base, endpoint, "timed out") from None
    except httpx.HTTPError as exc:
        raise _unreachable(base, endpoint, type(exc).__name__) from None
    return _read(response, base, endpoint)


def _post(base: str, endpoint: str, payload: dict[str, Any], token: str, *, timeout: float) -> dict[str, Any]:
    """The bot API: JSON with base_info, the bot token as a bearer, and a random X-WECHAT-UIN per call."""
    body = json.dumps({**payload, "base_info": {"channel_version": CHANNEL_VERSION}}, ensure_ascii=False,
                      separators=(",", ":")).encode()  # fmt: skip
    uin = base64.b64encode(str(struct.unpack(">I", secrets.token_bytes(4))[0]).encode()).decode()
    headers = {
        "Content-Type": "application/json", "AuthorizationType": "ilink_bot_token", "X-WECHAT-UIN": uin,
        "iLink-App-Id": APP_ID, "iLink-App-ClientVersion": str(APP_CLIENT_VERSION),
        "Authorization": f"Bearer {token}",
    }  # fmt: skip
    try:
        response = httpx.post(_url(base, endpoint), content=body, headers=headers, timeout=_timeout(timeout))
    except httpx.ReadTimeout:
        raise _unreachable(base, endpoint, "timed out") from None
    except httpx.HTTPError as exc:
        raise _unreachable(base, endpoint, type(exc).__name__) from None
    return _read(response, base, endpoint)


def _read(response: httpx.Response, base: str, endpoint: str) -> dict[str, Any]:
    if response.status_code >= 500:
        raise _unreachable(base, endpoint, f"HTTP {response.status_code}")
    if response.status_code >= 400:
        log.warning("ilink_refused", host=_host(base), endpoint=endpoint, code=response.status_code)
        raise IlinkRefused(f"iLink {endpoint} answered HTTP {response.status_code}", endpoint=endpoint,
                           code=response.status_code)  # fmt: skip
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        log.warning("ilink_garbled", host=_host(base), endpoint=endpoint, bytes=len(response.content))
        raise IlinkGarbled(f"iLink {endpoint} answered something other than a JSON object", endpoint=endpoint)
    ret, errcode = answer.get("ret"), answer.get("errcode")
    if ret in (0, None) and errcode in (0, None):
        return answer
    code = errcode if isinstance(errcode, int) and errcode != 0 else ret if isinstance(ret, int) else -1
    errmsg = str(answer.get("errmsg") or answer.get("msg") or "")[:200]
    stale = RATE_LIMITED in (ret, errcode) and errmsg.lower() == "unknown error"
    kind = IlinkSessionExpired if SESSION_EXPIRED in (ret, errcode) or stale else IlinkRefused
    log.warning("ilink_refused", host=_host(base), endpoint=endpoint, code=code, errmsg=errmsg)
    raise kind(f"iLink {endpoint} refused: {code} {errmsg}".rstrip(), endpoint=endpoint, code=code)


def _unreachable(base: str, endpoint: str, why: str) -> IlinkUnreachable:
    log.warning("ilink_unreachable", host=_host(base), endpoint=endpoint, reason=why)
    return IlinkUnreachable(f"iLink {endpoint} at {_host(base)}: {why}", endpoint=endpoint)


def _url(base: str, endpoint: str) -> str:
    return f"{base.rstrip('/')}/ilink/bot/{endpoint}"


def _host(base: str) -> str:
    return urlsplit(base).netloc or base


def _timeout(read: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))
