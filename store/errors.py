"""What a database error says, without what SQLAlchemy adds to it.

SQLAlchemy's messages carry the statement and its parameters, which hold partners' data; the
driver's own words say what went wrong. Used where a failure is shown (activities' failures,
the services' outage log lines)."""

from sqlalchemy.exc import SQLAlchemyError, StatementError


def driver_error(exc: SQLAlchemyError) -> BaseException:
    """The driver's own exception (asyncpg's hides behind the DB-API adapter's)."""
    cause: BaseException = exc.orig if isinstance(exc, StatementError) and exc.orig else exc
    return cause.__cause__ if cause.__cause__ is not None else cause


def reason(exc: SQLAlchemyError) -> str:
    """The database's own words on one line: the driver's error class and first line."""
    cause = driver_error(exc)
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")
