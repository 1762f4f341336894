"""Signed receipts: anyone holding a tool result can prove it came from us unaltered.

A receipt is `{alg: "Ed25519", key_id, sha256, signature}` in the answer's `cite.receipt`, over
the answer's canonical bytes: the structured answer without `cite.receipt`, as JSON with sorted
keys, separators `,` and `:`, UTF-8 with non-ASCII kept. That form is what a client can rebuild
from the structuredContent it received with any JSON library, so checking a receipt needs only
the public key (`GET /receipts/public-key`) and a few lines of code (README).

Numbers are the one place JSON libraries disagree: Python writes 1500.0 where JavaScript writes
1500. So a signed answer carries every integral number as an integer (`plain_numbers`), and any
client, whatever its language, writes the same bytes back.

The key is the server's own (made on first start, mode 0600) or an operator's; `key_id` names
it (the first 16 hex of the SHA-256 of the raw public key) so that a rotated key can be told apart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "Ed25519"


def plain_numbers(value: Any) -> Any:
    """`value` with every float that is a whole number made an int (1500.0 -> 1500), recursively.

    `value` is JSON-shaped (a model's JSON dump): strings, the most common leaves, are passed over
    first, and containers are told by their exact type."""
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return {k: plain_numbers(v) for k, v in value.items()}
    if kind is list:
        return [plain_numbers(v) for v in value]
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return value


def canonical(answer: dict[str, Any]) -> bytes:
    """The bytes a receipt covers: `answer` without its `cite.receipt`, in canonical JSON."""
    cite = answer.get("cite")
    if isinstance(cite, dict) and "receipt" in cite:
        answer = {**answer, "cite": {k: v for k, v in cite.items() if k != "receipt"}}
    return json.dumps(answer, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class Signer:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """The key in `path` (PEM, PKCS#8), made there (mode 0600) when the file does not exist."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} holds a {type(private).__name__}, not an Ed25519 private key")
        return cls(private)

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def receipt(self, answer: dict[str, Any]) -> dict[str, str]:
        data = canonical(answer)
        signature = base64.b64encode(self._private.sign(data)).decode()
        return {"alg": ALG, "key_id": self.key_id, "sha256": hashlib.sha256(data).hexdigest(), "signature": signature}

    def sign(self, answer: dict[str, Any]) -> dict[str, Any]:
        """`answer`, its whole numbers made integers, with its receipt in `cite.receipt`."""
        signed: dict[str, Any] = plain_numbers(answer)
        signed["cite"]["receipt"] = self.receipt(signed)
        return signed


def check(answer: dict[str, Any], public_pem: str | bytes) -> bool:
    """True when `answer` carries a receipt that `public_pem` signed over exactly these contents."""
    receipt = (answer.get("cite") or {}).get("receipt") or {}
    public = serialization.load_pem_public_key(public_pem.encode() if isinstance(public_pem, str) else public_pem)
    if not isinstance(public, Ed25519PublicKey) or receipt.get("alg") != ALG:
        return False
    data = canonical(answer)
    if hashlib.sha256(data).hexdigest() != receipt.get("sha256"):
        return False
    try:
        public.verify(base64.b64decode(str(receipt.get("signature"))), data)
    except (InvalidSignature, ValueError):
        return False
    return True
