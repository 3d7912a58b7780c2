"""A partner's page of the match says where it stands in words: how a closed match ended,
when a visit's report will be asked, and dates on the match's calendar."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.calendar import Calendar
from domain.enums import Party, PromptKind
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.partner_view import partner_history
from domain.policy import SECONDS_PER_DAY, TimingPolicy
from services.partner import PartnerView, PromptPage
from tests.domain.lifecycle_helpers import T0, Driver
from tests.web.offline import _claims, render, words
from web.forms import answer_from_form


def _page(d: Driver, party: Party, language: str = "en") -> str:
    view = PartnerView(
        claims=_claims(d, party, None), state=d.state, history=partner_history(d.state)
    )
    html = render("match.html", language, page=view, secretariat_email="secretariat@ssn4psi.org")
    return words(html)


@pytest.mark.parametrize(
    ("decline", "reader", "says"),
    [
        ("adopter", Party.PROVIDER, "the adopting institution decided not to go ahead"),
        ("adopter", Party.ADOPTER, "as you told us, your institution will not go ahead"),
        ("provider", Party.ADOPTER, "the providing institution is not able to share"),
    ],
)
def test_a_closed_match_says_how_it_ended_and_whom_to_write_to(decline, reader, says):
    d = Driver()
    if decline == "adopter":
        d.answer(PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="decline"))
    else:
        d.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="decline"))
    page = _page(d, reader)
    assert says in page
    assert "secretariat@ssn4psi.org" in page
    assert "Nothing is awaited from anyone just now" not in page


def test_a_lapsed_or_withdrawn_match_says_so_in_every_language():
    d = Driver()
    d.advance(30)
    assert "did not arrive in time" in _page(d, Party.PROVIDER)
    for language in ("fr", "es", "ru"):
        page = _page(d, Party.PROVIDER, language)
        assert "did not arrive in time" not in page and "secretariat@ssn4psi.org" in page
    w = Driver()
    w.act(e.Close, reason="withdrawn", note="merged")
    assert "the Network Secretariat closed this match" in _page(w, Party.ADOPTER)


def test_a_match_waiting_on_its_visit_says_when_the_report_will_be_asked():
    d = Driver()
    d.both_agree()
    plan = d.visit_agreed(start_in=20)
    page = _page(d, Party.ADOPTER)
    assert "The field visit is agreed" in page
    day_after = plan.end + timedelta(days=1)
    assert f"on {day_after.day} {day_after:%B %Y} the adopter will be asked how it went" in page


def test_deadlines_are_dates_of_the_stacks_calendar():
    minute = Calendar(epoch=T0, day_seconds=60)
    d = Driver(TimingPolicy().scaled(60 / SECONDS_PER_DAY), calendar=minute)
    prompt = d.open(PromptKind.INTRODUCTION_ADOPTER)
    due = minute.today(prompt.lapse_at)  # thirty calendar days on: thirty real minutes
    assert due == T0.date() + timedelta(days=30)
    assert f"by {due.day} {due:%B %Y}" in _page(d, Party.ADOPTER)


@pytest.mark.parametrize(
    ("close_reason", "says"),
    [("completed", "The match is now complete"), ("declined", "has now ended")],
)
def test_the_last_answer_is_not_told_more_will_be_asked(close_reason, says):
    answer = {"kind": "outcome_confirmation", "confirmed": True, "notes": ""}
    for language in ("en", "fr", "es", "ru"):
        page = words(
            render(
                "recorded.html", language, answer=answer, stage="closed", close_reason=close_reason
            )
        )
        assert "when something is needed" not in page
        assert (says in page) == (language == "en")


def _detailed_plan(d: Driver) -> a.VisitPlan:
    return d.plan(20).model_copy(
        update={
            "venue": "Union Digital Centre",
            "city": "Gazipur",
            "meeting_url": "https://meet.example.org/ssn",
            "agenda": "Day 1: the centre at work\nDay 2: financing",
            "delegates": "Aigerim Sadykova\nNurlan Bekov",
        }
    )


def test_a_proposed_and_an_agreed_visit_show_where_it_happens_and_who_comes():
    d = Driver()
    d.both_agree()
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=_detailed_plan(d)))
    prompt = d.open(PromptKind.VISIT_CONFIRMATION)
    page = PromptPage(
        claims=_claims(d, prompt.party, prompt.id),
        state=d.state,
        history=partner_history(d.state),
        prompt=prompt,
    )
    asked = words(render("respond.html", "en", page=page, prompt=prompt))
    for given in ("Where: Union Digital Centre, Gazipur", "https://meet.example.org/ssn",
                  "Day 2: financing", "Nurlan Bekov"):  # fmt: skip
        assert given in asked
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    agreed = _page(d, Party.PROVIDER)
    assert "Where: Union Digital Centre, Gazipur" in agreed and "Nurlan Bekov" in agreed


def test_the_proposal_form_takes_the_details_and_says_the_calendars_today():
    d = Driver()
    d.both_agree()
    prompt = d.open(PromptKind.VISIT_PROPOSAL)
    page = PromptPage(
        claims=_claims(d, prompt.party, prompt.id),
        state=d.state,
        history=partner_history(d.state),
        prompt=prompt,
    )
    html = render("respond.html", "fr", page=page, prompt=prompt)
    for name in ("plan.venue", "plan.city", "plan.meeting_url", "plan.agenda", "plan.delegates"):
        assert f'name="{name}"' in html
    assert "La visite doit commencer après aujourd’hui" in words(html)
    form = {"plan.start": "2030-01-02", "plan.end": "2030-01-03", "plan.format": "virtual",
            "plan.delegation_size": "2", "plan.venue": "", "plan.city": "",
            "plan.meeting_url": "https://meet.example.org/x", "plan.agenda": "", "plan.delegates": ""}  # fmt: skip
    answer = answer_from_form(PromptKind.VISIT_PROPOSAL, form)
    assert answer.plan.meeting_url == "https://meet.example.org/x" and answer.plan.venue == ""
    with pytest.raises(ValidationError):
        answer_from_form(PromptKind.VISIT_PROPOSAL, {**form, "plan.meeting_url": "javascript:x"})
