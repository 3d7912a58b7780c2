"""case studies: the Secretariat's edit, a revision counter, review and publication

Revision ID: 0005c
Revises: 0004
Create Date: 2026-11-23 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005c"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTORS = ("edited", "reviewed", "published")


def upgrade() -> None:
    with op.batch_alter_table("case_studies") as batch:
        batch.add_column(sa.Column("edited_body", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        for step in ACTORS:
            batch.add_column(sa.Column(f"{step}_by", sa.String(200), nullable=True))
            batch.add_column(sa.Column(f"{step}_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_case_studies_status", ["status"])
    with op.batch_alter_table("case_studies") as batch:
        batch.alter_column("revision", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("case_studies") as batch:
        batch.drop_index("ix_case_studies_status")
        for step in reversed(ACTORS):
            batch.drop_column(f"{step}_at")
            batch.drop_column(f"{step}_by")
        batch.drop_column("revision")
        batch.drop_column("edited_body")
