"""One table for every throttle window kept in the database (failed logins per pair and per IP,
public gallery requests per IP, wrong PINs per share): one row per counted event. Replaces the
login failures and the gallery's fixed-minute buckets, whose counts are throttle state only
(a lock-out of at most 15 minutes), so they are not carried over.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "throttle_events",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_throttle_events"),
    )
    op.create_index("ix_throttle_events_key", "throttle_events", ["scope", "key", "at"])
    op.create_index("ix_throttle_events_at", "throttle_events", ["at"])
    op.drop_table("login_failures")
    op.drop_table("rate_limit_buckets")


def downgrade() -> None:
    op.create_table(
        "rate_limit_buckets",
        sa.Column("key", sa.String(128)),
        sa.Column("window_start", TS),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_buckets"),
    )
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
    op.drop_table("throttle_events")
