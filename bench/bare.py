"""The baseline for bench/lifecycle.py: a bare workflow that performs a recorded match's steps.

It runs the activities a real match ran, with the inputs it ran them with (read from that
match's history), after its start, after each update and after its durable timer, and
nothing else: no rules, no state, no validation of answers, no search attributes. With
``noop`` in place of each activity it measures Temporal alone."""

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

CHECKIN_SECONDS = 5.0


class Call(BaseModel):
    """One activity to run: its type and its input as the match's history holds it (JSON)."""

    activity: str
    input: str = "0"


class BarePlan(BaseModel):
    """A match's shape: the calls after its start, after each update and after its timer."""

    start: list[Call]
    updates: list[list[Call]]
    updates_before_timer: int | None = None
    after_timer: list[Call] = []


@activity.defn
async def noop(step: int) -> int:
    return step


@workflow.defn
class BareLifecycle:
    """Runs the plan's calls after start, after each update and after the timer, which
    starts when the last update before it is accepted (as the match's first check-in does)."""

    @workflow.init
    def __init__(self, plan: BarePlan) -> None:
        self._plan = plan
        self._updates = 0
        self._timer_done = False
        self._started = False

    async def _run(self, calls: list[Call]) -> None:
        """Run the calls at once, except that the match is recorded before anything else
        (as the match does: its other rows refer to it)."""
        first = [call for call in calls if call.activity == "record_match"]
        for group in (first, [call for call in calls if call not in first]):
            await asyncio.gather(*(self._call(call) for call in group))

    @staticmethod
    async def _call(call: Call) -> object:
        payload = Payload(metadata={"encoding": b"json/plain"}, data=call.input.encode())
        return await workflow.execute_activity(
            call.activity, RawValue(payload), start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.run
    async def run(self, plan: BarePlan) -> int:
        await self._run(plan.start)
        self._started = True
        if plan.updates_before_timer is not None:
            after = plan.updates_before_timer
            # The timer starts when the update before it is accepted, in the same workflow
            # task, as the match's check-in timer starts at the decision, before its effects
            # (starting it once they are done made it fire later than the match's, and the
            # driver's check-in answer was refused and retried ~0.8 times per workflow).
            await workflow.wait_condition(lambda: self._updates >= after)
            await workflow.sleep(CHECKIN_SECONDS)
            # What runs after the timer waits for that update's calls, as the match's tick
            # waits for the decision before it to finish its effects.
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._timer_done = True
            await self._run(plan.after_timer)
        await workflow.wait_condition(lambda: self._updates == len(plan.updates))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._updates

    @workflow.update
    async def step(self, index: int) -> int:
        self._updates += 1
        await workflow.wait_condition(lambda: self._started)  # the match's rows exist first
        await self._run(self._plan.updates[index])
        return index

    @step.validator
    def _check(self, index: int) -> None:
        if index != self._updates:
            raise ValueError("out of order")
        before = self._plan.updates_before_timer
        if before is not None and index >= before and not self._timer_done:
            raise ValueError("not yet")


@workflow.defn
class BareAnswer:
    """The baseline of bench/answer.py: a workflow that takes one answer by Update and keeps
    it, with no rules, no state beyond it and no effects: Temporal's Update round trip alone."""

    def __init__(self) -> None:
        self._answer: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._answer is not None)
        return self._answer or ""

    @workflow.update
    async def answer(self, answer: str) -> int:
        self._answer = answer
        return len(answer)

    @workflow.query
    def state(self) -> str | None:
        return self._answer
