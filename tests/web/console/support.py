"""Signing in to the console from a test: users with passwords, the tokens pages carry."""

import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.access import Role
from services import access, console_auth

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def console_user(sessions: async_sessionmaker, role: Role = Role.STAFF) -> str:
    """A fresh user with ``role`` and the password ``PASSWORD``; their address."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@ssn4psi.org"
    await access.add_user(sessions, email=email, name=f"Console {role.value}", role=role)
    await console_auth.set_password(sessions, email=email, password=PASSWORD)
    return email


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = "/console"
) -> httpx.Response:
    """Open the sign-in form and send it (the response is not followed)."""
    form = await client.get("/console/sign-in", params={"next": next_path})
    return await client.post(
        "/console/sign-in",
        data={"email": email, "password": password, "csrf": csrf_of(form.text), "next": next_path},
    )


async def signed_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker, role: Role = Role.STAFF
) -> str:
    """Sign ``client`` in as a fresh user of ``role``; the session's CSRF token."""
    email = await console_user(sessions, role)
    answer = await sign_in(client, email)
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/console")).text)
