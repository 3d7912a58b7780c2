"""Driving a real MatchLifecycle on the time-skipping server, as partners and the Secretariat."""

from datetime import timedelta
from email.header import decode_header, make_header

from temporalio.client import WorkflowHandle

from domain.enums import Party, PromptKind
from domain.lifecycle import events as ev
from domain.lifecycle.state import MatchState, Prompt
from domain.policy import TimingPolicy
from services.intake import submit_eoi
from tests.support import unique_eoi, wait_for
from workflows.match_lifecycle import MatchLifecycle


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


class Match:
    def __init__(self, stack, env, handle: WorkflowHandle, eoi) -> None:
        self.stack, self.env, self.handle, self.eoi = stack, env, handle, eoi

    @classmethod
    async def begin(cls, stack, env, policy: TimingPolicy | None = None, **kwargs) -> "Match":
        eoi = unique_eoi()
        if kwargs:
            from workflows.contracts import MatchLifecycleInput

            handle = await stack.client.start_workflow(
                MatchLifecycle.run,
                MatchLifecycleInput(eoi=eoi, policy=policy or TimingPolicy(), **kwargs),
                id=eoi.match_id,
                task_queue=stack.task_queue,
            )
        else:
            result = await submit_eoi(stack.backend, eoi=eoi, policy=policy)
            handle = stack.client.get_workflow_handle_for(MatchLifecycle.run, result.workflow_id)
        match = cls(stack, env, handle, eoi)
        await wait_for(lambda: len(match.mails()) >= 2)
        return match

    async def state(self) -> MatchState:
        return await self.handle.query(MatchLifecycle.state)

    async def open(self, kind: PromptKind) -> Prompt:
        state = await self.state()
        return next(p for p in state.open_prompts() if p.kind == kind)

    async def answer(self, kind: PromptKind, answer, party: Party | None = None):
        prompt = await self.open(kind)
        event = ev.Answered(prompt_id=prompt.id, party=party or prompt.party, answer=answer)
        return await self.handle.execute_update(MatchLifecycle.answer, event)

    async def finish(self, days: float = 0):
        """Let time pass until the workflow has closed, and return its result.

        (Waiting on result() alone while timers are pending stalls the test server's clock.)
        """
        if days:
            await self.sleep(days)

        async def closed() -> bool:
            return (await self.state()).closed

        await wait_for(closed)
        return await self.handle.result()

    async def sleep(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))

    def mails(self, to: str | None = None, subject: str = "") -> list:
        mails = [
            m
            for m in self.stack.mail.messages
            if self.eoi.match_id in m.get_payload()[0].get_payload(decode=True).decode()
        ]
        return [m for m in mails if (to is None or to in m["To"]) and subject in _subject(m)]

    async def history(self, kind: str | None = None):
        state = await self.state()
        return [h for h in state.history if kind is None or h.kind == kind]

    async def days_of(self, kind: str) -> list[float]:
        state = await self.state()
        return [
            round((h.occurred_at - state.started_at) / timedelta(days=1), 3)
            for h in state.history
            if h.kind == kind
        ]
