"""A field's label says when it must be filled in, as the answer's rules decide: "(optional)"
only on a field that every choice lets a partner leave empty, "(needed if …)" on one that a
choice requires, no mark on one that is always required."""

import re

import pytest
from pydantic import ValidationError

from domain.enums import PromptKind
from tests.web.offline import match_view, render, respond, words
from web.forms import answer_from_form, field_errors

K = PromptKind
_PLAN = {"start": "2030-05-01", "end": "2030-05-03", "format": "virtual", "delegation_size": "4"}
_COUNTER = {f"counter.{name}": value for name, value in _PLAN.items()}

# Every choice a form offers, each with every field filled in: what a partner could send.
FILLED: dict[PromptKind, list[dict[str, str]]] = {
    K.INTRODUCTION_ADOPTER: [
        {"decision": decision, "needs": "n", "exchange": exchange, "reason": "r"}
        for decision in ("confirm", "decline")
        for exchange in ("field_visit", "remote")
    ],
    K.INTRODUCTION_PROVIDER: [
        {"decision": decision, "exchange": "remote", "reason": "r"}
        for decision in ("accept", "decline")
    ],
    K.VISIT_PROPOSAL: [{f"plan.{name}": value for name, value in _PLAN.items()}],
    K.VISIT_CONFIRMATION: [
        {"decision": decision, **_COUNTER, "reason": "r"}
        for decision in ("confirm", "counter", "cancel")
    ],
    K.VISIT_REPORT: [
        {"held": "true", "learned": "l", "proceed": "true"},
        {"held": "true", "learned": "l", "proceed": "false"},
        {"held": "false", "learned": "l", "proceed": "false"},
    ],
    K.ADAPTATION_PLAN: [{"customisations": "c", "target_pilot_date": "2030-06-01"}],
    K.CHECK_IN: [
        {"status": status, "note": "n", "support_needed": "s"}
        for status in ("on_track", "blocked", "piloted", "abandoned")
    ],
    K.OUTCOME_REPORT: [
        {
            "result": result,
            "people_reached": "10",
            "time_saved_days": "1.5",
            "cost_saved_usd": "2",
            "visits_saved": "1",
            "lessons": "l",
            "consent_to_publish": consent,
        }
        for result in ("scaled", "piloted", "not_adopted")
        for consent in ("true", "false")
    ],
    K.OUTCOME_CONFIRMATION: [
        {"confirmed": confirmed, "notes": "n"} for confirmed in ("true", "false")
    ],
}

_LABEL = re.compile(r'<label for="(?P<name>[^"]+)">(?P<label>.*?)</label>', re.S)
_GROUP = re.compile(
    r"<fieldset class=\"field[^>]*>\s*<legend>(?P<label>.*?)</legend>(?P<body>.*?)</fieldset>", re.S
)
_RADIO = re.compile(r'type="radio" name="([^"]+)"')
_CHOSEN = re.compile(r'type="radio" name="([^"]+)" value="[^"]*"[^>]* checked')
_CHECKBOX = re.compile(r'type="checkbox" id="[^"]+" name="([^"]+)"')


def marks(html: str) -> dict[str, str]:
    """Each field of a form and how its label marks it: "optional", "needed-if" or ""."""
    found: dict[str, str] = {}
    labels = [(m["name"], m["label"]) for m in _LABEL.finditer(html)]
    labels += [
        (name, m["label"]) for m in _GROUP.finditer(html) for name in _RADIO.findall(m["body"])
    ]
    for name, label in labels:
        mark = re.search(r'<span class="(optional|needed-if)">', label)
        found[name] = mark.group(1) if mark else ""
    for name in _CHECKBOX.findall(html):  # a box sends "false" when not ticked: never empty
        found.pop(name, None)
    for name in _CHOSEN.findall(html):  # an option chosen beforehand cannot be unchosen
        found.pop(name, None)
    return found


def _refused_at(kind: PromptKind, form: dict[str, str], name: str) -> bool:
    try:
        answer_from_form(kind, form)
    except ValidationError as exc:
        return name in field_errors(exc)
    return False


def _emptied(form: dict[str, str], name: str, html: str) -> dict[str, str]:
    """The form with one field left empty, as a browser sends it (an unchosen option is absent)."""
    if name in _RADIO.findall(html):
        return {k: v for k, v in form.items() if k != name}
    return {**form, name: ""}


@pytest.mark.parametrize("kind", list(PromptKind))
def test_each_label_says_what_the_rules_require(kind):
    html = respond(kind)
    fields = marks(html)
    assert fields, html
    for form in FILLED[kind]:
        answer_from_form(kind, form)  # every filled-in choice is an answer
    for name, mark in fields.items():
        refused = [_refused_at(kind, _emptied(form, name, html), name) for form in FILLED[kind]]
        says = {"": "always needed", "optional": "optional", "needed-if": "needed by a choice"}
        truth = (
            "always needed"
            if all(refused)
            else "needed by a choice"
            if any(refused)
            else "optional"
        )
        assert says[mark] == truth, f"{kind}: {name} is {truth} but its label says {says[mark]}"


@pytest.mark.parametrize(
    ("kind", "field", "says"),
    [
        (K.INTRODUCTION_ADOPTER, "needs", "(needed if you confirm)"),
        (K.VISIT_REPORT, "learned", "(needed if the visit took place)"),
        (K.CHECK_IN, "support_needed", "(needed if the adaptation is blocked)"),
        (K.VISIT_CONFIRMATION, "counter.start", "(needed if you propose other terms)"),
    ],
)
def test_a_field_a_choice_requires_says_which_choice(kind, field, says):
    html = respond(kind)
    label = next(m["label"] for m in _LABEL.finditer(html) if m["name"] == field)
    assert says in words(label) and "(optional)" not in label, label
    [element] = re.findall(rf'<(?:input|textarea) id="{re.escape(field)}"[^>]*>', html)
    assert " required" not in element, element  # a browser must not demand it for every choice


def test_the_progress_form_marks_the_support_needed_when_blocked():
    view = match_view()
    adapting = view.state.model_copy(update={"stage": "adaptation"})
    html = render(
        "match.html", "en", page=type(view)(view.claims, adapting, view.history), token="t"
    )
    assert "Report progress" in html
    assert marks(html) == {
        "status": "",
        "note": "optional",
        "support_needed": "needed-if",
        "message": "",
    }


@pytest.mark.parametrize(
    ("language", "confirm"),
    [
        ("fr", "(à remplir si vous confirmez)"),
        ("es", "(obligatorio si confirma)"),
        ("ru", "(обязательно, если вы подтверждаете интерес)"),
    ],
)
def test_the_marks_are_in_the_pages_language(language, confirm):
    html = respond(K.INTRODUCTION_ADOPTER, language)
    label = next(m["label"] for m in _LABEL.finditer(html) if m["name"] == "needs")
    assert confirm in words(label), label
