"""Payments (WeChat Pay), processed notifications, Hermes profiles, usage, per-key rate limits.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("public_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("openid", sa.String(128), nullable=True))
        batch.add_column(sa.Column("plan", sa.String(32), nullable=True))
        batch.add_column(sa.Column("paid_until", sa.DateTime(timezone=True), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():  # existing users get their public id
        bind.execute(users.update().where(users.c.id == user_id).values(public_id=uuid.uuid4().hex))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("public_id", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_users_public_id", ["public_id"])
        batch.create_unique_constraint("uq_users_openid", ["openid"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("rate_limit_per_min", sa.Integer, nullable=False, server_default="60"))

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transaction_id", sa.String(64), nullable=False, unique=True),
        sa.Column("out_trade_no", sa.String(64), nullable=False),
        sa.Column("mchid", sa.String(32), nullable=False),
        sa.Column("amount_total", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("trade_state", sa.String(32), nullable=False),
        sa.Column("payer_openid", sa.String(128), nullable=True),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("success_time", sa.String(40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transaction", sa.JSON, nullable=False),
    )
    op.create_table(
        "processed_notifications",
        sa.Column("notification_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hermes_profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, index=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("runner", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False, server_default="prefab"),
        sa.Column("container_id", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_health_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_health", sa.Text, nullable=True),
    )
    op.create_table(
        "usage_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("api_key_id", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=True),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("upstream_calls", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_usage_log_user_called", "usage_log", ["user_id", "called_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_log_user_called", "usage_log")
    for table in ("usage_log", "hermes_profiles", "processed_notifications", "payments"):
        op.drop_table(table)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("rate_limit_per_min")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_openid", type_="unique")
        batch.drop_constraint("uq_users_public_id", type_="unique")
        for column in ("paid_until", "plan", "openid", "public_id"):
            batch.drop_column(column)
