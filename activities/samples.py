"""A sample match and the context of every email kind: previews and template tests."""

from typing import Any

from domain.enums import NoticeKind, PromptKind
from domain.model import ExpressionOfInterest
from infra.console_links import console_match_url

KINDS = tuple(kind.value for kind in (*PromptKind, *NoticeKind))

SAMPLE_EOI: dict[str, Any] = {
    "id": "NS21-014",
    "workshop": {
        "id": "ws-2021-nur-sultan",
        "title": "SSN4PSI Matchmaking Workshop, Nur-Sultan",
        "date": "2021-10-27",
    },
    "solution": {
        "id": "sol-bd-digital-centres",
        "title": "Union Digital Centres: one-stop rural service delivery",
        "focus_area": "future_of_public_service",
        "provider": {"name": "Aspire to Innovate (a2i), ICT Division", "country": "BD"},
        "contact": {"name": "Farhana Rahman", "email": "farhana.rahman@a2i.gov.bd"},
    },
    "adopter": {
        "institution": {"name": "Agency for Civil Service Affairs", "country": "KZ"},
        "contact": {"name": "Aigerim Sadykova", "email": "a.sadykova@gov.kz"},
    },
    "interest_statement": "We want to bring public services closer to rural districts.",
    "submitted_at": "2021-10-28T10:15:00Z",
}

# Emails to the Secretariat: their recipient is the Secretariat's inbox.
SECRETARIAT_KINDS = frozenset(
    {"closed", "delivery_failure", "escalation", "help_request", "record_failure",
     "support_request"}
)  # fmt: skip


def sample_context(
    kind: str, *, language: str = "en", links: bool = True, round: int = 2
) -> dict[str, Any]:
    """Return a context that renders the given kind: the sample match, a prompt due
    2026-03-03 (a reminder when ``round`` > 1), a visit plan and an outcome."""
    eoi = ExpressionOfInterest.model_validate(SAMPLE_EOI)
    secretariat = kind in SECRETARIAT_KINDS
    base = "https://matchmaker.example.org"
    context: dict[str, Any] = {
        "match_id": eoi.match_id,
        "recipient": {
            "name": "Secretariat" if secretariat else eoi.adopter.contact.name,
            "email": "secretariat@ssn4psi.org" if secretariat else eoi.adopter.contact.email,
            "language": language,
        },
        "party": "secretariat" if secretariat else "adopter",
        "workshop": eoi.workshop,
        "solution": eoi.solution,
        "adopter": eoi.adopter,
        "interest_statement": eoi.interest_statement,
        "focus_area_label": eoi.solution.focus_area.label,
        "provider_country_name": "Bangladesh",
        "adopter_country_name": "Kazakhstan",
        "secretariat_email": "secretariat@ssn4psi.org",
        "public_base_url": base,
        "prompt_id": None if secretariat else f"{kind}-1",
        "answer_by": None if secretariat else "2026-03-03",
        "reminder": round > 1,
        "round": round,
        "plan": {
            "start": "2026-04-14",
            "end": "2026-04-17",
            "format": "in_person",
            "delegation_size": 4,
            "venue": "Union Digital Centre, Kaliganj",
            "city": "Gazipur",
            "meeting_url": "",
            "agenda": "Day 1: the centre at work\nDay 2: financing and staffing",
            "delegates": "Aigerim Sadykova\nNurlan Bekov",
        },
        "proposed_by": "provider",
        "number": 3,
        "outcome": {
            "result": "scaled",
            "people_reached": 12500,
            "time_saved_days": 2,
            "cost_saved_usd": 1500,
            "visits_saved": 1,
        },
        "why": "no answer from the adopter to introduction_adopter after 21 days",
        "support_needed": "documentation of the service catalogue",
        "note": "a short call would help",
        "about": "adopter",
        "message": "Who pays for the visit?",
        "result": "scaled",
        "reason": "lapsed",
        "summary": "no answer after two reminders",
    }
    context.update(changed=False, by_secretariat=False, declined_by="adopter")
    if kind in ("visit_invitation", "visit_cancellation"):
        cancel = kind == "visit_cancellation"
        context["invitation"] = {
            "uid": f"{eoi.match_id}-visit-1",
            "sequence": 1 if cancel else 0,
            "method": "CANCEL" if cancel else "REQUEST",
        }
        context["reason"] = "" if cancel else "the partners agreed the dates by telephone"
        context["by_secretariat"] = not cancel
    if secretariat:
        context["console_url"] = console_match_url(base, eoi.match_id)
    elif links:
        context["match_url"] = f"{base}/match/sample-page-token"
        context["respond_url"] = f"{base}/respond/sample-answer-token"
    return context
