import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import SendPromptInput
from activities.mail import SmtpMailer, TransientDeliveryError
from activities.notifications import PERMANENT_DELIVERY_ERROR, MailIdentity, Notifications
from activities.store import repository
from domain.enums import Party, PromptKind
from tests.support import unique_eoi
from workers.ports import free_port

IDENTITY = MailIdentity(
    sender="matchmaker@ssn4psi.org",
    sender_name="SSN4PSI Matchmaker",
    secretariat_email="secretariat@ssn4psi.org",
    public_base_url="http://127.0.0.1:8000",
)


async def _recorded_eoi(sessions):
    eoi = unique_eoi()
    async with sessions() as session:
        await repository.save_eoi(session, eoi=eoi)
        await repository.create_match(
            session,
            eoi=eoi,
            workflow_id=eoi.match_id,
            stage="follow_up",
            status="active",
            next_deadline=None,
        )
        await session.commit()
    return eoi


def _prompt(eoi, party=Party.ADOPTER):
    contact = eoi.adopter.contact if party is Party.ADOPTER else eoi.solution.contact
    kind = (
        PromptKind.INTRODUCTION_ADOPTER
        if party is Party.ADOPTER
        else PromptKind.INTRODUCTION_PROVIDER
    )
    return SendPromptInput(
        business_key=f"{eoi.match_id}/follow_up/{kind}/{contact.email}/1",
        match_id=eoi.match_id,
        kind=kind,
        party=party,
        recipient=contact,
        eoi=eoi,
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
        adopter = await env.run(notifications.send_prompt, _prompt(eoi, Party.ADOPTER))
        provider = await env.run(notifications.send_prompt, _prompt(eoi, Party.PROVIDER))
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
    await ActivityEnvironment().run(_notifications(sessions, port).send_prompt, _prompt(eoi))
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
    first = await ActivityEnvironment().run(notifications.send_prompt, _prompt(eoi))
    again = await ActivityEnvironment().run(notifications.send_prompt, _prompt(eoi))
    assert again.already_sent and again.message_id == first.message_id
    assert len(handler.messages) == 1
    async with sessions() as session:
        [row] = await repository.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None


async def test_a_permanent_refusal_is_not_retried_and_is_recorded(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    handler.refuse[eoi.adopter.contact.email] = "550 5.1.1 mailbox unavailable"
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(_notifications(sessions, port).send_prompt, _prompt(eoi))
    assert info.value.non_retryable and info.value.type == PERMANENT_DELIVERY_ERROR
    assert "550" in str(info.value)
    async with sessions() as session:
        [row] = await repository.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "bounced" and "550" in row.last_error


async def test_a_temporary_refusal_is_retryable(sessions, smtp):
    handler, port = smtp
    eoi = await _recorded_eoi(sessions)
    handler.refuse[eoi.adopter.contact.email] = "451 4.3.0 try again later"
    with pytest.raises(TransientDeliveryError, match="451"):
        await ActivityEnvironment().run(_notifications(sessions, port).send_prompt, _prompt(eoi))
    handler.refuse.clear()
    result = await ActivityEnvironment().run(
        _notifications(sessions, port).send_prompt, _prompt(eoi)
    )
    assert not result.already_sent and len(handler.messages) == 1
    async with sessions() as session:
        [row] = await repository.list_outbox(session, match_id=eoi.match_id)
        assert row.status == "sent" and row.attempts == 2


async def test_an_unreachable_server_is_retryable(sessions):
    eoi = await _recorded_eoi(sessions)
    with pytest.raises(TransientDeliveryError):
        await ActivityEnvironment().run(
            _notifications(sessions, free_port()).send_prompt, _prompt(eoi)
        )
