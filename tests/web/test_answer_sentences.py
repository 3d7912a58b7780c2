"""The page after an answer, and the page of a question already answered, tell the answer back
in sentences of the page's language: choices as what they mean, numbers and dates as the
language writes them, what the partner wrote as they wrote it."""

import re
from datetime import date

import pytest

from domain.enums import PromptStatus
from domain.lifecycle import answers as a
from infra.i18n import long_date, number, usd
from tests.web.offline import prompt_page, render, words

_PLAN = a.VisitPlan(
    start=date(2026, 3, 3), end=date(2026, 3, 5), format="in_person", delegation_size=6
)
_ONE = a.VisitPlan(
    start=date(2026, 3, 1), end=date(2026, 3, 1), format="virtual", delegation_size=1
)

ANSWERS = [
    a.InterestAnswer(decision="confirm", needs="Rural clinics", exchange="remote"),
    a.InterestAnswer(decision="confirm", needs="Rural clinics", reason="Soon"),
    a.InterestAnswer(decision="decline", reason="No budget this year"),
    a.ShareAnswer(decision="accept"),
    a.ShareAnswer(decision="accept", exchange="remote", reason="Gladly"),
    a.ShareAnswer(decision="decline", reason="Our team is busy"),
    a.VisitProposal(plan=_PLAN),
    a.VisitProposal(plan=_ONE),
    a.VisitConfirmation(decision="confirm"),
    a.VisitConfirmation(decision="counter", counter=_ONE, reason="Elections in March"),
    a.VisitConfirmation(decision="counter", counter=_PLAN),
    a.VisitConfirmation(decision="cancel", reason="Elections"),
    a.VisitReport(held=True, proceed=True, learned="How centres are financed"),
    a.VisitReport(held=True, proceed=False, learned="How centres are financed"),
    a.VisitReport(held=False),
    a.AdaptationPlanAnswer(customisations="Kazakh forms", target_pilot_date=date(2026, 9, 1)),
    a.CheckInAnswer(status="on_track", note="Forms translated"),
    a.CheckInAnswer(status="blocked", support_needed="Server access"),
    a.CheckInAnswer(status="piloted"),
    a.CheckInAnswer(status="abandoned", note="The ministry merged"),
    a.OutcomeReport(
        result="scaled",
        people_reached=120000,
        time_saved_days=2.5,
        cost_saved_usd=8,
        visits_saved=1.5,
        lessons="Start small",
        consent_to_publish=True,
    ),
    a.OutcomeReport(
        result="piloted",
        people_reached=1,
        time_saved_days=1,
        cost_saved_usd=0.5,
        visits_saved=1,
        consent_to_publish=False,
    ),
    a.OutcomeReport(
        result="not_adopted",
        people_reached=0,
        time_saved_days=0,
        cost_saved_usd=0,
        visits_saved=0,
        consent_to_publish=False,
    ),
    a.OutcomeConfirmation(confirmed=True, notes="Well done"),
    a.OutcomeConfirmation(confirmed=False),
]
WRITTEN = (
    "needs",
    "reason",
    "learned",
    "customisations",
    "note",
    "support_needed",
    "lessons",
    "notes",
)
CODES = {
    "confirm", "decline", "accept", "counter", "cancel", "field_visit", "remote", "in_person",
    "virtual", "on_track", "blocked", "piloted", "abandoned", "scaled", "not_adopted",
}  # fmt: skip
# codes that are also words of a language ("virtual" in Spanish too)
WORDS = {
    "en": {"confirm", "decline", "accept", "cancel", "remote", "virtual", "blocked", "piloted",
           "abandoned", "scaled"},
    "es": {"virtual"},
}  # fmt: skip


def told(answer: a.BaseModel, language: str) -> str:
    """The answer as the page after it tells it, in words."""
    html = render("recorded.html", language, answer=answer.model_dump(mode="json"), stage="outcome")
    [block] = re.findall(r'<div class="answer">(.*?)</div>', html, re.S)
    return words(block)


def _id(value: object) -> str | None:
    return f"{value.kind}-{ANSWERS.index(value)}" if value in ANSWERS else None


@pytest.mark.parametrize(
    ("answer", "sentences"),
    [
        (
            ANSWERS[0],
            "You confirmed that you want to adopt the solution. You would like to learn from the "
            "provider through a remote exchange. Your needs: Rural clinics",
        ),
        (ANSWERS[2], "You declined to adopt the solution. Why you declined: No budget this year"),
        (
            ANSWERS[6],
            "You proposed an in-person visit from 3 March 2026 to 5 March 2026, with a delegation "
            "of 6 people.",
        ),
        (
            ANSWERS[9],
            "You proposed other terms: a virtual visit from 1 March 2026 to 1 March 2026, with a "
            "delegation of 1 person. Your note for your partner: Elections in March",
        ),
        (ANSWERS[15], "You plan to pilot the adapted solution by 1 September 2026."),
        (ANSWERS[17], "You reported that the adaptation is blocked and that you need support."),
        (
            ANSWERS[20],
            "You reported that the solution was scaled up, reaching 120,000 people. Each citizen "
            "saves 2.5 days per service. Each citizen saves US$8.00 per service. Each citizen "
            "needs 1.5 fewer visits per service. You agreed that the Network may publish it as a "
            "case study. Lessons for other institutions: Start small",
        ),
        (
            ANSWERS[21],
            "You reported that the solution was piloted, reaching 1 person. Each citizen saves 1 "
            "day per service. Each citizen saves US$0.50 per service. Each citizen needs 1 fewer "
            "visit per service.",
        ),
    ],
    ids=_id,
)
def test_the_answer_is_told_in_english_sentences(answer, sentences):
    assert sentences in told(answer, "en")


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("fr", "a touché {people} personnes."),
        ("es", "llegó a {people} personas."),
        ("ru", "охвачено {people} человек."),
    ],
)
def test_numbers_and_dates_are_written_the_languages_way(language, sentence):
    outcome = told(ANSWERS[20], language)
    assert sentence.format(people=number(120000, language)) in outcome, outcome
    assert number(2.5, language) in outcome and usd(8, language) in outcome
    assert "120000" not in outcome and "2.5" not in outcome.replace(number(2.5, language), "")
    visit = told(ANSWERS[6], language)
    assert long_date(date(2026, 3, 3), language) in visit, visit


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru"])
@pytest.mark.parametrize("answer", ANSWERS, ids=_id)
def test_every_answer_is_told_without_its_codes(answer, language):
    text = told(answer, language)
    fields = answer.model_dump(mode="json")
    assert text and "%(" not in text and "{{" not in text, text
    for name in WRITTEN:
        if fields.get(name):
            assert fields[name] in text, (name, text)
            text = text.replace(fields[name], "")
    codes = CODES - WORDS.get(language, set())
    mentioned = set(re.findall(r"\w+", text.lower())) & codes
    assert not mentioned, (mentioned, text)
    assert not re.search(r"\b(True|False|None|true|false)\b", text), text
    assert not re.search(r"\d{4}-\d\d-\d\d|\d{5}", text), text  # ISO dates, unformatted numbers
    assert not re.search(r"\b(Decision|Exchange|Result|Status|Format|People reached) ?:", text)


@pytest.mark.parametrize("language", ["fr", "es", "ru"])
@pytest.mark.parametrize("answer", ANSWERS, ids=_id)
def test_no_english_sentence_is_left(answer, language):
    english = told(answer, "en")
    for name in WRITTEN:  # what they wrote stays as written
        english = english.replace(str(answer.model_dump().get(name) or "\0"), "")
    translated = told(answer, language)
    for sentence in re.findall(r"[A-Z][^.:]{12,}[.:]", english):
        assert sentence not in translated, (sentence, translated)


def test_the_page_of_a_question_already_answered_tells_what_was_recorded():
    page = prompt_page("outcome_report")
    stored = ANSWERS[20].model_dump(mode="json")
    answered = page.prompt.model_copy(
        update={
            "status": PromptStatus.ANSWERED,
            "answer": {k: v for k, v in stored.items() if k != "kind"},
        }
    )
    page = type(page)(page.claims, page.state, page.history, answered)
    html = render(
        "problem.html",
        "fr",
        page=page,
        answer=answered.answer,
        title="This question is closed",
        message="This question has already been answered. This is what was recorded:",
    )
    text = words(html)
    people = number(120000, "fr")
    assert f"étendue à grande échelle et a touché {people} personnes" in text, text
    assert "Start small" in text and "scaled" not in text


@pytest.mark.parametrize("language", ["en", "fr", "ru"])
def test_what_a_partner_wrote_is_escaped(language):
    answer = a.InterestAnswer(decision="confirm", needs='<script>alert("x")</script> & co')
    html = render("recorded.html", language, answer=answer.model_dump(mode="json"), stage="outcome")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
