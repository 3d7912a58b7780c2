"""An outage of the database or of Temporal, told to the caller as one of the services' own
refusals (``DatabaseUnavailable``, ``EngineUnavailable``, ``Busy``) instead of leaking as an
unexpected error: the web layer can then answer 503 / 429 with ``Retry-After``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy import exc as sa_exc
from temporalio.service import RPCError, RPCStatusCode

from services.errors import Busy, DatabaseUnavailable, EngineUnavailable
from store.errors import reason

logger = structlog.get_logger()

# Temporal's answer when a workflow already has its maximum of updates in flight
UPDATE_LIMIT_MESSAGE = "limit on number of concurrent in-flight updates"
# what the SDK raises when a lazily connected client cannot reach the server
CONNECT_FAILURE = "Failed client connect"
ENGINE_DOWN = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


def database_down(exc: BaseException) -> bool:
    """Whether an exception means the database cannot be reached or its connection broke
    (rather than a bug in a statement): no connection, a dropped or invalidated one, a pool
    with none free, a timeout."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError | OSError
    )


def engine_down(exc: BaseException) -> bool:
    """Whether an exception means Temporal cannot be reached or did not answer in time."""
    if isinstance(exc, RPCError):
        return exc.status in ENGINE_DOWN
    return isinstance(exc, RuntimeError) and str(exc).startswith(CONNECT_FAILURE)


def engine_busy(exc: BaseException) -> bool:
    """Whether Temporal refused the call for a limit (on updates in flight per workflow)."""
    return isinstance(exc, RPCError) and (
        exc.status == RPCStatusCode.RESOURCE_EXHAUSTED or UPDATE_LIMIT_MESSAGE in exc.message
    )


def _diagnostic(exc: BaseException) -> str:
    """What an operator needs from the error, without the statement and its parameters that
    SQLAlchemy puts in its message (partner data)."""
    if isinstance(exc, sa_exc.DBAPIError):
        return reason(exc)[:300]
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:300]


def refusal_for(exc: BaseException) -> Exception | None:
    """The refusal that tells the caller about an outage, or None when it is not one."""
    if database_down(exc):
        return DatabaseUnavailable("the database is unavailable; try again shortly")
    if engine_busy(exc):
        return Busy("this match is busy with other changes; try again shortly")
    if engine_down(exc):
        return EngineUnavailable(
            "the workflow service (Temporal) is unavailable; try again shortly"
        )
    return None


@asynccontextmanager
async def outages_refused() -> AsyncIterator[None]:
    """Turn an outage raised inside the block (or the decorated use case) into its refusal."""
    try:
        yield
    except Exception as exc:
        refusal = refusal_for(exc)
        if refusal is None:
            raise
        logger.warning(
            "dependency refused the call",
            refusal=type(refusal).__name__,
            error=_diagnostic(exc),
        )
        raise refusal from exc
