"""Late delivery: a slot may keep making the AI photo after the booth's deadline, and the job
records that continuation (its state, its lease and its own deadline) beside the booth's answer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("late_delivery_minutes", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("late_state", sa.String(16)))
        batch.add_column(sa.Column("late_deadline_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("late_lease_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("late_owner", sa.String(64)))
        batch.add_column(sa.Column("late_finished_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("late_failure_reason", sa.String(40)))
        batch.add_column(sa.Column("booth_result_path", sa.String(255)))
        batch.create_index("ix_jobs_late", ["late_state", "late_lease_until"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_late")
        for column in (
            "booth_result_path",
            "late_failure_reason",
            "late_finished_at",
            "late_owner",
            "late_lease_until",
            "late_deadline_at",
            "late_state",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("late_delivery_minutes")
