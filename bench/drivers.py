"""The load drivers of bench/lifecycle.py: partners answering a match, the same steps on the
bare workflow, and the shape of a finished match read from its history."""

import asyncio
import email
import email.policy
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError

from bench.bare import CHECKIN_SECONDS, BareLifecycle, BarePlan, Call
from domain.enums import Party
from domain.lifecycle import answers as a
from domain.lifecycle import events as ev
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy
from services.backend import Backend
from services.intake import submit_eoi
from workflows.match_lifecycle import MatchLifecycle

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "eoi.json"
_TEMPLATE: list[ExpressionOfInterest] = []  # the example EOI, read and validated once


def _example() -> ExpressionOfInterest:
    if not _TEMPLATE:
        _TEMPLATE.append(ExpressionOfInterest.model_validate_json(EXAMPLE.read_text()))
    return _TEMPLATE[0]


class Inbox:
    """What the SMTP catcher received, per match and recipient: partners answer a prompt once
    its email has come, on both sides alike (a match's answer returns before its emails are
    sent; a bare update only after its activities)."""

    # the match id, in whatever language the email is written (its text part is decoded
    # first: a French or Russian body travels quoted-printable or base64)
    REFERENCE = re.compile(r"\b(match-[A-Za-z0-9._-]+)")

    def __init__(self) -> None:
        self.total = 0
        self._counts: Counter[tuple[str, str]] = Counter()

    def receive(self, content: bytes, recipients: list[str]) -> None:
        """Count one message (called from the SMTP server's thread)."""
        self.total += 1
        message = email.message_from_bytes(content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        found = self.REFERENCE.search(part.get_content() if part is not None else "")
        if found:
            for recipient in recipients:
                self._counts[(found.group(1), recipient.lower())] += 1

    async def wait(self, match_id: str, recipient: str, count: int) -> None:
        """Return once ``count`` emails of the match have reached the recipient."""
        # polled: the SMTP server counts in its own thread
        while self._counts[(match_id, recipient.lower())] < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


INBOX = Inbox()
# The happy path's answers: who answers, and how many emails that partner has had by then.
ANSWERS = [
    ("adopter", 1),
    ("provider", 1),
    ("adopter", 2),
    ("adopter", 3),
    ("adopter", 4),
    ("provider", 2),
]


def _address(eoi: ExpressionOfInterest, party: str) -> str:
    return eoi.adopter.contact.email if party == "adopter" else eoi.solution.contact.email


@dataclass
class Tally:
    """What the drivers of one measured run observe: accepted-update latencies, refusals."""

    latencies: list[float] = field(default_factory=list)
    refused: int = 0


async def _until_accepted(call: Callable[[], Awaitable[object]], tally: Tally) -> None:
    """Send an update, retrying while the workflow refuses it because it is not due yet."""
    while True:
        started = time.perf_counter()
        try:
            await call()
        except WorkflowUpdateFailedError:
            tally.refused += 1
            await asyncio.sleep(0.1)
            continue
        tally.latencies.append(time.perf_counter() - started)
        return


async def drive_match(
    backend: Backend,
    policy: TimingPolicy,
    tally: Tally,
    *,
    settle: float = 0.0,
) -> str:
    """One match through the happy path, each partner answering once their prompt is open
    (``settle``: wait before the first answer, so the start's effects are done)."""
    eoi = _example().model_copy(update={"id": f"B-{uuid.uuid4().hex[:12]}"})
    await submit_eoi(backend, eoi=eoi, policy=policy)
    client = backend.client
    handle = client.get_workflow_handle_for(MatchLifecycle.run, eoi.match_id)
    await asyncio.sleep(settle)
    today = time.strftime("%Y-%m-%d")
    steps = [
        (
            "introduction_adopter-1",
            Party.ADOPTER,
            a.InterestAnswer(decision="confirm", needs="rural access", exchange="remote"),
        ),
        (
            "introduction_provider-2",
            Party.PROVIDER,
            a.ShareAnswer(decision="accept", exchange="remote"),
        ),
        (
            "adaptation_plan-3",
            Party.ADOPTER,
            a.AdaptationPlanAnswer(customisations="forms", target_pilot_date=today),
        ),
        ("check_in-4", Party.ADOPTER, a.CheckInAnswer(status="piloted")),
        (
            "outcome_report-5",
            Party.ADOPTER,
            a.OutcomeReport(
                result="scaled",
                people_reached=1000,
                time_saved_days=1,
                cost_saved_usd=2,
                visits_saved=1,
                consent_to_publish=True,
            ),
        ),
        ("outcome_confirmation-6", Party.PROVIDER, a.OutcomeConfirmation(confirmed=True)),
    ]
    shift = 0  # prompts opened beyond the happy path's (a missed check-in) shift the numbers
    for (prompt_id, party, answer), (who, emails) in zip(steps, ANSWERS, strict=True):
        kind, number = prompt_id.rsplit("-", 1)
        current = {"id": f"{kind}-{int(number) + shift}"}
        await INBOX.wait(eoi.match_id, _address(eoi, who), emails)  # once the email came

        async def send(current=current, party=party, answer=answer) -> object:
            event = ev.Answered(prompt_id=current["id"], party=party, answer=answer)
            try:
                return await handle.execute_update(MatchLifecycle.answer, event)
            except WorkflowUpdateFailedError as exc:
                # Refused. Usually the prompt is not open yet (the check-in's timer has not
                # been applied): retry it as it is, as the bare driver does, without asking
                # the match anything. Only when it is no longer open (on a slow run, a missed
                # check-in replaced by the next one, which shifts the numbers of every later
                # prompt) ask the match which prompt of this kind is open, as a partner reads
                # it from the email: a state query costs a query task on the worker and the
                # whole state encoded and parsed again, work the bare side never does.
                if "no longer open" in str(exc.cause):
                    kind = current["id"].rsplit("-", 1)[0]
                    state = await handle.query(MatchLifecycle.state)
                    current["id"] = next(
                        (p.id for p in state.open_prompts() if p.kind == kind), current["id"]
                    )
                raise

        await _until_accepted(send, tally)
        shift = int(current["id"].rsplit("-", 1)[1]) - int(number)
    result = await handle.result()
    assert result.status == "completed", result
    return eoi.match_id


@dataclass
class Shape:
    """A finished match's steps: the activities (type and JSON input) after its start, after
    each update and after its timer; ``token`` is its EOI id, replaced in every copy."""

    token: str
    groups: list[tuple[str, list[Call]]]

    @property
    def activities(self) -> int:
        return sum(len(group) for _, group in self.groups)

    @property
    def updates(self) -> int:
        return sum(1 for kind, _ in self.groups if kind == "update")

    def bare_plan(self, token: str, *, noop: bool = False) -> BarePlan:
        """The steps for a bare workflow, re-keyed to ``token`` (or with no-op activities)."""

        def calls(group: list[Call]) -> list[Call]:
            if noop:
                return [Call(activity="noop") for _ in group]
            return [
                Call(activity=c.activity, input=c.input.replace(self.token, token)) for c in group
            ]

        kinds = [kind for kind, _ in self.groups[1:]]
        return BarePlan(
            start=calls(self.groups[0][1]),
            updates=[calls(group) for kind, group in self.groups if kind == "update"],
            updates_before_timer=(
                kinds[: kinds.index("timer")].count("update") if "timer" in kinds else None
            ),
            after_timer=calls(next((g for k, g in self.groups if k == "timer"), [])),
        )

    def __str__(self) -> str:
        return " → ".join(f"{kind}: {len(group)}" for kind, group in self.groups)


async def drive_bare(
    client: Client, task_queue: str, shape: Shape, tally: Tally, *, noop: bool = False
) -> str:
    """Run the bare workflow through the sample match's steps, with its activities (inputs
    re-keyed to a new EOI id, so every row and email is new) or with no-ops."""
    token = f"B-{uuid.uuid4().hex[:12]}"
    plan = shape.bare_plan(token, noop=noop)
    handle = await client.start_workflow(
        BareLifecycle.run, plan, id=f"bare-{token}", task_queue=task_queue
    )
    example = _example()
    for index, (who, emails) in zip(range(len(plan.updates)), ANSWERS, strict=True):
        if not noop:
            await INBOX.wait(f"match-{token}", _address(example, who), emails)
        elif index == plan.updates_before_timer:  # no-op activities send no email to wait for
            await asyncio.sleep(CHECKIN_SECONDS)
        await _until_accepted(lambda i=index: handle.execute_update(BareLifecycle.step, i), tally)
    await handle.result()
    return handle.id


async def shape_of(client: Client, workflow_id: str, token: str) -> Shape:
    """Read a finished match's history: the activities it ran after start, each update, timer."""
    groups: list[tuple[str, list[Call]]] = [("start", [])]
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            groups.append(("update", []))
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            groups.append(("timer", []))
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            [payload] = attrs.input.payloads
            if codec := client.data_converter.payload_codec:  # stored sealed: open it
                [payload] = await codec.decode([payload])
            groups[-1][1].append(
                Call(activity=attrs.activity_type.name, input=payload.data.decode())
            )
    return Shape(token=token, groups=groups)


async def to_visit_proposed(backend: Backend, match_id: str) -> None:
    """Both partners agree to a field visit and the adopter proposes its dates (Updates)."""
    handle = backend.client.get_workflow_handle(match_id)
    start = date.today() + timedelta(days=30)
    plan = a.VisitPlan(
        start=start, end=start + timedelta(days=2), format="in_person", delegation_size=4,
        venue="Union Digital Centre", city="Gazipur", agenda="Day 1: the centre at work",
    )  # fmt: skip
    for prompt_id, party, given in (
        ("introduction_adopter-1", Party.ADOPTER,
         a.InterestAnswer(decision="confirm", needs="rural access", exchange="field_visit")),
        ("introduction_provider-2", Party.PROVIDER, a.ShareAnswer(decision="accept")),
        ("visit_proposal-3", Party.ADOPTER, a.VisitProposal(plan=plan)),
    ):  # fmt: skip
        event = ev.Answered(prompt_id=prompt_id, party=party, answer=given)
        await handle.execute_update(MatchLifecycle.answer, event)
