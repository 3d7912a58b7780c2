"""Turn the moves an escalation suggests into the Secretariat's events, as a person would."""

from pydantic import TypeAdapter

from domain.enums import NoticeKind
from domain.lifecycle import events as e
from domain.lifecycle.effects import Decision
from tests.domain.lifecycle_helpers import Driver

ACTION = TypeAdapter(e.Action)


def free_fields(kind: str, d: Driver) -> dict:
    """What the Secretariat adds to a suggested move: reasons, days, a new contact, dates."""
    plan = d.plan(10).model_dump(mode="json")
    return {
        "extend_deadline": {"days": 7, "reason": "elections"},
        "resend": {},
        "change_contact": {
            "contact": {"name": "New Person", "email": "new.person@gov.kz"},
            "reason": "staff change",
        },
        "close": {"note": "no answer"},
        "schedule_visit": {"plan": plan, "reason": "agreed by phone"},
        "cancel_visit": {"reason": "strike"},
        "record_visit": {"held": True, "report": "much", "proceed": True, "reason": "by phone"},
    }[kind]


def suggested(decision: Decision) -> list[list[dict]]:
    return [
        m.context["suggested_actions"]
        for m in decision.emails
        if m.template == NoticeKind.ESCALATION
    ]


def as_event(suggestion: dict, d: Driver) -> e.Event:
    kind = suggestion["kind"]
    assert suggestion["action"] == kind.replace("_", "-")
    return ACTION.validate_python({"kind": kind, **suggestion["params"], **free_fields(kind, d)})
