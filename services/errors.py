"""What a use case can refuse, in words a caller can show."""


class MatchNotFound(Exception):
    """No match with that id (or, for a change, no open match)."""


class MoveRefused(Exception):
    """The rules refused the answer or action; the message says why."""


class ConflictingEoi(Exception):
    """The EOI id is taken by an EOI with different content."""


class EngineUnavailable(Exception):
    """Temporal did not answer in time; the caller may try again."""
