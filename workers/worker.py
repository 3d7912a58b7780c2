"""The composition root of the worker: settings in, a running Temporal worker out."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.notifications import MailIdentity, Notifications
from activities.records import MatchRecords
from activities.smtp import SmtpMailer
from domain.model import load_reference_data
from domain.policy import SECONDS_PER_DAY
from infra.settings import Settings
from infra.signing import PartnerLinks
from infra.telemetry import instrument_engine
from store.engine import make_engine, make_sessionmaker
from workflows.match_lifecycle import MatchLifecycle

logger = structlog.get_logger()

WORKFLOWS = [MatchLifecycle]

# Validation libraries that pydantic imports lazily while decoding workflow inputs: pass them
# through so the sandbox neither warns about late imports nor re-imports them per workflow.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "email_validator", "idna", "pycountry", "pydantic_extra_types"
    )
)
# Without the sandbox: each step, replay and query costs less than half the CPU (docs/
# operations.md, "The workflow sandbox"). The tests and the replay checks keep the sandbox,
# so a non-deterministic call in workflows/ still fails there before it ships.
UNSANDBOXED = UnsandboxedWorkflowRunner()


def workflow_runner(*, sandboxed: bool) -> WorkflowRunner:
    """The runner of the match workflow: Temporal's sandbox, or the workflow run as imported."""
    return SANDBOX if sandboxed else UNSANDBOXED


def _default(setting: str) -> int:
    default: int = Settings.model_fields[setting].default
    return default


@dataclass(frozen=True)
class WorkerLimits:
    """How much one worker process holds and runs at once (Settings ``worker_*``)."""

    max_cached_workflows: int = _default("worker_max_cached_workflows")
    max_concurrent_workflow_tasks: int = _default("worker_max_concurrent_workflow_tasks")
    max_concurrent_activities: int = _default("worker_max_concurrent_activities")

    @classmethod
    def from_settings(cls, settings: Settings) -> "WorkerLimits":
        return cls(
            max_cached_workflows=settings.worker_max_cached_workflows,
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            max_concurrent_activities=settings.worker_max_concurrent_activities,
        )


@dataclass
class Resources:
    """What the activities need from the outside world, built once per process."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    mailer: SmtpMailer
    identity: MailIdentity
    links: PartnerLinks | None = None  # None: emails ask partners to reply instead
    day_seconds: float = SECONDS_PER_DAY  # the stack's day: days in stage are counted in it


@asynccontextmanager
async def open_resources(
    settings: Settings, *, provider: TracerProvider | None = None
) -> AsyncIterator[Resources]:
    """Build the database engine and the mailer from settings; dispose of them on exit. With a
    tracer ``provider``, every SQL statement is a span."""
    engine = make_engine(settings.resolved_database_url)
    instrument_engine(engine, provider)
    mailer = SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        tls=settings.smtp_tls,
        timeout=settings.smtp_timeout_seconds,
    )
    try:
        yield Resources(
            engine=engine,
            sessions=make_sessionmaker(engine),
            mailer=mailer,
            identity=MailIdentity(
                sender=settings.mail_from,
                sender_name=settings.mail_from_name,
                secretariat_email=settings.secretariat_email,
                public_base_url=settings.public_base_url,
                link_lifetime_days=settings.link_lifetime_days,
            ),
            links=partner_links(settings),
            day_seconds=settings.day_seconds,
        )
    finally:
        await mailer.aclose()
        await engine.dispose()


def partner_links(settings: Settings) -> PartnerLinks:
    """The signer of partner links, from the settings' secrets and grace period."""
    return PartnerLinks(settings.link_secrets, grace=timedelta(days=settings.link_grace_days))


def activities_of(resources: Resources) -> list[Callable[..., Any]]:
    """The activity methods, bound to the worker's database and mailer."""
    records = MatchRecords(resources.sessions, day_seconds=resources.day_seconds)
    notifications = Notifications(
        sessions=resources.sessions,
        mailer=resources.mailer,
        identity=resources.identity,
        links=resources.links,
    )
    return [
        records.record_match,
        records.record_history,
        records.draft_case_study,
        notifications.send_email,
        notifications.mark_undeliverable,
    ]


def build_worker(
    client: Client,
    *,
    task_queue: str,
    resources: Resources,
    limits: WorkerLimits | None = None,
    sandboxed: bool = True,
) -> Worker:
    """Register the workflows and the bound activity methods on one task queue. The workflow
    cache is bounded (``limits``): a match evicted from it is replayed from its history when it
    next moves or is queried, so memory stays flat however many matches are open. ``sandboxed``
    runs the workflow in Temporal's sandbox (Settings ``worker_workflow_sandbox``)."""
    load_reference_data()
    limits = limits or WorkerLimits()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(sandboxed=sandboxed),
        activities=activities_of(resources),
        max_cached_workflows=limits.max_cached_workflows,
        max_concurrent_workflow_tasks=limits.max_concurrent_workflow_tasks,
        max_concurrent_activities=limits.max_concurrent_activities,
    )
