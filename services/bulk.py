"""Steering many matches at once: select them (a filter or their ids), preview what the rules
would say, then apply one Secretariat action to each and say per match what became of it."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

import structlog
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import MatchStatus, Party
from domain.lifecycle import InvalidMove, decide
from domain.lifecycle import events as ev
from domain.lifecycle.state import MatchState
from domain.model import WORKFLOW_ID_PREFIX, is_match_id
from domain.text import ID_MAX
from services import steering
from services.backend import Backend
from services.errors import Busy, MatchNotFound, MoveRefused, Unavailable
from services.outages import engine_down, outages_refused
from services.views import MAX_LIMIT, MatchFilter, MatchRead, UpdateResult
from store import queries
from workflows.match_lifecycle import MatchLifecycle

logger = structlog.get_logger()

MAX_MATCHES = 1000  # one bulk action reaches at most this many matches
CONCURRENCY = 8  # matches asked or changed at the same time
QUERY_TIMEOUT = timedelta(seconds=5)  # a dry run does not wait long on one match
_PAGING = ("sort", "limit", "offset", "after")
T = TypeVar("T")


class TooMany(Exception):
    """The selection is larger than one bulk action may reach; the message says how to narrow."""


# The list's filters without its paging: a bulk action reaches every match that passes them.
_FILTERS: dict[str, Any] = {  # name: (annotation, field)
    name: (field.annotation, field)
    for name, field in MatchFilter.model_fields.items()
    if name not in _PAGING
}
BulkFilter = create_model(
    "BulkFilter",
    __config__=ConfigDict(extra="forbid", frozen=True),
    __doc__="The filters of GET /api/matches (every criterion given must hold), without "
    "paging: the action reaches every match that passes them.",
    **_FILTERS,
)


def _a_match_id(value: str) -> str:
    if not is_match_id(value):
        raise ValueError(f"{value!r} is not a match id ({WORKFLOW_ID_PREFIX}<EOI id>)")
    return value


MatchId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=len(WORKFLOW_ID_PREFIX) + ID_MAX),
    AfterValidator(_a_match_id),
]


class BulkActionRequest(BaseModel):
    """One Secretariat action for many matches: named by a filter or by their ids."""

    model_config = ConfigDict(extra="forbid")

    filter: BulkFilter | None = Field(
        default=None,
        description="the matches that pass these filters (the fields of GET /api/matches, "
        "without sort, limit, offset and after); {} selects every match",
    )
    match_ids: list[MatchId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MATCHES,
        description="these matches (a dry run's list, for instance), instead of a filter",
    )
    action: ev.Action = Field(
        description="the action, as POST /api/matches/{id}/actions takes it (told apart by kind)"
    )
    dry_run: bool = Field(
        default=False,
        description="true: change nothing, list the matches with what the rules would say now",
    )

    @model_validator(mode="after")
    def _one_selection(self) -> "BulkActionRequest":
        if (self.filter is None) == (self.match_ids is None):
            raise ValueError("name the matches with either filter or match_ids (one of them)")
        return self


Outcome = Literal["would_apply", "would_refuse", "applied", "refused", "failed"]


class BulkItem(BaseModel):
    """One selected match: where the read model had it, and what became of the action."""

    match_id: str
    summary: str | None = Field(description="null: no such match")
    stage: str | None
    status: str | None
    waiting_on: list[Party] | None
    outcome: Outcome = Field(
        description="dry run: would_apply / would_refuse (the rules asked on the live state, "
        "nothing changed); run: applied / refused (the rules' reason) / failed (could not be "
        "tried: the workflow service did not answer, the match was busy, …)"
    )
    reason: str | None = Field(default=None, description="why refused or failed, in words")
    result: UpdateResult | None = Field(
        default=None, description="applied: where the match stands now"
    )


class BulkResult(BaseModel):
    """A bulk action's answer: how many matches it reached, totals by outcome, each match."""

    dry_run: bool
    action: str = Field(description="the action's kind")
    idempotency_key: str | None = Field(
        description="run: the key the action was applied under; send it again "
        "(Idempotency-Key) to repeat the request without applying anything twice"
    )
    count: int
    totals: dict[Outcome, int]
    items: list[BulkItem]


async def select(
    backend: Backend,
    *,
    filters: BaseModel | None = None,
    match_ids: list[str] | None = None,
    now: datetime | None = None,
) -> list[tuple[str, MatchRead | None]]:
    """The selected matches as the read model holds them (None: no such match), in order;
    TooMany past ``MAX_MATCHES``."""
    async with outages_refused(), backend.sessions() as session:
        if match_ids is not None:
            ids = list(dict.fromkeys(match_ids))
            named = [await queries.get_match(session, match_id=i) for i in ids]
            return [
                (i, None if r is None else MatchRead.model_validate(r))
                for i, r in zip(ids, named, strict=True)
            ]
        assert filters is not None
        now = now or datetime.now(UTC)  # one "overdue" for every page
        found: dict[str, MatchRead] = {}
        offset, total = 0, 1
        while offset < total:
            page = MatchFilter(
                **filters.model_dump(exclude_none=True),
                sort="created_at",
                limit=MAX_LIMIT,
                offset=offset,
            )
            rows, total, capped, _ = await queries.list_matches(session, filters=page, now=now)
            if total > MAX_MATCHES:
                raise TooMany(
                    f"{total}{'+' if capped else ''} matches pass this filter; one bulk action reaches at most "
                    f"{MAX_MATCHES}: narrow the filter (by workshop, stage, status, country, …) "
                    "or name the matches with match_ids"
                )
            for row in rows:
                found.setdefault(row.id, MatchRead.model_validate(row))
            offset += MAX_LIMIT
        return list(found.items())


def _item(match_id: str, row: MatchRead | None, outcome: Outcome, **more: object) -> BulkItem:
    return BulkItem(
        match_id=match_id,
        summary=row.summary if row else None,
        stage=row.stage if row else None,
        status=row.status if row else None,
        waiting_on=row.waiting_on if row else None,
        outcome=outcome,
        **more,
    )


def _closed(row: MatchRead) -> str:
    """The rules' sentence for a closed match (closed is final: the read model can tell)."""
    return f"the match is closed ({row.close_reason}), so nothing can change it"


def would_refuse(state: MatchState, action: ev.Action, now: datetime) -> str | None:
    """Why the rules would refuse the action on this state now (None: they would accept it).

    The same pure ``decide`` the workflow's validator runs, on a copy of the live state, so
    nothing changes; the workflow's clock is not at hand, so "now" is the later of the wall
    clock and the state's last event (the rules refuse events that go back in time)."""
    if state.history:
        now = max(now, state.history[-1].occurred_at)
    try:
        decide(state, action, now)
    except InvalidMove as exc:
        return str(exc)
    return None


async def _each(items: list[T], work: Callable[[T], Awaitable[BulkItem]]) -> list[BulkItem]:
    """Run ``work`` on every item, at most ``CONCURRENCY`` at a time, keeping the order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def bounded(item: T) -> BulkItem:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(bounded(i) for i in items)))


def _result(
    items: list[BulkItem], *, action: ev.Action, dry_run: bool, key: str | None
) -> BulkResult:
    outcomes: tuple[Outcome, ...] = (
        ("would_apply", "would_refuse", "failed") if dry_run else ("applied", "refused", "failed")
    )
    totals = {o: sum(1 for i in items if i.outcome == o) for o in outcomes}
    logger.info("bulk action", kind=action.kind, dry_run=dry_run, count=len(items), **totals)
    return BulkResult(
        dry_run=dry_run,
        action=action.kind,
        idempotency_key=key,
        count=len(items),
        totals=totals,
        items=items,
    )


async def preview(
    backend: Backend,
    *,
    selection: list[tuple[str, MatchRead | None]],
    action: ev.Action,
    by: str,
    now: datetime | None = None,
) -> BulkResult:
    """The dry run: each selected match with whether the rules would accept the action now,
    and why not; nothing is changed (a query of the live state and the pure rules)."""
    action = action.model_copy(update={"by": by})

    async def check(selected: tuple[str, MatchRead | None]) -> BulkItem:
        match_id, row = selected
        if row is None:
            return _item(match_id, row, "would_refuse", reason=f"no match with id {match_id!r}")
        if row.status == MatchStatus.CLOSED:
            return _item(match_id, row, "would_refuse", reason=_closed(row))
        handle = backend.client.get_workflow_handle(row.workflow_id)
        try:
            state = await handle.query(MatchLifecycle.state, rpc_timeout=QUERY_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return _item(match_id, row, "would_refuse", reason=f"no open match {match_id!r}")
            return _item(match_id, row, "failed", reason=_unchecked(exc))
        except Exception as exc:  # noqa: BLE001 - one match that cannot be asked stops no other
            return _item(match_id, row, "failed", reason=_unchecked(exc))
        why = would_refuse(state, action, now or datetime.now(UTC))
        if why is None:
            return _item(match_id, row, "would_apply")
        return _item(match_id, row, "would_refuse", reason=why)

    items = await _each(selection, check)
    return _result(items, action=action, dry_run=True, key=None)


def _unchecked(exc: BaseException) -> str:
    if engine_down(exc):
        return "not checked: the workflow service (Temporal) did not answer; try again"
    return f"not checked: the match's workflow could not be asked ({type(exc).__name__})"


def bulk_key(idempotency_key: str) -> str:
    """The key each match's Update id is derived from (``steering.update_id_for``).

    A NUL cannot be in a key a client sends (printable ASCII), so no single action's key
    names the same Update as a bulk's."""
    return f"bulk\0{idempotency_key}"


async def apply(
    backend: Backend,
    *,
    selection: list[tuple[str, MatchRead | None]],
    action: ev.Action,
    by: str,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Apply the action to each selected match as ``by``, a few at a time, never stopping
    at a refusal or failure; the same key again applies nothing twice (the Updates' ids are
    derived from it and the match)."""
    key = idempotency_key or uuid.uuid4().hex

    async def act(selected: tuple[str, MatchRead | None]) -> BulkItem:
        match_id, row = selected
        if row is None:
            return _item(match_id, row, "refused", reason=f"no match with id {match_id!r}")
        if row.status == MatchStatus.CLOSED:
            return _item(match_id, row, "refused", reason=_closed(row))
        try:
            result = await steering.act(
                backend, match_id=match_id, action=action, by=by, idempotency_key=bulk_key(key)
            )
        except (MoveRefused, MatchNotFound) as exc:
            return _item(match_id, row, "refused", reason=str(exc))
        except (Unavailable, Busy) as exc:
            return _item(match_id, row, "failed", reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - one failure stops no other match
            logger.warning("bulk action failed", match_id=match_id, error=type(exc).__name__)
            return _item(match_id, row, "failed", reason=f"unexpected error ({type(exc).__name__})")
        return _item(match_id, row, "applied", result=result)

    items = await _each(selection, act)
    return _result(items, action=action, dry_run=False, key=key)


async def run(
    backend: Backend,
    request: BulkActionRequest,
    *,
    by: str,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Select the request's matches, then preview (dry run) or apply the action to each."""
    selection = await select(backend, filters=request.filter, match_ids=request.match_ids)
    if request.dry_run:
        return await preview(backend, selection=selection, action=request.action, by=by)
    return await apply(
        backend,
        selection=selection,
        action=request.action,
        by=by,
        idempotency_key=idempotency_key,
    )
