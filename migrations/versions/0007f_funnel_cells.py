"""the funnel's cells: its counts per grouping and key (all years and per year), moved by the
writers of a match in its unit of work; back-filled from the matches

Revision ID: 0007f
Revises: 0006p
Create Date: 2026-11-24 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.funnel_cells import FACT_COLUMNS, aggregate, facts, first_version

revision: str = "0007f"
down_revision: str | None = "0006p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("follow_up_at", "created_at", "field_visit_at", "adaptation_at", "outcome_at")


def upgrade() -> None:
    cells = op.create_table(
        "funnel_cells",
        sa.Column("by", sa.String(20), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("by", "key", "year", name="pk_funnel_cells"),
    )
    # the matches already there, counted by the same pure rule the writers apply
    matches = sa.table(
        "matches",
        *(
            sa.column(c, sa.DateTime(timezone=True)) if c in MOMENTS else sa.column(c)
            for c in FACT_COLUMNS
        ),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(*matches.c)).mappings()
    counted = aggregate(facts(row) for row in rows)
    if counted:
        op.bulk_insert(
            cells,
            [
                {"by": b, "key": k, "year": y, "counts": c, "version": first_version()}
                for (b, k, y), c in counted.items()
            ],
        )


def downgrade() -> None:
    op.drop_table("funnel_cells")
