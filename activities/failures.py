"""How activities fail: short messages, and poison told apart from outages.

A failure Temporal retries must be one that time can cure (the database restarting, the mail
server down). A failure no retry can cure (the database refusing a value) is raised as
non-retryable, so the workflow turns it into an event instead of retrying it forever. Messages
are cut to a size the Temporal UI shows ("Failure exceeds size limit." otherwise) and never
carry the SQL statement or its parameters, which hold partners' data.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from temporalio.exceptions import ApplicationError

from store.errors import driver_error, reason

MESSAGE_MAX = 1000
DATA_REJECTED = "DataRejected"  # non-retryable: the database refuses this record
DATABASE_UNAVAILABLE = "DatabaseUnavailable"  # retried: the database could not be reached


def cut(text: str, limit: int = MESSAGE_MAX) -> str:
    """Return ``text`` within ``limit`` characters, marked when it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refused(exc: SQLAlchemyError) -> bool:
    """Whether the database refused the data itself: SQLSTATE class 22 (data exception) or
    23 (integrity constraint), or a value the driver could not bind."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return True  # raised before the database saw it: a naive datetime, a wrong type
    sqlstate = getattr(driver_error(exc), "sqlstate", None) or getattr(
        getattr(exc, "orig", None), "sqlstate", None
    )
    return isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23")


@contextmanager
def database_errors(what: str) -> Iterator[None]:
    """Raise database failures as ApplicationErrors that say what failed and whether a retry
    can help; ``what`` names the unit of work ("recording the history")."""
    try:
        yield
    except SQLAlchemyError as exc:
        if _refused(exc):
            raise ApplicationError(
                cut(f"the database refused {what}: {reason(exc)}"),
                type=DATA_REJECTED,
                non_retryable=True,
            ) from None
        raise ApplicationError(
            cut(f"the database failed while {what}: {reason(exc)}"), type=DATABASE_UNAVAILABLE
        ) from None
    except (OSError, TimeoutError) as exc:
        raise ApplicationError(
            cut(f"the database failed while {what}: {type(exc).__name__}: {exc}"),
            type=DATABASE_UNAVAILABLE,
        ) from None
