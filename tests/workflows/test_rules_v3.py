"""Rules version 3 on the real workflow: a visit reaches both delegations' calendars as an
invitation that mail programs show as one (parsed back with icalendar), changes keep its UID
with a higher SEQUENCE, a cancellation withdraws it, and each partner is told how it ended."""

from datetime import timedelta

from icalendar import Calendar

from domain.enums import PromptKind
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows.match_lifecycle import MatchLifecycle


def _invitations(match: Match, to: str) -> list[Calendar]:
    """The calendar parts of the emails to ``to``, in the order they were sent."""
    found = []
    for message in match.mails(to):
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        for part in parts:
            assert part.get_param("method") in ("REQUEST", "CANCEL")
            found.append(Calendar.from_ical(part.get_payload(decode=True)))
    return found


def _event(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


async def test_a_visit_is_an_invitation_changed_then_cancelled_in_both_calendars(
    stack, temporal_env, keep_history
):
    match = await Match.begin(stack, temporal_env)
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="confirm", needs="rural")
    )
    await match.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept"))
    today = (await match.state()).started_at.date()
    plan = a.VisitPlan(
        start=today + timedelta(days=20), end=today + timedelta(days=22), format="in_person",
        delegation_size=4,
    )  # fmt: skip
    await match.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
    await match.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    adopter, provider = match.eoi.adopter.contact.email, match.eoi.solution.contact.email
    await wait_for(
        lambda: len(_invitations(match, adopter)) == len(_invitations(match, provider)) == 1
    )

    later = plan.model_copy(
        update={"start": plan.start + timedelta(days=7), "end": plan.end + timedelta(days=7)}
    )
    await match.handle.execute_update(
        MatchLifecycle.act, ev.ScheduleVisit(plan=later, reason="the minister travels that week")
    )
    await match.handle.execute_update(MatchLifecycle.act, ev.CancelVisit(reason="elections"))
    await wait_for(
        lambda: len(_invitations(match, adopter)) == len(_invitations(match, provider)) == 3
    )

    for address, name in ((adopter, match.eoi.adopter.contact.name), (provider, None)):
        first, changed, cancelled = _invitations(match, address)
        assert [str(c["METHOD"]) for c in (first, changed, cancelled)] == [
            "REQUEST",
            "REQUEST",
            "CANCEL",
        ]
        events = [_event(c) for c in (first, changed, cancelled)]
        assert len({str(e["UID"]) for e in events}) == 1  # one visit, one event
        assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
        assert events[0].decoded("DTSTART") == plan.start  # all-day dates, end exclusive
        assert events[0].decoded("DTEND") == plan.end + timedelta(days=1)
        assert events[1].decoded("DTSTART") == later.start
        assert str(events[2]["STATUS"]) == "CANCELLED"
        assert str(events[0]["ORGANIZER"]) == "mailto:secretariat@ssn4psi.org"
        assert str(events[0]["ATTENDEE"]) == f"mailto:{address}"
        if name:
            assert events[0]["ATTENDEE"].params["CN"] == name
    # the Secretariat's reason is kept in the history and reaches the partners
    [entry] = [h for h in await match.history("visit_scheduled") if h.actor != "provider"]
    assert entry.data["reason"] == "the minister travels that week"
    [changed_mail] = match.mails(adopter, "Field visit changed")
    assert (
        "the minister travels that week"
        in changed_mail.get_payload()[0].get_payload(decode=True).decode()
    )
    await keep_history(match.handle, "visit_invited_changed_cancelled")


async def test_each_partner_is_told_when_the_other_declines(stack, temporal_env):
    match = await Match.begin(stack, temporal_env)
    await match.answer(
        PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="decline", reason="budget")
    )
    await match.finish()
    adopter, provider = match.eoi.adopter.contact.email, match.eoi.solution.contact.email
    await wait_for(lambda: match.mails(adopter, "has ended") and match.mails(provider, "has ended"))
    [told] = match.mails(provider, "has ended")
    text = " ".join(told.get_payload()[0].get_payload(decode=True).decode().split())
    assert f"{match.eoi.adopter.institution.name} has decided not to go ahead" in text
    assert "budget" not in text  # the adopter's own reason stays with the Secretariat
