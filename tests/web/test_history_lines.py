"""A partner's history is told from each entry's data, in the reader's language."""

import pytest

from domain.enums import PromptKind
from domain.lifecycle import answers as a
from domain.lifecycle import events as e
from domain.partner_view import PARTNER_VISIBLE, partner_history
from tests.domain.lifecycle_helpers import Driver
from web.history import TELLERS, told
from web.i18n import Said, translator


def _a_full_match() -> Driver:
    """A match through every partner-visible kind: a visit cancelled, one held, progress,
    a support request, the outcome and the close."""
    d = Driver()
    d.both_agree()
    d.answer(PromptKind.VISIT_PROPOSAL, a.VisitProposal(plan=d.plan(10)))
    d.answer(PromptKind.VISIT_CONFIRMATION, a.VisitConfirmation(decision="cancel", reason="x"))
    d.visit_agreed(start_in=20)
    d.advance(25)
    d.report_visit()
    d.adaptation_plan()
    blocked = a.CheckInAnswer(status="blocked", support_needed="server access")
    d.apply(e.ReportProgress(report=blocked))
    d.apply(e.ReportProgress(report=a.CheckInAnswer(status="piloted")))
    d.outcome()
    return d


def test_every_kind_partners_see_has_its_teller():
    assert set(TELLERS) == set(PARTNER_VISIBLE)


@pytest.mark.parametrize("language", ["fr", "es", "ru"])
def test_every_entry_is_told_in_the_language_not_as_stored(language):
    d = _a_full_match()
    entries = partner_history(d.state)
    kinds = {entry.kind for entry in entries}
    assert kinds >= PARTNER_VISIBLE - {"visit_recorded"}, PARTNER_VISIBLE - kinds
    translate = translator(language)
    for entry in entries:
        line = told(entry, d.state)
        assert isinstance(line, Said), entry.kind
        text = translate(line)
        assert text != str(line) and entry.summary not in text and "%(" not in text, text
        for code in ("follow_up", "field_visit", "in_person", "introduction_adopter"):
            assert code not in text, text


def test_the_english_lines_name_what_happened():
    d = _a_full_match()
    english = translator("en")
    lines = [english(told(entry, d.state)) for entry in partner_history(d.state)]
    assert "The adopter answered “do you still want to adopt the solution?”" in lines
    assert "The match moved on to the stage: field visit." in lines
    assert any(line.startswith("An in-person visit was scheduled from") for line in lines)
    assert "The adopter reported that the adaptation is blocked and needs support." in lines
    assert "The outcome was recorded: the solution was piloted; people reached: 12,000." in lines
    assert "The match was closed: completed." in lines


def test_an_entry_without_its_data_is_told_in_general_words():
    d = Driver()
    [recorded, *_] = partner_history(d.state)
    bare = recorded.model_copy(update={"kind": "visit_scheduled", "data": {}})
    assert told(bare, d.state) == Said("A visit was scheduled.")
    secret = recorded.model_copy(update={"kind": "note_added"})
    assert told(secret, d.state) == recorded.summary
