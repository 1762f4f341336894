"""WeChat Pay API v3 Native orders: the request we sign, the answer we believe only once verified.

`POST /v3/pay/transactions/native` creates an order whose `code_url` the payer scans. Every request
carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",
signature="…"`, the signature being RSA-SHA256 (PKCS#1 v1.5) with our merchant private key over
"METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n". WeChat Pay signs its answer as it signs a
notification (Wechatpay-* headers, its public key); an answer that does not verify is refused, never
used: a code_url that did not come from WeChat Pay would take the payer's money elsewhere.

Errors are HTTP 4xx/5xx with `{code, message}` (PARAM_ERROR, SIGN_ERROR, ORDER_CLOSED, SYSTEM_ERROR…):

    OrderError
     ├── OrderUnavailable   no answer, a timeout or HTTP 5xx/SYSTEM_ERROR (transient: try again)
     └── OrderRefused       WeChat Pay said no (`code`, `message`); or its answer did not verify
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from provisioning.wechatpay import BEIJING, SIGNATURE_TYPE, NotificationRejected, Verifier

API_BASE = "https://api.mch.weixin.qq.com"
NATIVE_PATH = "/v3/pay/transactions/native"
USER_AGENT = "twilight-drive (WeChat Pay API v3)"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class OrderError(Exception):
    pass


class OrderUnavailable(OrderError):
    pass


class OrderRefused(OrderError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The merchant's API private key (apiclient_key.pem)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}; WeChat Pay merchant keys are RSA")
    return key


def authorization(key: rsa.RSAPrivateKey, mch_id: str, serial: str, method: str, path: str, body: str,
                  *, timestamp: int | None = None, nonce: str | None = None) -> str:  # fmt: skip
    """The Authorization header of one API v3 request."""
    timestamp = timestamp if timestamp is not None else int(time.time())
    nonce = nonce or secrets.token_hex(16)
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return (f'{SIGNATURE_TYPE} mchid="{mch_id}",nonce_str="{nonce}",timestamp="{timestamp}",'
            f'serial_no="{serial}",signature="{signature}"')  # fmt: skip


class NativeOrders:
    def __init__(self, *, mch_id: str, appid: str, merchant_key: rsa.RSAPrivateKey, merchant_serial: str,
                 notify_url: str, verifier: Verifier, api_base: str = API_BASE) -> None:  # fmt: skip
        self._mch_id = mch_id
        self._appid = appid
        self._key = merchant_key
        self._serial = merchant_serial
        self._notify_url = notify_url
        self._verifier = verifier
        self._base = api_base.rstrip("/")

    def create(self, out_trade_no: str, description: str, amount_fen: int, attach: str,
               expires_at: dt.datetime) -> str:  # fmt: skip
        """A Native order; its code_url (blocking)."""
        order = {
            "appid": self._appid, "mchid": self._mch_id, "description": description[:127],
            "out_trade_no": out_trade_no, "time_expire": expires_at.astimezone(BEIJING).isoformat(timespec="seconds"),
            "attach": attach, "notify_url": self._notify_url, "amount": {"total": amount_fen, "currency": "CNY"},
        }  # fmt: skip
        body = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": authorization(self._key, self._mch_id, self._serial, "POST", NATIVE_PATH, body),
            "Accept": "application/json", "Content-Type": "application/json", "User-Agent": USER_AGENT,
        }  # fmt: skip
        try:
            response = httpx.post(self._base + NATIVE_PATH, content=body.encode(), headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise OrderUnavailable(f"WeChat Pay did not answer: {type(exc).__name__}") from exc
        answer = self._believe(response)
        code_url = answer.get("code_url")
        if not isinstance(code_url, str) or not code_url.startswith("weixin://"):
            raise OrderRefused("BAD_ANSWER", "WeChat Pay answered without a weixin:// code_url")
        return code_url

    def _believe(self, response: httpx.Response) -> dict[str, object]:
        """The answer's JSON once WeChat Pay's signature over it verifies; its error as a typed one."""
        if response.status_code >= 500:
            raise OrderUnavailable(f"WeChat Pay answered HTTP {response.status_code}")
        try:
            self._verifier.authenticate(response.headers, response.content, dt.datetime.now(dt.UTC))
        except NotificationRejected as exc:
            raise OrderRefused("UNVERIFIED_ANSWER", f"WeChat Pay's answer did not verify: {exc.reason}") from exc
        try:
            answer = json.loads(response.content)
        except ValueError:
            raise OrderRefused("BAD_ANSWER", "WeChat Pay's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise OrderRefused("BAD_ANSWER", "WeChat Pay's answer is not a JSON object")
        if response.status_code >= 400:
            code, message = str(answer.get("code") or "ERROR"), str(answer.get("message") or "")[:200]
            if code == "SYSTEM_ERROR":
                raise OrderUnavailable(f"{code}: {message}")
            raise OrderRefused(code, message)
        return answer
