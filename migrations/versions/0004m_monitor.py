"""the monitor's filters in the read model: solution, free text, waiting on, attention

Revision ID: 0004m
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004m"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("solution_id", "provider_country", "adopter_country", "close_reason",
           "needs_attention", "created_at")


def upgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("solution_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("waiting_on", sa.String(40), nullable=True))
        batch.add_column(
            sa.Column("needs_attention", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # what the rows already there can tell: their EOI's solution, the names to search, whether
    # they need attention (their status says); whom they wait on is known at their next change
    connection = op.get_bind()
    provider = sa.table("institutions", sa.column("id"), sa.column("name")).alias("provider")
    adopter = sa.table("institutions", sa.column("id"), sa.column("name")).alias("adopter")
    eois = sa.table("eois", sa.column("id"), sa.column("solution_id"),
                    sa.column("adopter_institution_id"))
    solutions = sa.table("solutions", sa.column("id"), sa.column("title"),
                         sa.column("provider_institution_id"))
    matches = sa.table("matches", sa.column("id"), sa.column("eoi_id"), sa.column("summary"),
                       sa.column("status"), sa.column("solution_id"), sa.column("search_text"),
                       sa.column("needs_attention"))
    rows = connection.execute(
        sa.select(matches.c.id, matches.c.summary, solutions.c.id, solutions.c.title,
                  provider.c.name, adopter.c.name)
        .select_from(matches)
        .join(eois, eois.c.id == matches.c.eoi_id)
        .join(solutions, solutions.c.id == eois.c.solution_id)
        .join(provider, provider.c.id == solutions.c.provider_institution_id)
        .join(adopter, adopter.c.id == eois.c.adopter_institution_id)
    ).all()
    for match_id, summary, solution_id, title, provider_name, adopter_name in rows:
        text = "\n".join((summary, title, provider_name, adopter_name)).casefold()
        connection.execute(
            matches.update().where(matches.c.id == match_id)
            .values(solution_id=solution_id, search_text=text)
        )
    connection.execute(
        matches.update().where(matches.c.status == "needs_attention").values(needs_attention=True)
    )
    with op.batch_alter_table("matches") as batch:
        batch.alter_column("solution_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("search_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("needs_attention", existing_type=sa.Boolean(), server_default=None)
        for column in INDEXED:
            batch.create_index(f"ix_matches_{column}", [column])


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        for column in INDEXED:
            batch.drop_index(f"ix_matches_{column}")
        for column in ("needs_attention", "waiting_on", "search_text", "solution_id"):
            batch.drop_column(column)
