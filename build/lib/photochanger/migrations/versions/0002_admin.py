"""Admin API: accounts, revoked tokens, login failures, slot audit, rate-limit buckets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("last_login_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("username", name="uq_admins_username"),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64)),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_tokens"),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_pair", "login_failures", ["username", "ip", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_table(
        "slot_audit",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("slot_id", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(64)),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slot_audit"),
        sa.ForeignKeyConstraint(["slot_id"], ["slots.id"], name="fk_slot_audit_slot_id_slots"),
    )
    op.create_index("ix_slot_audit_slot_id", "slot_audit", ["slot_id"])
    op.create_table(
        "rate_limit_buckets",
        sa.Column("key", sa.String(128)),
        sa.Column("window_start", TS),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_buckets"),
    )
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("updated_by", sa.String(64)))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("client_headers", sa.JSON()))
    op.create_index("ix_jobs_received", "jobs", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_received", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("client_headers")
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("updated_by")
    for table in ("rate_limit_buckets", "slot_audit", "login_failures", "revoked_tokens", "admins"):
        op.drop_table(table)
