"""What a use case can refuse, in words a caller can show."""


class MatchNotFound(Exception):
    """No match with that id (or, for a change, no open match)."""


class MoveRefused(Exception):
    """The rules refused the answer or action; the message says why, ``code`` and ``params``
    say which refusal it is (domain/lifecycle/refusals.py; None when the workflow gave none)."""

    def __init__(
        self, message: str, *, code: str | None = None, params: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params = params or {}


class ConflictingEoi(Exception):
    """The EOI id is taken by an EOI with different content."""


class Unavailable(Exception):
    """A dependency is down or slow: nothing was decided, the caller may try again later."""


class EngineUnavailable(Unavailable):
    """Temporal (the workflow service) did not answer in time or cannot be reached."""


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached, or a connection to it broke or could not be had."""


class Busy(Exception):
    """The match takes no more changes at the moment (Temporal's limit on updates in flight
    per workflow); the caller may try again shortly."""


class CaseStudyNotFound(Exception):
    """No case study for that match (none was drafted: no outcome, or no consent to publish)."""


class CaseStudyConflict(Exception):
    """The case study changed since the caller read it, or its status does not allow the
    move; the message says what to do."""
