"""The history a partner sees, told in the reader's language from each entry's data.

Each stored entry keeps its English summary (the Secretariat's and the API's); a partner's
page tells every kind partners may see (domain/partner_view.py PARTNER_VISIBLE) from the
entry's data and the match, through the pages' catalog. What people wrote (reasons, notes)
is theirs and is not repeated here; an entry without the data it needs is told in general
words (tests/web/test_history_lines.py tells every kind in every language).
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from domain.lifecycle.state import HistoryEntry, MatchState
from web.i18n import N_, Said
from web.refusals import word

# Each question as it is asked, quoted in the history: a question ends with its own "?", so a
# line that quotes one needs no stop of its own after the closing quote.
_QUESTIONS = {
    "introduction_adopter": N_("do you still want to adopt the solution?"),
    "introduction_provider": N_("will you share your solution?"),
    "visit_proposal": N_("when could the field visit take place?"),
    "visit_confirmation": N_("do the proposed visit terms suit you?"),
    "visit_report": N_("how did the visit go?"),
    "adaptation_plan": N_("how will you adapt the solution?"),
    "check_in": N_("how is the adaptation going?"),
    "outcome_report": N_("what came of the adaptation?"),
    "outcome_confirmation": N_("do you confirm the reported outcome?"),
}
# What a code means, as one whole sentence each: a word put in a sentence of another language
# would not agree with it (abandonnée, abandonado, прекращена).
_PROGRESS = {
    "on_track": N_("The adopter reported that the adaptation is on track."),
    "blocked": N_("The adopter reported that the adaptation is blocked and needs support."),
    "piloted": N_("The adopter reported that the solution has been piloted."),
    "abandoned": N_("The adopter reported that the adaptation has been abandoned."),
}
_RESULTS = {
    "scaled": N_(
        "The outcome was recorded: the solution was scaled up; people reached: %(people)s."
    ),
    "piloted": N_(
        "The outcome was recorded: the solution was piloted; people reached: %(people)s."
    ),
    "not_adopted": N_("The outcome was recorded: the solution was not adopted."),
}
_SCHEDULED = {
    "in_person": N_(
        "An in-person visit was scheduled from %(start)s to %(end)s; people in the delegation: %(size)s."
    ),
    "virtual": N_(
        "A virtual visit was scheduled from %(start)s to %(end)s; people in the delegation: %(size)s."
    ),
}


def _said(words: dict[str, str], code: Any) -> Said | str:
    text = str(code or "")
    return Said(words[text]) if text in words else text.replace("_", " ")


def _question(prompt_id: Any) -> Said | str:
    return _said(_QUESTIONS, str(prompt_id or "").rsplit("-", 1)[0])


def _day(value: Any) -> date | str:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return str(value)


def _recorded(entry: HistoryEntry, state: MatchState) -> Said:
    return Said(
        N_("The match was recorded from the expression of interest filed at “%(workshop)s”."),
        {"workshop": state.eoi.workshop.title},
    )


def _opened(entry: HistoryEntry, state: MatchState) -> Said:
    question = _question(entry.data.get("prompt_id"))
    party = entry.data.get("party")
    if party is None:
        return Said(N_("A question was asked: “%(question)s”"), {"question": question})
    return Said(
        N_("The %(party)s was asked: “%(question)s”"),
        {"party": word(party), "question": question},
    )


def _answered(entry: HistoryEntry, state: MatchState) -> Said:
    prompt = state.prompt(str(entry.data.get("prompt_id", "")))
    question = _question(entry.data.get("prompt_id"))
    if prompt is None:
        return Said(N_("An answer was recorded to “%(question)s”"), {"question": question})
    return Said(
        N_("The %(party)s answered “%(question)s”"),
        {"party": word(prompt.party), "question": question},
    )


def _stage(entry: HistoryEntry, state: MatchState) -> Said:
    return Said(N_("The match moved on to the stage: %(stage)s."), {"stage": word(entry.stage)})


def _plan(entry: HistoryEntry) -> dict[str, Any] | None:
    plan = entry.data.get("plan")
    if not isinstance(plan, dict) or not {"start", "end"} <= set(plan):
        return None
    return {"start": _day(plan["start"]), "end": _day(plan["end"])} | {
        "format": str(plan.get("format")),
        "size": plan.get("delegation_size", ""),
    }


def _scheduled(entry: HistoryEntry, state: MatchState) -> Said:
    plan = _plan(entry)
    if plan is None or plan["format"] not in _SCHEDULED:
        return Said(N_("A visit was scheduled."))
    return Said(_SCHEDULED[plan.pop("format")], plan)


def _cancelled(entry: HistoryEntry, state: MatchState) -> Said:
    plan = _plan(entry)
    if plan is None:
        return Said(N_("The visit was cancelled; a new one is to be proposed."))
    return Said(N_("The visit from %(start)s to %(end)s was cancelled."), plan)


def _visit_recorded(entry: HistoryEntry, state: MatchState) -> Said:
    plan = _plan(entry)
    held = bool(entry.data.get("held"))
    if plan is None:
        return Said(N_("The Secretariat recorded a visit."))
    if held:
        return Said(
            N_("The Secretariat recorded a visit from %(start)s to %(end)s that took place."), plan
        )
    return Said(
        N_("The Secretariat recorded a visit from %(start)s to %(end)s that did not take place."),
        plan,
    )


def _visit_ended(entry: HistoryEntry, state: MatchState) -> Said:
    return Said(N_("The visit is over; its report is awaited."))


def _progress(entry: HistoryEntry, state: MatchState) -> Said:
    answer = entry.data.get("answer")
    status = answer.get("status") if isinstance(answer, dict) else None
    return Said(_PROGRESS.get(str(status), N_("The adopter reported progress.")))


def _support(entry: HistoryEntry, state: MatchState) -> Said:
    return Said(N_("The adopter asked for support; the provider and the Secretariat were told."))


def _outcome(entry: HistoryEntry, state: MatchState) -> Said:
    outcome = entry.data.get("outcome")
    if not isinstance(outcome, dict) or outcome.get("result") not in _RESULTS:
        return Said(N_("The outcome was recorded."))
    said = _RESULTS[outcome["result"]]
    people = outcome.get("people_reached", 0)
    return Said(said, {"people": people} if "%(people)s" in said else {})


def _closed(entry: HistoryEntry, state: MatchState) -> Said:
    reason = entry.data.get("reason")
    if reason is None:
        return Said(N_("The match was closed."))
    return Said(N_("The match was closed: %(reason)s."), {"reason": word(reason)})


TELLERS: dict[str, Callable[[HistoryEntry, MatchState], Said]] = {
    "match_recorded": _recorded,
    "prompt_opened": _opened,
    "answered": _answered,
    "stage_entered": _stage,
    "visit_scheduled": _scheduled,
    "visit_cancelled": _cancelled,
    "visit_recorded": _visit_recorded,
    "visit_ended": _visit_ended,
    "progress_reported": _progress,
    "support_requested": _support,
    "outcome_recorded": _outcome,
    "closed": _closed,
}


def told(entry: HistoryEntry, state: MatchState) -> Said | str:
    """One entry of a partner's history in the page's words (its stored summary for a kind
    partners do not see, which their pages never show)."""
    teller = TELLERS.get(entry.kind)
    return teller(entry, state) if teller is not None else entry.summary
