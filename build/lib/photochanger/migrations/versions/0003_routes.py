"""Routing: slot fallbacks and on_failure; route, class, request id and cost on attempts and jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("fallbacks", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("on_failure", sa.String(16), nullable=False, server_default="error"))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("route_index", sa.Integer()))
        batch.add_column(sa.Column("fallback", sa.String(16)))
        batch.add_column(sa.Column("cost_usd", sa.Float()))
    with op.batch_alter_table("job_attempts") as batch:
        batch.add_column(sa.Column("route_index", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("failure_class", sa.String(24)))
        batch.add_column(sa.Column("request_id", sa.String(128)))
        batch.add_column(sa.Column("cost_usd", sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("job_attempts") as batch:
        for column in ("cost_usd", "request_id", "failure_class", "route_index"):
            batch.drop_column(column)
    with op.batch_alter_table("jobs") as batch:
        for column in ("cost_usd", "fallback", "route_index"):
            batch.drop_column(column)
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("on_failure")
        batch.drop_column("fallbacks")
