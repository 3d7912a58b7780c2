"""A unit of work PostgreSQL broke to resolve a deadlock runs again; other errors do not."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from store import units
from store.tables import UserRow, utcnow
from store.units import run_unit


class DriverError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(f"sqlstate {pgcode}")
        self.pgcode = pgcode


def _broken(pgcode: str) -> DBAPIError:
    return DBAPIError("UPDATE funnel_cells …", None, DriverError(pgcode))


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(units.asyncio, "sleep", _no_sleep)


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_a_deadlocked_unit_runs_again_and_commits_once(sessions):
    calls = []

    async def work(session) -> str:
        calls.append(1)
        session.add(UserRow(email=f"u{len(calls)}@ssn4psi.org", name="U", role="staff",
                            created_at=utcnow()))  # fmt: skip
        await session.flush()
        if len(calls) < 3:
            raise _broken("40P01" if len(calls) == 1 else "40001")
        return "done"

    assert await run_unit(sessions, work) == "done"
    assert len(calls) == 3
    async with sessions() as session:
        emails = (await session.scalars(select(UserRow.email))).all()
    # the broken attempts left nothing behind
    assert emails == ["u3@ssn4psi.org"]


async def test_other_errors_and_the_last_attempt_are_raised(sessions):
    async def refused(session) -> None:
        raise IntegrityError("INSERT …", None, DriverError("23505"))

    with pytest.raises(IntegrityError):
        await run_unit(sessions, refused)

    async def always_deadlocked(session) -> None:
        raise _broken("40P01")

    with pytest.raises(DBAPIError):
        await run_unit(sessions, always_deadlocked, attempts=2)
