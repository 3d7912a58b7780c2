"""`matchmaker users …` and `matchmaker keys …`: the Secretariat's users and their API keys.

These talk to the database only (no Temporal), through services/access.py."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Role
from services import access
from services.errors import Unavailable
from store.engine import make_engine, make_sessionmaker
from workers.password_cli import PasswordStdin, read_password, set_console_password, set_password

users_app = typer.Typer(help="Users of the API and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)
T = TypeVar("T")


def run_on_database(
    use: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]],
    *,
    refusals: tuple[type[Exception], ...] = (),
) -> T:
    """Run a use case on the configured database and turn its refusals (an AccessError, and
    ``refusals``) into one-line errors."""
    from workers.cli import _fail, _settings

    settings = _settings()

    async def run() -> T:
        engine = make_engine(settings.resolved_database_url)
        try:
            return await use(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    refused: tuple[type[Exception], ...] = (access.AccessError, *refusals)
    try:
        return asyncio.run(run())
    except refused as exc:
        raise _fail(str(exc), 1) from None
    except Unavailable as exc:
        raise _fail(
            f"{exc} ({settings.resolved_database_url}; `matchmaker db upgrade`?)", 1
        ) from None


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _console() -> Console:
    return Console(width=140, highlight=False)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="the user's address (their name in histories)")],
    name: Annotated[str, typer.Option(help="the user's name")],
    role: Annotated[
        Role, typer.Option(help="viewer: reads; staff: also changes; admin: all")
    ] = Role.STAFF,
    password_stdin: PasswordStdin = False,
    password: Annotated[
        bool | None,
        typer.Option(
            "--password/--no-password",
            help="set a console password (default: prompt when run in a terminal)",
        ),
    ] = None,
) -> None:
    """Add a user with a role, and a password for the web console."""
    asked = password_stdin or (password if password is not None else sys.stdin.isatty())
    secret = read_password(from_stdin=password_stdin) if asked else None
    user = run_on_database(lambda s: access.add_user(s, email=email, name=name, role=role))
    typer.echo(f"added {user.email} ({user.name}) as {user.role.value}")
    if secret is not None:
        set_console_password(user.email, secret)
        typer.echo("set their console password (sign in at /console)")
    else:
        typer.echo(f"no console password yet: `matchmaker users set-password {user.email}`")


users_app.command("set-password")(set_password)


@users_app.command("list")
def users_list() -> None:
    """List the users and their roles."""
    users = run_on_database(access.list_users)
    table = Table("email", "name", "role", "created")
    for user in users:
        table.add_row(user.email, user.name, user.role.value, _when(user.created_at))
    _console().print(table)


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option(help="the address of the key's user")],
    role: Annotated[
        Role | None, typer.Option(help="the key's role (default: the user's; never above it)")
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(help="days until the key stops working (default: never)")
    ] = None,
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
) -> None:
    """Create an API key and print it, this once: only a hash of it is kept."""
    new = run_on_database(
        lambda s: access.create_key(
            s, email=user, name=name, role=role, expires_in_days=expires_in_days
        )
    )
    key = new.key
    typer.echo(
        f"created key {key.key_id} ({key.name}) for {key.email}, role {key.role.value}, "
        f"expires {_when(key.expires_at) if key.expires_at else 'never'}"
    )
    typer.echo("The key follows; it is shown this once and cannot be recovered:")
    typer.echo(new.token)


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Option(help="only this user's keys")] = None,
) -> None:
    """List API keys (never their secrets)."""
    keys = run_on_database(lambda s: access.list_keys(s, email=user))
    now = datetime.now(UTC)
    table = Table("key id", "name", "user", "role", "status", "created", "expires", "last used")
    for key in keys:
        table.add_row(
            key.key_id,
            key.name,
            key.email,
            key.role.value,
            key.status(now),
            _when(key.created_at),
            _when(key.expires_at),
            _when(key.last_used_at),
        )
    _console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (`keys list`)")]) -> None:
    """Revoke an API key: its next use is refused."""
    run_on_database(lambda s: access.revoke_key(s, key_id=key_id))
    typer.echo(f"revoked key {key_id}")
