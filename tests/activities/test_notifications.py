import asyncio
import shutil
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import SendEmailInput
from activities.mail import TEMPLATES_DIR, TemplateRenderer
from activities.notifications import (
    EMAIL_NOT_BUILDABLE,
    PERMANENT_DELIVERY_ERROR,
    MailIdentity,
    Notifications,
)
from activities.samples import SECRETARIAT_KINDS, sample_context
from activities.smtp import SmtpMailer
from domain.enums import NoticeKind, Party, PromptKind
from domain.lifecycle.effects import SendEmail
from infra.console_links import console_match_url
from store import queries
from tests.activities.smtp_servers import ScriptedHandler, scripted_smtp
from tests.support import record_eoi, unique_eoi, wait_for
from workers.ports import free_port

IDENTITY = MailIdentity(
    sender="matchmaker@ssn4psi.org",
    sender_name="SSN4PSI Matchmaker",
    secretariat_email="secretariat@ssn4psi.org",
    public_base_url="http://127.0.0.1:8000",
)


async def _recorded_eoi(sessions):
    eoi = unique_eoi()
    await record_eoi(sessions, eoi)
    return eoi


def _prompt(eoi, party=Party.ADOPTER):
    contact = eoi.adopter.contact if party is Party.ADOPTER else eoi.solution.contact
    kind = (
        PromptKind.INTRODUCTION_ADOPTER
        if party is Party.ADOPTER
        else PromptKind.INTRODUCTION_PROVIDER
    )
    prompt_id = f"{kind}-1"
    return SendEmailInput(
        match_id=eoi.match_id,
        eoi=eoi,
        email=SendEmail(
            key=f"{eoi.match_id}/follow_up/{prompt_id}/{contact.email}/1",
            template=kind,
            party=party,
            recipient_email=contact.email,
            recipient_name=contact.name,
            prompt_id=prompt_id,
            context={"prompt_id": prompt_id, "reminder": False, "answer_by": "2026-12-23"},
        ),
    )


def _notifications(sessions, port):
    return Notifications(
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=port, timeout=5),
        identity=IDENTITY,
    )


async def test_introductions_reach_both_partners_with_text_and_html(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    notifications = _notifications(sessions, port)
    env = ActivityEnvironment()
    with capture_logs() as logs:
        adopter = await env.run(notifications.send_email, _prompt(eoi, Party.ADOPTER))
        provider = await env.run(notifications.send_email, _prompt(eoi, Party.PROVIDER))
    assert not adopter.already_sent and not provider.already_sent
    [to_adopter] = handler.to(eoi.adopter.contact.email)
    [to_provider] = handler.to(eoi.solution.contact.email)
    assert to_adopter["Message-ID"] == adopter.message_id
    assert "please confirm" in to_adopter["Subject"]
    assert "will you share it?" in to_provider["Subject"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in to_adopter.walk()
        if not part.is_multipart()
    }
    assert eoi.adopter.institution.name in parts["text/plain"]
    assert "<strong>Agency for Civil Service Affairs</strong>" in parts["text/html"]
    provider_text = next(p for p in to_provider.walk() if p.get_content_type() == "text/plain")
    assert "Kazakhstan" in provider_text.get_payload(decode=True).decode()
    sent = [entry for entry in logs if entry["event"] == "email sent"]
    assert {entry["match_id"] for entry in sent} == {eoi.match_id}
    assert all("workflow_id" in entry for entry in sent)


async def test_html_escapes_partner_text(sessions, smtp):
    handler, port = smtp
    eoi = (await _recorded_eoi(sessions)).model_copy(
        update={"interest_statement": "<script>alert(1)</script>"}
    )
    await ActivityEnvironment().run(_notifications(sessions, port).send_email, _prompt(eoi))
    html = next(
        p.get_payload(decode=True).decode()
        for p in handler.messages[0].walk()
        if p.get_content_type() == "text/html"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_a_retried_send_does_not_send_twice(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    notifications = _notifications(sessions, port)
    first = await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
    again = await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
    assert again.already_sent and again.message_id == first.message_id
    assert len(handler.messages) == 1
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None


async def test_a_permanent_refusal_is_not_retried_and_is_recorded(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    handler.refuse[eoi.adopter.contact.email] = "550 5.1.1 mailbox unavailable"
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(_notifications(sessions, port).send_email, _prompt(eoi))
    assert info.value.non_retryable and info.value.type == PERMANENT_DELIVERY_ERROR
    assert "550" in str(info.value)
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "bounced" and "550" in row.last_error


async def test_a_temporary_refusal_is_retryable(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    handler.refuse[eoi.adopter.contact.email] = "451 4.3.0 try again later"
    with pytest.raises(ApplicationError, match="451") as info:
        await ActivityEnvironment().run(_notifications(sessions, port).send_email, _prompt(eoi))
    assert info.value.type == "TransientDeliveryError" and not info.value.non_retryable
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "pending" and "451" in row.last_error
    handler.refuse.clear()
    result = await ActivityEnvironment().run(
        _notifications(sessions, port).send_email, _prompt(eoi)
    )
    assert not result.already_sent and len(handler.messages) == 1
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sent" and row.attempts == 2


async def test_an_unreachable_server_is_retryable(sessions):
    eoi = await _recorded_eoi(sessions)
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(
            _notifications(sessions, free_port()).send_email, _prompt(eoi)
        )
    assert info.value.type == "ServerDeliveryError" and not info.value.non_retryable
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "pending" and "Connect call failed" in row.last_error


async def test_notices_to_the_secretariat_use_the_configured_inbox(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    notice = SendEmailInput(
        match_id=eoi.match_id,
        eoi=eoi,
        email=SendEmail(
            key=f"{eoi.match_id}/follow_up/escalation-1/secretariat",
            template=NoticeKind.ESCALATION,
            party=Party.SECRETARIAT,
            recipient_email=None,
            context={"why": "no answer from the adopter after 21 days"},
        ),
    )
    await ActivityEnvironment().run(_notifications(sessions, port).send_email, notice)
    [message] = handler.to("secretariat@ssn4psi.org")
    assert "Needs attention" in message["Subject"] and "21 days" in message["Subject"]


@pytest.mark.parametrize("template", [*PromptKind, *NoticeKind])
def test_every_template_renders_text_and_html(template):
    from activities.samples import sample_context

    context = sample_context(template.value, links=False)
    rendered = TemplateRenderer().render(template.value, context)
    assert rendered.subject and "\n" not in rendered.subject
    assert context["match_id"] in rendered.text and "<html" in rendered.html


async def test_a_contact_who_speaks_french_receives_french(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    prompt = _prompt(eoi)
    prompt = prompt.model_copy(
        update={"email": prompt.email.model_copy(update={"recipient_language": "fr"})}
    )
    await ActivityEnvironment().run(_notifications(sessions, port).send_email, prompt)
    [message] = handler.to(eoi.adopter.contact.email)
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("Votre intérêt pour « Union Digital Centres")
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    text = " ".join(parts["text/plain"].split())
    assert "Bonjour Aigerim Sadykova," in text and "23 décembre 2026" in text
    assert "Veuillez agréer nos salutations distinguées," in text
    assert "Please" not in text and "Dear" not in text
    assert '<html lang="fr">' in parts["text/html"] and "Pour répondre" in parts["text/html"]
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert row.subject == subject  # the outbox shows what the partner read


async def test_connections_are_reused_and_a_dropped_one_is_replaced(sessions):
    from aiosmtpd.controller import Controller

    from tests.support import RecordingHandler

    handler = RecordingHandler()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=5)
    notifications = Notifications(sessions=sessions, mailer=mailer, identity=IDENTITY)
    try:
        for _ in range(3):
            eoi = await _recorded_eoi(sessions)
            await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
        assert len(handler.messages) == 3 and len(set(handler.peers)) == 1
        server.stop()  # the server goes away and comes back: the kept connection is dead
        server = Controller(handler, hostname="127.0.0.1", port=port)
        server.start()
        eoi = await _recorded_eoi(sessions)
        await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
        assert len(handler.messages) == 4 and len(set(handler.peers)) == 2
    finally:
        await mailer.aclose()
        server.stop()


@pytest.mark.parametrize("suggested", [None, [], "some"])
def test_the_escalation_lists_the_suggested_actions_when_it_has_them(suggested):
    from activities.mail import TemplateRenderer
    from tests.support import example_eoi

    eoi = example_eoi()
    moves = [
        {"action": "resend", "kind": "resend", "params": {}, "text": "send p-1 again"},
        {"action": "close", "kind": "close", "params": {}, "text": "close the match (lapsed)"},
    ]
    context = {
        "match_id": eoi.match_id,
        "recipient": {"name": "Secretariat", "language": "en"},
        "solution": eoi.solution,
        "adopter": eoi.adopter,
        "provider_country_name": "Bangladesh",
        "adopter_country_name": "Kazakhstan",
        "secretariat_email": "s@ssn4psi.org",
        "prompt_id": "p-1",
        "answer_by": None,
        "why": "no answer from the adopter to introduction_adopter after 21 days",
    }
    if suggested is not None:  # emails of matches escalated before the rules suggested moves
        context["suggested_actions"] = moves if suggested == "some" else []
    rendered = TemplateRenderer().render("escalation", context)
    if suggested == "some":
        assert "  - resend: send p-1 again\n  - close: close the match (lapsed)" in rendered.text
        assert "<li><code>resend</code>: send p-1 again</li>" in rendered.html
    elif suggested is None:
        assert "You can extend the deadline" in rendered.text
    else:
        assert "nothing is left to do" in rendered.text and "nothing is left" in rendered.html


async def test_a_wrong_password_alerts_the_operator_once_and_bounces_no_one(sessions):
    handler = ScriptedHandler(auth="535 5.7.8 Authentication credentials invalid")
    with scripted_smtp(handler) as port:
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=5, username="mm", password="x")
        notifications = Notifications(sessions=sessions, mailer=mailer, identity=IDENTITY)
        eois = [await _recorded_eoi(sessions) for _ in range(10)]
        failures = []
        with capture_logs() as logs:
            for eoi in eois:
                for party in (Party.ADOPTER, Party.PROVIDER):
                    with pytest.raises(ApplicationError) as info:
                        await ActivityEnvironment().run(
                            notifications.send_email, _prompt(eoi, party)
                        )
                    failures.append(info.value)
        await mailer.aclose()
    assert len(failures) == 20
    assert {(f.type, f.non_retryable) for f in failures} == {("ServerDeliveryError", False)}
    alerts = [e for e in logs if e["event"] == "mail server refuses Matchmaker"]
    assert [(a["log_level"], a["problem"]) for a in alerts] == [("error", "authentication")]
    assert [e["log_level"] for e in logs if e["event"] == "email deferred"] == ["warning"] * 20
    assert not [e for e in logs if e["log_level"] == "error" and e not in alerts]
    async with sessions() as session:
        rows = [
            r for eoi in eois for r in await queries.list_outbox(session, match_id=eoi.match_id)
        ]
    assert len(rows) == 20 and {r.status for r in rows} == {"pending"}
    assert all("535" in r.last_error for r in rows)
    assert not handler.messages


def _broken_templates(tmp_path: Path, how: str) -> TemplateRenderer:
    """A copy of the templates whose introduction_adopter email cannot be rendered."""
    directory = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, directory)
    text = directory / "introduction_adopter.txt.j2"
    if how == "undefined":
        text.write_text("{% set subject %}Hello {{ no_such_thing.name }}{% endset %}Hi\n")
    elif how == "syntax":
        text.write_text("{% set subject %}Hello{% endset %}{% if %}\n")
    elif how == "missing":
        (directory / "introduction_adopter.html.j2").unlink()
    else:
        text.write_text("No subject set\n")
    return TemplateRenderer(directory)


@pytest.mark.parametrize("how", ["undefined", "syntax", "missing", "no subject"])
async def test_an_email_whose_template_fails_is_poison_not_a_retry(sessions, smtp, tmp_path, how):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    notifications = Notifications(
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=port, timeout=5),
        identity=IDENTITY,
        renderer=_broken_templates(tmp_path, how),
    )
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
    assert info.value.type == EMAIL_NOT_BUILDABLE and info.value.non_retryable
    assert "introduction_adopter" in info.value.message and "fix the template" in info.value.message
    assert not handler.messages
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert row.status == "failed" and row.last_error == info.value.message
    assert len(row.last_error) <= 300


@pytest.mark.parametrize(
    "address",
    ["ana@example.org\r\nBcc: eve@example.org", "айгерим@пример.рф", "not an address"],
    ids=["header injection", "non-ASCII local part", "no address"],
)
async def test_an_email_whose_headers_cannot_be_built_is_poison_not_a_retry(
    sessions, smtp, address
):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    prompt = _prompt(eoi)
    prompt = prompt.model_copy(
        update={"email": prompt.email.model_copy(update={"recipient_email": address})}
    )
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(_notifications(sessions, port).send_email, prompt)
    assert info.value.type == EMAIL_NOT_BUILDABLE and info.value.non_retryable
    assert info.value.message.endswith("correct the contact and resend")
    assert not handler.messages
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert row.status == "failed" and row.last_error == info.value.message


async def test_an_internationalised_domain_is_sent_as_idna(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    prompt = _prompt(eoi)
    prompt = prompt.model_copy(
        update={"email": prompt.email.model_copy(update={"recipient_email": "ana@пример.рф"})}
    )
    await ActivityEnvironment().run(_notifications(sessions, port).send_email, prompt)
    [message] = handler.messages
    assert message["To"].endswith("<ana@xn--e1afmkfd.xn--p1ai>")


async def test_a_long_refusal_reaches_temporal_cut_to_1000_characters(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    lines = [f"550-5.1.1 {'why ' * 60}" for _ in range(10)]
    handler.refuse[eoi.adopter.contact.email] = "\r\n".join([*lines, "550 5.1.1 the end"])
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(_notifications(sessions, port).send_email, _prompt(eoi))
    assert info.value.type == PERMANENT_DELIVERY_ERROR
    assert len(info.value.message) == 1000 and info.value.__cause__ is None
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert row.status == "bounced"


async def test_an_attempt_that_died_after_the_server_took_the_email_is_sent_again_and_logged(
    sessions,
):
    handler = ScriptedHandler(data_delays=[60])  # takes the message, holds the 250 back
    with scripted_smtp(handler) as port:
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=90)
        notifications = Notifications(sessions=sessions, mailer=mailer, identity=IDENTITY)
        eoi = await _recorded_eoi(sessions)
        env = ActivityEnvironment()
        attempt = asyncio.create_task(env.run(notifications.send_email, _prompt(eoi)))
        await wait_for(lambda: handler.messages)
        env.cancel()  # the worker dies before the 250 arrives, before `sent` is recorded
        with pytest.raises(asyncio.CancelledError):
            await attempt
        async with sessions() as session:
            [row] = await queries.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sending"

        with capture_logs() as logs:
            result = await ActivityEnvironment().run(notifications.send_email, _prompt(eoi))
        await mailer.aclose()
    assert [m["Message-ID"] for m in handler.messages] == [result.message_id] * 2
    [duplicate] = [e for e in logs if e["event"].startswith("possible duplicate")]
    assert duplicate["log_level"] == "warning"
    assert duplicate["business_key"] == _prompt(eoi).email.key
    assert duplicate["message_id"] == result.message_id
    async with sessions() as session:
        [row] = await queries.list_outbox(session, match_id=eoi.match_id)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_send_email_heartbeats_while_the_server_takes_its_time(sessions):
    handler = ScriptedHandler(data_delays=[1.0])
    with scripted_smtp(handler) as port:
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=5)
        notifications = Notifications(
            sessions=sessions, mailer=mailer, identity=IDENTITY, heartbeat_every=0.1
        )
        eoi = await _recorded_eoi(sessions)
        loop = asyncio.get_running_loop()
        beats: list[float] = []
        env = ActivityEnvironment()
        env.on_heartbeat = lambda *details: beats.append(loop.time())
        await env.run(notifications.send_email, _prompt(eoi))
        done = loop.time()
        await asyncio.sleep(0.3)
        await mailer.aclose()
    [data_started] = handler.data_started
    during_data = [t for t in beats if data_started <= t <= done]
    assert len(during_data) >= 7  # every 0.1 s through the server's 1 s
    assert max(beats) <= done  # and none once the activity has returned


def _bodies(message) -> tuple[str, str]:
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    return text, html


@pytest.mark.parametrize("kind", sorted(SECRETARIAT_KINDS))
async def test_each_secretariat_email_links_to_the_match_in_the_console(sessions, smtp, kind):
    """Escalations, delivery failures, help and support requests, closes, refused records:
    the Secretariat's copy links to its console, never to a partner's signed pages."""
    from infra.settings import Settings
    from workers.worker import partner_links

    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    sample = sample_context(kind)
    context = {k: sample[k] for k in ("why", "about", "message", "support_needed", "note")}
    context |= {k: sample[k] for k in ("reason", "summary", "result")}
    notice = SendEmailInput(
        match_id=eoi.match_id,
        eoi=eoi,
        email=SendEmail(
            key=f"{eoi.match_id}/follow_up/{kind}-1/secretariat",
            template=NoticeKind(kind),
            party=Party.SECRETARIAT,
            recipient_email=None,
            context=context,
        ),
    )
    notifications = Notifications(
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=port, timeout=5),
        identity=IDENTITY,
        links=partner_links(Settings()),  # a signer is at hand: the Secretariat gets no token
    )
    await ActivityEnvironment().run(notifications.send_email, notice)
    [message] = handler.to("secretariat@ssn4psi.org")
    url = f"http://127.0.0.1:8000/console/matches/{eoi.match_id}"
    assert url == console_match_url(IDENTITY.public_base_url + "/", eoi.match_id)
    for body in _bodies(message):
        assert url in body, body
        assert "/respond/" not in body and "/match/" not in body


async def test_a_partners_copy_of_a_support_request_keeps_its_signed_link(sessions, smtp):
    from infra.settings import Settings
    from workers.worker import partner_links

    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    notice = SendEmailInput(
        match_id=eoi.match_id,
        eoi=eoi,
        email=SendEmail(
            key=f"{eoi.match_id}/adaptation/support-1/provider",
            template=NoticeKind.SUPPORT_REQUEST,
            party=Party.PROVIDER,
            recipient_email=eoi.solution.contact.email,
            recipient_name=eoi.solution.contact.name,
            context={"support_needed": "the forms", "note": ""},
        ),
    )
    notifications = Notifications(
        sessions=sessions,
        mailer=SmtpMailer(host="127.0.0.1", port=port, timeout=5),
        identity=IDENTITY,
        links=partner_links(Settings()),
    )
    await ActivityEnvironment().run(notifications.send_email, notice)
    [message] = handler.to(eoi.solution.contact.email)
    for body in _bodies(message):
        assert "http://127.0.0.1:8000/match/" in body and "/console/" not in body


_MARKUP = '<a href="https://evil.example/">click</a><form action="https://evil.example/">'
# every free text a person can set that reaches an email: names, institutions, titles,
# statements, notes, reasons, messages
_FREE_TEXT = frozenset(
    {"name", "title", "interest_statement", "why", "support_needed", "note", "message",
     "summary", "lessons", "provider_notes", "needs", "learned", "customisations", "reason_text",
     "notes", "venue", "city", "agenda", "delegates", "meeting_url"}
)  # fmt: skip


def _tainted(value):
    """The value with markup put into every free-text field, models and dicts alike."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {
            key: (_MARKUP + item if key in _FREE_TEXT and isinstance(item, str) else _tainted(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_tainted(item) for item in value]
    return value


@pytest.mark.parametrize("kind", [*PromptKind, *NoticeKind])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_free_text_reaches_an_html_email_raw(kind, language):
    context = _tainted(sample_context(kind.value, language=language))
    html = TemplateRenderer().render(kind.value, context).html
    assert "evil.example" in html  # the text is there ...
    assert '<a href="https://evil.example' not in html and "<form" not in html  # ... escaped


@pytest.mark.parametrize("kind", [*PromptKind])
@pytest.mark.parametrize("links", [True, False])
def test_no_email_asks_a_partner_to_quote_an_internal_id(kind, links):
    context = sample_context(kind.value, links=links)
    rendered = TemplateRenderer().render(kind.value, context)
    for body in (rendered.text, rendered.html):
        assert context["prompt_id"] not in body and "quote the reference" not in body
    # and it reads on a phone: the width of the device, links that wrap
    assert '<meta name="viewport" content="width=device-width' in rendered.html
    assert "overflow-wrap: anywhere" in rendered.html
