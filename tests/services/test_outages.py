"""Which failures of the database or of Temporal the services tell as an outage."""

import pytest
from sqlalchemy import exc as sa_exc
from structlog.testing import capture_logs
from temporalio.service import RPCError, RPCStatusCode

from services.errors import Busy, DatabaseUnavailable, EngineUnavailable
from services.outages import UPDATE_LIMIT_MESSAGE, outages_refused, refusal_for

LIMIT = f"{UPDATE_LIMIT_MESSAGE} has been reached (10)"


def _rpc(status: RPCStatusCode, message: str = "boom") -> RPCError:
    return RPCError(message, status, b"")


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.OperationalError("SELECT 1", {}, Exception("unable to open database file")),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("terminated"), connection_invalidated=True),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
    ],
    ids=["operational", "interface", "invalidated", "pool-timeout", "refused", "timeout"],
)
def test_a_database_outage_is_database_unavailable(error):
    assert isinstance(refusal_for(error), DatabaseUnavailable)


@pytest.mark.parametrize(
    "error",
    [
        _rpc(RPCStatusCode.UNAVAILABLE),
        _rpc(RPCStatusCode.DEADLINE_EXCEEDED),
        RuntimeError("Failed client connect: Server connection error: tcp connect error"),
    ],
    ids=["unavailable", "deadline", "lazy-connect"],
)
def test_temporal_out_of_reach_is_engine_unavailable(error):
    assert isinstance(refusal_for(error), EngineUnavailable)


@pytest.mark.parametrize(
    "error",
    [_rpc(RPCStatusCode.RESOURCE_EXHAUSTED, LIMIT), _rpc(RPCStatusCode.UNKNOWN, LIMIT)],
    ids=["status", "message"],
)
def test_the_update_limit_is_busy(error):
    assert isinstance(refusal_for(error), Busy)


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        _rpc(RPCStatusCode.INVALID_ARGUMENT),
        RuntimeError("something else"),
        ValueError("a bug"),
    ],
)
def test_a_bug_is_not_an_outage(error):
    assert refusal_for(error) is None


async def test_the_statement_and_its_parameters_stay_out_of_the_log():
    error = sa_exc.OperationalError(
        "INSERT INTO eois VALUES (?)", ("ana@example.org wants rural access",), Exception("locked")
    )
    with capture_logs() as logs, pytest.raises(DatabaseUnavailable) as caught:
        async with outages_refused():
            raise error
    assert caught.value.__cause__ is error
    [entry] = logs
    assert entry["refusal"] == "DatabaseUnavailable" and "locked" in entry["error"]
    assert "rural access" not in repr(entry) and "INSERT" not in repr(entry)
