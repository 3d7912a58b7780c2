"""Signing in to the console: passwords, the session cookie, CSRF, roles, expiry, sign-out."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from domain.access import Role
from services import console_auth
from tests.web.console.support import PASSWORD, console_user, csrf_of, sign_in, signed_in
from web.console.auth import COOKIE, Staff, safe_next


def _sessions(app: FastAPI):  # type: ignore[no-untyped-def]
    return app.state.backend.sessions


async def test_a_page_without_a_session_sends_to_sign_in_and_back(browser, console_app):
    answer = await browser.get("/console/matches", params={"stage": "follow_up"})
    assert answer.status_code == 303
    assert (
        answer.headers["location"] == "/console/sign-in?next=/console/matches%3Fstage%3Dfollow_up"
    )
    email = await console_user(_sessions(console_app))
    signed = await sign_in(browser, email, next_path="/console/matches?stage=follow_up")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/matches?stage=follow_up"
    cookie = next(v for k, v in signed.headers.multi_items() if k == "set-cookie" and COOKIE in v)
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/console"):
        assert flag.lower() in cookie.lower()
    page = await browser.get("/console")
    assert page.status_code == 200
    assert "Console staff" in page.text and "Sign out" in page.text


async def test_htmx_without_a_session_is_told_to_load_the_sign_in_page(browser):
    answer = await browser.get("/console/matches", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/console/sign-in?next=")


async def test_a_wrong_password_or_unknown_address_signs_nobody_in(browser, console_app):
    email = await console_user(_sessions(console_app))
    for who, password in ((email, "not the password!"), ("nobody@ssn4psi.org", PASSWORD)):
        answer = await sign_in(browser, who, password)
        assert answer.status_code == 401
        assert "The email address or the password is wrong." in answer.text
        assert f"{COOKIE}=" not in answer.headers.get("set-cookie", "")
    assert (await browser.get("/console")).status_code == 303


async def test_failed_sign_ins_are_limited_then_refused_even_with_the_password(
    browser, console_app
):
    email = await console_user(_sessions(console_app))
    limit = console_app.state.settings.console_sign_in_failures_per_minute
    for _ in range(limit):
        assert (await sign_in(browser, email, "wrong password!!")).status_code == 401
    refused = await sign_in(browser, email)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.text


async def test_the_sign_in_form_needs_its_own_token(browser, console_app):
    email = await console_user(_sessions(console_app))
    await browser.get("/console/sign-in")
    answer = await browser.post(
        "/console/sign-in", data={"email": email, "password": PASSWORD, "csrf": "forged"}
    )
    assert answer.status_code == 403
    assert (await browser.get("/console")).status_code == 303


@pytest.mark.parametrize("token", ["-", ""])
async def test_the_sign_in_form_without_its_cookie_is_refused(browser, console_app, token):
    email = await console_user(_sessions(console_app))
    browser.cookies.clear()  # never shown the form: no cookie to match
    answer = await browser.post(
        "/console/sign-in", data={"email": email, "password": PASSWORD, "csrf": token}
    )
    assert answer.status_code == 403
    assert (await browser.get("/console")).status_code == 303


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/console", "/elsewhere", "/console\\@evil", ""],
)
def test_next_never_leaves_the_console(target):
    assert safe_next(target) == "/console"


def test_next_keeps_a_console_path_and_its_query():
    assert (
        safe_next("/console/matches?stage=closed&page=2") == "/console/matches?stage=closed&page=2"
    )


async def test_sign_out_needs_the_csrf_token_then_ends_the_session_for_good(browser, console_app):
    csrf = await signed_in(browser, _sessions(console_app))
    token = browser.cookies[COOKIE]
    for data in ({}, {"csrf": "wrong"}):
        refused = await browser.post("/console/sign-out", data=data)
        assert refused.status_code == 403
        assert "reload the page" in refused.text
    cross = await browser.post(
        "/console/sign-out", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert (await browser.get("/console")).status_code == 200
    out = await browser.post("/console/sign-out", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    browser.cookies.set(COOKIE, token, domain="matchmaker.test", path="/console")
    assert (await browser.get("/console")).status_code == 303


async def test_a_viewer_sees_no_action_and_is_refused_if_posting_anyway(browser, console_app):
    async def act(request: Request, user: Staff) -> HTMLResponse:
        return HTMLResponse(f"done by {user.actor}")

    console_app.add_api_route("/console/test-act", act, methods=["POST"])
    csrf = await signed_in(browser, _sessions(console_app), Role.VIEWER)
    refused = await browser.post("/console/test-act", data={"csrf": csrf})
    assert refused.status_code == 403
    assert "needs the staff role" in refused.text
    no_token = await browser.post("/console/test-act", headers={"X-CSRF-Token": "nope"})
    assert no_token.status_code == 403


async def test_staff_acts_as_themselves_with_the_token_in_a_form_or_htmx_header(
    browser, console_app
):
    async def act(request: Request, user: Staff) -> HTMLResponse:
        return HTMLResponse(f"done by {user.actor}")

    console_app.add_api_route("/console/test-act", act, methods=["POST"])
    csrf = await signed_in(browser, _sessions(console_app), Role.STAFF)
    by_form = await browser.post("/console/test-act", data={"csrf": csrf})
    by_htmx = await browser.post("/console/test-act", headers={"X-CSRF-Token": csrf})
    assert by_form.status_code == by_htmx.status_code == 200
    assert by_form.text.startswith("done by staff-")


async def test_a_session_ends_when_idle_or_old_or_when_the_password_changes(console_app):
    sessions = _sessions(console_app)
    email = await console_user(sessions)
    start = datetime.now(UTC)
    new = await console_auth.sign_in(
        sessions, email=email, password=PASSWORD, lifetime=timedelta(hours=2), now=start
    )
    idle = timedelta(minutes=30)

    async def user_at(minutes: float):  # type: ignore[no-untyped-def]
        at = start + timedelta(minutes=minutes)
        return await console_auth.current_user(sessions, token=new.token, idle=idle, now=at)

    assert (await user_at(29)) is not None
    assert (await user_at(58)) is not None  # seen at 29: idle counts from there
    assert (await user_at(89)) is None  # 31 minutes idle
    again = await console_auth.sign_in(
        sessions, email=email, password=PASSWORD, lifetime=timedelta(hours=2), now=start
    )
    for minutes in range(0, 120, 25):
        at = start + timedelta(minutes=minutes)
        assert await console_auth.current_user(sessions, token=again.token, idle=idle, now=at)
    late = start + timedelta(minutes=120)
    assert await console_auth.current_user(sessions, token=again.token, idle=idle, now=late) is None
    third = await console_auth.sign_in(sessions, email=email, password=PASSWORD, lifetime=idle)
    await console_auth.set_password(sessions, email=email, password="another long password")
    assert await console_auth.current_user(sessions, token=third.token, idle=idle) is None


async def test_the_database_holds_hashes_only(console_app):
    from sqlalchemy import text

    sessions = _sessions(console_app)
    email = await console_user(sessions)
    new = await console_auth.sign_in(
        sessions, email=email, password=PASSWORD, lifetime=timedelta(hours=1)
    )
    async with sessions() as session:
        stored = (await session.execute(text("SELECT password_hash FROM users"))).scalar_one()
        ids = (await session.execute(text("SELECT id_hash FROM console_sessions"))).scalars()
        ids = list(ids)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert new.token not in ids and console_auth.session_hash(new.token) in ids


async def test_a_short_password_is_refused(console_app):
    from services.access import AccessError

    email = await console_user(_sessions(console_app))
    with pytest.raises(AccessError, match="at least 12 characters"):
        await console_auth.set_password(_sessions(console_app), email=email, password="short")


def test_csrf_of_reads_the_hidden_field():
    assert csrf_of('<input type="hidden" name="csrf" value="abc">') == "abc"
