"""MatchLifecycle: the durable driver of one match. The rules live in domain.lifecycle."""

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.enums import Party
    from domain.lifecycle import InvalidMove, decide, start
    from domain.lifecycle import events as ev
    from domain.lifecycle.effects import Decision
    from domain.lifecycle.imported import start_imported
    from domain.lifecycle.state import RULES_VERSION, MatchState
    from workflows import search_attributes as sa
    from workflows.contracts import MatchLifecycleInput, MatchLifecycleResult, UpdateResult
    from workflows.effects import EffectPump
    from workflows.legacy import LegacyEffects, LegacyUpdates

# Patches: each id guards a change of the commands a workflow issues, so histories recorded
# before it still replay (tests/workflows/test_replay.py). Remove once no such run is open.
STEADY_TIMER = "one-timer-per-deadline"
# A new match follows the newest rules; one started before versions existed follows version 1
# for its whole life (the version is part of the state carried across continue-as-new).
RULES_V2 = "rules-version-2"
# Version 3: dates on the stack's calendar, partners told how their match ended, one escalation
# per moment, field visits as calendar invitations.
RULES_V3 = "rules-version-3"
# Answers and actions return once their decision is adopted; one pump performs the effects
# (history in order, emails in parallel, bounded retries). Before it, every update waited for
# its emails: an SMTP outage froze the match's answers, actions and timers.
EFFECT_PUMP = "effect-pump"
# Only the search attributes whose values moved are upserted (most answers move none: the
# stage, the status and the next deadline stay), not all seven after every decision.
CHANGED_ATTRIBUTES = "upsert-changed-search-attributes"
EMAILS_BEFORE_CONTINUE = timedelta(minutes=2)  # how long continue-as-new waits for emails


def _refused(exc: InvalidMove) -> ApplicationError:
    """The rules' refusal as the Update's failure: the sentence, and its code and parameters
    as details (a partner's page says it in the partner's language). A refusal leaves nothing
    in the history when the validator gives it; the handler's leaves no event either."""
    return ApplicationError(
        str(exc), {"code": exc.code, "params": exc.params}, type="InvalidMove", non_retryable=True
    )


@workflow.defn
class MatchLifecycle(LegacyUpdates, LegacyEffects):
    """Waits for the next event (answer, action, timer), asks the rules, performs the effects."""

    @workflow.init
    def __init__(self, data: MatchLifecycleInput) -> None:
        # The state exists before any handler runs, so an answer that arrives with the start
        # is validated against the opened prompts.
        self._input = data
        self._version = 0
        self._lock = asyncio.Lock()  # legacy runs: one decision and its effects at a time
        self._pump = EffectPump(self._on_failure) if workflow.patched(EFFECT_PUMP) else None
        self._changed_only = workflow.patched(CHANGED_ATTRIBUTES)
        self._first: Decision | None = None
        if data.state is not None:
            self._state: MatchState | None = data.state
        else:
            version = (
                RULES_VERSION
                if workflow.patched(RULES_V3)
                else 2
                if workflow.patched(RULES_V2)
                else 1
            )
            if data.imported is not None:  # new input: no earlier history holds it
                self._first = start_imported(
                    data.eoi,
                    data.policy,
                    workflow.now(),
                    data.imported,
                    rules_version=version,
                    calendar=data.calendar,
                )
            else:
                self._first = start(
                    data.eoi,
                    data.policy,
                    workflow.now(),
                    rules_version=version,
                    calendar=data.calendar,
                )
            self._state = self._first.state
        self._ready = self._first is None
        if self._pump is not None:
            if self._first is not None:
                self._pump.push(self._first, first=True)
            self._ready = True
        self._timer: asyncio.Task[None] | None = None
        self._timer_for: datetime | None = None
        self._checked: tuple[int, datetime, ev.Event, Decision] | None = None

    @workflow.run
    async def run(self, data: MatchLifecycleInput) -> MatchLifecycleResult:
        pump_task = asyncio.create_task(self._pump.run()) if self._pump else None
        if self._pump is not None:
            self._publish()
            self._pump.deliver(self.state_, data.emails)  # under way when the last run ended
        elif self._first is None:
            self._publish()
        else:
            await self._start_legacy(self._first)
        steady_timer = workflow.patched(STEADY_TIMER)
        while not self.state_.closed:
            if steady_timer:
                await self._wait_for_next_event()
            else:  # histories made before the patch: a new timer after every event
                await self._wait_with_fresh_timer()
            if self._continue_as_new_due() and not self.state_.closed:
                # The history must be recorded first. Emails get a short while to finish;
                # those still being retried then go on in the new run (their outbox keys make
                # a second attempt harmless), so no deadline waits long on a mail server.
                await self._settle(emails=False)
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._pump is None or self._pump.idle,
                        timeout=EMAILS_BEFORE_CONTINUE,
                    )
                workflow.continue_as_new(
                    MatchLifecycleInput(
                        eoi=data.eoi,
                        policy=data.policy,
                        calendar=data.calendar,
                        state=self.state_,
                        imported=data.imported,  # the import compares a file with it
                        history_limit=data.history_limit,
                        emails=self._pump.undelivered() if self._pump else [],
                    )
                )
        await self._settle(emails=True)
        if pump_task is not None:
            pump_task.cancel()
        s = self.state_
        return MatchLifecycleResult(
            match_id=s.match_id, stage=s.stage, status=s.status, close_reason=s.close_reason
        )

    async def _settle(self, *, emails: bool) -> None:
        """Wait until every update has finished and the effects are performed (with or
        without the emails still under way)."""
        pump = self._pump
        await workflow.wait_condition(
            lambda: (
                workflow.all_handlers_finished()
                and (
                    pump is None
                    or pump.failure is not None
                    or (pump.idle if emails else pump.recorded)
                )
            )
        )
        if pump is not None:
            pump.raise_if_failed()

    # -- the driver ---------------------------------------------------------------------------
    async def _wait_for_next_event(self) -> None:
        """Wait for an answer, an action or the next deadline; keep one timer per deadline."""
        deadline = self.state_.next_deadline
        if deadline != self._timer_for:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_for = None, deadline
            if deadline is not None:
                delay = max(deadline - workflow.now(), timedelta(0))
                self._timer = asyncio.create_task(workflow.sleep(delay, summary="next deadline"))
        seen, timer, pump = self._version, self._timer, self._pump
        await workflow.wait_condition(
            lambda: (
                self._version != seen
                or (timer is not None and timer.done())
                or self._continue_as_new_due()
                or (pump is not None and pump.failure is not None)
            )
        )
        if pump is not None:
            pump.raise_if_failed()
        if timer is not None and timer.done() and not self.state_.closed:
            self._timer, self._timer_for = None, None
            await self._apply(ev.Tick())

    async def _wait_with_fresh_timer(self) -> None:
        seen, deadline = self._version, self.state_.next_deadline
        timeout = max(deadline - workflow.now(), timedelta(0)) if deadline else None
        try:
            await workflow.wait_condition(
                lambda: self._version != seen or self._continue_as_new_due(), timeout=timeout
            )
        except TimeoutError:
            pass
        if deadline is not None and workflow.now() >= deadline and not self.state_.closed:
            await self._apply(ev.Tick())

    @property
    def state_(self) -> MatchState:
        if self._state is None:
            raise RuntimeError("workflow state read before run() initialised it")
        return self._state

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        limit = self._input.history_limit if self._input else None
        return info.is_continue_as_new_suggested() or bool(
            limit and info.get_current_history_length() > limit
        )

    def _adopt(self, decision: Decision) -> None:
        self._state = decision.state
        self._version += 1
        self._publish()

    async def _apply(self, event: ev.Event) -> UpdateResult:
        await workflow.wait_condition(lambda: self._ready)
        if self._pump is not None:
            # decide and adopt in one step (no await between them); the pump does the rest
            try:
                decision = self._decide(event)
            except InvalidMove as exc:  # the state moved since validation
                raise _refused(exc) from exc
            self._adopt(decision)
            self._pump.push(decision)
            return UpdateResult.of(self.state_)
        async with self._lock:
            try:
                decision = decide(self.state_, event, workflow.now())
            except InvalidMove as exc:
                raise _refused(exc) from exc
            self._adopt(decision)
            await self._perform(decision)
        return UpdateResult.of(self.state_)

    def _on_failure(self, event: ev.Event) -> None:
        """An email could not be delivered, or a record was refused: the rules decide."""
        try:
            decision = decide(self.state_, event, workflow.now())
        except InvalidMove:
            return
        self._adopt(decision)
        assert self._pump is not None
        self._pump.push(decision, feedback=not isinstance(event, ev.RecordFailed))

    def _publish(self) -> None:
        """Mirror the state into search attributes and the current details shown in the UI."""
        s = self.state_
        eoi = s.eoi
        deadline = s.next_deadline
        wanted = sa.values(eoi, stage=s.stage, status=s.status, next_deadline=deadline)
        if self._changed_only:
            wanted = sa.changed(wanted, workflow.info().typed_search_attributes)
        if wanted:
            workflow.upsert_search_attributes(sa.updates(wanted))
        prompts = "\n".join(
            f"- `{p.id}` → {p.party}" + (f", answer by {p.lapse_at:%Y-%m-%d}" if p.lapse_at else "")
            for p in s.open_prompts()
        )
        workflow.set_current_details(
            f"**Stage:** {s.stage} · **Status:** {s.status}"
            + (f" ({s.close_reason})" if s.close_reason else "")
            + f"\n\n**Next deadline:** {f'{deadline:%Y-%m-%d %H:%M} UTC' if deadline else '—'}"
            + f"\n\n**Adopter:** {eoi.adopter.institution.name} ({eoi.adopter.institution.country}), "
            f"{s.contacts[Party.ADOPTER].email}"
            + f"\n\n**Provider:** {eoi.solution.provider.name} ({eoi.solution.provider.country}), "
            f"{s.contacts[Party.PROVIDER].email}"
            + (f"\n\n**Open prompts:**\n{prompts}" if prompts else "")
            + (f"\n\n**Needs attention:** {'; '.join(s.attention.values())}" if s.attention else "")
            + (f"\n\n**Last event:** {s.history[-1].summary}" if s.history else "")
        )

    def _check(self, event: ev.Event) -> None:
        """Validator body: refuse (leaving no trace in history) what the rules refuse."""
        try:
            decision = decide(self.state_, event, workflow.now())
        except InvalidMove as exc:
            raise _refused(exc) from exc
        if self._pump is not None:  # runs on the pump reuse it in the handler
            self._checked = (self._version, workflow.now(), event, decision)

    def _decide(self, event: ev.Event) -> Decision:
        """The rules' decision on an event, reusing the validator's when nothing moved since.

        The rules are pure, so the reuse changes nothing but the cost (the working copy of the
        state is the dearest part of an update); on replay no validator runs and the handler
        decides itself, to the same result."""
        checked, self._checked = self._checked, None
        if checked is not None:
            version, at, seen, decision = checked
            if version == self._version and at == workflow.now() and seen == event:
                return decision
        return decide(self.state_, event, workflow.now())

    # -- queries ------------------------------------------------------------------------------
    @workflow.query
    def state(self) -> MatchState:
        """Return the full state: stage, status, whom we wait on, prompts, policy, history."""
        return self.state_

    # -- partner answers ----------------------------------------------------------------------
    @workflow.update
    async def answer(self, event: ev.Answered) -> UpdateResult:
        """A partner answers an open prompt."""
        return await self._apply(event)

    @answer.validator
    def _check_answer(self, event: ev.Answered) -> None:
        self._check(event)

    @workflow.update
    async def report_progress(self, event: ev.ReportProgress) -> UpdateResult:
        """The adopter reports how the adaptation goes, whether a check-in is open or not."""
        return await self._apply(event)

    @report_progress.validator
    def _check_report_progress(self, event: ev.ReportProgress) -> None:
        self._check(event)

    @workflow.update
    async def partner_request(self, event: ev.PartnerRequest) -> UpdateResult:
        """A partner asks, from their own pages, for a fresh link or for the Secretariat's help."""
        return await self._apply(event)

    @partner_request.validator
    def _check_partner_request(self, event: ev.PartnerRequest) -> None:
        self._check(event)

    # -- Secretariat actions ------------------------------------------------------------------
    @workflow.update
    async def act(self, action: ev.Action) -> UpdateResult:
        """The Secretariat acts on the match (pause, resume, extend a deadline, …)."""
        return await self._apply(action)

    @act.validator
    def _check_act(self, action: ev.Action) -> None:
        self._check(action)
