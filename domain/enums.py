"""Enumerations shared by every layer of Matchmaker."""

from enum import StrEnum


class Stage(StrEnum):
    """Where a match stands in the lifecycle."""

    FOLLOW_UP = "follow_up"
    FIELD_VISIT = "field_visit"
    ADAPTATION = "adaptation"
    OUTCOME = "outcome"
    CLOSED = "closed"


class MatchStatus(StrEnum):
    """How a match is doing within its stage."""

    ACTIVE = "active"
    NEEDS_ATTENTION = "needs_attention"
    PAUSED = "paused"
    COMPLETED = "completed"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a match ended."""

    COMPLETED = "completed"
    DECLINED = "declined"
    LAPSED = "lapsed"
    NOT_PURSUED = "not_pursued"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    WITHDRAWN = "withdrawn"


class FocusArea(StrEnum):
    """The six focus areas of the South-South Network for Public Service Innovation."""

    FUTURE_OF_PUBLIC_SERVICE = "future_of_public_service"
    FUTURE_OF_CIVIL_SERVICE = "future_of_civil_service"
    FUTURE_OF_FINANCE = "future_of_finance"
    FUTURE_OF_WORK = "future_of_work"
    FUTURE_OF_DATA_INNOVATION = "future_of_data_innovation"
    FUTURE_OF_COMMERCE = "future_of_commerce"

    @property
    def label(self) -> str:
        """Return the name as the Network writes it ("Future of Public Service")."""
        words = self.value.split("_")
        return " ".join(w if w == "of" else w.capitalize() for w in words)

    @classmethod
    def parse(cls, raw: str) -> "FocusArea":
        """Accept either the code (``future_of_work``) or the label (``Future of Work``)."""
        key = "_".join(raw.strip().lower().replace("-", " ").split())
        return cls(key)


class Party(StrEnum):
    """Who takes part in a match."""

    ADOPTER = "adopter"
    PROVIDER = "provider"
    SECRETARIAT = "secretariat"


class PromptKind(StrEnum):
    """Questions a partner is asked; each answer reaches the workflow as an Update."""

    INTRODUCTION_ADOPTER = "introduction_adopter"
    INTRODUCTION_PROVIDER = "introduction_provider"
    VISIT_PROPOSAL = "visit_proposal"
    VISIT_CONFIRMATION = "visit_confirmation"
    VISIT_REPORT = "visit_report"
    ADAPTATION_PLAN = "adaptation_plan"
    CHECK_IN = "check_in"
    OUTCOME_REPORT = "outcome_report"
    OUTCOME_CONFIRMATION = "outcome_confirmation"


class NoticeKind(StrEnum):
    """Emails that ask nothing: reminders of dates, alerts and thanks."""

    VISIT_REMINDER = "visit_reminder"
    ESCALATION = "escalation"
    SUPPORT_REQUEST = "support_request"
    HELP_REQUEST = "help_request"
    DELIVERY_FAILURE = "delivery_failure"
    RECORD_FAILURE = "record_failure"
    THANKS = "thanks"
    CLOSED = "closed"
    # rules version 3
    VISIT_INVITATION = "visit_invitation"
    VISIT_CANCELLATION = "visit_cancellation"
    MATCH_CLOSED = "match_closed"


class PromptStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class VisitFormat(StrEnum):
    IN_PERSON = "in_person"
    VIRTUAL = "virtual"


class Exchange(StrEnum):
    """How a partner wants to share the solution."""

    FIELD_VISIT = "field_visit"
    REMOTE = "remote"


class CheckInStatus(StrEnum):
    ON_TRACK = "on_track"
    BLOCKED = "blocked"
    PILOTED = "piloted"
    ABANDONED = "abandoned"


class OutcomeResult(StrEnum):
    SCALED = "scaled"
    PILOTED = "piloted"
    NOT_ADOPTED = "not_adopted"
