"""Events: tonight's client, its slots and times; each job records the event live for its slot
when it arrived (photos from before events belong to no event). A slot's own daily spend cap.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("client", sa.String(120)),
        sa.Column("slot_ids", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("title", sa.String(120)),
        sa.Column("colour", sa.String(7)),
        sa.Column("spend_cap_usd", sa.Float()),
        sa.Column("webhook_url", sa.String(500)),
        sa.Column("logo_path", sa.String(255)),
        sa.Column("logo_mime", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_events_starts", "events", ["starts_at"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("event_id", sa.String(32)))
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("daily_spend_cap_usd", sa.Float()))
    op.create_index("ix_jobs_event", "jobs", ["event_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_event", "jobs")
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("daily_spend_cap_usd")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("event_id")
    op.drop_index("ix_events_starts", "events")
    op.drop_table("events")
