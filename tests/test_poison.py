"""Poison never wedges: a record the database refuses for good becomes an event the rules
decide (the match needs attention, the Secretariat is told) and the match stays steerable."""

import asyncio
import re

from sqlalchemy import text

from domain.enums import CloseReason, Stage
from domain.lifecycle import events as ev
from store import queries
from store.engine import make_engine
from tests.support import wait_for
from tests.workflows.helpers import Match
from workflows.match_lifecycle import MatchLifecycle

POISON = "QZX-TOXIC"
REFUSE = {
    # the database refuses, for good, any history entry that mentions the poison
    "sqlite": [
        f"CREATE TRIGGER refuse_poison BEFORE INSERT ON match_history "
        f"WHEN NEW.summary LIKE '%{POISON}%' BEGIN SELECT RAISE(ABORT, 'entry refused by a check'); END"
    ],
    "postgresql": [
        f"ALTER TABLE match_history ADD CONSTRAINT no_poison CHECK (summary NOT LIKE '%{POISON}%')"
    ],
}


async def _refuse_poison(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement in REFUSE[engine.dialect.name]:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def test_a_refused_record_needs_attention_and_the_match_stays_steerable(
    stack, temporal_env, database_url
):
    await _refuse_poison(database_url)
    match = await Match.begin(stack, temporal_env)

    noted = await asyncio.wait_for(
        match.handle.execute_update(
            MatchLifecycle.act, ev.AddNote(text=f"{POISON} in the note", by="ana")
        ),
        timeout=10,
    )
    assert noted.stage == Stage.FOLLOW_UP

    async def attention() -> bool:
        return "record" in (await match.state()).attention

    await wait_for(attention, timeout=30)
    state = await match.state()
    assert re.match(r"Could not record history no\. \d+ \(note\)", state.attention["record"])
    assert "the database refused recording the history" in state.attention["record"]
    await wait_for(lambda: match.mails("secretariat@", "was not recorded"), timeout=30)

    # still steerable: another note, then a close, each recorded; the poisoned note is not
    await match.handle.execute_update(MatchLifecycle.act, ev.AddNote(text="Called both", by="ana"))
    result = await asyncio.wait_for(
        match.handle.execute_update(
            MatchLifecycle.act,
            ev.Close(reason=CloseReason.NOT_PURSUED, note="Neither side followed up", by="ana"),
        ),
        timeout=10,
    )
    assert result.stage == Stage.CLOSED
    await asyncio.wait_for(match.handle.result(), timeout=30)
    async with stack.resources.sessions() as session:
        row = await queries.get_match(session, match_id=match.eoi.match_id)
        history = await queries.list_history(session, match_id=match.eoi.match_id)
    assert row is not None and row.stage == Stage.CLOSED
    kinds = [h.kind for h in history]
    assert "record_failed" in kinds and "closed" in kinds
    assert not any(POISON in h.summary for h in history)
    # the second note cleared the attention the refusal raised
    assert "record" not in (await match.state()).attention
    # one notice for the refusal, not one per attempt
    assert len(match.mails("secretariat@", "was not recorded")) == 1
