"""Spend caps: what each budget scope (a UTC day) has spent and holds reserved.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_totals",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("spent_usd", sa.Float(), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True)),
        sa.Column("refused_at_cap", sa.Float()),
    )


def downgrade() -> None:
    op.drop_table("spend_totals")
