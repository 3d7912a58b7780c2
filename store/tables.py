"""Database tables (SQLAlchemy 2.0 declarative)."""

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.funnel_cells import FACT_COLUMNS
from domain.text import ACTOR_MAX, EMAIL_MAX, ID_MAX, NAME_KEY_MAX, NAME_MAX

PASSWORD_HASH_MAX = 200

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite drops the zone; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # every row class here maps one table by its __tablename__ (none maps a join or a
        # select), so its __table__ is a Table, not just the FromClause SQLAlchemy declares
        __table__: ClassVar[Table]


class WorkshopRow(Base):
    __tablename__ = "workshops"

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    held_on: Mapped[date] = mapped_column(Date)


class InstitutionRow(Base):
    __tablename__ = "institutions"
    __table_args__ = (UniqueConstraint("name_key", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_MAX))
    country: Mapped[str] = mapped_column(String(2))


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    language: Mapped[str] = mapped_column(String(8))


class SolutionRow(Base):
    __tablename__ = "solutions"

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    focus_area: Mapped[str] = mapped_column(String(40))
    provider_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    provider_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))


class EoiRow(Base):
    __tablename__ = "eois"

    id: Mapped[str] = mapped_column(String(ID_MAX), primary_key=True)
    workshop_id: Mapped[str] = mapped_column(ForeignKey("workshops.id"), index=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    adopter_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    adopter_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    interest_statement: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the EOI as submitted")


# Every column the funnel reads (store/reports.py, and the cells: domain/funnel_cells.py), in
# the covering index ix_matches_funnel.
FUNNEL_COLUMNS = FACT_COLUMNS
# Free-text indexes made by migration 0006p outside these models (SQLAlchemy has no type for
# them): SQLite's FTS5 trigram table of search_text (and its shadow tables, vocabulary and
# triggers), PostgreSQL's pg_trgm GIN index. Schema comparisons leave them out (migrations/env.py).
FREE_TEXT_TABLES = "matches_text"
FREE_TEXT_INDEX = "ix_matches_search_text_trgm"


class MatchRow(Base):
    __tablename__ = "matches"
    # the monitor's commonest pages: one workshop's, one stage and status's, newest first
    # (counted from the index alone, the page read in its order: bench/monitor.py)
    # (0006p) the funnel reads this narrow covering index instead of every ~800-byte row; the
    # matches needing attention and one adopter country's focus area, newest first
    __table_args__ = (
        Index("ix_matches_workshop_id_created_at", "workshop_id", "created_at"),
        Index("ix_matches_stage_status_created_at", "stage", "status", "created_at"),
        Index("ix_matches_funnel", *FUNNEL_COLUMNS),
        Index(
            "ix_matches_adopter_country_focus_area_created_at",
            "adopter_country",
            "focus_area",
            "created_at",
        ),
        Index(
            "ix_matches_attention_created_at",
            "created_at",
            sqlite_where=text("needs_attention"),
            postgresql_where=text("needs_attention"),
        ),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    eoi_id: Mapped[str] = mapped_column(ForeignKey("eois.id"), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(80), unique=True)
    workshop_id: Mapped[str] = mapped_column(String(64), index=True)
    solution_id: Mapped[str] = mapped_column(String(ID_MAX), index=True)
    focus_area: Mapped[str] = mapped_column(String(40), index=True)
    provider_country: Mapped[str] = mapped_column(String(2), index=True)
    adopter_country: Mapped[str] = mapped_column(String(2), index=True)
    summary: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(
        Text, doc="casefolded: summary, solution title, both institutions' names (free text)"
    )
    stage: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    close_reason: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    waiting_on: Mapped[str | None] = mapped_column(
        String(40),
        nullable=True,
        doc="who the match waits on, comma-separated (adopter, provider, secretariat); "
        "NULL: not recorded yet (matches recorded before it existed, until their next change)",
    )
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    next_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow, index=True
    )
    # Milestones, kept by the history writer from the entries it appends (domain/reports.py
    # ``advance``) in the same unit of work: what the funnel and the stalled list count.
    follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    field_visit_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    adaptation_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    days_follow_up: Mapped[float | None] = mapped_column(Float, nullable=True)
    days_field_visit: Mapped[float | None] = mapped_column(Float, nullable=True)
    days_adaptation: Mapped[float | None] = mapped_column(Float, nullable=True)
    days_outcome: Mapped[float | None] = mapped_column(Float, nullable=True)
    people_reached: Mapped[int | None] = mapped_column(Integer, nullable=True)
    time_saved_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_saved_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    visits_saved: Mapped[float | None] = mapped_column(Float, nullable=True)


class FunnelCellRow(Base):
    """The funnel's counts kept per grouping and key, for all years (year 0) and per year:
    moved in the unit of work that changes a match (store/funnel_cells.py, 0007f), so a funnel
    reads a few hundred cells instead of every match. ``counts``: matches, open, reached per
    step, closes per reason and the whole days spent in each stage left as {days: matches}."""

    __tablename__ = "funnel_cells"

    by: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(max(ID_MAX, 64)), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(
        BigInteger,
        doc="moves on every change of counts: a reader keeps what it computed from a cell until then",
    )


class MatchHistoryRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "match_history"
    __table_args__ = (UniqueConstraint("match_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    match_id: Mapped[str] = mapped_column(ForeignKey("matches.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    stage: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxRow(Base):
    """One row per email, keyed by the business key the workflow computes."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_key: Mapped[str] = mapped_column(Text, unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    match_id: Mapped[str] = mapped_column(ForeignKey("matches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseStudyRow(Base):
    """A case study for The South-South Matchmaker, one per completed match whose partners
    consented to publish: the generated draft, the Secretariat's edit, its review status."""

    __tablename__ = "case_studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    match_id: Mapped[str] = mapped_column(ForeignKey("matches.id"), unique=True)
    title: Mapped[str] = mapped_column(Text)
    focus_area: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text, doc="the draft as the rules wrote it, never edited")
    status: Mapped[str] = mapped_column(
        String(20), default="draft", index=True, doc="draft, reviewed or published"
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    edited_body: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="the Secretariat's edit; NULL: not edited, the draft stands"
    )
    revision: Mapped[int] = mapped_column(
        Integer, default=1, doc="counts every change, for optimistic concurrency (If-Match)"
    )
    edited_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UserRow(Base):
    """A person of the Secretariat who may use the API, with the role that bounds what."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(
        String(PASSWORD_HASH_MAX), nullable=True, doc="argon2id; None: no console sign-in"
    )


class ApiKeyRow(Base):
    """An API key of a user: its public id and the hash of its secret, never the secret."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[str] = mapped_column(String(20), doc="at most the user's role")
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConsoleSessionRow(Base):
    """A signed-in browser of the console: the hash of its cookie's id, never the id."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="the absolute end")
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class StackCalendarRow(Base):
    """Day 0 of the stack's calendar: the instant it first started a match (one row)."""

    __tablename__ = "stack_calendar"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[datetime] = mapped_column(UtcDateTime)


class RateLimitRow(Base):
    """The recent failures of one client against one limit, shared by every API replica: the
    instants it failed (epoch seconds, oldest first, at most the limit). A row quiet for a
    window is deleted by the next write of its scope."""

    __tablename__ = "rate_limits"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    client: Mapped[str] = mapped_column(
        String(64), primary_key=True, doc="SHA-256 of the address or account: none in clear"
    )
    failures: Mapped[list[float]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ConsoleUploadRow(Base):
    """A workshop file checked in the console, held for its confirmation, then its import's
    progress: whichever API replica a request reaches reads it here."""

    __tablename__ = "console_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(
        String(64), doc="SHA-256 of the uploading session's CSRF secret"
    )
    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(10))
    digest: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the file")
    size: Mapped[int] = mapped_column(Integer)
    parsed: Mapped[dict[str, Any]] = mapped_column(
        JSON, doc="the checked file: its valid rows, its errors, its workshop policy"
    )
    workshop_id: Mapped[str | None] = mapped_column(String(ID_MAX), nullable=True)
    state: Mapped[str] = mapped_column(String(20), doc="checked, running, done or failed")
    to_start: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0, doc="rows started or checked so far")
    started: Mapped[int] = mapped_column(Integer, default=0)
    already_present: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, index=True, doc="the last write; while running, the replica's heartbeat"
    )
