"""The `matchmaker` command line: the single entry point of every process."""

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from domain.enums import CloseReason, FocusArea, MatchStatus, Party, Stage
from infra.log import configure_logging
from infra.settings import Settings
from services.access import AccessError
from workers.access_cli import keys_app, users_app
from workers.alerting import render as render_alertmanager_config
from workers.case_study_cli import case_study_app
from workers.codec_server import register as register_codec
from workers.import_cli import eoi_import
from workers.mail_cli import mail_app
from workers.report_cli import report_app
from workers.setup import AdminRequest, SetupError, set_up
from workers.steering_cli import register as register_steering

if TYPE_CHECKING:  # imported where used: the CLI starts without them
    from datetime import datetime

    from rich.console import Console

    from services.views import MatchDetail, MatchList

T = TypeVar("T")

app = typer.Typer(help="Matchmaker: the SSN4PSI match lifecycle engine.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
eoi_app = typer.Typer(help="Expressions of interest.", no_args_is_help=True)
match_app = typer.Typer(help="Matches: the Secretariat's monitor.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(eoi_app, name="eoi")
app.add_typer(match_app, name="match")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
register_steering(match_app)  # match act, match bulk
app.add_typer(case_study_app, name="case-study")
eoi_app.command("import")(eoi_import)
app.add_typer(report_app, name="report")
app.add_typer(mail_app, name="mail")
register_codec(app)  # codec-server, payload-key


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"matchmaker: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings(*, discover: bool = True, **overrides: Any) -> Settings:
    """The command's settings: the environment (and `.env`), then ``overrides``; with
    ``discover``, what it was not given is taken from the dev stack running from its data
    directory (workers/devstate.py), so a stack on other ports is found without exports."""
    from workers.devstate import running_stack

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)
        if discover:
            found, note = running_stack(settings)
            if note:
                typer.secho(f"matchmaker: note: {note}", err=True, fg=typer.colors.YELLOW)
            if found:
                settings = Settings(**given, **found)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise _fail(f"invalid setting {field}: {first['msg']}") from None
    configure_logging(
        level=settings.log_level,
        json=settings.log_json,
        mask_key=settings.log_mask_key,
    )
    return settings


def _port(what: str, default: str, variable: str) -> object:
    """A port option of `matchmaker dev`, its help naming its default and its variable."""
    return typer.Option(min=1, max=65535, help=f"{what} [{default}; or {variable}]")


@app.command()
def dev(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="where Temporal, SQLite and mail live [.data; or MATCHMAKER_DATA_DIR]"),
    ] = None,
    temporal_port: Annotated[
        int | None, _port("Temporal gRPC", "7233", "MATCHMAKER_TEMPORAL_TARGET")
    ] = None,
    ui_port: Annotated[
        int | None, _port("Temporal Web UI", "8233", "MATCHMAKER_TEMPORAL_UI_PORT")
    ] = None,
    api_port: Annotated[
        int | None,
        _port("HTTP API, the links in emails follow it", "8000", "MATCHMAKER_API_PORT"),
    ] = None,
    smtp_port: Annotated[int | None, _port("SMTP catcher", "1025", "MATCHMAKER_SMTP_PORT")] = None,
    codec_port: Annotated[
        int | None, _port("codec server", "8081", "MATCHMAKER_CODEC_PORT")
    ] = None,
    api_metrics_port: Annotated[
        int | None, _port("the API's /metrics", "9464 when free", "MATCHMAKER_API_METRICS_PORT")
    ] = None,
    sdk_metrics_port: Annotated[
        int | None,
        _port(
            "the worker's Temporal SDK /metrics",
            "9465 when free",
            "MATCHMAKER_TEMPORAL_METRICS_PORT",
        ),
    ] = None,
    worker_metrics_port: Annotated[
        int | None,
        _port("the worker's /metrics", "9466 when free", "MATCHMAKER_WORKER_METRICS_PORT"),
    ] = None,
) -> None:
    """Run the whole embedded stack, each part a process of its own: Temporal + UI, the
    worker, the API, the codec server and an SMTP catcher, on SQLite. Every port is an option
    (or its MATCHMAKER_ variable); a taken one is named with the option that moves it."""
    from infra.temporal import MissingBinaryError
    from workers.dev import DevStackError, run_dev

    base = _settings(discover=False, data_dir=data_dir)
    # links in emails must reach this API: follow --api-port unless the URL was configured
    public = None
    if api_port is not None and "public_base_url" not in base.model_fields_set:
        public = f"http://{base.api_host}:{api_port}"
    temporal_host = base.temporal_target.rsplit(":", 1)[0]
    settings = _settings(
        discover=False,
        data_dir=data_dir,
        api_port=api_port,
        public_base_url=public,
        temporal_ui_port=ui_port,
        smtp_port=smtp_port,
        codec_port=codec_port,
        temporal_target=f"{temporal_host}:{temporal_port}" if temporal_port else None,
        api_metrics_port=api_metrics_port,
        temporal_metrics_port=sdk_metrics_port,
        worker_metrics_port=worker_metrics_port,
    )
    try:
        code = asyncio.run(run_dev(settings))
    except (DevStackError, MissingBinaryError) as exc:
        for line in str(exc).splitlines():
            typer.secho(f"matchmaker: {line}", err=True, fg=typer.colors.RED)
        exit_without_teardown(2)
    except KeyboardInterrupt:
        code = 0
    exit_without_teardown(code)  # the supervisor's Temporal client, as in any client command


@app.command()
def worker() -> None:
    """Run a Temporal worker (production: one per replica)."""
    from workers.run import run_worker

    settings = _settings(discover=False)
    try:
        asyncio.run(run_worker(settings))
    except KeyboardInterrupt:
        pass


@app.command()
def api() -> None:
    """Serve the HTTP API with uvicorn."""
    from workers.api import serve_api

    settings = _settings(discover=False)
    try:
        asyncio.run(serve_api(settings))
    except KeyboardInterrupt:
        pass


@app.command("mail-catcher")
def mail_catcher() -> None:
    """Catch every email sent to 127.0.0.1:<smtp port> into the Maildir under the data
    directory (the dev stack's; production sends through a relay)."""
    from workers.mailcatcher import serve_mail_catcher

    settings = _settings(discover=False)
    try:
        asyncio.run(serve_mail_catcher(settings))
    except KeyboardInterrupt:
        pass


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations."""
    from store.engine import upgrade_database

    settings = _settings()
    upgrade_database(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def setup(
    admin_email: Annotated[
        str | None,
        typer.Option(
            envvar="MATCHMAKER_FIRST_ADMIN_EMAIL",
            help="the first admin's address, made only while there is no admin",
        ),
    ] = None,
    admin_name: Annotated[
        str, typer.Option(envvar="MATCHMAKER_FIRST_ADMIN_NAME", help="the first admin's name")
    ] = "Secretariat",
    wait: Annotated[float, typer.Option(help="seconds to wait for Temporal to answer")] = 120,
) -> None:
    """Prepare a deployment (each step idempotent): migrate the database, register the search
    attributes, make the first admin. Their console password comes from
    MATCHMAKER_FIRST_ADMIN_PASSWORD, or is made up and shown here, once."""

    settings = _settings()
    password = os.environ.get("MATCHMAKER_FIRST_ADMIN_PASSWORD") or None
    admin = AdminRequest(admin_email, admin_name, password) if admin_email else None
    try:
        report = asyncio.run(set_up(settings, admin=admin, wait_seconds=wait))
    except (SetupError, AccessError) as exc:
        raise _fail(str(exc), 1) from None
    typer.echo("database: migrated to the latest revision")
    added = report.search_attributes_added
    typer.echo(
        f"search attributes: registered {', '.join(added)}" if added else "search attributes: ready"
    )
    made = report.admin
    if made is None:
        typer.echo("first admin: not asked (set MATCHMAKER_FIRST_ADMIN_EMAIL)")
    elif not made.created:
        typer.echo("first admin: an admin exists already; nothing changed")
    else:
        typer.echo(f"first admin: {made.email}, who signs in at /console")
        if made.password is not None:
            typer.echo("Their console password follows; it is shown this once:")
            typer.echo(made.password)


@app.command("alertmanager-config")
def alertmanager_config(
    output: Annotated[Path | None, typer.Option(help="write here (default: print)")] = None,
) -> None:
    """Alertmanager's configuration from these settings: the alerts emailed to
    MATCHMAKER_ALERT_EMAIL over the stack's SMTP relay (the compose deployment's job)."""

    text = render_alertmanager_config(_settings())
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    output.chmod(0o644)  # Alertmanager runs as another user; the volume is the secret's bound
    typer.echo(f"wrote {output}")


@eoi_app.command("submit")
def eoi_submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Validate an EOI (JSON file) and start its match workflow."""
    from domain.model import ExpressionOfInterest
    from services.errors import ConflictingEoi
    from services.intake import submit_eoi
    from workers.api import open_backend

    settings = _settings()
    try:
        eoi = ExpressionOfInterest.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "body"
            typer.secho(f"{file}: {field}: {error['msg']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None

    async def submit() -> dict[str, object]:
        async with open_backend(settings, lazy=False) as backend:
            result = await submit_eoi(backend, eoi=eoi)
        return {
            "match_id": result.match_id,
            "workflow_id": result.workflow_id,
            "created": result.created,
        }

    code = 0
    try:
        typer.echo(json.dumps(asyncio.run(submit())))
    except ConflictingEoi as exc:
        code = _fail(str(exc), 1).exit_code
    except RuntimeError as exc:
        code = _fail(f"cannot reach Temporal at {settings.temporal_target}: {exc}", 1).exit_code
    exit_without_teardown(code)


Sort = typer.Option(
    help="next_deadline, created_at, updated_at (each descending with a leading '-', e.g. "
    "--sort=-next_deadline) or stage"
)


@match_app.command("list")
def match_list(
    stage: Annotated[Stage | None, typer.Option()] = None,
    status: Annotated[MatchStatus | None, typer.Option()] = None,
    close_reason: Annotated[CloseReason | None, typer.Option()] = None,
    focus_area: Annotated[FocusArea | None, typer.Option()] = None,
    adopter_country: Annotated[str | None, typer.Option(help="ISO 3166 alpha-2")] = None,
    provider_country: Annotated[str | None, typer.Option(help="ISO 3166 alpha-2")] = None,
    solution: Annotated[str | None, typer.Option(help="a solution id")] = None,
    workshop: Annotated[str | None, typer.Option(help="a workshop id")] = None,
    overdue: Annotated[
        bool | None, typer.Option("--overdue/--not-overdue", help="the next deadline has passed")
    ] = None,
    waiting_on: Annotated[Party | None, typer.Option()] = None,
    attention: Annotated[
        bool | None, typer.Option("--attention/--no-attention", help="needs attention")
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="within the summary, solution and institution names")
    ] = None,
    sort: Annotated[str, Sort] = "-created_at",
    limit: Annotated[int, typer.Option()] = 50,
    offset: Annotated[int, typer.Option()] = 0,
    after: Annotated[
        str | None, typer.Option(help="the next page: the cursor the previous page printed")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the page as JSON")] = False,
) -> None:
    """List matches as the Secretariat's monitor does: every filter given must hold."""
    from services.views import MatchFilter

    try:
        filters = MatchFilter(
            stage=stage,
            status=status,
            close_reason=close_reason,
            focus_area=focus_area,
            adopter_country=adopter_country,
            provider_country=provider_country,
            solution_id=solution,
            workshop_id=workshop,
            overdue=overdue,
            waiting_on=waiting_on,
            needs_attention=attention,
            text=text,
            sort=sort,  # validated here
            limit=limit,
            offset=offset,
            after=after,
        )
    except ValidationError as exc:
        for error in exc.errors():
            option = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
            typer.secho(f"matchmaker: {option}: {error['msg']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    settings = _settings()

    async def read() -> "MatchList":
        from services.reading import list_matches
        from workers.api import open_backend

        async with open_backend(settings) as backend:
            return await list_matches(backend, filters=filters)

    def show(page: "MatchList") -> None:
        from workers.console import match_table

        if as_json:
            typer.echo(page.model_dump_json(indent=2))
        else:
            _console().print(match_table(page, now=_now()))

    exit_without_teardown(_run_read(read, show))


@match_app.command("show")
def match_show(
    match_id: Annotated[str, typer.Argument(help="e.g. match-NS21-014")],
    as_json: Annotated[bool, typer.Option("--json", help="the match as JSON")] = False,
) -> None:
    """Show one match: where it stands, its live state, its whole timeline and its emails."""
    settings = _settings()

    async def read() -> "MatchDetail":
        from services.reading import get_match
        from workers.api import open_backend

        async with open_backend(settings) as backend:
            return await get_match(backend, match_id=match_id)

    def show(match: "MatchDetail") -> None:
        from workers.console import print_match

        if as_json:
            typer.echo(match.model_dump_json(indent=2))
        else:
            print_match(_console(), match, now=_now())

    exit_without_teardown(_run_read(read, show))


def _console() -> "Console":
    from rich.console import Console

    return Console()


def _now() -> "datetime":
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _run_read(read: Callable[[], Coroutine[Any, Any, T]], show: Callable[[T], None]) -> int:
    """Run a read use case and show its answer; say in one line why not, with an exit code."""
    from services.errors import MatchNotFound, Unavailable

    try:
        show(asyncio.run(read()))
    except MatchNotFound as exc:
        return _fail(str(exc), 1).exit_code
    except Unavailable as exc:
        return _fail(str(exc), 1).exit_code
    return 0


def exit_without_teardown(code: int) -> None:
    """End a short-lived Temporal client process now. The client's native threads can outlive
    the event loop, and tearing the interpreter down under them aborts the process now and
    then ("PyGILState_Release … finalizing", temporalio/sdk-python#300); nothing is left to
    clean up here, so output is flushed and the process ends without the teardown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
