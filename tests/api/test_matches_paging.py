"""Keyset paging of GET /api/matches on SQLite and PostgreSQL: following ``next`` with
``after=`` gives every match once, in the order one long page gives, for every sort (ties of
time and deadline, matches without a deadline, a filter); a cursor edited, truncated, made for
another sort or other filters, or given with an offset, is a 422 that says so."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from infra.settings import Settings
from services.backend import Backend
from store.queries import MatchSort
from store.tables import MatchRow
from tests.support import add_match, bearer, http, unique_eoi
from workers.ports import free_port

SORTS = list(MatchSort.__args__)  # type: ignore[attr-defined]
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
async def api(sessions, database_url):  # type: ignore[no-untyped-def]
    """The API over a database with 23 matches in two workshops (no Temporal needed)."""
    from workers.http import create_app

    rng = random.Random(3)
    async with sessions() as session:
        for n in range(23):
            eoi = unique_eoi()
            workshop = "ws-even" if n % 2 == 0 else "ws-odd"
            eoi = eoi.model_copy(
                update={"workshop": eoi.workshop.model_copy(update={"id": workshop})}
            )
            await add_match(session, eoi)
            await session.execute(
                update(MatchRow)
                .where(MatchRow.id == eoi.match_id)
                .values(
                    # ties: three creation times, three deadlines, some with none
                    created_at=T0 + timedelta(hours=rng.choice([0, 1, 2])),
                    updated_at=T0 + timedelta(hours=rng.choice([0, 5])),
                    next_deadline=rng.choice(
                        [None, T0 + timedelta(days=1), T0 + timedelta(days=2), T0]
                    ),
                    stage=rng.choice(["follow_up", "field_visit", "closed"]),
                )
            )
        await session.commit()
    settings = Settings(database_url=database_url, temporal_target=f"127.0.0.1:{free_port()}")
    backend = Backend(client=None, sessions=sessions, task_queue="paging")  # type: ignore[arg-type]
    async with http(create_app(settings, backend=backend), headers=await bearer(sessions)) as c:
        yield c


async def _get(api, **params) -> dict:  # type: ignore[no-untyped-def]
    response = await api.get("/api/matches", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("sort", SORTS)
async def test_following_next_gives_every_match_once_in_order(api, sort):
    for filters in ({}, {"workshop_id": "ws-even"}):
        whole = await _get(api, sort=sort, limit=500, **filters)
        assert whole["next"] is None
        seen, after = [], None
        for _ in range(30):
            page = await _get(
                api, sort=sort, limit=4, **filters, **({"after": after} if after else {})
            )
            seen += [m["id"] for m in page["items"]]
            after = page["next"]
            if after is None:
                break
            assert len(page["items"]) == 4
        assert seen == [m["id"] for m in whole["items"]], (sort, filters)
        assert len(seen) == (23 if not filters else 12)


async def test_a_cursor_not_for_this_list_is_422_saying_so(api):
    first = await _get(api, sort="next_deadline", limit=3)
    cursor = first["next"]
    body, check = cursor.split(".")
    cases = {
        "edited": (
            {"after": body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + check},
            "check",
        ),
        "truncated": ({"after": cursor[:-3]}, "check"),
        "no cursor": ({"after": "hello"}, "cursor"),
        "another sort": ({"after": cursor, "sort": "-created_at"}, "sort=next_deadline"),
        "other filters": (
            {"after": cursor, "sort": "next_deadline", "workshop_id": "ws-odd"},
            "other filters",
        ),
        "with an offset": ({"after": cursor, "sort": "next_deadline", "offset": 3}, "not both"),
        "too long": ({"after": "x" * 5000}, "at most"),
    }
    for name, (params, said) in cases.items():
        response = await api.get("/api/matches", params=params)
        assert response.status_code == 422, (name, response.text)
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == ["query.after"], (name, errors)
        assert said in errors[0]["message"], (name, errors)
    assert (await _get(api, sort="next_deadline", limit=3, after=cursor))["items"]


async def test_the_offset_is_bounded_and_says_to_page_with_after(api):
    response = await api.get("/api/matches", params={"offset": 10_001})
    assert response.status_code == 422
    assert (await _get(api, offset=10_000))["items"] == []
    spec = (await api.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/matches"]["get"]["parameters"]}
    assert "after" in parameters and "keyset" in parameters["after"]["description"]
    assert "next" in spec["components"]["schemas"]["MatchList"]["properties"]
