"""A tiny in-memory driver for the pure rules, the way the workflow uses them."""

from datetime import UTC, date, datetime, timedelta

from domain.calendar import Calendar
from domain.enums import Party, PromptKind
from domain.lifecycle import answers as a
from domain.lifecycle import decide, next_timer, start
from domain.lifecycle import events as e
from domain.lifecycle.effects import Decision
from domain.lifecycle.state import RULES_VERSION, MatchState
from domain.policy import TimingPolicy
from tests.support import example_eoi

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Driver:
    def __init__(
        self,
        policy: TimingPolicy | None = None,
        *,
        rules_version: int = RULES_VERSION,
        calendar: Calendar | None = None,
    ) -> None:
        decision = start(
            example_eoi(),
            policy or TimingPolicy(),
            T0,
            rules_version=rules_version,
            calendar=calendar,
        )
        self.now = T0
        self.state: MatchState = decision.state
        self.decisions: list[Decision] = [decision]

    def apply(self, event: e.Event, at: datetime | None = None) -> Decision:
        decision = decide(self.state, event, at or self.now)
        self.state = decision.state
        self.decisions.append(decision)
        return decision

    def advance(self, days: float) -> None:
        """Let time pass, firing timers in order as the workflow would."""
        target = self.now + timedelta(days=days)
        while (when := next_timer(self.state)) is not None and when <= target:
            self.now = when
            self.apply(e.Tick(), when)
        self.now = target

    def open(self, kind: PromptKind):
        return next(p for p in self.state.open_prompts() if p.kind == kind)

    def answer(self, kind: PromptKind, answer, party: Party | None = None) -> Decision:
        prompt = self.open(kind)
        return self.apply(
            e.Answered(prompt_id=prompt.id, party=party or prompt.party, answer=answer)
        )

    def act(self, cls, **fields) -> Decision:
        return self.apply(cls(**fields))

    def emails(self, template=None):
        return [
            m
            for d in self.decisions
            for m in d.emails
            if template is None or m.template == template
        ]

    def history(self, kind=None):
        return [h for d in self.decisions for h in d.history if kind is None or h.kind == kind]

    def day(self, offset: int) -> date:
        return (self.now + timedelta(days=offset)).date()

    # -- common paths ------------------------------------------------------------------------
    def both_agree(self, remote: bool = False) -> None:
        exchange = "remote" if remote else "field_visit"
        self.answer(
            PromptKind.INTRODUCTION_ADOPTER,
            a.InterestAnswer(decision="confirm", needs="rural access", exchange=exchange),
        )
        self.answer(
            PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept", exchange=exchange)
        )

    def plan(self, start_in: int = 20, length: int = 3, fmt: str = "in_person") -> a.VisitPlan:
        return a.VisitPlan(
            start=self.day(start_in),
            end=self.day(start_in + length - 1),
            format=fmt,
            delegation_size=5,
        )

    def visit_agreed(self, start_in: int = 20) -> a.VisitPlan:
        plan = self.plan(start_in)
        self.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=plan))
        self.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
        return plan

    def report_visit(self, proceed: bool = True) -> None:
        self.answer(
            PromptKind.VISIT_REPORT,
            a.VisitReport(held=True, proceed=proceed, learned="how centres are financed"),
        )

    def adaptation_plan(self) -> None:
        self.answer(
            PromptKind.ADAPTATION_PLAN,
            a.AdaptationPlanAnswer(
                customisations="Kazakh and Russian forms", target_pilot_date=self.day(120)
            ),
        )

    def check_in(self, status: str, **kw) -> Decision:
        return self.answer(PromptKind.CHECK_IN, a.CheckInAnswer(status=status, **kw))

    def outcome(self, consent: bool = True) -> None:
        self.answer(
            PromptKind.OUTCOME_REPORT,
            a.OutcomeReport(
                result="piloted",
                people_reached=12000,
                time_saved_days=2.5,
                cost_saved_usd=8.0,
                visits_saved=1.5,
                lessons="start small",
                consent_to_publish=consent,
            ),
        )
        self.answer(
            PromptKind.OUTCOME_CONFIRMATION,
            a.OutcomeConfirmation(confirmed=True, notes="well done"),
        )
