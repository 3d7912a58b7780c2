"""column limits equal the input limits; free text unbounded

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, type before, type after): text people write is unbounded, addresses are
# as long as SMTP carries them (254), who did something as long as the input allows (200).
CHANGES = [
    ("contacts", "email", sa.String(320), sa.String(254)),
    ("matches", "summary", sa.String(500), sa.Text()),
    ("match_history", "actor", sa.String(40), sa.String(200)),
    ("match_history", "summary", sa.String(500), sa.Text()),
    ("notification_outbox", "business_key", sa.String(300), sa.Text()),
    ("notification_outbox", "recipient", sa.String(320), sa.String(254)),
    ("notification_outbox", "subject", sa.String(300), sa.Text()),
    ("case_studies", "title", sa.String(300), sa.Text()),
]


def _alter(*, upgrade: bool) -> None:
    tables: dict[str, list[tuple[str, sa.types.TypeEngine, sa.types.TypeEngine]]] = {}
    for table, column, before, after in CHANGES:
        tables.setdefault(table, []).append(
            (column, before, after) if upgrade else (column, after, before)
        )
    for table, columns in tables.items():
        with op.batch_alter_table(table) as batch:
            for column, existing, new in columns:
                batch.alter_column(column, existing_type=existing, type_=new, existing_nullable=False)


def upgrade() -> None:
    _alter(upgrade=True)


def downgrade() -> None:
    _alter(upgrade=False)
