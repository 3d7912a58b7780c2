"""the monitor at 100,000 matches: a covering index for the funnel, indexes for the list's
typical filters, and an index for free text (SQLite: an FTS5 trigram table kept by triggers;
PostgreSQL: a pg_trgm GIN index when the extension can be created)

Revision ID: 0006p
Revises: 0005r
Create Date: 2026-11-24 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006p"
down_revision: str | None = "0005r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column the funnel reads (store/reports.py funnel_counts), so that it reads this narrow
# index instead of every ~800-byte row; workshop first (the commonest key and filter).
FUNNEL = [
    "workshop_id", "focus_area", "adopter_country", "provider_country", "solution_id",
    "stage", "close_reason", "follow_up_at", "created_at", "field_visit_at", "adaptation_at",
    "outcome_at", "days_follow_up", "days_field_visit", "days_adaptation", "days_outcome",
]
COMPOSITE = {
    "ix_matches_funnel": FUNNEL,
    "ix_matches_adopter_country_focus_area_created_at": [
        "adopter_country", "focus_area", "created_at",
    ],
}
# the matches that need attention, newest first (a few per cent of them)
ATTENTION = "ix_matches_attention_created_at"

# SQLite: the FTS5 trigram index of search_text, keyed by the match's id (rowids of a table
# without an INTEGER PRIMARY KEY may change on VACUUM), kept in step by triggers. A later
# migration that rebuilds `matches` (batch_alter_table on SQLite) drops these triggers and must
# create them again: tests/store/test_monitor_indexes.py checks them at head.
SQLITE_TEXT = [
    "CREATE VIRTUAL TABLE matches_text USING fts5(search_text, id UNINDEXED, "
    "tokenize='trigram')",
    "INSERT INTO matches_text (search_text, id) SELECT search_text, id FROM matches",
    "CREATE TRIGGER matches_text_insert AFTER INSERT ON matches BEGIN "
    "INSERT INTO matches_text (search_text, id) VALUES (new.search_text, new.id); END",
    "CREATE TRIGGER matches_text_update AFTER UPDATE OF search_text, id ON matches BEGIN "
    "DELETE FROM matches_text WHERE id = old.id; "
    "INSERT INTO matches_text (search_text, id) VALUES (new.search_text, new.id); END",
    "CREATE TRIGGER matches_text_delete AFTER DELETE ON matches BEGIN "
    "DELETE FROM matches_text WHERE id = old.id; END",
    "CREATE VIRTUAL TABLE matches_text_vocab USING fts5vocab(matches_text, 'row')",
]
PG_TRGM = "ix_matches_search_text_trgm"


def upgrade() -> None:
    for name, columns in COMPOSITE.items():
        op.create_index(name, "matches", columns)
    op.create_index(
        ATTENTION, "matches", ["created_at"],
        sqlite_where=sa.text("needs_attention"), postgresql_where=sa.text("needs_attention"),
    )
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_TEXT:
            op.execute(statement)
    elif connection.dialect.name == "postgresql":
        # pg_trgm ships with Debian's postgresql and is a trusted extension (PostgreSQL 13+):
        # the database's owner may create it. Where it cannot be, free text still works, by a
        # scan (the list's count stays capped).
        try:
            with connection.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError:
            return
        op.execute(
            f"CREATE INDEX {PG_TRGM} ON matches USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS matches_text_{name}")
        op.execute("DROP TABLE IF EXISTS matches_text_vocab")
        op.execute("DROP TABLE IF EXISTS matches_text")
    elif connection.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_TRGM}")
    op.drop_index(ATTENTION, "matches")
    for name in COMPOSITE:
        op.drop_index(name, "matches")
