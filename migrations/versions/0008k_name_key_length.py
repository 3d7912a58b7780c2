"""institutions: the casefolded name key holds three times a name (casefolding can triple it)

Revision ID: 0008k
Revises: 0007s
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008k"
down_revision: str | None = "0007s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column(
            "name_key",
            existing_type=sa.String(length=200),
            type_=sa.String(length=600),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column(
            "name_key",
            existing_type=sa.String(length=600),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
