"""A loopback stand-in for WeChat Pay's API v3, driven by the test: Native orders, then payments and
refunds notified to the order's notify_url, signed and encrypted as WeChat Pay does.

It holds WeChat Pay's own key pair (its public key and id are what our server is configured with),
our APIv3 key and our merchant's public key: a request whose Authorization signature does not verify
gets 401 SIGN_ERROR, a malformed order 400 PARAM_ERROR, and every answer is signed with WeChat Pay's
key (Wechatpay-Signature/-Timestamp/-Nonce/-Serial), so our client's checks run for real.

Drive it with `pay(out_trade_no, openid)`, `redeliver(times)`, `refund(out_trade_no)`; `requests` has
every request it got.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from provisioning.wechatpay import (
    ALGORITHM,
    BEIJING,
    HEADER_NONCE,
    HEADER_SERIAL,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_TYPE,
    HEADER_TIMESTAMP,
    REFUND_PREFIX,
    REFUND_SUCCESS,
    SIGNATURE_TYPE,
    SUCCESS_EVENT,
)
from tests.loopback import LoopbackHTTP, respond

PUBLIC_KEY_ID = "PUB_KEY_ID_0114232020081800000000000000000001"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
_AUTH = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class Order:
    body: dict[str, Any]
    code_url: str
    transaction_id: str | None = None
    notified: list[bytes] = field(default_factory=list)


class FakeWechatPay(LoopbackHTTP):
    methods = ("POST",)

    def __init__(self, mch_id: str, apiv3_key: bytes, merchant_public: rsa.RSAPublicKey, port: int = 0) -> None:
        super().__init__(port)
        self.mch_id = mch_id
        self.apiv3_key = apiv3_key
        self.merchant_public = merchant_public
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # WeChat Pay's own
        self.orders: dict[str, Order] = {}
        self.requests: list[dict[str, Any]] = []
        self.last: tuple[str, bytes] | None = None  # (notify_url, body) of the last notification

    def public_key_pem(self, path: Path) -> Path:
        pem = serialization.Encoding.PEM
        path.write_bytes(self.key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo))
        return path

    # -- the API --------------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        with self._lock:
            self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if request.path != "/v3/pay/transactions/native":
            self._answer(request, 404, {"code": "NOT_FOUND", "message": f"no API at {request.path}"})
            return
        refusal = self._authorization_refusal(request, body)
        if refusal:
            self._answer(request, 401, {"code": "SIGN_ERROR", "message": refusal})
            return
        try:
            order = json.loads(body)
            missing = [k for k in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount")
                       if not order.get(k)]  # fmt: skip
            total = order.get("amount", {}).get("total")
        except (ValueError, AttributeError):
            self._answer(request, 400, {"code": "PARAM_ERROR", "message": "body is not a JSON object"})
            return
        if missing or not isinstance(total, int) or total <= 0 or order["mchid"] != self.mch_id:
            why = f"missing {missing}" if missing else "amount.total or mchid is wrong"
            self._answer(request, 400, {"code": "PARAM_ERROR", "message": why})
            return
        with self._lock:
            if order["out_trade_no"] in self.orders:
                self._answer(request, 400, {"code": "INVALID_REQUEST", "message": "订单号重复 out_trade_no used"})
                return
            code_url = f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"
            self.orders[order["out_trade_no"]] = Order(order, code_url)
        self._answer(request, 200, {"code_url": code_url})

    def _authorization_refusal(self, request: BaseHTTPRequestHandler, body: bytes) -> str | None:
        header = request.headers.get("Authorization") or ""
        if not header.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return "Authorization is not WECHATPAY2-SHA256-RSA2048"
        parts = dict(_AUTH.findall(header))
        if parts.get("mchid") != self.mch_id or parts.get("serial_no") != MERCHANT_SERIAL:
            return "mchid or serial_no is not the merchant's"
        message = f"POST\n{request.path}\n{parts.get('timestamp')}\n{parts.get('nonce_str')}\n".encode() + body + b"\n"
        try:
            self.merchant_public.verify(base64.b64decode(parts.get("signature", "")), message, padding.PKCS1v15(),
                                        hashes.SHA256())  # fmt: skip
        except (InvalidSignature, ValueError):
            return "签名错误 the signature does not verify"
        return None

    def _answer(self, request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signed_headers(self.key, PUBLIC_KEY_ID, data,
                                                                           dt.datetime.now(dt.UTC))}  # fmt: skip
        respond(request, status, data, headers)

    # -- the test's hands ----------------------------------------------------------------------
    def pay(self, out_trade_no: str, openid: str) -> int:
        """The payer pays: a TRANSACTION.SUCCESS notification to the order's notify_url; our status."""
        order = self.orders[out_trade_no]
        order.transaction_id = order.transaction_id or "42000000" + secrets.token_hex(10)
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        tx = {"mchid": self.mch_id, "appid": order.body["appid"], "out_trade_no": out_trade_no,
              "transaction_id": order.transaction_id, "trade_type": "NATIVE", "trade_state": "SUCCESS",
              "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": order.body.get("attach", ""),
              "success_time": now.isoformat(timespec="seconds"), "payer": {"openid": openid},
              "amount": {"total": order.body["amount"]["total"], "payer_total": order.body["amount"]["total"],
                         "currency": "CNY", "payer_currency": "CNY"}}  # fmt: skip
        return self._notify(order.body["notify_url"], notification_body(self.apiv3_key, tx))

    def refund(self, out_trade_no: str) -> int:
        order = self.orders[out_trade_no]
        total = order.body["amount"]["total"]
        refund = {"mchid": self.mch_id, "out_trade_no": out_trade_no, "transaction_id": order.transaction_id,
                  "out_refund_no": "RF" + out_trade_no, "refund_id": "50000" + secrets.token_hex(10),
                  "refund_status": "SUCCESS", "success_time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "amount": {"total": total, "refund": total, "payer_total": total, "payer_refund": total}}  # fmt: skip
        return self._notify(order.body["notify_url"], notification_body(self.apiv3_key, refund,
                                                                        event_type=REFUND_SUCCESS))  # fmt: skip

    def redeliver(self, times: int = 1) -> list[int]:
        """The last notification again, `times` deliveries at once (WeChat Pay retries without a 2xx)."""
        assert self.last is not None
        url, body = self.last
        with concurrent.futures.ThreadPoolExecutor(times) as pool:
            return list(pool.map(lambda _: self._post(url, body), range(times)))

    def _notify(self, url: str, body: bytes) -> int:
        self.last = (url, body)
        return self._post(url, body)

    def _post(self, url: str, body: bytes) -> int:
        headers = {"Content-Type": "application/json",
                   **signed_headers(self.key, PUBLIC_KEY_ID, body, dt.datetime.now(dt.UTC))}  # fmt: skip
        return httpx.post(url, content=body, headers=headers, timeout=10).status_code


# --- What WeChat Pay's side does when it sends a notification: sign and encrypt it for real. ---


def encrypt_resource(
    apiv3_key: bytes,
    plaintext: Mapping[str, Any],
    *,
    associated_data: str = "transaction",
    nonce: str | None = None,
) -> dict[str, str]:
    """Encrypt a transaction object into a notification `resource`, as WeChat Pay does with our APIv3 key."""
    nonce = nonce if nonce is not None else secrets.token_urlsafe(9)  # 12 ASCII characters
    data = json.dumps(plaintext, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode("utf-8"), data, associated_data.encode("utf-8"))
    return {
        "original_type": "refund" if associated_data == "refund" else "transaction",
        "algorithm": ALGORITHM,
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def notification_body(
    apiv3_key: bytes,
    transaction: Mapping[str, Any],
    *,
    event_type: str = SUCCESS_EVENT,
    notification_id: str | None = None,
) -> bytes:
    """The JSON body WeChat Pay POSTs: the envelope around an encrypted transaction, compact UTF-8."""
    kind = "refund" if event_type.startswith(REFUND_PREFIX) else "transaction"
    envelope = {
        "id": notification_id or f"EV-{secrets.token_hex(10)}",
        "create_time": dt.datetime.now(BEIJING).isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": {SUCCESS_EVENT: "支付成功", REFUND_SUCCESS: "退款成功"}.get(event_type, event_type),
        "resource": encrypt_resource(apiv3_key, transaction, associated_data=kind),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(private_key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    """Base64 SHA256-with-RSA (PKCS#1 v1.5) signature over "timestamp\\nnonce\\nbody\\n", as WeChat Pay signs."""
    signature = private_key.sign(f"{timestamp}\n{nonce}\n".encode() + body + b"\n", padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def signed_headers(
    private_key: rsa.RSAPrivateKey,
    public_key_id: str,
    body: bytes,
    now: dt.datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """The Wechatpay-* headers WeChat Pay sends with `body` at time `now`."""
    timestamp = str(int(now.timestamp()))
    nonce = nonce if nonce is not None else secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(private_key, timestamp, nonce, body),
        HEADER_SERIAL: public_key_id,
        HEADER_SIGNATURE_TYPE: SIGNATURE_TYPE,
    }
