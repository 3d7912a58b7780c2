"""`matchmaker match act` and `matchmaker match bulk`: the Secretariat's actions in a terminal.

A command run on the server has no API key to say who acts, so it names its user (``--as``),
who must exist with the staff or admin role; that user's address is the actor in the history,
as their key's would be over HTTP."""

import asyncio
import re
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from pydantic import TypeAdapter, ValidationError

from domain.access import Role
from domain.enums import CloseReason, FocusArea, MatchStatus, Party, Stage, VisitFormat
from domain.lifecycle import events as ev

if TYPE_CHECKING:  # imported where used: the CLI starts without them
    from rich.console import Console

    from services.backend import Backend

# Action names as the URLs have them (api/routes/steering.py): the kind with dashes.
URL_NAMES = {"add_note": "note"}
KINDS = {
    URL_NAMES.get(kind, kind.replace("_", "-")): kind
    for kind in (m.model_fields["kind"].default for m in get_args(get_args(ev.Action)[0]))
}
_ACTION = TypeAdapter(ev.Action)
_ENUM_REPR = re.compile(r"<\w+\.\w+: '([^']*)'>")  # how pydantic shows an enum value

# Each action field and the option that gives it (a dotted field is part of a nested one).
OPTIONS = {
    "reason": "--reason",
    "note": "--note",
    "text": "--note",
    "days": "--days",
    "prompt_id": "--prompt",
    "to": "--to",
    "party": "--party",
    "contact.name": "--contact-name",
    "contact.email": "--contact-email",
    "contact.language": "--contact-language",
    "plan.start": "--start",
    "plan.end": "--end",
    "plan.format": "--format",
    "plan.delegation_size": "--delegation-size",
    "held": "--held/--not-held",
    "report": "--report",
    "proceed": "--proceed/--no-proceed",
}
FILTERS = {
    "stage": "--stage",
    "status": "--status",
    "close_reason": "--close-reason",
    "focus_area": "--focus-area",
    "adopter_country": "--adopter-country",
    "provider_country": "--provider-country",
    "solution_id": "--solution",
    "workshop_id": "--workshop",
    "overdue": "--overdue/--not-overdue",
    "waiting_on": "--waiting-on",
    "needs_attention": "--attention/--no-attention",
    "text": "--text",
}

_ACTION_PARAMS = {
    "reason",
    "note",
    "days",
    "prompt",
    "to",
    "party",
    "contact_name",
    "contact_email",
    "contact_language",
    "start",
    "end",
    "format",
    "delegation_size",
    "held",
    "report",
    "proceed",
}

ActionName = Annotated[str, typer.Argument(help=f"one of {', '.join(KINDS)}", show_default=False)]
As = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="MATCHMAKER_AS",
        help="the address of the user acting (staff or admin; `matchmaker users list`)",
        show_default=False,
    ),
]
Key = Annotated[
    str | None,
    typer.Option(help="names the request: the same key again applies nothing twice"),
]
Reason = Annotated[
    str | None,
    typer.Option(help="why (close: the close reason, one of " + ", ".join(CloseReason) + ")"),
]
Note = Annotated[str | None, typer.Option(help="close: what happened; note: the note")]
Days = Annotated[int | None, typer.Option(help="extend-deadline: by how many days")]
Prompt = Annotated[str | None, typer.Option(help="extend-deadline, resend: one prompt's id")]
To = Annotated[Stage | None, typer.Option(help="advance: the stage to move to")]
PartyOpt = Annotated[Party | None, typer.Option(help="change-contact: adopter or provider")]
Str = Annotated[str | None, typer.Option()]
FormatOpt = Annotated[VisitFormat | None, typer.Option(help="schedule-, record-visit")]
Size = Annotated[int | None, typer.Option(help="schedule-, record-visit: people travelling")]
Held = Annotated[bool | None, typer.Option("--held/--not-held", help="record-visit")]
Proceed = Annotated[bool | None, typer.Option("--proceed/--no-proceed", help="record-visit")]
AsJson = Annotated[bool, typer.Option("--json", help="the answer as JSON")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    from workers.cli import _fail

    return _fail(message, code)


def _exit(code: int) -> None:
    from workers import cli

    cli.exit_without_teardown(code)


def _option(loc: tuple[Any, ...], names: dict[str, str]) -> str:
    path = ".".join(str(p) for p in loc)
    while path and path not in names:
        path = path.rpartition(".")[0]
    return names.get(path, "")


def build_action(name: str, fields: dict[str, Any]) -> ev.Action:
    """The action named like its URL from the options given; typer.Exit naming the option
    and what it takes when they do not make one."""
    kind = KINDS.get(name)
    if kind is None:
        raise _fail(f"unknown action {name!r}; one of {', '.join(KINDS)}")
    body: dict[str, Any] = {"kind": kind}
    if kind == "add_note":  # --note gives a note's text, as it gives a close's note
        fields = {("text" if f == "note" else f): v for f, v in fields.items()}
    for field, value in fields.items():
        if value is None:
            continue
        parent, _, child = field.partition(".")
        if child:
            body.setdefault(parent, {})[child] = value
        else:
            body[field] = value
    try:
        return _ACTION.validate_python(body)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])[1:]  # the first is the kind the union chose
            option = _option(loc, OPTIONS)
            message = _ENUM_REPR.sub(r"\1", error["msg"])
            if error["type"] == "extra_forbidden":
                message = f"{name} does not take this option"
            elif error["type"] == "missing" and not option:
                option = "--" + "-".join(str(p) for p in loc)
            where = f"{option}: " if option else f"{name}: "
            typer.secho(f"matchmaker: {where}{message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def _action_fields(**given: Any) -> dict[str, Any]:
    """Option values by the action field they give."""
    plan_dates = {"plan.start": given.pop("start"), "plan.end": given.pop("end")}
    return {
        "reason": given["reason"],
        "note": given["note"],
        "days": given["days"],
        "prompt_id": given["prompt"],
        "to": given["to"],
        "party": given["party"],
        "contact.name": given["contact_name"],
        "contact.email": given["contact_email"],
        "contact.language": given["contact_language"],
        **plan_dates,
        "plan.format": given["format"],
        "plan.delegation_size": given["delegation_size"],
        "held": given["held"],
        "report": given["report"],
        "proceed": given["proceed"],
    }


async def _actor(backend: "Backend", email: str) -> str:
    from services.access import acting_user

    return (await acting_user(backend.sessions, email=email, needs=Role.STAFF)).email


def _run(use: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a use case; say in one line why it could not be, with an exit code."""
    from services.access import AccessError
    from services.errors import Busy, MatchNotFound, MoveRefused, Unavailable

    try:
        return asyncio.run(use())
    except (MoveRefused, MatchNotFound, AccessError, Unavailable, Busy) as exc:
        return _fail(str(exc), 1).exit_code
    except RuntimeError as exc:  # a Temporal that cannot be reached
        return _fail(f"cannot reach Temporal: {exc}", 1).exit_code


def act(
    match_id: Annotated[str, typer.Argument(help="e.g. match-NS21-014", show_default=False)],
    action: ActionName,
    as_user: As,
    reason: Reason = None,
    note: Note = None,
    days: Days = None,
    prompt: Prompt = None,
    to: To = None,
    party: PartyOpt = None,
    contact_name: Str = None,
    contact_email: Str = None,
    contact_language: Str = None,
    start: Annotated[str | None, typer.Option(help="a visit's first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="a visit's last day, YYYY-MM-DD")] = None,
    format: FormatOpt = None,  # noqa: A002 - the option's name
    delegation_size: Size = None,
    held: Held = None,
    report: Annotated[str | None, typer.Option(help="record-visit: what was learned")] = None,
    proceed: Proceed = None,
    idempotency_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Apply one Secretariat action to a match, as the user named by --as.

    The options each action takes: pause --reason; resume; extend-deadline --days --reason
    [--prompt]; change-contact --party --contact-name --contact-email [--contact-language]
    --reason; advance --to --reason; close --reason (a close reason) --note; note --note;
    resend [--prompt]; schedule-visit --start --end --format --delegation-size --reason;
    cancel-visit --reason; record-visit --start --end --format --delegation-size
    --held/--not-held --report [--proceed] --reason."""
    event = build_action(
        action, _action_fields(**{k: v for k, v in locals().items() if k in _ACTION_PARAMS})
    )
    from workers.cli import _settings

    settings = _settings()

    async def use() -> int:
        from services import steering
        from workers.api import open_backend

        async with open_backend(settings) as backend:
            by = await _actor(backend, as_user)
            result = await steering.act(
                backend, match_id=match_id, action=event, by=by, idempotency_key=idempotency_key
            )
        if as_json:
            typer.echo(result.model_dump_json(indent=2))
        else:
            waiting = ", ".join(result.waiting_on) or "nobody"
            typer.echo(
                f"{action}: {match_id} is {result.stage}, {result.status}; waiting on {waiting}"
            )
        return 0

    _exit(_run(use))


def bulk(
    action: ActionName,
    as_user: As,
    reason: Reason = None,
    note: Note = None,
    days: Days = None,
    prompt: Prompt = None,
    to: To = None,
    party: PartyOpt = None,
    contact_name: Str = None,
    contact_email: Str = None,
    contact_language: Str = None,
    start: Annotated[str | None, typer.Option(help="a visit's first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="a visit's last day, YYYY-MM-DD")] = None,
    format: FormatOpt = None,  # noqa: A002 - the option's name
    delegation_size: Size = None,
    held: Held = None,
    report: Annotated[str | None, typer.Option(help="record-visit: what was learned")] = None,
    proceed: Proceed = None,
    stage: Annotated[Stage | None, typer.Option(help="filter")] = None,
    status: Annotated[MatchStatus | None, typer.Option(help="filter")] = None,
    close_reason: Annotated[CloseReason | None, typer.Option(help="filter")] = None,
    focus_area: Annotated[FocusArea | None, typer.Option(help="filter")] = None,
    adopter_country: Annotated[str | None, typer.Option(help="filter: ISO 3166 alpha-2")] = None,
    provider_country: Annotated[str | None, typer.Option(help="filter: ISO 3166 alpha-2")] = None,
    solution: Annotated[str | None, typer.Option(help="filter: a solution id")] = None,
    workshop: Annotated[str | None, typer.Option(help="filter: a workshop id")] = None,
    overdue: Annotated[
        bool | None, typer.Option("--overdue/--not-overdue", help="filter: deadline passed")
    ] = None,
    waiting_on: Annotated[Party | None, typer.Option(help="filter")] = None,
    attention: Annotated[
        bool | None, typer.Option("--attention/--no-attention", help="filter: needs attention")
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(help="filter: within the summary, solution and institution names"),
    ] = None,
    match: Annotated[
        list[str] | None, typer.Option(help="this match (repeat), instead of filters")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="list the matches, change nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="apply without asking")] = False,
    idempotency_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Apply one Secretariat action to many matches, after a dry run's list.

    The matches are those that pass the filters (the options of `match list`), or those named
    with --match. Each is listed first with what the rules would say now; nothing changes
    until you confirm (or with --yes). Acts as the user named by --as."""
    from services.bulk import BulkFilter
    from workers.cli import _settings
    from workers.console import bulk_table

    event = build_action(
        action, _action_fields(**{k: v for k, v in locals().items() if k in _ACTION_PARAMS})
    )
    given = {
        "stage": stage,
        "status": status,
        "close_reason": close_reason,
        "focus_area": focus_area,
        "adopter_country": adopter_country,
        "provider_country": provider_country,
        "solution_id": solution,
        "workshop_id": workshop,
        "overdue": overdue,
        "waiting_on": waiting_on,
        "needs_attention": attention,
        "text": text,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if match and given:
        raise _fail("name the matches with filters or with --match, not both")
    try:
        filters = None if match else BulkFilter(**given)
    except ValidationError as exc:
        for error in exc.errors():
            option = _option(tuple(error["loc"]), FILTERS)
            typer.secho(f"matchmaker: {option}: {error['msg']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    settings = _settings()
    console = _console(stderr=as_json)  # with --json, stdout holds only the JSON

    async def use() -> int:
        from services import bulk as bulk_use
        from workers.api import open_backend

        async with open_backend(settings) as backend:
            by = await _actor(backend, as_user)
            try:
                selection = await bulk_use.select(backend, filters=filters, match_ids=match)
            except bulk_use.TooMany as exc:
                return _fail(str(exc), 1).exit_code
            preview = await bulk_use.preview(
                backend, selection=selection, action=event, by=by, now=datetime.now(UTC)
            )
            if as_json and dry_run:
                typer.echo(preview.model_dump_json(indent=2))
                return 0
            console.print(bulk_table(preview, action=action))
            if dry_run or not preview.count:
                return 0
            if not yes and not typer.confirm(
                f"Apply {action} to these {preview.count} matches as {by}?", default=False
            ):
                typer.echo("nothing changed", err=as_json)
                return 1
            key = idempotency_key or uuid.uuid4().hex
            done = await bulk_use.apply(
                backend, selection=selection, action=event, by=by, idempotency_key=key
            )
        if as_json:
            typer.echo(done.model_dump_json(indent=2))
        else:
            console.print(bulk_table(done, action=action))
            typer.echo(f"idempotency key {key}: the same command with it applies nothing twice")
        return 1 if done.totals["refused"] or done.totals["failed"] else 0

    _exit(_run(use))


def _console(*, stderr: bool = False) -> "Console":
    from rich.console import Console

    return Console(stderr=stderr)


def register(match_app: typer.Typer) -> None:
    """Add `act` and `bulk` to `matchmaker match`."""
    match_app.command("act")(act)
    match_app.command("bulk")(bulk)
