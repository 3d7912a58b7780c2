"""Property tests: any sequence of events keeps the rules' invariants."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.enums import CloseReason, MatchStatus, Party, PromptKind, PromptStatus, Stage
from domain.lifecycle import InvalidMove, decide, next_timer
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.lifecycle.effects import Decision
from domain.lifecycle.run import STAGE_ORDER
from domain.lifecycle.state import RULES_VERSIONS, MatchState
from domain.model import Contact
from tests.domain.escalations import as_event, suggested
from tests.domain.lifecycle_helpers import Driver

text = st.sampled_from(["", "rural access", "budget", "a long explanation of needs"])


def plans(d: Driver, first: int = -3, last: int = 60):
    return st.builds(
        lambda start, length, fmt, size: a.VisitPlan(
            start=d.day(start), end=d.day(start + length), format=fmt, delegation_size=size
        ),
        st.integers(first, last),
        st.integers(0, 5),
        st.sampled_from(["in_person", "virtual"]),
        st.integers(1, 12),
    )


def answers_for(kind: PromptKind, d: Driver | None):
    exchange = st.sampled_from(["field_visit", "remote"])
    if kind == PromptKind.CHECK_IN:
        return st.sampled_from(
            [
                a.CheckInAnswer(status="on_track"),
                a.CheckInAnswer(status="blocked", support_needed="docs"),
                a.CheckInAnswer(status="piloted"),
                a.CheckInAnswer(status="piloted"),
                a.CheckInAnswer(status="abandoned"),
            ]
        )
    assert d is not None
    return {
        PromptKind.INTRODUCTION_ADOPTER: st.builds(
            lambda dec, ex: a.InterestAnswer(decision=dec, needs="needs", exchange=ex),
            st.sampled_from(["confirm"] * 5 + ["decline"]),
            exchange,
        ),
        PromptKind.INTRODUCTION_PROVIDER: st.builds(
            lambda dec, ex: a.ShareAnswer(decision=dec, exchange=ex),
            st.sampled_from(["accept"] * 5 + ["decline"]),
            exchange,
        ),
        PromptKind.VISIT_PROPOSAL: plans(d).map(lambda p: a.VisitProposal(plan=p)),
        PromptKind.VISIT_CONFIRMATION: st.one_of(
            st.just(a.VisitConfirmation(decision="confirm")),
            st.just(a.VisitConfirmation(decision="confirm")),
            st.just(a.VisitConfirmation(decision="confirm")),
            st.just(a.VisitConfirmation(decision="cancel", reason="no flights")),
            plans(d).map(lambda p: a.VisitConfirmation(decision="counter", counter=p)),
        ),
        PromptKind.VISIT_REPORT: st.one_of(
            st.just(a.VisitReport(held=False)),
            st.builds(
                lambda go: a.VisitReport(held=True, proceed=go, learned="much"), st.booleans()
            ),
        ),
        PromptKind.ADAPTATION_PLAN: st.just(
            a.AdaptationPlanAnswer(customisations="forms", target_pilot_date=d.day(90))
        ),
        PromptKind.OUTCOME_REPORT: st.builds(
            lambda consent: a.OutcomeReport(
                result="scaled",
                people_reached=10,
                time_saved_days=1,
                cost_saved_usd=2,
                visits_saved=1,
                consent_to_publish=consent,
            ),
            st.booleans(),
        ),
        PromptKind.OUTCOME_CONFIRMATION: st.builds(
            lambda ok: a.OutcomeConfirmation(confirmed=ok), st.booleans()
        ),
    }[kind]


def actions(d: Driver):
    return st.one_of(
        st.just(e.Pause(reason="on hold")),
        st.just(e.Resume()),
        st.builds(lambda n: e.ExtendDeadline(days=n, reason="more time"), st.integers(1, 40)),
        st.just(
            e.ChangeContact(
                party=Party.ADOPTER,
                contact=Contact(name="New Person", email="new@gov.kz"),
                reason="left",
            )
        ),
        st.sampled_from([Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME]).map(
            lambda s: e.Advance(to=s, reason="decided")
        ),
        st.sampled_from(list(e.Close.model_fields["reason"].annotation.__args__)).map(
            lambda r: e.Close(reason=r, note="closing")
        ),
        st.just(e.AddNote(text="a note")),
        st.just(e.Resend()),
        plans(d).map(lambda p: e.ScheduleVisit(plan=p, reason="by phone")),
        st.just(e.CancelVisit(reason="strike")),
        st.just(e.DeliveryFailed(party=Party.PROVIDER, recipient="x@a2i.gov.bd", error="550")),
        # rules version 2 on (version 1 refuses them)
        st.builds(
            lambda plan, report: e.RecordVisit(plan=plan, reason="told by phone", **report),
            plans(d, first=-12, last=3),
            st.sampled_from(
                [
                    {"held": True, "report": "much", "proceed": True},
                    {"held": True, "report": "much", "proceed": False},
                    {"held": False},
                ]
            ),
        ),
        st.builds(
            lambda n, p: e.ExtendDeadline(days=n, prompt_id=p, reason="more time"),
            st.integers(1, 40),
            st.sampled_from([p.id for p in d.state.prompts] or [None]),
        ),
    )


def progress():
    """The adopter's own report, asked or not (rules version 2 on)."""
    return answers_for(PromptKind.CHECK_IN, None).map(lambda r: e.ReportProgress(report=r))


def check_invariants(d: Driver) -> None:
    s = d.state
    assert (s.stage == Stage.CLOSED) == (s.close_reason is not None)
    if s.closed:
        assert s.status in (MatchStatus.CLOSED, MatchStatus.COMPLETED)
        assert (s.status == MatchStatus.COMPLETED) == (s.close_reason == CloseReason.COMPLETED)
        # every prompt ended answered, expired or withdrawn
        assert all(p.status != PromptStatus.OPEN for p in s.prompts)
        assert next_timer(s) is None
    else:
        assert s.status in (MatchStatus.ACTIVE, MatchStatus.NEEDS_ATTENTION, MatchStatus.PAUSED)
        assert (s.status == MatchStatus.PAUSED) == (s.paused_at is not None)
        # an open match always waits on someone or on a timer
        assert s.open_prompts() or next_timer(s) is not None or s.paused_at is not None
        assert all(p.stage == s.stage for p in s.open_prompts())
    seqs = [h.seq for h in s.history]
    assert seqs == sorted(set(seqs)) and seqs[-1] == s.history_seq
    keys = [m.key for dec in d.decisions for m in dec.emails]
    assert len(keys) == len(set(keys)), "two emails share a business key"
    if s.rules_version >= 2:
        check_deadlines_belong_to_the_stage(s)


def check_deadlines_belong_to_the_stage(s: MatchState) -> None:
    """Rules version 2: every pending deadline belongs to the current stage; closed: none."""
    assert all(p.stage == s.stage for p in s.open_prompts())
    pending_visit = s.visit is not None and bool(s.visit.pending())
    if s.closed:
        assert not s.open_prompts() and s.next_checkin_at is None and not pending_visit
    if s.next_checkin_at is not None:
        assert s.stage == Stage.ADAPTATION, "a check-in is due outside adaptation"
    if pending_visit:
        assert s.stage == Stage.FIELD_VISIT, "a visit timer runs outside field_visit"


def check_decisions(d: Driver, new: list[Decision], stage_before: Stage) -> None:
    """Stages only move forward; each move an escalation suggests is accepted right after it."""
    order = STAGE_ORDER.index(stage_before)
    for decision in new:
        entered = [h for h in decision.history if h.kind == "stage_entered"]
        for entry in entered:  # the stage left, as recorded, never lies behind the last one
            assert STAGE_ORDER.index(Stage(entry.stage)) >= order
            order = STAGE_ORDER.index(Stage(entry.stage))
        assert STAGE_ORDER.index(decision.state.stage) >= order, "a stage went backwards"
        order = STAGE_ORDER.index(decision.state.stage)
        for moves in suggested(decision):
            for move in moves:
                decide(decision.state, as_event(move, d), decision.state.history[-1].occurred_at)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_sequence_of_events_breaks_the_rules(data):
    d = Driver(rules_version=data.draw(st.sampled_from(RULES_VERSIONS)))
    for _ in range(data.draw(st.integers(1, 60))):
        step = data.draw(
            st.sampled_from(["tick", "answer", "answer", "answer", "action", "wrong", "progress"])
        )
        before = d.state.model_dump()
        seen, stage_before = len(d.decisions), d.state.stage
        closed_before = d.state.closed
        try:
            if step == "tick":
                d.advance(data.draw(st.floats(0.1, 45)))
            elif step == "answer" and d.state.open_prompts():
                prompt = data.draw(st.sampled_from(d.state.open_prompts()))
                d.apply(
                    e.Answered(
                        prompt_id=prompt.id,
                        party=prompt.party,
                        answer=data.draw(answers_for(prompt.kind, d)),
                    )
                )
            elif step == "wrong" and d.state.prompts:
                prompt = data.draw(st.sampled_from(d.state.prompts))
                wrong_party = Party.PROVIDER if prompt.party == Party.ADOPTER else Party.ADOPTER
                d.apply(
                    e.Answered(
                        prompt_id=prompt.id,
                        party=wrong_party,
                        answer=data.draw(answers_for(prompt.kind, d)),
                    )
                )
                raise AssertionError("an answer from the wrong party was accepted")
            elif step == "action":
                d.apply(data.draw(actions(d)))
            elif step == "progress":
                d.apply(data.draw(progress()))
        except InvalidMove:
            assert d.state.model_dump() == before  # a refused event changes nothing
        if closed_before:
            assert d.state.stage == before["stage"] and d.state.status == before["status"]
            assert d.state.close_reason == before["close_reason"]
        check_invariants(d)
        check_decisions(d, d.decisions[seen:], stage_before)
