"""Shared route health and admission: circuit states, in-flight permits, queue time on jobs,
route key on attempts (latency history), hedging per slot.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_states",
        sa.Column("route_key", sa.String(96)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.Column("probe_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("route_key", name="pk_route_states"),
    )
    op.create_table(
        "inflight_permits",
        sa.Column("id", sa.String(32)),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inflight_permits"),
    )
    op.create_index("ix_inflight_permits_scope_expires", "inflight_permits", ["scope", "expires_at"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("queue_ms", sa.Integer()))
    with op.batch_alter_table("job_attempts") as batch:
        batch.add_column(sa.Column("route_key", sa.String(96)))
        batch.create_index("ix_job_attempts_route_key_started", ["route_key", "started_at"])
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("hedging", sa.String(8), nullable=False, server_default="auto"))


def downgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("hedging")
    with op.batch_alter_table("job_attempts") as batch:
        batch.drop_index("ix_job_attempts_route_key_started")
        batch.drop_column("route_key")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("queue_ms")
    op.drop_index("ix_inflight_permits_scope_expires", "inflight_permits")
    op.drop_table("inflight_permits")
    op.drop_table("route_states")
