"""The timing policy is chosen when a match starts: a new settings default moves no running
match's deadlines, and the matches started after it follow the new one."""

from dataclasses import replace
from datetime import timedelta

from domain.enums import PromptKind, Stage
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from domain.policy import TimingPolicy
from services import steering
from services.intake import submit_eoi
from tests.support import unique_eoi, wait_for


async def test_a_running_match_keeps_the_policy_it_started_with(stack, temporal_env):
    before = replace(stack.backend, policy=TimingPolicy())
    eoi = unique_eoi()
    await submit_eoi(before, eoi=eoi)
    await wait_for(lambda: len(stack.mail.messages) >= 2)

    # the settings default changes (say a redeploy with one policy day lasting an hour)
    after = replace(stack.backend, policy=TimingPolicy().scaled(1 / 24))
    state = await steering.live_state(after, match_id=eoi.match_id)
    assert state.policy == TimingPolicy()
    adopter, provider = (
        next(p for p in state.open_prompts() if p.kind == kind)
        for kind in (PromptKind.INTRODUCTION_ADOPTER, PromptKind.INTRODUCTION_PROVIDER)
    )
    deadlines = (provider.reminders_due, provider.escalate_at, provider.lapse_at)
    await steering.answer(
        after,
        match_id=eoi.match_id,
        event=ev.Answered(
            prompt_id=adopter.id,
            party=adopter.party,
            answer=a.InterestAnswer(decision="confirm", needs="rural access"),
        ),
        entered_by="ana@ssn4psi.org",
    )
    # beyond the new policy's lapse (30 hours), short of the match's own first reminder (7 days)
    await temporal_env.sleep(timedelta(days=3))
    state = await steering.live_state(after, match_id=eoi.match_id)
    assert state.stage == Stage.FOLLOW_UP and not state.closed and not state.attention
    [still] = [p for p in state.open_prompts() if p.id == provider.id]
    assert (still.reminders_due, still.escalate_at, still.lapse_at) == deadlines
    assert still.lapse_at - still.opened_at == timedelta(days=30)
    assert still.sends == 1  # no reminder went out on the new policy's day 7 (7 hours)

    # a match submitted after the change starts with the new default
    other = unique_eoi()
    await submit_eoi(after, eoi=other)
    fresh = await steering.live_state(after, match_id=other.match_id)
    assert fresh.policy == after.policy
    [prompt, _] = fresh.open_prompts()
    assert prompt.lapse_at - prompt.opened_at == timedelta(hours=30)
