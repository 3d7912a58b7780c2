"""The monitor's query: every filter, the sort orders and the pages, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from domain.model import ExpressionOfInterest
from store import queries
from store import writes as repository
from store.queries import MatchFilter
from store.tables import MatchRow
from tests.support import EXAMPLES, add_match, record_eoi

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _eoi(eoi_id: str, *, workshop: str, solution: dict, adopter: dict) -> ExpressionOfInterest:
    data = json.loads((EXAMPLES / "eoi.json").read_text())
    data["id"] = eoi_id
    data["workshop"]["id"] = workshop
    data["solution"].update(solution)
    data["adopter"]["institution"].update(adopter)
    return ExpressionOfInterest.model_validate(data)


IREMBO = {
    "id": "sol-rw-irembo",
    "title": "Irembo: government services online",
    "focus_area": "future_of_data_innovation",
    "provider": {"name": "Rwanda Information Society Authority", "country": "RW"},
}
# (eoi, position: stage, status, close reason, waiting on, attention, deadline, created day)
MATCHES = {
    "A": (
        _eoi("A", workshop="ws-nur-sultan", solution={}, adopter={}),
        ("follow_up", "active", None, ["adopter", "provider"], False, NOW - timedelta(hours=1), 1),
    ),
    "B": (
        _eoi(
            "B",
            workshop="ws-dhaka",
            solution=IREMBO,
            adopter={"name": "Ministère de la Fonction Publique", "country": "SN"},
        ),
        (
            "field_visit",
            "needs_attention",
            None,
            ["provider", "secretariat"],
            True,
            NOW + timedelta(days=2),
            2,
        ),
    ),
    "C": (
        _eoi(
            "C",
            workshop="ws-nur-sultan",
            solution={},
            adopter={"name": "Department of Public Service", "country": "PH"},
        ),
        ("closed", "closed", "lapsed", [], False, None, 3),
    ),
    "D": (
        _eoi("D", workshop="ws-dhaka", solution=IREMBO, adopter={"country": "UZ"}),
        (
            "adaptation",
            "paused",
            None,
            ["adopter", "secretariat"],
            False,
            NOW + timedelta(days=10),
            4,
        ),
    ),
}


async def _seed(sessions) -> None:
    async with sessions() as session:
        for eoi, (stage, status, reason, waiting, attention, deadline, day) in MATCHES.values():
            await add_match(session, eoi)
            await repository.update_match(
                session,
                match_id=eoi.match_id,
                stage=stage,
                status=status,
                next_deadline=deadline,
                close_reason=reason,
                waiting_on=waiting,
                needs_attention=attention,
            )
            created = datetime(2026, 11, day, tzinfo=UTC)
            await session.execute(
                update(MatchRow)
                .where(MatchRow.id == eoi.match_id)
                .values(created_at=created, updated_at=created + timedelta(days=10 - 2 * day))
            )
        await session.commit()


async def _ids(sessions, **criteria) -> list[str]:
    async with sessions() as session:
        rows, total, _, _ = await queries.list_matches(
            session, filters=MatchFilter(**criteria), now=NOW
        )
    assert total == len(rows) or "limit" in criteria or "offset" in criteria
    return [row.id.removeprefix("match-") for row in rows]


CASES = [
    ({"stage": "field_visit"}, {"B"}),
    ({"status": "paused"}, {"D"}),
    ({"close_reason": "lapsed"}, {"C"}),
    ({"focus_area": "future_of_data_innovation"}, {"B", "D"}),
    ({"adopter_country": "kz"}, {"A"}),  # codes are read in either case
    ({"provider_country": "RW"}, {"B", "D"}),
    ({"solution_id": "sol-bd-digital-centres"}, {"A", "C"}),
    ({"workshop_id": "ws-dhaka"}, {"B", "D"}),
    ({"overdue": True}, {"A"}),
    ({"overdue": False}, {"B", "C", "D"}),
    ({"waiting_on": "adopter"}, {"A", "D"}),
    ({"waiting_on": "provider"}, {"A", "B"}),
    ({"waiting_on": "secretariat"}, {"B", "D"}),
    ({"needs_attention": True}, {"B"}),
    ({"needs_attention": False}, {"A", "C", "D"}),
    ({"text": "UNION digital"}, {"A", "C"}),  # the solution's title
    ({"text": "rwanda information"}, {"B", "D"}),  # the provider's name
    ({"text": "MINISTÈRE"}, {"B"}),  # the adopter's, accents and case folded
    ({"text": "department of public"}, {"C"}),
    ({"text": "100%_"}, set()),  # LIKE's wildcards are literal
    ({"workshop_id": "ws-dhaka", "waiting_on": "secretariat", "stage": "adaptation"}, {"D"}),
    ({"provider_country": "BD", "overdue": True, "text": "agency"}, {"A"}),
    ({"stage": "outcome"}, set()),
]


async def test_every_filter_on_both_databases(sessions):
    await _seed(sessions)
    assert sorted(await _ids(sessions)) == ["A", "B", "C", "D"]
    for criteria, expected in CASES:
        assert set(await _ids(sessions, **criteria)) == expected, criteria


async def test_sort_orders_and_pages(sessions):
    await _seed(sessions)
    assert await _ids(sessions) == ["D", "C", "B", "A"]  # newest first by default
    assert await _ids(sessions, sort="created_at") == ["A", "B", "C", "D"]
    assert await _ids(sessions, sort="-created_at") == ["D", "C", "B", "A"]
    # matches without a deadline come last in either direction
    assert await _ids(sessions, sort="next_deadline") == ["A", "B", "D", "C"]
    assert await _ids(sessions, sort="-next_deadline") == ["D", "B", "A", "C"]
    assert await _ids(sessions, sort="updated_at") == ["D", "C", "B", "A"]
    assert await _ids(sessions, sort="-updated_at") == ["A", "B", "C", "D"]
    # the lifecycle's order, not the alphabet's
    assert await _ids(sessions, sort="stage") == ["A", "B", "D", "C"]
    assert await _ids(sessions, sort="next_deadline", limit=2, offset=1) == ["B", "D"]
    async with sessions() as session:
        rows, total, _, _ = await queries.list_matches(
            session, filters=MatchFilter(provider_country="RW", limit=1), now=NOW
        )
    assert ([r.id for r in rows], total) == (["match-D"], 2)


@pytest.mark.parametrize(
    ("criteria", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"adopter_country": "ZZ"}, "adopter_country"),
        ({"waiting_on": "minister"}, "waiting_on"),
        ({"sort": "summary"}, "sort"),
        ({"text": " "}, "text"),
        ({"text": "union\x00"}, "text"),  # PostgreSQL stores no NUL: named, never a 500
        ({"limit": 501}, "limit"),
    ],
)
def test_a_filter_that_cannot_hold_is_refused_by_name(criteria, named):
    with pytest.raises(ValidationError, match=named):
        MatchFilter(**criteria)


async def test_the_migration_fills_what_rows_already_there_can_tell(sessions, database_url):
    import asyncio

    from alembic import command

    from store.engine import alembic_config

    await _seed(sessions)
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0003")
    # to the head: the ORM reads every column later migrations add (0004m is on the way)
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessions() as session:
        rows = {
            r.id.removeprefix("match-"): r
            for r in (await queries.list_matches(session, filters=MatchFilter(), now=NOW))[0]
        }
    assert rows["B"].solution_id == "sol-rw-irembo" and rows["A"].solution_id == (
        "sol-bd-digital-centres"
    )
    assert "ministère de la fonction publique" in rows["B"].search_text
    assert "rwanda information society authority" in rows["D"].search_text
    assert {k for k, r in rows.items() if r.needs_attention} == {"B"}  # its status said so
    assert {r.waiting_on for r in rows.values()} == {None}  # known at each match's next change
    assert set(await _ids(sessions, text="irembo")) == {"B", "D"}


@pytest.mark.parametrize("intake_first", [True, False], ids=["intake-first", "workflow-first"])
async def test_record_match_keeps_whom_the_match_waits_on_whoever_came_first(
    sessions, intake_first
):
    from temporalio.testing import ActivityEnvironment

    from activities.contracts import MatchSnapshot, RecordMatchInput
    from activities.records import MatchRecords
    from tests.support import unique_eoi

    eoi = unique_eoi()
    if intake_first:
        await record_eoi(sessions, eoi)
    snapshot = MatchSnapshot(
        stage="follow_up",
        status="active",
        next_deadline=NOW,
        waiting_on=["provider", "adopter"],
        needs_attention=False,
    )
    await ActivityEnvironment().run(
        MatchRecords(sessions).record_match,
        RecordMatchInput(eoi=eoi, workflow_id=eoi.match_id, snapshot=snapshot, entries=[]),
    )
    async with sessions() as session:
        row = await queries.get_match(session, match_id=eoi.match_id)
    assert (row.waiting_on, row.needs_attention, row.next_deadline) == (
        "adopter,provider",
        False,
        NOW,
    )
    assert row.solution_id == eoi.solution.id


async def test_an_older_workflows_snapshot_leaves_what_it_does_not_know(sessions):
    eoi = MATCHES["A"][0]
    await _seed(sessions)
    async with sessions() as session:
        # a snapshot from a workflow task scheduled before waiting_on existed
        await repository.update_match(
            session, match_id=eoi.match_id, stage="follow_up", status="active", next_deadline=NOW
        )
        await session.commit()
        row = await queries.get_match(session, match_id=eoi.match_id)
    assert (row.waiting_on, row.needs_attention) == ("adopter,provider", False)
