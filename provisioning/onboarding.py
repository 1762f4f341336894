"""Where a payer is, from the pay QR to a bot bound to their WeChat: what `/api/onboarding/{token}`
answers and the payer's page shows.

    awaiting_payment → paid → provisioning → awaiting_scan → scanned → bound
    expired  (the order, or the bot QR after its refreshes, ran out: what to do is in `message`)
    failed   (the reason, and what happens next)

It is read from what is stored (the order, its user's profile, the profile's newest binding), so
a page reloaded at any moment, or a server restarted meanwhile, tells the truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from provisioning.accounts import HermesProfile, Order, User, WechatBinding

TRY_IT = "已连接：发送 查 600519 的 P/E 试试"


@dataclass(frozen=True)
class Step:
    state: str
    message: str
    pay_url: str | None = None  # the WeChat Pay code_url, while it can be paid
    bot_url: str | None = None  # the bot QR's URL, while it can be scanned
    profile: str | None = None


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def step(engine: Engine, order: Order, now: dt.datetime) -> Step:
    if order.state == "awaiting_payment":
        if _aware(order.expires_at) <= now:
            return Step("expired", "订单已过期，未扣款。请重新下单。 The order expired unpaid; start a new one.")
        return Step("awaiting_payment", "请用微信扫码支付。 Scan with WeChat to pay.", pay_url=order.code_url)
    if order.state in ("failed", "creating"):
        why = order.reason or "the order could not be created at WeChat Pay"
        return Step("failed", f"下单失败：{why}。未扣款，请重新下单。 Nothing was charged; start a new order.")
    with Session(engine) as session:
        found = session.execute(
            select(User, HermesProfile).outerjoin(HermesProfile, HermesProfile.user_id == User.id)
            .where(User.id == order.user_id)
        ).first()  # fmt: skip
        if found is None:
            return Step("paid", "已收到付款，正在为您准备机器人。 Paid: your bot is being prepared.")
        user, profile = found
        binding = None
        if profile is not None:
            binding = session.scalars(select(WechatBinding).where(WechatBinding.profile_id == profile.id)
                                      .order_by(WechatBinding.id.desc())).first()  # fmt: skip
    if profile is None:
        return Step("paid", "已收到付款，正在为您准备机器人。 Paid: your bot is being prepared.")
    name = profile.name
    if profile.state == "failed" and binding is None:
        return Step("failed", f"已付款，但机器人暂未能启动：{profile.reason}。"
                    "无需再次付款，运营人员处理后此页会自动继续。 Paid, but the bot could not start yet; no need to"
                    " pay again: this page goes on once an operator has fixed it.", profile=name)  # fmt: skip
    if binding is None or binding.state == "replaced":
        return Step("provisioning", "机器人已创建，正在生成绑定二维码。 Your bot is made; its QR is coming.",
                    profile=name)  # fmt: skip
    if binding.state == "awaiting_scan":
        return Step("awaiting_scan", "请用付款的微信扫码，绑定您的机器人。 Scan with the WeChat that paid to bind"
                    " your bot.", bot_url=binding.qr_url, profile=name)  # fmt: skip
    if binding.state == "scanned":
        return Step("scanned", "已扫码，请在手机上确认。 Scanned: confirm on your phone.", profile=name)
    if binding.state == "bound":
        until = _aware(user.paid_until).date().isoformat() if user.paid_until else ""
        return Step("bound", f"{TRY_IT}（订阅至 {until}） Connected: send 查 600519 的 P/E.", profile=name)
    if binding.state == "expired":
        return Step("expired", "绑定二维码已过期，点击获取新的二维码。 The QR expired: ask for a new one.",
                    profile=name)  # fmt: skip
    return Step("failed", f"绑定失败：{binding.reason}。点击重新获取二维码。 Binding failed: ask for a new QR.",
                profile=name)  # fmt: skip
