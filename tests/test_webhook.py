"""POST /webhooks/wechatpay on the real app: signed notifications built as WeChat Pay builds them."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from ops.app import build_app
from ops.runtime import Runtime
from ops.webhooks import verifier
from profiles import templates
from profiles.envfile import read_env
from provisioning import payments
from provisioning.provisioner import PAID_TEMPLATE
from provisioning.tokens import TokenState, digest
from provisioning.wechatpay import Transaction
from tests.conftest import RuntimeFactory
from tests.fake_wechatpay import notification_body, signed_headers

pytestmark = pytest.mark.anyio
MCH_ID = "1900000109"
KEY_ID = "PUB_KEY_ID_0114232020081800000000000000000001"
APIV3 = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def wechat_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def paid_runtime(make_runtime: RuntimeFactory, wechat_key: rsa.RSAPrivateKey, tmp_path: Path) -> Runtime:
    pem = tmp_path / "wechatpay_pub.pem"
    pem.write_bytes(wechat_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return make_runtime(
        wechatpay_mch_id=MCH_ID, wechatpay_apiv3_key=APIV3.decode(), wechatpay_public_key_file=pem,
        wechatpay_public_key_id=KEY_ID, schedule=False, llm_key_pool=["sk-pool-1"],
    )  # fmt: skip


def order(**changes: Any) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "mchid": MCH_ID, "appid": "wxd678efh567hg6787", "out_trade_no": "TD20261122000001",
        "transaction_id": "4200000000202611220000000001", "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "pro",
        "success_time": "2026-11-22T10:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 19800, "payer_total": 19800, "currency": "CNY", "payer_currency": "CNY"},
    }  # fmt: skip
    tx.update(changes)
    return tx


async def post(rt: Runtime, key: rsa.RSAPrivateKey, body: bytes, *, age: float = 0,
               headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
    sent = headers if headers is not None else signed_headers(key, KEY_ID, body, now)
    transport = httpx.ASGITransport(app=build_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.post("/webhooks/wechatpay", content=body, headers=sent)


def counts(rt: Runtime) -> dict[str, int]:
    with rt.accounts.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("users", "api_keys", "payments", "processed_notifications", "hermes_profiles")}  # fmt: skip


async def settle(rt: Runtime) -> None:
    """Background provisioning runs after the reply: wait until every paying user has a profile."""
    for _ in range(200):
        with rt.accounts.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM users u LEFT JOIN hermes_profiles p ON p.user_id = u.id"
                " WHERE u.paid_until IS NOT NULL AND (p.id IS NULL OR p.state = 'creating')")).scalar_one()  # fmt: skip
        if not waiting:
            return
        await anyio.sleep(0.05)


async def test_a_paid_notification_records_once_and_provisions(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    body = notification_body(APIV3, order(), notification_id="EV-1")
    response = await post(paid_runtime, wechat_key, body)
    assert response.status_code == 204 and response.content == b""
    await settle(paid_runtime)
    assert counts(paid_runtime) == {"users": 1, "api_keys": 1, "payments": 1, "processed_notifications": 1,
                                    "hermes_profiles": 1}  # fmt: skip
    with paid_runtime.accounts.connect() as conn:
        name, paid_until, plan = conn.execute(text("SELECT name, paid_until, plan FROM users")).one()
        path, state = conn.execute(text("SELECT path, state FROM hermes_profiles")).one()
    assert name.startswith("user-") and plan == "pro" and state == "provisioned"
    until = dt.datetime.fromisoformat(str(paid_until)).replace(tzinfo=dt.UTC)
    assert dt.timedelta(days=29) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    env = Path(path) / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    token = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)["TWILIGHT_API_TOKEN"]
    owner = paid_runtime.tokens.owner(token)  # the key in the profile is the stored one
    assert owner is not None and owner.user == name and owner.state is TokenState.ACTIVE
    config = (Path(path) / "config.yaml").read_text()
    assert "Bearer ${TWILIGHT_API_TOKEN}" in config and token not in config
    assert (Path(path) / "SOUL.md").exists() and (Path(path) / "workspace" / "AGENTS.md").exists()

    again = await post(paid_runtime, wechat_key, body)  # the same notification, delivered again
    assert again.status_code == 204
    await settle(paid_runtime)
    assert counts(paid_runtime)["api_keys"] == 1 and counts(paid_runtime)["payments"] == 1
    renewal = notification_body(APIV3, order(transaction_id="4200000000202611220000000002",
                                             out_trade_no="TD20261122000002"), notification_id="EV-2")  # fmt: skip
    assert (await post(paid_runtime, wechat_key, renewal)).status_code == 204
    await settle(paid_runtime)
    with paid_runtime.accounts.connect() as conn:
        extended = conn.execute(text("SELECT paid_until FROM users")).scalar_one()
    assert dt.datetime.fromisoformat(str(extended)).replace(tzinfo=dt.UTC) - until == dt.timedelta(days=30)
    assert counts(paid_runtime) == {"users": 1, "api_keys": 1, "payments": 2, "processed_notifications": 2,
                                    "hermes_profiles": 1}  # fmt: skip


async def test_five_concurrent_deliveries_make_one_of_everything(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    body = notification_body(APIV3, order(), notification_id="EV-burst")
    statuses: list[int] = []

    async def deliver() -> None:
        statuses.append((await post(paid_runtime, wechat_key, body)).status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(deliver)
    await settle(paid_runtime)
    assert statuses == [204] * 5
    assert counts(paid_runtime) == {"users": 1, "api_keys": 1, "payments": 1, "processed_notifications": 1,
                                    "hermes_profiles": 1}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": {"total": 100, "currency": "CNY"}}, "amount 100 fen, expected 19800"),
        ({"amount": {"total": 19800, "currency": "USD"}}, "currency USD"),
        ({"mchid": "1900000999"}, "merchant 1900000999"),
    ],
)
async def test_a_mismatched_payment_is_kept_for_review_and_pays_for_nothing(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey, changes: dict[str, Any], reason: str
) -> None:
    response = await post(paid_runtime, wechat_key, notification_body(APIV3, order(**changes)))
    assert response.status_code == 204  # acknowledged: WeChat must not deliver it again
    await settle(paid_runtime)
    with paid_runtime.accounts.connect() as conn:
        status, why, user_id = conn.execute(text("SELECT status, reason, user_id FROM payments")).one()
    assert status == "mismatch" and reason in why and user_id is None
    assert counts(paid_runtime)["users"] == 0 and counts(paid_runtime)["hermes_profiles"] == 0


async def test_a_notification_of_no_payment_is_only_marked(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    body = notification_body(APIV3, order(trade_state="NOTPAY"), event_type="TRANSACTION.SUCCESS")
    assert (await post(paid_runtime, wechat_key, body)).status_code == 204
    assert counts(paid_runtime)["payments"] == 0 and counts(paid_runtime)["processed_notifications"] == 1


async def test_bad_signature_stale_timestamp_and_wrong_key_are_401(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    body = notification_body(APIV3, order())
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESZ")
    headers = signed_headers(wechat_key, KEY_ID, body, dt.datetime.now(dt.UTC))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for response in (
        await post(paid_runtime, wechat_key, tampered, headers=headers),
        await post(paid_runtime, wechat_key, body, age=360),
        await post(paid_runtime, other, body),
    ):
        assert response.status_code == 401 and response.json()["code"] == "FAIL" and response.json()["message"]
    assert counts(paid_runtime)["processed_notifications"] == 0


async def test_a_server_without_wechatpay_says_so(make_runtime: RuntimeFactory, wechat_key: rsa.RSAPrivateKey) -> None:
    response = await post(make_runtime(schedule=False), wechat_key, notification_body(APIV3, order()))
    assert response.status_code == 503 and "not configured" in response.json()["message"]


def test_key_digest_is_all_that_is_stored(paid_runtime: Runtime) -> None:
    done = paid_runtime.provisioner.provision("operator-made", plan="pro", create=True)
    env = Path(done.path) / ".env"
    token = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)["TWILIGHT_API_TOKEN"]
    with paid_runtime.accounts.connect() as conn:
        stored = conn.execute(text("SELECT token_sha256 FROM api_keys")).scalars().all()
    assert stored == [digest(token)]
    again = paid_runtime.provisioner.provision("operator-made")
    assert again.key_created is False and again.profile == done.profile


async def test_a_crash_after_recording_or_mid_provisioning_heals_on_the_next_try(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    """The server died after recording the payment (no profile yet), and a second run died after
    writing the profile's .env but before storing its key: WeChat's redelivery finishes the job
    with the key that is on disk, and nothing is made twice."""
    tx_body = notification_body(APIV3, order(), notification_id="EV-crash")
    tx = paid_runtime_verify(paid_runtime, wechat_key, tx_body)
    recorded = payments.record(paid_runtime.accounts, tx, mch_id=MCH_ID, prices={"pro": 19800}, default_plan="pro",
                               now=dt.datetime.now(dt.UTC))  # fmt: skip
    assert recorded.status == "paid" and recorded.user_name is not None
    assert counts(paid_runtime)["hermes_profiles"] == 0  # the crash: nothing provisioned
    with paid_runtime.accounts.connect() as conn:
        public_id = conn.execute(text("SELECT public_id FROM users")).scalar_one()
    home = paid_runtime.settings.hermes_home / "profiles" / f"user-{public_id[:8]}"
    values = {"PROFILE_NAME": home.name, "MCP_URL": "http://127.0.0.1:9/mcp", "LLM_GATEWAY_URL": "http://127.0.0.1:9/v1",
              "LLM_MODEL": "m", "WORKSPACE": str(home / "workspace")}  # fmt: skip
    templates.apply(templates.TEMPLATES_DIR / PAID_TEMPLATE, home, values, {"llm": ["sk-pool-key-0000000000"]})
    on_disk = read_env(home / ".env")["TWILIGHT_API_TOKEN"]  # the second crash: profile made, key not stored
    assert (await post(paid_runtime, wechat_key, tx_body)).status_code == 204  # WeChat delivers again
    await settle(paid_runtime)
    assert counts(paid_runtime) == {"users": 1, "api_keys": 1, "payments": 1, "processed_notifications": 1,
                                    "hermes_profiles": 1}  # fmt: skip
    owner = paid_runtime.tokens.owner(on_disk)
    assert owner is not None and owner.user == recorded.user_name and owner.state is TokenState.ACTIVE


def paid_runtime_verify(rt: Runtime, key: rsa.RSAPrivateKey, body: bytes) -> Transaction:
    checker = verifier(rt.settings)
    assert checker is not None
    return checker.verify(signed_headers(key, KEY_ID, body, dt.datetime.now(dt.UTC)), body, dt.datetime.now(dt.UTC))


async def test_our_own_failure_is_a_500_so_wechat_delivers_again(
    paid_runtime: Runtime, wechat_key: rsa.RSAPrivateKey
) -> None:
    with paid_runtime.accounts.begin() as conn:
        conn.execute(text("ALTER TABLE payments RENAME TO payments_away"))  # the database cannot take it
    body = notification_body(APIV3, order(), notification_id="EV-broken")
    response = await post(paid_runtime, wechat_key, body)
    assert response.status_code == 500 and response.json()["code"] == "FAIL"
    with paid_runtime.accounts.begin() as conn:
        conn.execute(text("ALTER TABLE payments_away RENAME TO payments"))
        assert conn.execute(text("SELECT count(*) FROM processed_notifications")).scalar_one() == 0  # rolled back
    assert (await post(paid_runtime, wechat_key, body)).status_code == 204  # the redelivery is recorded
    assert counts(paid_runtime)["payments"] == 1


def test_without_hermes_the_process_runner_leaves_the_profile_provisioned(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime(
        schedule=False,
        profile_runner="process",
        hermes_bin="/nonexistent/hermes",
        llm_key_pool=["sk-pool-key-0000000000"],
    )
    done = rt.provisioner.provision("no-hermes", create=True)
    assert done.state == "provisioned" and done.reason is not None and "hermes is not installed" in done.reason
    assert done.port is not None and (Path(done.path) / "config.yaml").exists()
