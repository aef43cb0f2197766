"""Circuits per slot: the slot whose attempt last used its whole timeout, so one slot's slow prompt
opens only that slot's circuit of a route, and full timeouts from two slots open the route.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("route_states") as batch:
        batch.add_column(sa.Column("slow_scope", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("route_states") as batch:
        batch.drop_column("slow_scope")
