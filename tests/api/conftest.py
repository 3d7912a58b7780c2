import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client

from activities.mail import SmtpMailer
from activities.notifications import MailIdentity
from tests.support import RecordingHandler
from workers.worker import Resources, build_worker


@dataclass
class Stack:
    client: Client
    task_queue: str
    resources: Resources
    mail: RecordingHandler


@pytest.fixture
async def stack(temporal_env, sessions, smtp) -> AsyncIterator[Stack]:
    """A worker with the real activities (database + SMTP) on a fresh task queue."""
    handler, port = smtp
    resources = Resources(
        engine=None,  # type: ignore[arg-type] - the sessions fixture owns the engine
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=port, timeout=5),
        identity=MailIdentity(
            sender="matchmaker@ssn4psi.org",
            sender_name="SSN4PSI Matchmaker",
            secretariat_email="secretariat@ssn4psi.org",
            public_base_url="http://127.0.0.1:8000",
        ),
    )
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    async with build_worker(temporal_env.client, task_queue=task_queue, resources=resources):
        yield Stack(
            client=temporal_env.client, task_queue=task_queue, resources=resources, mail=handler
        )
