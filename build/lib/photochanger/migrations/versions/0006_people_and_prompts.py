"""People check per slot and face counts on attempts; the final (templated) prompt on jobs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("people_check", sa.String(8), nullable=False, server_default="auto"))
        batch.add_column(sa.Column("people_tolerance", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("job_attempts") as batch:
        batch.add_column(sa.Column("faces_expected", sa.Integer()))
        batch.add_column(sa.Column("faces_found", sa.Integer()))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("prompt", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("prompt")
    with op.batch_alter_table("job_attempts") as batch:
        batch.drop_column("faces_found")
        batch.drop_column("faces_expected")
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("people_tolerance")
        batch.drop_column("people_check")
