"""WeChat Pay API v3 payment notifications, verified and decrypted without touching the database.

WeChat Pay reports a paid order by POSTing a notification to our notify_url, and anyone can POST there.
Nothing in a notification counts until the RSA-SHA256 signature over "timestamp\\nnonce\\nbody\\n" checks
out against the WeChat Pay public key (微信支付公钥) and the resource decrypts under our APIv3 key;
only then does `check_payment` decide whether the order was paid in full. Keeping this layer pure lets the
webhook, unit tests and end-to-end tests share it. What WeChat's side does (signing and encrypting a
notification) lives with its stand-in, tests/fake_wechatpay.py.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from providers.symbols import quoted

HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SERIAL = "Wechatpay-Serial"
HEADER_SIGNATURE_TYPE = "Wechatpay-Signature-Type"
REQUIRED_HEADERS = (HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SERIAL)

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
SUCCESS_EVENT = "TRANSACTION.SUCCESS"
REFUND_PREFIX = "REFUND."
REFUND_SUCCESS = "REFUND.SUCCESS"
SUCCESS_STATE = "SUCCESS"

APIV3_KEY_BYTES = 32
GCM_NONCE_BYTES = 12
REPLY_MESSAGE_MAX = 64  # WeChat's failure reply: message is string[1,64]
# Anyone may send these headers, so each is bounded before it is parsed: a Unix timestamp has 10 digits
# (12 leaves room), WeChat's nonce 32 characters, a key id ~50, an RSA-4096 signature 684 base64 characters.
HEADER_MAX = {HEADER_SIGNATURE: 1024, HEADER_TIMESTAMP: 12, HEADER_NONCE: 128, HEADER_SERIAL: 128}
SHOWN_MAX = 24  # characters of a sender's value echoed in a reason (and so in our logs)

UNAUTHORIZED = 401
BAD_REQUEST = 400

BEIJING = dt.timezone(dt.timedelta(hours=8))


class NotificationRejected(Exception):
    """A notification we refuse. WeChat Pay retries any notification not answered with 200 or 204."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason

    def reply_body(self) -> dict[str, str]:
        """The JSON body WeChat expects with a 4xx/5xx reply (message trimmed to its 64-character limit)."""
        return {"code": "FAIL", "message": self.reason[:REPLY_MESSAGE_MAX]}


def _unauthorized(reason: str) -> NotificationRejected:
    return NotificationRejected(UNAUTHORIZED, reason)


def _bad_request(reason: str) -> NotificationRejected:
    return NotificationRejected(BAD_REQUEST, reason)


@dataclass(frozen=True)
class Transaction:
    """A verified, decrypted payment notification; `raw` is the decrypted transaction object as sent."""

    notification_id: str
    event_type: str
    mchid: str
    appid: str
    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount_total: int  # fen
    currency: str
    payer_openid: str | None
    success_time: str | None
    attach: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class Refund:
    """A verified, decrypted refund notification (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED)."""

    notification_id: str
    event_type: str
    mchid: str
    out_trade_no: str
    transaction_id: str
    out_refund_no: str | None
    refund_status: str  # SUCCESS, CLOSED, ABNORMAL
    raw: dict[str, Any]


@dataclass(frozen=True)
class Verifier:
    """Checks notifications signed with the WeChat Pay public key whose id (PUB_KEY_ID_...) is `public_key_id`."""

    mch_id: str
    apiv3_key: bytes = field(repr=False)
    public_key: rsa.RSAPublicKey = field(repr=False)
    public_key_id: str
    max_skew: dt.timedelta = dt.timedelta(minutes=5)

    def __post_init__(self) -> None:
        if len(self.apiv3_key) != APIV3_KEY_BYTES:
            raise ValueError(
                f"the WeChat Pay APIv3 key must be exactly {APIV3_KEY_BYTES} bytes, got {len(self.apiv3_key)}"
            )
        if not isinstance(self.public_key, rsa.RSAPublicKey):
            raise TypeError("public_key must be an RSA public key (the 微信支付公钥)")

    @classmethod
    def from_files(cls, mch_id: str, apiv3_key: str, public_key_file: Path, public_key_id: str) -> Verifier:
        """Build a verifier from the APIv3 key text and the public key PEM downloaded from the merchant platform."""
        try:
            key = apiv3_key.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("the WeChat Pay APIv3 key must be 32 ASCII characters") from None
        public_key = load_public_key(public_key_file)
        return cls(mch_id=mch_id, apiv3_key=key, public_key=public_key, public_key_id=public_key_id)

    def verify(self, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Transaction:
        """A payment notification, authenticated and decrypted; raises NotificationRejected."""
        found = self.open(headers, body, now)
        if isinstance(found, Refund):
            raise _bad_request(f"{found.event_type} is a refund, not a payment")
        return found

    def open(self, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Transaction | Refund:
        """Authenticate `body` (the raw request bytes), then decrypt it: a payment's transaction, or a
        refund (REFUND.* events); raises NotificationRejected."""
        self.authenticate(headers, body, now)
        envelope = _parse_envelope(body)
        resource = self._decrypt(envelope["resource"])
        if str(envelope["event_type"]).startswith(REFUND_PREFIX):
            return _refund(envelope, resource)
        return _transaction(envelope, resource)

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> None:
        """WeChat Pay signed exactly `body`, lately, with our WeChat Pay public key (notifications and
        API responses alike); raises NotificationRejected."""
        found = _signature_headers(headers)
        self._check_serial(found[HEADER_SERIAL])
        self._check_timestamp(found[HEADER_TIMESTAMP], now)
        self._check_signature(found, body)

    def _check_serial(self, serial: str) -> None:
        if serial != self.public_key_id:
            ours = self.public_key_id
            raise _unauthorized(f"{HEADER_SERIAL} {quoted(serial, SHOWN_MAX)} is not our WeChat Pay public key {ours}")

    def _check_timestamp(self, timestamp: str, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise _unauthorized(f"{HEADER_TIMESTAMP} {quoted(timestamp, SHOWN_MAX)} is not a Unix timestamp")
        # Whole seconds on both sides: a float of a huge int would overflow (the header is bounded too).
        if abs(int(now.timestamp()) - int(timestamp)) > self.max_skew.total_seconds():
            raise _unauthorized(f"stale or future timestamp {timestamp}")

    def _check_signature(self, found: Mapping[str, str], body: bytes) -> None:
        try:
            signature = base64.b64decode(found[HEADER_SIGNATURE], validate=True)
        except (binascii.Error, ValueError):
            raise _unauthorized(f"{HEADER_SIGNATURE} is not base64") from None
        message = _signed_message(found[HEADER_TIMESTAMP], found[HEADER_NONCE], body)
        try:
            self.public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise _unauthorized("signature does not verify with the WeChat Pay public key") from None

    def _decrypt(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        algorithm = resource.get("algorithm")
        if algorithm != ALGORITHM:
            raise _bad_request(f"resource algorithm {algorithm!r} is not {ALGORITHM}")
        ciphertext = _b64_field(resource, "ciphertext")
        nonce = _text(resource, "nonce", "resource").encode("utf-8")
        if len(nonce) != GCM_NONCE_BYTES:
            raise _bad_request(f"resource nonce must be {GCM_NONCE_BYTES} bytes, got {len(nonce)}")
        aad = resource.get("associated_data") or ""
        if not isinstance(aad, str):
            raise _bad_request("resource associated_data is not a string")
        try:
            plaintext = AESGCM(self.apiv3_key).decrypt(nonce, ciphertext, aad.encode("utf-8"))
        except InvalidTag:
            raise _unauthorized("could not decrypt with the APIv3 key") from None
        return _json_object(plaintext, "decrypted resource")


def load_public_key(path: Path) -> rsa.RSAPublicKey:
    """Load the WeChat Pay public key PEM (-----BEGIN PUBLIC KEY-----) with errors that say what is wrong."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"WeChat Pay public key file {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"cannot read WeChat Pay public key file {path}: {exc.strerror}") from None
    if b"PRIVATE KEY-----" in pem:
        raise ValueError(f"{path} holds a private key; expected the WeChat Pay public key, not apiclient_key.pem")
    if b"BEGIN CERTIFICATE-----" in pem:
        raise ValueError(f"{path} is a certificate; expected the WeChat Pay public key (BEGIN PUBLIC KEY)")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError(f"{path} is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} holds a {type(key).__name__}; WeChat Pay signs with RSA")
    return key


def _signature_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    found: dict[str, str] = {}
    for name in REQUIRED_HEADERS:
        value = lowered.get(name.lower(), "").strip()
        if not value:
            raise _unauthorized(f"missing header {name}")
        if len(value) > HEADER_MAX[name]:
            raise _unauthorized(f"{name} is over {HEADER_MAX[name]} characters")
        found[name] = value
    signature_type = lowered.get(HEADER_SIGNATURE_TYPE.lower(), SIGNATURE_TYPE).strip()
    if signature_type != SIGNATURE_TYPE:
        raise _unauthorized(f"{HEADER_SIGNATURE_TYPE} {quoted(signature_type, SHOWN_MAX)} is not {SIGNATURE_TYPE}")
    return found


def _signed_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise _bad_request(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise _bad_request(f"{what} is not a JSON object")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _bad_request(f"{where} lacks {key}")
    return value


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _b64_field(resource: Mapping[str, Any], key: str) -> bytes:
    try:
        return base64.b64decode(_text(resource, key, "resource"), validate=True)
    except (binascii.Error, ValueError):
        raise _bad_request(f"resource {key} is not base64") from None


def _object(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise _bad_request(f"{where} lacks {key}")
    return value


def _parse_envelope(body: bytes) -> dict[str, Any]:
    envelope = _json_object(body, "notification body")
    _text(envelope, "id", "notification")
    _text(envelope, "event_type", "notification")
    _object(envelope, "resource", "notification")
    return envelope


def _amount_total(amount: Mapping[str, Any]) -> int:
    total = amount.get("total")
    if not isinstance(total, int) or isinstance(total, bool):
        raise _bad_request("transaction amount.total is not an integer number of fen")
    return total


def _transaction(envelope: Mapping[str, Any], tx: dict[str, Any]) -> Transaction:
    amount = _object(tx, "amount", "transaction")
    payer = tx.get("payer")
    return Transaction(
        notification_id=envelope["id"],
        event_type=envelope["event_type"],
        mchid=_text(tx, "mchid", "transaction"),
        appid=_text(tx, "appid", "transaction"),
        out_trade_no=_text(tx, "out_trade_no", "transaction"),
        transaction_id=_text(tx, "transaction_id", "transaction"),
        trade_state=_text(tx, "trade_state", "transaction"),
        amount_total=_amount_total(amount),
        # Domestic merchants are paid only in CNY; WeChat's field list marks amount.currency optional.
        currency=_optional_text(amount, "currency") or "CNY",
        payer_openid=_optional_text(payer, "openid") if isinstance(payer, dict) else None,
        success_time=_optional_text(tx, "success_time"),
        attach=_optional_text(tx, "attach"),
        raw=tx,
    )


def _refund(envelope: Mapping[str, Any], resource: dict[str, Any]) -> Refund:
    return Refund(
        notification_id=envelope["id"],
        event_type=envelope["event_type"],
        mchid=_text(resource, "mchid", "refund"),
        out_trade_no=_text(resource, "out_trade_no", "refund"),
        transaction_id=_text(resource, "transaction_id", "refund"),
        out_refund_no=_optional_text(resource, "out_refund_no"),
        refund_status=_text(resource, "refund_status", "refund"),
        raw=resource,
    )


def check_payment(tx: Transaction, *, mch_id: str, price_fen: int, currency: str = "CNY") -> str | None:
    """None when `tx` is a paid order for our merchant at the full price; otherwise why it is not."""
    if tx.event_type != SUCCESS_EVENT:
        return f"event_type {tx.event_type}"
    if tx.trade_state != SUCCESS_STATE:
        return f"trade_state {tx.trade_state}"
    if tx.mchid != mch_id:
        return f"merchant {tx.mchid} is not ours ({mch_id})"
    if tx.currency != currency:
        return f"currency {tx.currency}, expected {currency}"
    if tx.amount_total != price_fen:
        return f"amount {tx.amount_total} fen, expected {price_fen}"
    return None
