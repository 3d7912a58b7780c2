"""What MatchLifecycle keeps only so that runs begun by earlier code still replay and finish.

Runs started before the ``effect-pump`` patch performed each decision's effects inside the
update that made it, and took one update per Secretariat action. New runs use the effect pump
(workflows/effects.py) and the single ``act`` update. Remove this module once no run started
before the patch is open (the replay test then has no history that needs it).
"""

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import SendEmailInput
    from activities.notifications import PERMANENT_DELIVERY_ERROR, Notifications
    from domain.lifecycle import decide
    from domain.lifecycle import events as ev
    from domain.lifecycle.effects import Decision, SendEmail
    from workflows.contracts import UpdateResult
    from workflows.effects import SMTP_RETRY, draft_case_study, email_summary, record_history

if TYPE_CHECKING:
    from domain.lifecycle.state import MatchState

# Histories recorded before this patch performed history, case study and emails one after
# the other; after it, all at once.
PARALLEL_EFFECTS = "parallel-effects-and-search-attribute-diffs"


class LegacyEffects:
    """Effects performed inside the update (runs begun before the effect pump)."""

    if TYPE_CHECKING:  # the workflow's own (a read-only property)

        @property
        def state_(self) -> "MatchState": ...

    _lock: asyncio.Lock
    _ready: bool

    def _adopt(self, decision: Decision) -> None:  # pragma: no cover - the workflow's own
        raise NotImplementedError

    async def _start_legacy(self, first: Decision) -> None:
        """Adopt the first decision, record the match, then send its emails."""
        async with self._lock:
            self._adopt(first)
            await record_history(first, first=True, workflow_id=workflow.info().workflow_id)
            await self._send(first.emails)
        self._ready = True

    async def _perform(self, decision: Decision) -> None:
        """Record history, draft a case study and send emails."""
        steps: list[Awaitable[object]] = []
        if decision.history:
            steps.append(
                record_history(decision, first=False, workflow_id=workflow.info().workflow_id)
            )
        if decision.case_study:
            steps.append(draft_case_study(decision))
        if workflow.patched(PARALLEL_EFFECTS):
            await asyncio.gather(*steps, self._send(decision.emails))
        else:  # histories made before that patch: history, then case study, then emails
            for step in steps:
                await step
            await self._send(decision.emails)

    async def _send(self, emails: list[SendEmail]) -> None:
        """Send emails in parallel; a permanent refusal becomes a DeliveryFailed event."""
        results = await asyncio.gather(*(self._send_one(e) for e in emails), return_exceptions=True)
        for email, result in zip(emails, results, strict=True):
            if isinstance(result, BaseException):
                cause = result.cause if isinstance(result, ActivityError) else None
                if not (
                    isinstance(cause, ApplicationError) and cause.type == PERMANENT_DELIVERY_ERROR
                ):
                    raise result
                failed = ev.DeliveryFailed(
                    party=email.party,
                    recipient=email.recipient_email or "secretariat inbox",
                    error=cause.message,
                    prompt_id=email.prompt_id,
                )
                decision = decide(self.state_, failed, workflow.now())
                self._adopt(decision)
                await self._perform(decision)

    async def _send_one(self, email: SendEmail) -> None:
        s = self.state_
        await workflow.execute_activity_method(
            Notifications.send_email,
            SendEmailInput(match_id=s.match_id, eoi=s.eoi, email=email),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SMTP_RETRY,
            summary=email_summary(email),
        )


class LegacyUpdates:
    """One update per Secretariat action, as runs begun before the ``act`` update took them.

    Kept so that those runs replay; new callers use ``act``."""

    async def _apply(self, event: ev.Event) -> UpdateResult:  # pragma: no cover - the workflow's
        raise NotImplementedError

    def _check(self, event: ev.Event) -> None:  # pragma: no cover - the workflow's own
        raise NotImplementedError

    @workflow.update
    async def pause(self, event: ev.Pause) -> UpdateResult:
        return await self._apply(event)

    @pause.validator
    def _check_pause(self, event: ev.Pause) -> None:
        self._check(event)

    @workflow.update
    async def resume(self, event: ev.Resume) -> UpdateResult:
        return await self._apply(event)

    @resume.validator
    def _check_resume(self, event: ev.Resume) -> None:
        self._check(event)

    @workflow.update
    async def extend_deadline(self, event: ev.ExtendDeadline) -> UpdateResult:
        return await self._apply(event)

    @extend_deadline.validator
    def _check_extend_deadline(self, event: ev.ExtendDeadline) -> None:
        self._check(event)

    @workflow.update
    async def change_contact(self, event: ev.ChangeContact) -> UpdateResult:
        return await self._apply(event)

    @change_contact.validator
    def _check_change_contact(self, event: ev.ChangeContact) -> None:
        self._check(event)

    @workflow.update
    async def advance(self, event: ev.Advance) -> UpdateResult:
        return await self._apply(event)

    @advance.validator
    def _check_advance(self, event: ev.Advance) -> None:
        self._check(event)

    @workflow.update
    async def close(self, event: ev.Close) -> UpdateResult:
        return await self._apply(event)

    @close.validator
    def _check_close(self, event: ev.Close) -> None:
        self._check(event)

    @workflow.update
    async def add_note(self, event: ev.AddNote) -> UpdateResult:
        return await self._apply(event)

    @add_note.validator
    def _check_add_note(self, event: ev.AddNote) -> None:
        self._check(event)

    @workflow.update
    async def resend(self, event: ev.Resend) -> UpdateResult:
        return await self._apply(event)

    @resend.validator
    def _check_resend(self, event: ev.Resend) -> None:
        self._check(event)

    @workflow.update
    async def schedule_visit(self, event: ev.ScheduleVisit) -> UpdateResult:
        return await self._apply(event)

    @schedule_visit.validator
    def _check_schedule_visit(self, event: ev.ScheduleVisit) -> None:
        self._check(event)

    @workflow.update
    async def cancel_visit(self, event: ev.CancelVisit) -> UpdateResult:
        return await self._apply(event)

    @cancel_visit.validator
    def _check_cancel_visit(self, event: ev.CancelVisit) -> None:
        self._check(event)
