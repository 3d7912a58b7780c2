"""the stack's calendar: day 0 of a compressed clock, fixed when it first starts a match

Revision ID: 0009c
Revises: 0008k
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009c"
down_revision: str | None = "0008k"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stack_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_calendar")),
    )


def downgrade() -> None:
    op.drop_table("stack_calendar")
