"""report milestones on each match: when it entered each stage, its last movement, the days it
spent in each stage it left, its outcome's figures (back-filled from the history)

Revision ID: 0005r
Revises: 0004
Create Date: 2026-11-24 00:00:00
"""

import itertools
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.reports import Milestones, advance

revision: str = "0005r"
down_revision: str | None = "0005c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("follow_up_at", "field_visit_at", "adaptation_at", "outcome_at", "closed_at",
           "visited_at", "last_moved_at")
FIGURES = ("days_follow_up", "days_field_visit", "days_adaptation", "days_outcome",
           "time_saved_days", "cost_saved_usd", "visits_saved")

# the monitor's commonest pages, counted from the index and read in its order
COMPOSITE = {
    "ix_matches_workshop_id_created_at": ["workshop_id", "created_at"],
    "ix_matches_stage_status_created_at": ["stage", "status", "created_at"],
    # the reports' data version: the latest change, read from the index (services/reports.py)
    "ix_matches_updated_at": ["updated_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        for column in MOMENTS:
            batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        for column in FIGURES:
            batch.add_column(sa.Column(column, sa.Float(), nullable=True))
        batch.add_column(sa.Column("people_reached", sa.Integer(), nullable=True))
        batch.create_index("ix_matches_last_moved_at", ["last_moved_at"])
        for name, columns in COMPOSITE.items():
            batch.create_index(name, columns)
    # the matches already there: their milestones from their whole history, as the writer
    # would have kept them (the same pure rule)
    history = sa.table("match_history", sa.column("match_id"), sa.column("seq"),
                       sa.column("kind"), sa.column("stage"), sa.column("data", sa.JSON),
                       sa.column("occurred_at", sa.DateTime(timezone=True)))
    matches = sa.table("matches", sa.column("id"),
                       *(sa.column(c) for c in Milestones.model_fields))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(history.c.match_id, history.c.kind, history.c.stage, history.c.data,
                  history.c.occurred_at).order_by(history.c.match_id, history.c.seq)
    ).mappings()
    for match_id, entries in itertools.groupby(rows, key=lambda r: r["match_id"]):
        milestones = advance(Milestones(), [_utc(dict(e)) for e in entries])
        connection.execute(
            matches.update().where(matches.c.id == match_id).values(**milestones.model_dump())
        )


def _utc(entry: dict) -> dict:
    from datetime import UTC

    at = entry["occurred_at"]
    entry["occurred_at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return entry


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.drop_index("ix_matches_last_moved_at")
        for name in COMPOSITE:
            batch.drop_index(name)
        for column in (*MOMENTS, *FIGURES, "people_reached"):
            batch.drop_column(column)
