"""`matchmaker setup`: what a deployment needs done once before its API and workers start.

The migration job of docker-compose.yml runs it on every deploy: the database schema up to
date, the namespace's search attributes registered (so an EOI accepted before the first worker
is up still starts), and the first admin made from the environment. Each step is idempotent."""

import asyncio
from dataclasses import dataclass

import structlog
from temporalio.client import Client

from infra.settings import Settings
from infra.temporal import connect, ensure_search_attributes
from services import console_auth
from services.console_auth import FirstAdmin
from store.engine import make_engine, make_sessionmaker, upgrade_database
from workflows.search_attributes import ALL_KEYS

logger = structlog.get_logger()


class SetupError(RuntimeError):
    """A step cannot be done; the message is one line for the operator."""


@dataclass(frozen=True)
class AdminRequest:
    email: str
    name: str
    password: str | None  # None: make one up, shown once


@dataclass(frozen=True)
class SetupReport:
    search_attributes_added: list[str]
    admin: FirstAdmin | None


async def _temporal_client(settings: Settings, wait_seconds: float) -> Client:
    """Connect, retrying while the server starts (compose starts this job beside it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            return await connect(settings)
        except RuntimeError as exc:  # the SDK's connection failure
            if loop.time() >= deadline:
                raise SetupError(
                    f"Temporal at {settings.temporal_target} did not answer within "
                    f"{wait_seconds:.0f} s ({exc})"
                ) from None
            await asyncio.sleep(2)


async def set_up(
    settings: Settings, *, admin: AdminRequest | None, wait_seconds: float = 120
) -> SetupReport:
    """Migrate, register the search attributes, make the first admin (when asked)."""
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    logger.info("database migrated")
    client = await _temporal_client(settings, wait_seconds)
    added = await ensure_search_attributes(client, settings.temporal_namespace, ALL_KEYS)
    logger.info("search attributes ready", added=len(added))
    made = None
    if admin is not None:
        engine = make_engine(settings.resolved_database_url)
        try:
            made = await console_auth.first_admin(
                make_sessionmaker(engine),
                email=admin.email,
                name=admin.name,
                password=admin.password,
            )
        finally:
            await engine.dispose()
    return SetupReport(search_attributes_added=added, admin=made)
