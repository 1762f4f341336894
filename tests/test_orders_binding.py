"""Orders against the WeChat Pay v3 stand-in, refunds, and the bot's QR binding against the iLink
stand-in: the wire parts and the stored state machines, in process (the browser end to end is in
test_join_e2e.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from ops.runtime import Runtime
from profiles.envfile import read_env
from provisioning import payments
from provisioning.accounts import HermesProfile, Order, User, WechatBinding
from provisioning.binding import MAX_REFRESHES, Binder
from provisioning.onboarding import step
from provisioning.orders import OrderRefused, Orders
from provisioning.wechatpay import REFUND_SUCCESS, Refund, Verifier
from provisioning.wechatpay_orders import NativeOrders, OrderUnavailable
from provisioning.wechatpay_orders import OrderRefused as PayRefused
from tests.conftest import RuntimeFactory
from tests.fake_ilink import FakeIlink
from tests.fake_wechatpay import MERCHANT_SERIAL, PUBLIC_KEY_ID, FakeWechatPay, notification_body, signed_headers

MCH_ID, APPID, APIV3 = "1900000109", "wxd678efh567hg6787", b"0123456789abcdef0123456789abcdef"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def merchant() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pay(merchant: rsa.RSAPrivateKey) -> Iterator[FakeWechatPay]:
    fake = FakeWechatPay(MCH_ID, APIV3, merchant.public_key()).start()
    yield fake
    fake.stop()


def client(pay: FakeWechatPay, key: rsa.RSAPrivateKey, *, wechat: rsa.RSAPrivateKey | None = None) -> NativeOrders:
    verifier = Verifier(MCH_ID, APIV3, (wechat or pay.key).public_key(), PUBLIC_KEY_ID)
    notify = "http://127.0.0.1:9/webhooks/wechatpay"
    return NativeOrders(mch_id=MCH_ID, appid=APPID, merchant_key=key, merchant_serial=MERCHANT_SERIAL,
                        notify_url=notify, verifier=verifier, api_base=pay.url)  # fmt: skip


def test_an_order_is_signed_by_us_and_its_answer_verified(pay: FakeWechatPay, merchant: rsa.RSAPrivateKey) -> None:
    code_url = client(pay, merchant).create("TD2026120100000001", "暮光研究员 Pro", 19800, "pro", NOW)
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    sent = pay.orders["TD2026120100000001"].body
    assert sent["amount"] == {"total": 19800, "currency": "CNY"} and sent["time_expire"] == "2026-12-01T20:00:00+08:00"
    assert pay.requests[0]["headers"]["Authorization"].startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000109"')


def test_a_wrong_merchant_key_is_refused_and_an_unverified_answer_never_used(
    pay: FakeWechatPay, merchant: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(PayRefused, match="SIGN_ERROR"):
        client(pay, other).create("TD2026120100000002", "Pro", 19800, "pro", NOW)
    with pytest.raises(PayRefused, match="UNVERIFIED_ANSWER"):  # an answer signed by someone else
        client(pay, merchant, wechat=other).create("TD2026120100000003", "Pro", 19800, "pro", NOW)
    with pytest.raises(PayRefused, match="PARAM_ERROR"):
        client(pay, merchant).create("TD2026120100000004", "Pro", 0, "pro", NOW)
    pay.stop()
    with pytest.raises(OrderUnavailable):
        client(pay, merchant).create("TD2026120100000005", "Pro", 19800, "pro", NOW)


def test_orders_check_the_plan_and_limit_each_address(
    runtime: Runtime, pay: FakeWechatPay, merchant: rsa.RSAPrivateKey
) -> None:
    orders = Orders(runtime.accounts, {"pro": 19800}, client(pay, merchant))
    with pytest.raises(OrderRefused) as unknown:
        orders.create("platinum", "10.0.0.1", NOW)
    assert unknown.value.status == 400 and unknown.value.argument == "plan" and not pay.orders
    made = [orders.create("pro", "10.0.0.1", NOW) for _ in range(10)]
    with pytest.raises(OrderRefused) as flood:
        orders.create("pro", "10.0.0.1", NOW)
    assert flood.value.status == 429 and len(pay.orders) == 10
    assert orders.create("pro", "10.0.0.2", NOW).code_url  # another address is not held back
    found = orders.by_token(made[0].onboarding_token)
    assert (
        found is not None
        and found.state == "awaiting_payment"
        and made[0].onboarding_token not in found.onboarding_sha256
    )
    assert step(runtime.accounts, found, NOW).state == "awaiting_payment"
    assert step(runtime.accounts, found, NOW + dt.timedelta(hours=1)).state == "expired"
    assert orders.by_token("not-a-token-of-any-order-0000000") is None


def test_a_refund_ends_the_subscription_once(runtime: Runtime, pay: FakeWechatPay) -> None:
    wechat = Verifier(MCH_ID, APIV3, pay.key.public_key(), PUBLIC_KEY_ID)
    tx_body = notification_body(APIV3, {
        "mchid": MCH_ID, "appid": APPID, "out_trade_no": "TD2026120100000009", "transaction_id": "4200000000000009",
        "trade_state": "SUCCESS", "payer": {"openid": "oPayer9"}, "amount": {"total": 19800, "currency": "CNY"},
    })  # fmt: skip
    tx = wechat.verify(signed_headers(pay.key, PUBLIC_KEY_ID, tx_body, NOW), tx_body, NOW)
    paid = payments.record(runtime.accounts, tx, mch_id=MCH_ID, prices={"pro": 19800}, default_plan="pro", now=NOW)
    assert paid.status == "paid"
    refund_body = notification_body(APIV3, {
        "mchid": MCH_ID, "out_trade_no": "TD2026120100000009", "transaction_id": "4200000000000009",
        "out_refund_no": "RF9", "refund_status": "SUCCESS", "amount": {"total": 19800, "refund": 19800},
    }, event_type=REFUND_SUCCESS)  # fmt: skip
    refund = wechat.open(signed_headers(pay.key, PUBLIC_KEY_ID, refund_body, NOW), refund_body, NOW)
    assert isinstance(refund, Refund) and refund.refund_status == "SUCCESS"
    later = NOW + dt.timedelta(days=3)
    assert runtime.subscriptions.refunded(refund, later) == paid.user_name
    assert runtime.subscriptions.refunded(refund, later + dt.timedelta(days=1)) is None  # redelivered: nothing more
    with Session(runtime.accounts) as session:
        user = session.scalars(select(User)).one()
        assert user.paid_until is not None and user.paid_until.replace(tzinfo=dt.UTC) == later


@pytest.fixture
def ilink() -> Iterator[FakeIlink]:
    fake = FakeIlink(qr_hold=0.2).start()
    yield fake
    fake.stop()


def profile_of(rt: Runtime) -> tuple[str, Path]:
    made = rt.provisioner.provision("payer", plan="pro", create=True)
    return made.profile, Path(made.path)


def test_a_binding_walks_to_bound_and_writes_the_bots_credentials(make_runtime: RuntimeFactory,
                                                                  ilink: FakeIlink) -> None:  # fmt: skip
    rt = make_runtime(llm_key_pool=["sk-pool-0000000000"])
    restarted: list[str] = []
    binder = Binder(rt.accounts, ilink.url, restarted.append)
    name, home = profile_of(rt)
    started = binder.ensure(name)
    assert started.state == "awaiting_scan" and started.qr_url == ilink.latest_qr().url
    assert binder.ensure(name) == started  # one at a time
    assert binder.poll(started.id) == "awaiting_scan"  # wait
    qr = ilink.latest_qr()
    ilink.scan(qr.qrcode, "oScanner@im.wechat")
    assert binder.poll(started.id) == "scanned"
    bot = ilink.confirm(qr.qrcode)
    fresh = Binder(rt.accounts, ilink.url, restarted.append)  # a server restart: the state is stored
    assert fresh.open_ids() == [started.id] and fresh.poll(started.id) == "bound"
    env = read_env(home / ".env")
    assert env["WEIXIN_ACCOUNT_ID"] == bot.bot_id and env["WEIXIN_TOKEN"] == bot.token
    assert env["WEIXIN_ALLOWED_USERS"] == env["WEIXIN_HOME_CHANNEL"] == "oScanner@im.wechat"
    assert env["WEIXIN_DM_POLICY"] == "allowlist" and restarted == [name]
    with Session(rt.accounts) as session:
        assert session.scalars(select(HermesProfile.weixin_bot_id)).one() == bot.bot_id
    again = binder.begin(name)  # a new phone: a new QR, the bound one stays as it was
    assert again.state == "awaiting_scan" and again.id != started.id


def test_an_expired_qr_is_refreshed_three_times_then_the_binding_expires(make_runtime: RuntimeFactory,
                                                                         ilink: FakeIlink) -> None:  # fmt: skip
    rt = make_runtime(llm_key_pool=["sk-pool-0000000000"])
    binder = Binder(rt.accounts, ilink.url, lambda _name: None)
    name, _ = profile_of(rt)
    started = binder.begin(name)
    urls = [ilink.latest_qr().url]
    for _ in range(MAX_REFRESHES):
        ilink.expire(ilink.latest_qr().qrcode)
        assert binder.poll(started.id) == "awaiting_scan"
        urls.append(ilink.latest_qr().url)
    assert len(set(urls)) == MAX_REFRESHES + 1
    ilink.expire(ilink.latest_qr().qrcode)
    assert binder.poll(started.id) == "expired"
    with Session(rt.accounts) as session:
        order = Order(out_trade_no="TD1", plan="pro", amount_fen=19800, state="paid", expires_at=NOW,
                      onboarding_sha256="x" * 64, user_id=session.scalars(select(User.id)).one())  # fmt: skip
        session.add(order)
        session.commit()
        assert step(rt.accounts, order, NOW).state == "expired"
        assert session.get_one(WechatBinding, started.id).reason


def test_a_redirected_scan_is_polled_at_the_scanners_host(make_runtime: RuntimeFactory, ilink: FakeIlink) -> None:
    rt = make_runtime(llm_key_pool=["sk-pool-0000000000"])
    binder = Binder(rt.accounts, ilink.url, lambda _name: None)
    name, _ = profile_of(rt)
    started = binder.begin(name)
    mirror = ilink.mirror()
    qr = ilink.latest_qr()
    ilink.scan(qr.qrcode, "oScanner@im.wechat")
    ilink.redirect(qr.qrcode, ilink.host_of(mirror))
    assert binder.poll(started.id) == "scanned"
    ilink.confirm(qr.qrcode)
    assert binder.poll(started.id) == "bound"
    assert any(r.host == ilink.host_of(mirror) for r in ilink.requests)


def test_the_onboarding_api_refuses_what_it_must(runtime: Runtime) -> None:
    from ops.app import build_app

    http = TestClient(build_app(runtime), base_url="http://127.0.0.1")  # no lifespan: no background loops
    assert http.post("/api/orders", json={"plan": "pro"}).json()["remedy"].startswith("try again later")
    assert http.post("/api/orders", json=["pro"]).status_code == 400
    assert http.get("/api/onboarding/short").status_code == 404
    page = http.get("/join")
    assert page.status_code == 200 and "暮光研究员" in page.text and '"pro": 19800' in page.text
    assert "no-referrer" in page.headers["referrer-policy"]
