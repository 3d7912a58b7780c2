"""Every integer the API reads from a query is bounded: beyond, 422 naming it, never a 500."""

import pytest

from api.routes.matches import MAX_LIMIT, MAX_OFFSET


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", 0),
        ("limit", MAX_LIMIT + 1),
        ("limit", 2**64),
        ("limit", "ten"),
        ("offset", -1),
        ("offset", MAX_OFFSET + 1),
        ("offset", 2**64),
        ("offset", 10**40),
    ],
)
async def test_a_page_out_of_bounds_is_422_naming_the_parameter(offline_api, name, value):
    response = await offline_api.get("/api/matches", params={name: value})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"query.{name}"]


async def test_the_bounds_themselves_are_accepted(offline_api):
    response = await offline_api.get(
        "/api/matches", params={"limit": MAX_LIMIT, "offset": MAX_OFFSET}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [],
        "total": 0,
        "total_is_lower_bound": False,
        "limit": MAX_LIMIT,
        "offset": MAX_OFFSET,
        "next": None,
    }


@pytest.mark.parametrize("match_id", ["match-" + "x" * 3000, "not-a-match", "match-a b"])
async def test_an_id_no_eoi_can_produce_is_404_without_asking_temporal(offline_api, match_id):
    # Temporal is not there: had the id been sent, the answer would have been 503
    state = await offline_api.get(f"/api/matches/{match_id}/state")
    paused = await offline_api.post(
        f"/api/matches/{match_id}/actions/pause", json={"reason": "elections"}
    )
    detail = await offline_api.get(f"/api/matches/{match_id}")
    assert [state.status_code, paused.status_code, detail.status_code] == [404, 404, 404]
