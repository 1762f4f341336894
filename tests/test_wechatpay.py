"""WeChat Pay v3 notifications: signature, timestamp, serial and decryption checks, then the payment check."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from provisioning.wechatpay import NotificationRejected, Transaction, Verifier, check_payment
from tests.fake_wechatpay import encrypt_resource, notification_body, sign, signed_headers

APIV3_KEY = b"0123456789abcdef0123456789abcdef"
MCH_ID = "1900000109"
PUBLIC_KEY_ID = "PUB_KEY_ID_0000000000000024101100397200000006"
PRICE_FEN = 19800  # ¥198
NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def wechat_key() -> rsa.RSAPrivateKey:
    """Stands in for WeChat Pay's private key; its public half is our 微信支付公钥."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def verifier(wechat_key: rsa.RSAPrivateKey) -> Verifier:
    return Verifier(mch_id=MCH_ID, apiv3_key=APIV3_KEY, public_key=wechat_key.public_key(), public_key_id=PUBLIC_KEY_ID)


def paid_order(**changes: Any) -> dict[str, Any]:
    """The decrypted transaction of a ¥198 JSAPI order, as WeChat's payment-notice documentation shows it."""
    tx: dict[str, Any] = {
        "mchid": MCH_ID,
        "appid": "wxd678efh567hg6787",
        "out_trade_no": "TW20250601120000abcd",
        "transaction_id": "4200002345202506011234567890",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "user=42",
        "success_time": "2025-06-01T19:59:58+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": PRICE_FEN, "payer_total": PRICE_FEN, "currency": "CNY", "payer_currency": "CNY"},
    }
    tx.update(changes)
    return tx


def envelope(resource: dict[str, Any], event_type: str = "TRANSACTION.SUCCESS") -> bytes:
    return json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2025-06-01T20:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功",
            "resource": resource,
        },
        ensure_ascii=False,
    ).encode("utf-8")


def rejected(verifier: Verifier, headers: dict[str, str], body: bytes, now: dt.datetime = NOW) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as info:
        verifier.verify(headers, body, now)
    return info.value


def test_valid_notification_verifies_and_is_paid(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    tx = verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW)

    assert tx.notification_id == "EV-2018022511223320873"
    assert tx.event_type == "TRANSACTION.SUCCESS"
    assert (tx.mchid, tx.appid, tx.out_trade_no) == (MCH_ID, "wxd678efh567hg6787", "TW20250601120000abcd")
    assert tx.transaction_id == "4200002345202506011234567890"
    assert (tx.trade_state, tx.amount_total, tx.currency) == ("SUCCESS", 19800, "CNY")
    assert tx.payer_openid == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert tx.success_time == "2025-06-01T19:59:58+08:00"
    assert tx.attach == "user=42"
    assert tx.raw == paid_order()
    assert check_payment(tx, mch_id=MCH_ID, price_fen=PRICE_FEN) is None


def test_notification_body_helper_builds_what_verify_accepts(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = notification_body(APIV3_KEY, paid_order(), notification_id="EV-1")
    tx = verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW)
    assert tx.notification_id == "EV-1"
    assert "支付成功".encode() in body  # compact UTF-8, the way WeChat sends it


def test_headers_are_case_insensitive(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = {name.lower(): value for name, value in signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW).items()}
    assert verifier.verify(headers, body, NOW).amount_total == PRICE_FEN


def test_timestamp_within_skew_is_accepted(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    sent = NOW - dt.timedelta(minutes=4, seconds=59)
    assert verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, sent), body, NOW).mchid == MCH_ID


def test_empty_or_missing_associated_data(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    resource = encrypt_resource(APIV3_KEY, paid_order(), associated_data="")
    del resource["associated_data"]
    body = envelope(resource)
    assert verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW).amount_total == 19800


def test_tampered_body_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESs")
    assert tampered != body
    error = rejected(verifier, headers, tampered)
    assert error.status == 401
    assert error.reason == "signature does not verify with the WeChat Pay public key"


def test_signed_by_another_key_is_401(verifier: Verifier, other_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    error = rejected(verifier, signed_headers(other_key, PUBLIC_KEY_ID, body, NOW), body)
    assert (error.status, error.reason) == (401, "signature does not verify with the WeChat Pay public key")


def test_signature_probe_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    """WeChat sometimes sends probes whose signature starts WECHATPAY/SIGNTEST/; they must fail verification."""
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    assert rejected(verifier, headers, body).status == 401


def test_signature_not_base64_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    headers["Wechatpay-Signature"] = "not*base64!"
    error = rejected(verifier, headers, body)
    assert (error.status, error.reason) == (401, "Wechatpay-Signature is not base64")


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-6), dt.timedelta(minutes=6)], ids=["stale", "future"])
def test_timestamp_out_of_window_is_401(
    verifier: Verifier, wechat_key: rsa.RSAPrivateKey, offset: dt.timedelta
) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW + offset)
    error = rejected(verifier, headers, body)
    assert error.status == 401
    assert error.reason.startswith("stale or future timestamp")


def test_timestamp_not_an_integer_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    headers["Wechatpay-Timestamp"] = "1748779200.5"
    error = rejected(verifier, headers, body)
    assert (error.status, error.reason) == (401, "Wechatpay-Timestamp '1748779200.5' is not a Unix timestamp")


def test_naive_now_is_a_programming_error(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    with pytest.raises(ValueError, match="timezone-aware"):
        verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW.replace(tzinfo=None))


def test_wrong_serial_is_401_and_names_the_expected_key(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    error = rejected(verifier, signed_headers(wechat_key, "PUB_KEY_ID_9999", body, NOW), body)
    assert error.status == 401
    assert "PUB_KEY_ID_9999" in error.reason
    assert PUBLIC_KEY_ID in error.reason


def test_wrong_signature_type_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"
    assert rejected(verifier, headers, body).status == 401


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"]
)
def test_missing_header_is_401_naming_it(verifier: Verifier, wechat_key: rsa.RSAPrivateKey, missing: str) -> None:
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    headers = signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW)
    del headers[missing]
    error = rejected(verifier, headers, body)
    assert (error.status, error.reason) == (401, f"missing header {missing}")


def test_wrong_apiv3_key_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = envelope(encrypt_resource(b"fedcba9876543210fedcba9876543210", paid_order()))
    error = rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body)
    assert (error.status, error.reason) == (401, "could not decrypt with the APIv3 key")


def test_tampered_associated_data_is_401(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    resource = encrypt_resource(APIV3_KEY, paid_order())
    resource["associated_data"] = "refund"
    body = envelope(resource)
    assert rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body).status == 401


def test_malformed_json_validly_signed_is_400(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = b'{"id": "EV-1", "resource": '
    error = rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body)
    assert (error.status, error.reason) == (400, "notification body is not JSON")


def test_malformed_json_unsigned_is_401_not_400(verifier: Verifier, other_key: rsa.RSAPrivateKey) -> None:
    """The signature is checked before the body is parsed at all."""
    body = b"this is not json"
    assert rejected(verifier, signed_headers(other_key, PUBLIC_KEY_ID, body, NOW), body).status == 401


def test_envelope_without_resource_is_400(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    body = json.dumps({"id": "EV-1", "event_type": "TRANSACTION.SUCCESS"}).encode()
    error = rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body)
    assert (error.status, error.reason) == (400, "notification lacks resource")


def test_wrong_algorithm_is_400(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    resource = encrypt_resource(APIV3_KEY, paid_order())
    resource["algorithm"] = "AEAD_SM4_GCM"
    body = envelope(resource)
    error = rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body)
    assert error.status == 400
    assert error.reason == "resource algorithm 'AEAD_SM4_GCM' is not AEAD_AES_256_GCM"


def test_decrypted_transaction_without_amount_is_400(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    order = paid_order()
    del order["amount"]
    body = envelope(encrypt_resource(APIV3_KEY, order))
    error = rejected(verifier, signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body)
    assert (error.status, error.reason) == (400, "transaction lacks amount")


def test_reply_body_follows_wechat_convention() -> None:
    assert NotificationRejected(401, "bad").reply_body() == {"code": "FAIL", "message": "bad"}
    assert len(NotificationRejected(401, "x" * 100).reply_body()["message"]) == 64


def decrypted(verifier: Verifier, wechat_key: rsa.RSAPrivateKey, order: dict[str, Any], event: str) -> Transaction:
    body = envelope(encrypt_resource(APIV3_KEY, order), event_type=event)
    return verifier.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW)


@pytest.mark.parametrize(
    ("order", "event", "reason"),
    [
        (
            paid_order(amount={"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}),
            "TRANSACTION.SUCCESS",
            "amount 100 fen, expected 19800",
        ),
        (
            paid_order(amount={"total": PRICE_FEN, "payer_total": 2800, "currency": "USD", "payer_currency": "USD"}),
            "TRANSACTION.SUCCESS",
            "currency USD, expected CNY",
        ),
        (paid_order(mchid="1230000109"), "TRANSACTION.SUCCESS", "merchant 1230000109 is not ours (1900000109)"),
        (paid_order(trade_state="NOTPAY", trade_state_desc="未支付"), "TRANSACTION.SUCCESS", "trade_state NOTPAY"),
        (paid_order(trade_state="CLOSED"), "TRANSACTION.CLOSED", "event_type TRANSACTION.CLOSED"),
    ],
    ids=["amount", "currency", "merchant", "notpay", "closed"],
)
def test_check_payment_reasons(
    verifier: Verifier, wechat_key: rsa.RSAPrivateKey, order: dict[str, Any], event: str, reason: str
) -> None:
    tx = decrypted(verifier, wechat_key, order, event)
    assert check_payment(tx, mch_id=MCH_ID, price_fen=PRICE_FEN) == reason


def test_check_payment_event_type_comes_first(verifier: Verifier, wechat_key: rsa.RSAPrivateKey) -> None:
    tx = decrypted(verifier, wechat_key, paid_order(), "TRANSACTION.SUCCESS")
    closed = dataclasses.replace(tx, event_type="TRANSACTION.CLOSED", trade_state="CLOSED", amount_total=1)
    assert check_payment(closed, mch_id=MCH_ID, price_fen=PRICE_FEN) == "event_type TRANSACTION.CLOSED"


def test_sign_is_base64_rsa2048(wechat_key: rsa.RSAPrivateKey) -> None:
    signature = sign(wechat_key, "1748779200", "nonce", b"{}")
    assert len(base64.b64decode(signature, validate=True)) == 256


def write_public_key(path: Path, key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


def test_from_files_reads_pem(tmp_path: Path, wechat_key: rsa.RSAPrivateKey) -> None:
    pem = write_public_key(tmp_path / "wxp_pub.pem", wechat_key)
    loaded = Verifier.from_files(MCH_ID, APIV3_KEY.decode(), pem, PUBLIC_KEY_ID)
    assert loaded.apiv3_key == APIV3_KEY
    assert loaded.public_key.public_numbers() == wechat_key.public_key().public_numbers()
    body = envelope(encrypt_resource(APIV3_KEY, paid_order()))
    assert loaded.verify(signed_headers(wechat_key, PUBLIC_KEY_ID, body, NOW), body, NOW).amount_total == PRICE_FEN


def test_from_files_rejects_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "wxp_pub.pem"
    garbage.write_text("hello, this is not a key\n")
    with pytest.raises(ValueError, match=r"is not a PEM public key \(-----BEGIN PUBLIC KEY-----\)"):
        Verifier.from_files(MCH_ID, APIV3_KEY.decode(), garbage, PUBLIC_KEY_ID)


def test_from_files_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Verifier.from_files(MCH_ID, APIV3_KEY.decode(), tmp_path / "absent.pem", PUBLIC_KEY_ID)


def test_from_files_rejects_private_key(tmp_path: Path, wechat_key: rsa.RSAPrivateKey) -> None:
    pem = tmp_path / "apiclient_key.pem"
    pem.write_bytes(
        wechat_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError, match="holds a private key"):
        Verifier.from_files(MCH_ID, APIV3_KEY.decode(), pem, PUBLIC_KEY_ID)


def test_from_files_rejects_non_rsa_key(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = tmp_path / "ec.pem"
    pem.write_bytes(ec_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ValueError, match="WeChat Pay signs with RSA"):
        Verifier.from_files(MCH_ID, APIV3_KEY.decode(), pem, PUBLIC_KEY_ID)


@pytest.mark.parametrize("key", [b"too short", APIV3_KEY + b"x"])
def test_apiv3_key_of_wrong_length(wechat_key: rsa.RSAPrivateKey, key: bytes) -> None:
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        Verifier(mch_id=MCH_ID, apiv3_key=key, public_key=wechat_key.public_key(), public_key_id=PUBLIC_KEY_ID)


def test_apiv3_key_must_be_ascii(tmp_path: Path, wechat_key: rsa.RSAPrivateKey) -> None:
    pem = write_public_key(tmp_path / "wxp_pub.pem", wechat_key)
    with pytest.raises(ValueError, match="32 ASCII characters"):
        Verifier.from_files(MCH_ID, "密" * 32, pem, PUBLIC_KEY_ID)
