"""Console passwords from the command line: `matchmaker users set-password`, and the password
`matchmaker users add` sets. A password is typed at a hidden prompt (twice) or read from
standard input (`--password-stdin`, for scripts); it is never an argument, which `ps` and the
shell's history would show."""

import sys
from typing import Annotated

import typer

from infra.passwords import password_problem
from services import console_auth

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="read the console password from standard input (one line)"
    ),
]


def read_password(*, from_stdin: bool) -> str:
    """The new password, from stdin or typed twice at a hidden prompt (checked either way)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(
            "Console password", hide_input=True, confirmation_prompt=True, err=True
        )
    problem = password_problem(password)
    if problem is not None:
        from workers.cli import _fail

        raise _fail(problem, 2)
    return password


def set_console_password(email: str, password: str) -> None:
    from workers.access_cli import run_on_database

    run_on_database(lambda s: console_auth.set_password(s, email=email, password=password))


def set_password(
    email: Annotated[str, typer.Argument(help="the user's address")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's console password (their console sessions end)."""
    password = read_password(from_stdin=password_stdin)
    set_console_password(email, password)
    typer.echo(f"set the console password of {email.strip().lower()}; their sessions ended")
