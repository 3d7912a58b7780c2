"""The stack a benchmark runs in its own process: a read model, an SMTP catcher on loopback, a
Temporal dev server, the activities' resources, and (for the partner pages) the app served by
uvicorn. Shared by bench/answer.py and bench/lifecycle.py."""

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.notifications import MailIdentity
from activities.smtp import SmtpMailer
from bench.cpu import port_of
from infra.settings import Settings
from infra.signing import PartnerLinks
from infra.temporal import binary_path, data_converter
from store.engine import make_engine, make_sessionmaker, upgrade_database
from workers.ports import free_port
from workers.serving import served
from workers.worker import Resources
from workflows.search_attributes import ALL_KEYS


@dataclass
class BenchStack:
    client: Client
    resources: Resources
    server_port: str  # the dev server's, for its CPU (bench/cpu.server_cpu)


@contextlib.asynccontextmanager
async def bench_stack(
    mail_handler: object,
    *,
    public_base_url: str,
    database_url: str | None = None,
    db_file: bool = False,
    links: PartnerLinks | None = None,
) -> AsyncIterator[BenchStack]:
    """Start everything; stop it all on exit. The read model is a new SQLite file unless
    ``database_url`` names one; ``db_file`` persists the dev server in SQLite."""
    workdir = Path(tempfile.mkdtemp(prefix="matchmaker-bench-"))
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, database_url)
    smtp_port = free_port()
    smtp = Controller(mail_handler, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    extra = ["--db-filename", str(workdir / "temporal.db")] if db_file else []
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        data_converter=data_converter(Settings(env="dev", data_dir=workdir)),
        search_attributes=ALL_KEYS,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=extra,
    )
    engine = make_engine(database_url)
    resources = Resources(
        engine=engine,
        sessions=make_sessionmaker(engine),
        mailer=SmtpMailer(host="127.0.0.1", port=smtp_port),
        identity=MailIdentity(
            sender="matchmaker@ssn4psi.org",
            sender_name="Matchmaker",
            secretariat_email="secretariat@ssn4psi.org",
            public_base_url=public_base_url,
        ),
        links=links,
    )
    try:
        yield BenchStack(client=env.client, resources=resources, server_port=port_of(env.client))
    finally:
        await env.shutdown()
        await engine.dispose()
        smtp.stop()


@contextlib.asynccontextmanager
async def app_client(app, transport: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A client of the app: over HTTP to uvicorn on loopback (``http``), as a browser reaches
    it, or in process with no socket (``asgi``)."""
    if transport == "asgi":
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http:
            yield http
        return
    port = free_port()
    async with (
        served(app, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        yield http
