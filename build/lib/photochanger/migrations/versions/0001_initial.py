"""Initial schema: slots, templates, jobs, attempts, settings; seeds the 15 fixed slots.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SLOT_COUNT = 15


def upgrade() -> None:
    slots = op.create_table(
        "slots",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("upload_limit_bytes", sa.Integer()),
        sa.Column("max_in_flight", sa.Integer()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slots"),
    )
    op.create_table(
        "slot_templates",
        sa.Column("id", sa.String(32)),
        sa.Column("slot_id", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slot_templates"),
        sa.ForeignKeyConstraint(["slot_id"], ["slots.id"], name="fk_slot_templates_slot_id_slots"),
    )
    op.create_index("ix_slot_templates_slot_id", "slot_templates", ["slot_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32)),
        sa.Column("slot_id", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(40)),
        sa.Column("failure_detail", sa.Text()),
        sa.Column("http_status", sa.Integer()),
        sa.Column("provider", sa.String(32)),
        sa.Column("model", sa.String(64)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("deadline_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("provider_ms", sa.Integer()),
        sa.Column("total_ms", sa.Integer()),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("client_fields", sa.JSON(), nullable=False),
        sa.Column("query_string", sa.Text()),
        sa.Column("input_path", sa.String(255)),
        sa.Column("input_bytes", sa.Integer()),
        sa.Column("input_mime", sa.String(32)),
        sa.Column("input_width", sa.Integer()),
        sa.Column("input_height", sa.Integer()),
        sa.Column("input_sha256", sa.String(64)),
        sa.Column("result_path", sa.String(255)),
        sa.Column("result_mime", sa.String(32)),
        sa.Column("result_bytes", sa.Integer()),
        sa.Column("result_width", sa.Integer()),
        sa.Column("result_height", sa.Integer()),
        sa.Column("result_expires_at", TS),
        sa.Column("media_purged_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.ForeignKeyConstraint(["slot_id"], ["slots.id"], name="fk_jobs_slot_id_slots"),
    )
    op.create_index("ix_jobs_slot_received", "jobs", ["slot_id", "received_at"])
    op.create_index("ix_jobs_status_deadline", "jobs", ["status", "deadline_at"])
    op.create_index("ix_jobs_expires", "jobs", ["result_expires_at"])
    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("failure_code", sa.String(64)),
        sa.Column("detail", sa.Text()),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_attempts"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_attempts_job_id_jobs", ondelete="CASCADE"),
    )
    op.create_index("ix_job_attempts_job_id", "job_attempts", ["job_id"])
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(64)),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_app_settings"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        slots,
        [
            {
                "id": f"slot-{n:03d}",
                "display_name": f"Slot {n}",
                "provider": "local",
                "prompt": "",
                "settings": {"look": "warm"} if n == 1 else {},
                "is_active": n == 1,
                "upload_limit_bytes": None,
                "max_in_flight": None,
                "version": 1,
                "updated_at": now,
            }
            for n in range(1, SLOT_COUNT + 1)
        ],
    )


def downgrade() -> None:
    for table in ("app_settings", "job_attempts", "jobs", "slot_templates", "slots"):
        op.drop_table(table)
