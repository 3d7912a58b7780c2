"""The transition function: ``decide(state, event)`` returns the new state and the effects."""

from datetime import datetime

from domain.calendar import Calendar
from domain.enums import NoticeKind, Party, PromptKind
from domain.lifecycle import events as e
from domain.lifecycle.actions import apply_action
from domain.lifecycle.effects import Decision
from domain.lifecycle.partners import answered, report_progress
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.requests import help_requested, link_requested
from domain.lifecycle.run import Run
from domain.lifecycle.state import RULES_VERSION, MatchState
from domain.lifecycle.suggestions import suggest
from domain.lifecycle.timers import tick
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy

__all__ = ["InvalidMove", "decide", "start"]


def start(
    eoi: ExpressionOfInterest,
    policy: TimingPolicy,
    at: datetime,
    *,
    rules_version: int = RULES_VERSION,
    calendar: Calendar | None = None,
) -> Decision:
    """Open a match under a rules version: record it and ask both partners (on the stack's
    calendar from version 3 on)."""
    state = MatchState.opened(eoi, policy, at, rules_version=rules_version, calendar=calendar)
    run = Run(state, at)
    run.record(
        "match_recorded",
        f"Match recorded from EOI {eoi.id} filed at {eoi.workshop.title}",
        eoi_id=eoi.id,
        workshop_id=eoi.workshop.id,
    )
    run.open_prompt(PromptKind.INTRODUCTION_ADOPTER, Party.ADOPTER)
    run.open_prompt(PromptKind.INTRODUCTION_PROVIDER, Party.PROVIDER)
    return run.decision()


def decide(state: MatchState, event: e.Event, at: datetime) -> Decision:
    """Apply one event that happened at ``at``; raise InvalidMove when it is not allowed."""
    if state.history and at < state.history[-1].occurred_at:
        last = state.history[-1].occurred_at.isoformat()
        raise InvalidMove(
            f"events must not go back in time: the last one happened at {last}",
            code="back_in_time",
            last=last,
        )
    run = Run(state, at)
    if isinstance(event, e.Tick):
        if not state.closed:
            tick(run)
    elif isinstance(event, e.DeliveryFailed):
        _delivery_failed(run, event)
    elif isinstance(event, e.RecordFailed):
        _record_failed(run, event)
    elif state.closed:
        raise InvalidMove(
            f"the match is closed ({state.close_reason}), so nothing can change it",
            code="match_closed",
            reason=state.close_reason,
        )
    elif isinstance(event, e.Answered):
        answered(run, event)
    elif isinstance(event, e.ReportProgress):
        report_progress(run, event)
    elif isinstance(event, e.LinkRequested):
        link_requested(run, event)
    elif isinstance(event, e.HelpRequested):
        help_requested(run, event)
    else:
        apply_action(run, event)
    suggest(run)
    return run.decision()


# -- failures ----------------------------------------------------------------------------------
def _delivery_failed(run: Run, event: e.DeliveryFailed) -> None:
    summary = f"Email to {event.recipient} ({event.party}) refused: {event.error}"
    if event.party == Party.SECRETARIAT or run.s.closed:
        run.record("delivery_failed", summary, recipient=event.recipient)
        return
    run.s.attention[f"delivery:{event.party}"] = summary
    run.notice(
        NoticeKind.DELIVERY_FAILURE,
        Party.SECRETARIAT,
        why=summary,
        about=event.party,
    )
    run.record("delivery_failed", summary, recipient=event.recipient, prompt_id=event.prompt_id)


def _record_failed(run: Run, event: e.RecordFailed) -> None:
    """The read model lacks a decision: the match needs attention until someone looks.

    The workflow goes on from its own state (it holds the decision), so every action still
    works; the next record brings the match's stage and status up to date again."""
    summary = f"Could not record {event.what}: {event.error}"
    if "record" not in run.s.attention:  # one notice until someone has looked
        run.notice(NoticeKind.RECORD_FAILURE, Party.SECRETARIAT, why=summary, what=event.what)
    run.s.attention["record"] = summary
    run.record("record_failed", summary)
