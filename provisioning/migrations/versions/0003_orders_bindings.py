"""Orders (WeChat Pay Native) with their onboarding token, WeChat bindings of bots, refunds.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("out_trade_no", sa.String(32), nullable=False, unique=True),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.Integer, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("code_url", sa.Text, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onboarding_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_orders_client_created", "orders", ["client_address", "created_at"])
    op.create_table(
        "wechat_bindings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("hermes_profiles.id"), nullable=False, index=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("qrcode", sa.String(255), nullable=True),
        sa.Column("qr_url", sa.Text, nullable=True),
        sa.Column("poll_base", sa.Text, nullable=True),
        sa.Column("refreshes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("scanner", sa.String(128), nullable=True),
        sa.Column("bot_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("hermes_profiles") as batch:
        batch.add_column(sa.Column("weixin_bot_id", sa.String(128), nullable=True))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("refunded_at")
    with op.batch_alter_table("hermes_profiles") as batch:
        batch.drop_column("weixin_bot_id")
    op.drop_table("wechat_bindings")
    op.drop_index("ix_orders_client_created", "orders")
    op.drop_table("orders")
