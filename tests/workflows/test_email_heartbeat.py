"""send_email under Temporal: heartbeats keep a slow attempt alive; one that stops is retried."""

import time
import uuid
from datetime import timedelta

from structlog.testing import capture_logs
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.contracts import SendEmailInput, SendEmailResult
from activities.notifications import Notifications
from activities.smtp import SmtpMailer
from store import queries
from tests.activities.smtp_servers import ScriptedHandler, scripted_smtp
from tests.activities.test_notifications import IDENTITY, _prompt, _recorded_eoi


@workflow.defn(sandboxed=False)
class SendOneEmail:
    """Sends one email with the given heartbeat timeout, retrying quickly."""

    @workflow.run
    async def run(self, data: SendEmailInput) -> SendEmailResult:
        return await workflow.execute_activity_method(
            Notifications.send_email,
            data,
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=timedelta(seconds=3),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
        )


async def _run(temporal_env, sessions, port: int, *, heartbeat_every: float):
    eoi = await _recorded_eoi(sessions)
    mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=60)
    notifications = Notifications(
        sessions=sessions, mailer=mailer, identity=IDENTITY, heartbeat_every=heartbeat_every
    )
    task_queue = f"heartbeat-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_env.client,
        task_queue=task_queue,
        workflows=[SendOneEmail],
        activities=[notifications.send_email],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        started = time.monotonic()
        handle = await temporal_env.client.start_workflow(
            SendOneEmail.run, _prompt(eoi), id=f"hb-{uuid.uuid4().hex}", task_queue=task_queue
        )
        result = await handle.result()
        took = time.monotonic() - started
    await mailer.aclose()
    history = await handle.fetch_history()
    return eoi, result, took, history


async def test_a_slow_server_does_not_time_a_heartbeating_attempt_out(temporal_env, sessions):
    handler = ScriptedHandler(data_delays=[6])  # twice the heartbeat timeout
    with scripted_smtp(handler) as port:
        eoi, result, took, history = await _run(temporal_env, sessions, port, heartbeat_every=0.5)
    assert len(handler.messages) == 1 and not result.already_sent and took >= 6
    assert [a.attempt for a in _started(history)] == [1]
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert (row.status, row.attempts) == ("sent", 1)


async def test_an_attempt_that_stops_heartbeating_is_retried_within_seconds_as_a_duplicate(
    temporal_env, sessions
):
    # The first attempt heartbeats once and then falls silent, as a worker that died during
    # the SMTP conversation, after the server took the email but before its 250 arrived.
    handler = ScriptedHandler(data_delays=[60])
    with scripted_smtp(handler) as port, capture_logs() as logs:
        eoi, result, took, history = await _run(temporal_env, sessions, port, heartbeat_every=600)
    assert took < 15  # the heartbeat timeout (3 s) and a 1 s backoff, not the 2 min attempt
    [started] = _started(history)
    assert started.attempt == 2  # while the first was still waiting for the server's 250
    print(f"retried and sent in {took:.1f} s")  # noqa: T201
    # the email went out twice under one Message-ID, and the second send said so
    assert [m["Message-ID"] for m in handler.messages] == [result.message_id] * 2
    [duplicate] = [e for e in logs if e["event"].startswith("possible duplicate")]
    assert (duplicate["log_level"], duplicate["message_id"]) == ("warning", result.message_id)
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert (row.status, row.attempts) == ("sent", 2)


def _started(history):
    return [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
