"""Short-lived public links to provider inputs (Turbotext fetches images by URL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_media",
        sa.Column("token", sa.String(64)),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_provider_media"),
    )
    op.create_index("ix_provider_media_expires_at", "provider_media", ["expires_at"])


def downgrade() -> None:
    op.drop_table("provider_media")
