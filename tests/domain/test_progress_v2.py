"""Rules version 2: the adopter reports progress during adaptation at any time."""

import pytest
from pydantic import ValidationError

from domain.enums import CloseReason, NoticeKind, Party, PromptKind, PromptStatus, Stage
from domain.lifecycle import InvalidMove
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from tests.domain.lifecycle_helpers import Driver


def adapting(version: int = 2) -> Driver:
    d = Driver(rules_version=version)
    d.both_agree(remote=True)
    d.adaptation_plan()
    return d


def report(status: str, **kw) -> e.ReportProgress:
    return e.ReportProgress(report=a.CheckInAnswer(status=status, **kw))


def test_an_unasked_report_is_recorded_and_keeps_the_schedule():
    d = adapting()
    d.advance(10)
    next_checkin = d.state.next_checkin_at
    decision = d.apply(report("on_track", note="forms translated"))
    [entry] = decision.history
    assert entry.kind == "progress_reported" and entry.actor == Party.ADOPTER
    assert entry.summary == "The adopter reported progress: on track"
    assert entry.data["answer"]["note"] == "forms translated"
    assert d.state.next_checkin_at == next_checkin and not decision.emails
    assert d.state.stage == Stage.ADAPTATION


def test_a_report_answers_the_open_check_in():
    d = adapting()
    d.advance(31)
    check_in = d.open(PromptKind.CHECK_IN)
    decision = d.apply(report("on_track"))
    prompt = d.state.prompt(check_in.id)
    assert prompt.status == PromptStatus.ANSWERED and prompt.answer["status"] == "on_track"
    assert decision.history[0].summary == (
        f"The adopter reported progress: on track (the answer to {check_in.id})"
    )
    d.advance(30)
    assert not d.history("check_in_missed")


def test_blocked_asks_provider_and_secretariat_for_support():
    d = adapting()
    d.apply(report("blocked", support_needed="registry API documentation"))
    requests = d.emails(NoticeKind.SUPPORT_REQUEST)
    assert {m.party for m in requests} == {Party.PROVIDER, Party.SECRETARIAT}
    assert requests[0].context["support_needed"] == "registry API documentation"


def test_piloted_moves_to_outcome_and_abandoned_closes():
    d = adapting()
    d.apply(report("piloted"))
    assert d.state.stage == Stage.OUTCOME and d.open(PromptKind.OUTCOME_REPORT)
    d = adapting()
    d.apply(report("abandoned", note="ministry merged"))
    assert d.state.close_reason == CloseReason.ABANDONED


def test_accepted_while_the_plan_is_awaited():
    d = Driver(rules_version=2)
    d.both_agree(remote=True)
    d.apply(report("on_track"))
    assert d.open(PromptKind.ADAPTATION_PLAN)


def test_refused_outside_adaptation_and_under_version_1():
    d = Driver(rules_version=2)
    with pytest.raises(InvalidMove) as info:
        d.apply(report("on_track"))
    assert str(info.value) == (
        "progress can only be reported in the adaptation stage; the match is in follow_up"
    )
    d = adapting(version=1)
    d.advance(31)
    with pytest.raises(InvalidMove) as info:
        d.apply(report("on_track"))
    assert str(info.value) == (
        "reporting progress at any time needs rules version 2, and this match follows "
        "rules version 1"
    )


def test_only_the_adopter_reports_progress():
    with pytest.raises(ValidationError):
        e.ReportProgress(party=Party.PROVIDER, report=a.CheckInAnswer(status="on_track"))
