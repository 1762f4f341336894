"""The HTTP face against what an unauthenticated stranger sends (issue 15, holes 2, 3 and 5), on a real
`twilight serve` over a loopback socket: bodies over a path's limit are refused (413) before they are read
or once they stream past it; every malformed WeChat Pay header is a 401, never a 500; a Host we are not
known by reads neither /metrics nor the detail of /healthz; every answer carries the security headers,
and the payer's page runs under a CSP that allows exactly what it loads."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import select
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ops.guards import BODY_LIMITS, DEFAULT_BODY_LIMIT
from ops.join import CSP
from provisioning.wechatpay import HEADER_NONCE, HEADER_SERIAL, HEADER_SIGNATURE, HEADER_TIMESTAMP
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_wechatpay import notification_body, signed_headers
from tests.helpers import TWILIGHT, free_port, serve

pytestmark = pytest.mark.slow
MCH_ID = "1900000109"
KEY_ID = "PUB_KEY_ID_0114232020081800000000000000000001"
APIV3 = b"0123456789abcdef0123456789abcdef"
ALLOWED = "drive.internal"  # TWILIGHT_ALLOWED_HOSTS names it with any port
PUBLIC = "pay.example.cn"  # the host of TWILIGHT_PUBLIC_URL, where payers open /join
FOREIGN = "attacker.example"
WEBHOOK, MCP = "/webhooks/wechatpay", "/mcp"
CHUNK = 16 * 1024


@dataclass
class Served:
    url: str
    port: int
    token: str
    key: rsa.RSAPrivateKey
    log_path: Path


@pytest.fixture(scope="module")
def served(
    fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("holes-http")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = home / "wechatpay_pub.pem"
    pem.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
        "TWILIGHT_HOME": str(home), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
        "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
        "TWILIGHT_SCHEDULE": "false", "TWILIGHT_UPSTREAM_TRIES": "1",
        "TWILIGHT_ALLOWED_HOSTS": json.dumps([f"{ALLOWED}:*"]), "TWILIGHT_PUBLIC_URL": f"https://{PUBLIC}",
        "TWILIGHT_WECHATPAY_MCH_ID": MCH_ID, "TWILIGHT_WECHATPAY_APIV3_KEY": APIV3.decode(),
        "TWILIGHT_WECHATPAY_PUBLIC_KEY_FILE": str(pem), "TWILIGHT_WECHATPAY_PUBLIC_KEY_ID": KEY_ID,
    }  # fmt: skip
    issued = subprocess.run([TWILIGHT, "token", "issue", "--user", "prober"], env=env, capture_output=True,
                            text=True, check=True)  # fmt: skip
    log_path = home / "server.log"
    process = serve(env, port, log_path)
    yield Served(f"http://127.0.0.1:{port}", port, issued.stdout.strip().splitlines()[-1], key, log_path)
    process.terminate()
    process.wait(timeout=10)


def still_answers(served: Served) -> None:
    assert httpx.get(served.url + "/healthz", timeout=10).status_code == 200


def raw_request(served: Served, head: str, chunks: int = 0) -> tuple[int, bytes, int]:
    """Send `head` over a plain socket, then up to `chunks` chunks of a chunked body that never ends,
    stopping once the server answers or hangs up; (status, whole answer, body bytes sent).

    A socket, not httpx: a client library would finish the body, and the point is a server that stops
    reading at its limit while the sender goes on."""
    sent = 0
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1"))
        piece = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        try:
            for _ in range(chunks):
                if select.select([sock], [], [], 0)[0]:  # the server has answered: stop sending
                    break
                sock.sendall(piece)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError):
            pass  # it hung up on the rest of the body, as it should
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    status = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert status, f"no HTTP answer: {answer[:200]!r}"
    return int(status.group(1)), answer, sent


def _head(path: str, length: str | None, token: str | None = None) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"Content-Length: {length}"] if length is not None else ["Transfer-Encoding: chunked"]
    lines += [f"Authorization: Bearer {token}", "Accept: application/json, text/event-stream"] if token else []
    return "\r\n".join(lines) + "\r\n\r\n"


# --- Hole 2: bodies are bounded before they are read. ------------------------------------------------


@pytest.mark.parametrize("path", [WEBHOOK, MCP, "/api/orders"])
def test_a_declared_body_over_the_limit_is_413_before_it_is_read(served: Served, path: str) -> None:
    """A 1 GiB Content-Length with no body sent: the answer comes at once (before the fix the server
    waited to read the gigabyte, and this socket timed out)."""
    status, answer, _ = raw_request(served, _head(path, str(1024**3), served.token if path == MCP else None))
    assert status == 413
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    limit = BODY_LIMITS.get(path, DEFAULT_BODY_LIMIT)
    assert body["argument"] == "body" and str(limit) in body["message"] and body["remedy"]
    assert re.search(rb"(?i)\r\nconnection: close\r\n", answer)
    assert raw_request(served, _head(path, "9" * 19))[0] == 413  # beyond any length worth parsing
    still_answers(served)


@pytest.mark.parametrize("path", [WEBHOOK, MCP])
def test_a_chunked_body_streaming_past_the_limit_is_cut_at_the_limit(served: Served, path: str) -> None:
    """A chunked body that never ends: the server counts it as it comes and answers 413 once it passes
    the limit, long before the sender would stop (before the fix it read and held all of it)."""
    limit = BODY_LIMITS[path]
    go_on = 64 * 1024 * 1024 // CHUNK  # 64 MiB, far past any limit, if nobody stops us
    status, answer, sent = raw_request(served, _head(path, None, served.token if path == MCP else None), go_on)
    assert status == 413, answer[:300]
    assert b"body_too_large" in answer
    assert limit < sent < go_on * CHUNK  # it passed the limit, and was stopped long before the end
    still_answers(served)


def test_a_small_notification_is_still_read_and_judged(served: Served) -> None:
    body = notification_body(APIV3, {"mchid": MCH_ID}, notification_id="EV-small")
    headers = signed_headers(served.key, KEY_ID, body, dt.datetime.now(dt.UTC))
    headers[HEADER_SIGNATURE] = signed_headers(served.key, KEY_ID, b"other", dt.datetime.now(dt.UTC))[HEADER_SIGNATURE]
    response = httpx.post(served.url + WEBHOOK, content=body, headers=headers, timeout=10)
    assert response.status_code == 401 and "does not verify" in response.json()["message"]


# --- Hole 3: every malformed WeChat Pay header is a 401. --------------------------------------------

MALFORMED = {
    "timestamp_huge": (HEADER_TIMESTAMP, "9" * 310),  # was OverflowError: a 500
    "timestamp_beyond_int_parsing": (HEADER_TIMESTAMP, "9" * 5000),  # was ValueError: a 500
    "timestamp_negative": (HEADER_TIMESTAMP, "-1700000000"),
    "timestamp_not_digits": (HEADER_TIMESTAMP, "1.7e9"),
    "timestamp_non_ascii_digits": (HEADER_TIMESTAMP, "١٧٠٠٠٠٠٠٠٠"),  # sent as UTF-8 bytes
    "timestamp_empty": (HEADER_TIMESTAMP, ""),
    "nonce_over_long": (HEADER_NONCE, "n" * 5000),
    "nonce_empty": (HEADER_NONCE, ""),
    "serial_over_long": (HEADER_SERIAL, "PUB_KEY_ID_" + "9" * 5000),
    "serial_foreign": (HEADER_SERIAL, "PUB_KEY_ID_0000"),
    "signature_not_base64": (HEADER_SIGNATURE, "not base64!"),
    "signature_over_long": (HEADER_SIGNATURE, "QUFB" * 2000),
    "signature_short": (HEADER_SIGNATURE, "QUFB"),
    "signature_empty": (HEADER_SIGNATURE, ""),
    "signature_type_foreign": ("Wechatpay-Signature-Type", "X" * 5000),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_every_malformed_signature_header_is_401_with_a_bounded_reason(served: Served, kind: str) -> None:
    name, value = MALFORMED[kind]
    body = notification_body(APIV3, {"mchid": MCH_ID}, notification_id=f"EV-{kind}")
    headers = {**signed_headers(served.key, KEY_ID, body, dt.datetime.now(dt.UTC)), name: value}
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]  # bytes: a stranger's need not be ASCII
    response = httpx.post(served.url + WEBHOOK, content=body, headers=raw, timeout=10)
    assert response.status_code == 401, response.text
    reply = response.json()
    assert reply["code"] == "FAIL" and 0 < len(reply["message"]) <= 64  # the shape WeChat Pay expects
    request_id = response.headers["x-request-id"]
    [line] = [json.loads(line) for line in served.log_path.read_text().splitlines()
              if request_id in line and "wechatpay_rejected" in line]  # fmt: skip
    assert len(line["reason"]) < 200  # what a stranger sends never fills the log
    still_answers(served)


# --- Hole 5: only the names we are known by read the operator's pages. -------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/receipts/public-key", "/join", "/api/onboarding/" + "t" * 32])
def test_a_foreign_host_is_refused(served: Served, path: str) -> None:
    response = httpx.get(served.url + path, headers={"Host": FOREIGN}, timeout=10)
    assert response.status_code == 421 and len(response.content) < 100
    assert "twilight_" not in response.text


def test_a_foreign_host_gets_only_the_bare_health_bit(served: Served) -> None:
    """Load balancers probe with whatever Host; a page rebinding DNS learns one bit, not the warehouse
    path or upstream errors."""
    response = httpx.get(served.url + "/healthz", headers={"Host": FOREIGN}, timeout=10)
    assert response.status_code == 200 and response.json() == {"ok": True}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:9100", f"{ALLOWED}:8443", PUBLIC, f"{PUBLIC}:443"])
def test_loopback_and_configured_hosts_read_the_detail(served: Served, host: str) -> None:
    health = httpx.get(served.url + "/healthz", headers={"Host": host}, timeout=10)
    assert health.status_code == 200 and "warehouse" in health.json() and "providers" in health.json()
    metrics = httpx.get(served.url + "/metrics", headers={"Host": host}, timeout=10)
    assert metrics.status_code == 200 and "twilight_http_requests_total" in metrics.text
    assert httpx.get(served.url + "/join", headers={"Host": host}, timeout=10).status_code == 200


def test_a_foreign_origin_may_not_order_and_the_webhook_answers_any_host(served: Served) -> None:
    """The page's own fetch() carries its Origin and is served; another site's is 403. WeChat Pay reaches
    the webhook through whatever proxy: its signature, not its Host, decides."""
    order = httpx.post(served.url + "/api/orders", json={"plan": "pro"}, headers={"Origin": f"https://{FOREIGN}"})
    assert order.status_code == 403
    own = httpx.post(served.url + "/api/orders", json={"plan": "pro"}, headers={"Origin": f"https://{PUBLIC}"})
    assert own.status_code == 503 and "not configured" in own.json()["message"]  # refused for its own reason
    webhook = httpx.post(served.url + WEBHOOK, content=b"{}", headers={"Host": FOREIGN}, timeout=10)
    assert webhook.status_code == 401 and webhook.json()["code"] == "FAIL"


# --- Security headers, and the payer's page under its CSP. -------------------------------------------


def test_every_answer_carries_the_security_headers(served: Served) -> None:
    answers = [
        httpx.get(served.url + "/healthz"), httpx.get(served.url + "/metrics"),
        httpx.get(served.url + "/receipts/public-key"), httpx.get(served.url + "/join"),
        httpx.get(served.url + "/static/join.js"), httpx.post(served.url + WEBHOOK, content=b"{}"),
        httpx.post(served.url + MCP, json={}), httpx.get(served.url + "/nowhere"),
        httpx.get(served.url + "/metrics", headers={"Host": FOREIGN}),
    ]  # fmt: skip
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["x-frame-options"] == "DENY", response.url
        assert response.headers["referrer-policy"] == "no-referrer", response.url
        assert "content-security-policy" in response.headers, response.url
    assert answers[0].headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_join_page_loads_only_what_its_csp_allows(served: Served) -> None:
    page = httpx.get(served.url + "/join")
    assert page.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP and "style-src 'self'" in CSP
    html = page.text
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all('type="application/json"' in attrs or "src=" in attrs for attrs in scripts)  # data, or a file
    loaded = [(u, "text/javascript") for u in re.findall(r'<script src="([^"]+)"', html)]
    loaded += [(u, "text/css") for u in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)]
    assert len(loaded) == 2
    for url, kind in loaded:
        assert url.startswith("/static/")  # 'self'
        asset = httpx.get(served.url + url)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind) and asset.content
    assert "/api/orders" in httpx.get(served.url + "/static/join.js").text
    assert httpx.get(served.url + "/static/other.js").status_code == 404
