"""The moves an escalation suggests to the Secretariat: only those the rules would accept."""

from datetime import datetime, timedelta
from typing import Any

from pydantic_extra_types.language_code import LanguageAlpha2

from domain.enums import CloseReason, Party, PromptKind, Stage
from domain.lifecycle import events as e
from domain.lifecycle.actions import apply_action
from domain.lifecycle.answers import VisitPlan
from domain.lifecycle.effects import SendEmail
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.run import Run
from domain.lifecycle.state import MatchState, Prompt
from domain.model import Contact

_REASON = "suggested by the rules"  # never recorded: candidates are only tried on a copy
_VISIT_PLANNING = (PromptKind.VISIT_PROPOSAL, PromptKind.VISIT_CONFIRMATION)


def suggest(run: Run) -> None:
    """Add the suggested moves to the decision's escalation notices (context only)."""
    about: dict[int, tuple[SendEmail, list[str | None]]] = {}
    for notice, prompt_id in run.escalations:  # a notice may name several silent prompts
        about.setdefault(id(notice), (notice, []))[1].append(prompt_id)
    for notice, prompt_ids in about.values():
        moves: dict[tuple[str, str], dict[str, Any]] = {}
        for prompt_id in prompt_ids:
            for move in suggested_actions(run.s, run.at, prompt_id):
                moves.setdefault((move["kind"], repr(sorted(move["params"].items()))), move)
        notice.context["suggested_actions"] = list(moves.values())


def suggested_actions(
    state: MatchState, at: datetime, prompt_id: str | None
) -> list[dict[str, Any]]:
    """Return the Secretariat's moves for an escalation about a prompt (None: check-ins).

    Each is ``{"action": URL name, "kind": event kind, "params": fields, "text": sentence}``:
    the event built from ``kind``, ``params`` and the free fields (reason, note, days, contact,
    plan) is accepted by the rules in ``state``.
    """
    if state.closed:
        return []
    prompt = state.prompt(prompt_id) if prompt_id else None
    if prompt is not None and prompt.is_open:
        candidates = _about_prompt(state, at, prompt)
    elif prompt_id is None:
        candidates = _about_check_ins(state)
    else:
        candidates = []
    candidates.append(_close(state, prompt))
    return [
        {"action": event.kind.replace("_", "-"), "kind": event.kind, "params": params, "text": text}
        for event, params, text in candidates
        if _accepted(state, at, event)
    ]


Candidate = tuple[e.Event, dict[str, Any], str]


def _about_prompt(state: MatchState, at: datetime, prompt: Prompt) -> list[Candidate]:
    due = f" (due {state.clock.today(prompt.lapse_at).isoformat()})" if prompt.lapse_at else ""
    found: list[Candidate] = [
        (
            e.ExtendDeadline(days=14, prompt_id=prompt.id, reason=_REASON),
            {"prompt_id": prompt.id},
            f"give the {prompt.party} more time to answer {prompt.id}{due}",
        ),
        (
            e.Resend(prompt_id=prompt.id),
            {"prompt_id": prompt.id},
            f"send {prompt.id} to the {prompt.party} again",
        ),
        _change_contact(state, prompt.party),
    ]
    if prompt.kind in _VISIT_PLANNING:
        tomorrow = state.clock.today(at) + timedelta(days=1)
        plan = VisitPlan(start=tomorrow, end=tomorrow, format="virtual", delegation_size=1)
        found += [
            (
                e.ScheduleVisit(plan=plan, reason=_REASON),
                {},
                "set the visit's dates yourself if the partners agreed them elsewhere",
            ),
            (e.CancelVisit(reason=_REASON), {}, "cancel the visit being planned"),
        ]
    if prompt.kind == PromptKind.VISIT_REPORT and state.visit:
        plan = state.visit.plan
        found.append(
            (
                e.RecordVisit(plan=plan, held=True, report=_REASON, proceed=True, reason=_REASON),
                {"plan": plan.model_dump(mode="json")},
                "record the visit's report yourself if you heard how it went",
            )
        )
    return found


def _about_check_ins(state: MatchState) -> list[Candidate]:
    found: list[Candidate] = []
    if state.next_checkin_at:
        when = state.clock.today(state.next_checkin_at).isoformat()
        found.append(
            (
                e.ExtendDeadline(days=14, reason=_REASON),
                {},
                f"move the next check-in (due {when}) later",
            )
        )
    for prompt in state.open_prompts():
        if prompt.kind == PromptKind.CHECK_IN:
            found.append(
                (
                    e.Resend(prompt_id=prompt.id),
                    {"prompt_id": prompt.id},
                    f"send {prompt.id} to the adopter again",
                )
            )
    found.append(_change_contact(state, Party.ADOPTER))
    return found


def _change_contact(state: MatchState, party: Party) -> Candidate:
    current = state.contacts[party].email
    # a stand-in for whoever the Secretariat names: any address but the two in use
    stand_in = Contact.model_construct(
        name="a new contact", email="", language=LanguageAlpha2("en")
    )
    return (
        e.ChangeContact(party=party, contact=stand_in, reason=_REASON),
        {"party": str(party)},
        f"write to someone else at the {party}'s institution (now {current})",
    )


def _close(state: MatchState, prompt: Prompt | None) -> Candidate:
    if prompt is None:
        reason = CloseReason.ABANDONED
    elif state.stage == Stage.FOLLOW_UP:
        reason = CloseReason.LAPSED
    else:
        reason = CloseReason.WITHDRAWN
    return (
        e.Close(reason=reason, note=_REASON),
        {"reason": str(reason)},
        f"close the match ({reason})",
    )


def _accepted(state: MatchState, at: datetime, event: e.Event) -> bool:
    try:
        apply_action(Run(state, at), event)
    except InvalidMove:
        return False
    return True
