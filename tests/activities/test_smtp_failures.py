"""How SmtpMailer sorts what real SMTP servers on loopback answer, and whom it alerts."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from structlog.testing import capture_logs

from activities.mail import RenderedEmail, build_message
from activities.smtp import (
    PermanentDeliveryError,
    ServerDeliveryError,
    ServerProblem,
    SmtpMailer,
    TransientDeliveryError,
)
from tests.activities.smtp_servers import ScriptedHandler, bare_server, scripted_smtp
from workers.ports import free_port

RECIPIENT = "ana@example.org"
ALERT = "mail server refuses Matchmaker"


def _message():
    return build_message(
        sender="matchmaker@ssn4psi.org",
        sender_name="SSN4PSI Matchmaker",
        recipient=RECIPIENT,
        recipient_name="Ana",
        email=RenderedEmail(subject="Hello", text="Hello\n", html="<p>Hello</p>"),
        message_id="<m@ssn4psi.org>",
    )


async def _send(port: int, **mailer: Any) -> None:
    client = SmtpMailer(host="127.0.0.1", port=port, timeout=mailer.pop("timeout", 5), **mailer)
    try:
        await client.send(_message(), sender="matchmaker@ssn4psi.org", recipients=[RECIPIENT])
    finally:
        await client.aclose()


@dataclass
class Case:
    """A server that answers one way, and how the mailer must take it."""

    handler: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    mailer: dict[str, Any] = field(default_factory=dict)
    expected: type[Exception] = ServerDeliveryError
    problem: ServerProblem | None = None


LOGIN = {"username": "matchmaker", "password": "wrong"}

CASES = {
    # a recipient or the message refused for good: a bounce
    "rcpt 550": Case({"rcpt": "550 5.1.1 no such mailbox"}, expected=PermanentDeliveryError),
    "data 552": Case({"data": "552 5.3.4 message too big"}, expected=PermanentDeliveryError),
    "data 554": Case({"data": "554 5.7.1 rejected as spam"}, expected=PermanentDeliveryError),
    # a recipient or the message deferred: retried
    "rcpt 451": Case({"rcpt": "451 4.3.0 try again later"}, expected=TransientDeliveryError),
    "rcpt 452": Case({"rcpt": "452 4.2.2 mailbox full"}, expected=TransientDeliveryError),
    "data 451": Case({"data": "451 4.7.1 greylisted"}, expected=TransientDeliveryError),
    # the server refuses Matchmaker itself: retried, never a bounce
    "auth 535": Case(
        {"auth": "535 5.7.8 Authentication credentials invalid"},
        mailer=LOGIN,
        problem=ServerProblem.AUTHENTICATION,
    ),
    "auth 534": Case(
        {"auth": "534 5.7.9 Authentication mechanism is too weak"},
        mailer=LOGIN,
        problem=ServerProblem.AUTHENTICATION,
    ),
    "auth 454": Case(
        {"auth": "454 4.7.0 Temporary authentication failure"},
        mailer=LOGIN,
        problem=ServerProblem.AUTHENTICATION,
    ),
    "auth not offered": Case(
        server={"auth_require_tls": True},  # no TLS: aiosmtpd does not offer AUTH
        mailer=LOGIN,
        problem=ServerProblem.AUTHENTICATION,
    ),
    "mail 530 (login required)": Case(
        server={"auth_required": True}, problem=ServerProblem.AUTHENTICATION
    ),
    "rcpt 530": Case(
        {"rcpt": "530 5.7.0 Authentication required"}, problem=ServerProblem.AUTHENTICATION
    ),
    "rcpt 421": Case({"rcpt": "421 4.3.2 shutting down"}, problem=ServerProblem.UNAVAILABLE),
    "data 421": Case({"data": "421 4.3.2 shutting down"}, problem=ServerProblem.UNAVAILABLE),
    "mail 421": Case({"mail": "421 4.7.0 too many connections"}, problem=ServerProblem.UNAVAILABLE),
    "mail 553": Case({"mail": "553 5.7.1 sender not allowed"}, problem=ServerProblem.SENDER),
    "mail 451": Case({"mail": "451 4.3.0 sender check failed"}, problem=ServerProblem.SENDER),
    "ehlo and helo 550": Case({"ehlo": "550 5.7.1 go away"}, problem=ServerProblem.GREETING),
    "no starttls": Case(mailer={"tls": "starttls"}, problem=ServerProblem.TLS),
    "tls on a plain port": Case(mailer={"tls": "tls"}, problem=ServerProblem.TLS),
    "dropped at data": Case({"drop_on_data": True}, problem=ServerProblem.CONNECTION),
}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_each_smtp_answer_is_sorted(case: Case):
    handler = ScriptedHandler(**case.handler)
    with scripted_smtp(handler, **case.server) as port, pytest.raises(Exception) as info:
        await _send(port, **case.mailer)
    assert type(info.value) is case.expected, info.value
    if case.problem is not None:
        assert info.value.problem == case.problem
    assert not handler.messages
    assert len(str(info.value)) <= 1000


@pytest.mark.parametrize(
    ("greeting", "close", "problem"),
    [
        (b"421 4.3.2 too busy, try later\r\n", True, ServerProblem.UNAVAILABLE),
        (b"554 5.7.1 no SMTP service for you\r\n", True, ServerProblem.GREETING),
        (None, True, ServerProblem.CONNECTION),  # reset before a word
        (None, False, ServerProblem.CONNECTION),  # silent: the greeting times out
    ],
    ids=["greeting 421", "greeting 554", "reset", "silent"],
)
async def test_a_server_that_will_not_greet_is_the_servers_problem(greeting, close, problem):
    async with bare_server(greeting, close=close) as port:
        with pytest.raises(ServerDeliveryError) as info:
            await _send(port, timeout=0.5)
    assert info.value.problem == problem


async def test_a_refused_connection_is_the_servers_problem():
    with pytest.raises(ServerDeliveryError) as info:
        await _send(free_port())
    assert info.value.problem == ServerProblem.CONNECTION


async def test_a_long_reply_is_cut_to_1000_characters():
    reply = "\r\n".join(f"550-5.1.1 {'x' * 200}" for _ in range(10)) + "\r\n550 5.1.1 the end"
    with scripted_smtp(ScriptedHandler(rcpt=reply)) as port:
        with pytest.raises(PermanentDeliveryError) as info:
            await _send(port)
    assert len(str(info.value)) == 1000 and str(info.value).startswith(f"{RECIPIENT}: 550")


async def test_the_operator_is_alerted_once_per_problem_until_a_send_succeeds():
    handler = ScriptedHandler(auth="535 5.7.8 Authentication credentials invalid")
    with scripted_smtp(handler) as port, capture_logs() as logs:
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=5, **LOGIN)

        async def send() -> None:
            await mailer.send(_message(), sender="matchmaker@ssn4psi.org", recipients=[RECIPIENT])

        for _ in range(20):
            with pytest.raises(ServerDeliveryError):
                await send()
        handler.mail = "421 4.7.0 too many connections"  # another problem: its own alert
        handler.auth = None
        with pytest.raises(ServerDeliveryError):
            await send()
        with pytest.raises(ServerDeliveryError):
            await send()
        handler.mail = None  # the server takes email again, then refuses the login again
        await send()
        await mailer.aclose()
        handler.auth = "535 5.7.8 Authentication credentials invalid"
        with pytest.raises(ServerDeliveryError):
            await send()
        await mailer.aclose()
    alerts = [e for e in logs if e["event"] == ALERT]
    assert [(e["log_level"], e["problem"]) for e in alerts] == [
        ("error", "authentication"),
        ("error", "unavailable"),
        ("error", "authentication"),
    ]
    assert "535" in alerts[0]["cause"] and "MATCHMAKER_SMTP_PASSWORD" in alerts[0]["what_to_do"]
    assert [e["event"] for e in logs if e["log_level"] == "info"] == [
        "mail server accepts Matchmaker again"
    ]
    assert len(handler.messages) == 1
