"""The baseline for bench/lifecycle.py: a workflow that does the same steps and nothing else."""

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

CHECKIN_SECONDS = 2.0


@activity.defn
async def noop(step: int) -> int:
    return step


def updates_before_timer(plan: list[tuple[str, int]]) -> int | None:
    """How many updates a match receives before its durable timer starts (None: no timer)."""
    kinds = [kind for kind, _ in plan[1:]]
    return kinds[: kinds.index("timer")].count("update") if "timer" in kinds else None


@workflow.defn
class BareLifecycle:
    """Same shape as a match: activities after start, after each update and after the timer,
    which starts once the update before it is done (as the match's first check-in does)."""

    @workflow.init
    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self._plan = plan
        self._updates = 0
        self._timer_after = updates_before_timer(plan)
        self._timer_done = False

    async def _activities(self, n: int) -> None:
        await asyncio.gather(
            *(
                workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
                for i in range(n)
            )
        )

    @workflow.run
    async def run(self, plan: list[tuple[str, int]]) -> int:
        await self._activities(plan[0][1])
        if self._timer_after is not None:
            after = self._timer_after
            await workflow.wait_condition(lambda: self._updates >= after)
            await workflow.wait_condition(workflow.all_handlers_finished)
            await workflow.sleep(CHECKIN_SECONDS)
            self._timer_done = True
            await self._activities(next(n for kind, n in plan if kind == "timer"))
        total_updates = sum(1 for kind, _ in plan if kind == "update")
        await workflow.wait_condition(lambda: self._updates == total_updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._updates

    @workflow.update
    async def step(self, index: int) -> int:
        self._updates += 1
        updates = [n for kind, n in self._plan if kind == "update"]
        await self._activities(updates[index])
        return index

    @step.validator
    def _check(self, index: int) -> None:
        if index != self._updates:
            raise ValueError("out of order")
        if self._timer_after is not None and index >= self._timer_after and not self._timer_done:
            raise ValueError("not yet")
