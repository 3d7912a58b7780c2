"""The partner pages rendered without a server: a match walked through every question by the
pure rules (tests/domain/lifecycle_helpers.py), each page rendered in any language from the
same templates and catalogs the app uses."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from html import unescape
from types import SimpleNamespace
from typing import Any

from domain.enums import Party, PromptKind
from domain.lifecycle import answers as a
from domain.model import ExpressionOfInterest
from domain.partner_view import partner_history
from infra.signing import LinkClaims
from services.partner import PartnerView, PromptPage
from tests.domain.lifecycle_helpers import Driver
from tests.support import example_eoi
from web.i18n import templates_for

# Names that begin with a vowel, as French elision and Spanish contraction need to be tested.
VOWEL_NAMES = {
    "adopter": "Agence nationale des services publics",
    "provider": "Institut de l’administration électronique",
    "workshop": "Atelier de Nur-Sultan",
    "title": "Espaces numériques ruraux",
}


def _eoi() -> ExpressionOfInterest:
    data = example_eoi().model_dump(mode="json")
    data["adopter"]["institution"]["name"] = VOWEL_NAMES["adopter"]
    data["solution"]["provider"]["name"] = VOWEL_NAMES["provider"]
    data["workshop"]["title"] = VOWEL_NAMES["workshop"]
    data["solution"]["title"] = VOWEL_NAMES["title"]
    return ExpressionOfInterest.model_validate(data)


@cache
def walked() -> tuple[dict[PromptKind, PromptPage], PartnerView]:
    """A page of every kind of question, each as the match stood when it was asked, and the
    adopter's page of the match once it is closed (the whole history)."""
    d = Driver()
    d.state = d.state.model_copy(update={"eoi": _eoi()})
    found: dict[PromptKind, PromptPage] = {}

    def keep() -> None:
        for prompt in d.state.open_prompts():
            if prompt.kind not in found:
                found[prompt.kind] = _page(d, prompt)

    keep()
    d.answer(PromptKind.INTRODUCTION_ADOPTER, a.InterestAnswer(decision="confirm", needs="x"))
    keep()
    d.answer(PromptKind.INTRODUCTION_PROVIDER, a.ShareAnswer(decision="accept"))
    keep()
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=d.plan(20)))
    keep()
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="confirm"))
    d.advance(25)
    keep()
    d.report_visit()
    keep()
    d.adaptation_plan()
    keep()
    while PromptKind.CHECK_IN not in found:
        d.advance(7)
        keep()
    d.check_in("piloted")
    keep()
    d.answer(
        PromptKind.OUTCOME_REPORT,
        a.OutcomeReport(
            result="scaled",
            people_reached=120000,
            time_saved_days=2.5,
            cost_saved_usd=8.0,
            visits_saved=1,
            consent_to_publish=True,
        ),
    )
    keep()
    d.answer(PromptKind.OUTCOME_CONFIRMATION, a.OutcomeConfirmation(confirmed=True))
    assert set(found) == set(PromptKind), set(PromptKind) - set(found)
    return found, _view(d, Party.ADOPTER)


def _claims(d: Driver, party: Party, prompt_id: str | None) -> LinkClaims:
    expires = datetime.now(UTC) + timedelta(days=30)
    return LinkClaims(d.state.match_id, prompt_id, party.value, expires)


def _page(d: Driver, prompt: Any) -> PromptPage:
    state = d.state
    claims = _claims(d, prompt.party, prompt.id)
    return PromptPage(claims=claims, state=state, history=partner_history(state), prompt=prompt)


def _view(d: Driver, party: Party) -> PartnerView:
    state = d.state
    return PartnerView(claims=_claims(d, party, None), state=state, history=partner_history(state))


def prompt_page(kind: PromptKind) -> PromptPage:
    return walked()[0][kind]


def match_view() -> PartnerView:
    return walked()[1]


def render(template: str, language: str, **context: Any) -> str:
    """A partner page as the app renders it (no request: the static path has no root)."""
    env = templates_for(language).env
    request = SimpleNamespace(scope={})
    defaults: dict[str, Any] = {"values": {}, "errors": {}, "form_key": "key", "answer_urls": {}}
    return env.get_template(f"partner/{template}").render(
        {**defaults, **context, "request": request, "language": language}
    )


def respond(kind: PromptKind, language: str = "en", **context: Any) -> str:
    page = prompt_page(kind)
    return render("respond.html", language, page=page, prompt=page.prompt, **context)


def words(html: str) -> str:
    """The text a reader sees: no tags, entities read, spaces folded (non-breaking ones kept)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def every_page(language: str, answers: Sequence[Any] = ()) -> dict[str, str]:
    """Every page a partner may see of one match, by name: each question's form, the page of
    the match while questions are awaited and once it is closed (the whole history), a question
    answered, and the page after each of ``answers``."""
    from domain.enums import PromptStatus

    shown = {f"respond {kind}": respond(kind, language) for kind in PromptKind}
    for kind in (PromptKind.INTRODUCTION_ADOPTER, PromptKind.VISIT_CONFIRMATION):
        page = prompt_page(kind)
        view = PartnerView(claims=page.claims, state=page.state, history=page.history)
        urls = {p.id: f"/respond/token{n}" for n, p in enumerate(view.open_prompts())}
        shown[f"match awaiting {kind}"] = render(
            "match.html", language, page=view, answer_urls=urls
        )
        answered = page.prompt.model_copy(
            update={
                "status": PromptStatus.ANSWERED,
                "answer": {"decision": "confirm", "needs": "x"},
            }
        )
        closed = type(page)(page.claims, page.state, page.history, answered)
        shown[f"answered {kind}"] = render(
            "problem.html",
            language,
            page=closed,
            answer=answered.answer,
            title="This question is closed",
            message="This question has already been answered. This is what was recorded:",
        )
    shown["match closed"] = render("match.html", language, page=match_view())
    for n, answer in enumerate(answers):
        dumped = answer.model_dump(mode="json")
        shown[f"recorded {n} {answer.kind}"] = render(
            "recorded.html", language, answer=dumped, stage="adaptation"
        )
    return shown
