"""A record the database refused: the match needs attention, the Secretariat hears once."""

from domain.enums import NoticeKind, Party
from domain.lifecycle import events as e
from tests.domain.lifecycle_helpers import Driver

REFUSED = e.RecordFailed(what="history no. 4 (note)", error="the database refused it")


def test_a_refused_record_needs_attention_and_tells_the_secretariat_once(version):
    d = Driver(rules_version=version)
    first = d.apply(REFUSED)
    assert d.state.attention["record"].startswith("Could not record history no. 4 (note)")
    assert [(m.template, m.party) for m in first.emails] == [
        (NoticeKind.RECORD_FAILURE, Party.SECRETARIAT)
    ]
    assert [h.kind for h in first.history] == ["record_failed"]
    again = d.apply(REFUSED)
    assert again.emails == []  # one notice until someone has looked
    d.act(e.AddNote, text="Checked with the operators: the note is in the workflow")
    assert "record" not in d.state.attention


def test_a_refusal_after_the_close_is_still_told(version):
    d = Driver(rules_version=version)
    d.act(e.Close, reason="not_pursued", note="Neither side followed up")
    decision = d.apply(REFUSED)
    assert decision.emails and d.state.closed
