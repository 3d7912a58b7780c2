"""`matchmaker case-study …`: review the case studies and compile *The South-South Matchmaker*.

These talk to the database only (no Temporal), through services/case_studies.py. A change
names who makes it with ``--as EMAIL``, a user of the API with the staff or admin role."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import FocusArea
from services import access, case_studies
from services.case_studies import CaseStudyEdit, CaseStudyFilter, CaseStudyRead
from services.errors import CaseStudyConflict, CaseStudyNotFound
from services.volume_html import render_html
from workers.access_cli import run_on_database

case_study_app = typer.Typer(
    help="Case studies for The South-South Matchmaker: review, publish, compile the volume.",
    no_args_is_help=True,
)
T = TypeVar("T")
ActingUser = Annotated[
    str, typer.Option("--as", help="your address: a user with the staff or admin role")
]


def _run(use: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run a use case on the configured database; its refusals become one-line errors."""
    return run_on_database(use, refusals=(CaseStudyNotFound, CaseStudyConflict))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _changed(case: CaseStudyRead, what: str) -> None:
    typer.echo(f"{case.match_id}: {what}; now {case.status}, revision {case.revision}")


@case_study_app.command("list")
def list_(
    status: Annotated[
        Literal["draft", "reviewed", "published"] | None, typer.Option(help="only this status")
    ] = None,
    focus_area: Annotated[FocusArea | None, typer.Option(help="only this focus area")] = None,
    workshop: Annotated[str | None, typer.Option(help="only this workshop's id")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
) -> None:
    """List case studies, newest first."""
    from workers.cli import _fail

    try:
        filters = CaseStudyFilter(
            status=status, focus_area=focus_area, workshop=workshop, limit=limit, offset=offset
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"--{first['loc'][0]}: {first['msg']}") from None
    page = _run(lambda s: case_studies.list_case_studies(s, filters=filters))
    table = Table(
        "match", "title", "focus area", "status", "rev", "edited", "reviewed", "published"
    )
    for case in page.items:
        table.add_row(
            case.match_id,
            case.title,
            case.focus_area.label,
            case.status,
            str(case.revision),
            f"{case.edited_by} {_when(case.edited_at)}" if case.edited else "—",
            f"{case.reviewed_by} {_when(case.reviewed_at)}" if case.reviewed_by else "—",
            f"{case.published_by} {_when(case.published_at)}" if case.published_by else "—",
        )
    Console(width=160, highlight=False).print(table)
    shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "none"
    typer.echo(f"{shown} of {page.total}")


@case_study_app.command("show")
def show(
    match_id: Annotated[str, typer.Argument(help="the match's id, e.g. match-NS21-014")],
    draft: Annotated[bool, typer.Option(help="the generated draft instead of the edit")] = False,
) -> None:
    """Print a case study's status and its Markdown (to edit it: save, change, `edit`)."""
    case = _run(lambda s: case_studies.get_case_study(s, match_id=match_id))
    typer.echo(
        f"<!-- {case.match_id} · {case.status} · revision {case.revision} · "
        f"{'edited by ' + str(case.edited_by) if case.edited else 'not edited'} -->",
        err=True,
    )
    typer.echo(case.draft if draft else case.markdown, nl=False)


@case_study_app.command("edit")
def edit(
    match_id: Annotated[str, typer.Argument(help="the match's id")],
    file: Annotated[Path, typer.Option("--file", help="the new Markdown", exists=True)],
    acting: ActingUser,
    revision: Annotated[
        int | None,
        typer.Option(help="the revision you edited (from `show`); default: the current one"),
    ] = None,
) -> None:
    """Replace a case study's Markdown with a file's (a reviewed one goes back to draft)."""
    from workers.cli import _fail

    text = file.read_text(encoding="utf-8")

    async def use(sessions: async_sessionmaker[AsyncSession]) -> CaseStudyRead:
        actor = await case_studies.staff_actor(sessions, email=acting)
        current = revision
        if current is None:
            current = (await case_studies.get_case_study(sessions, match_id=match_id)).revision
        try:
            change = CaseStudyEdit(markdown=text, revision=current)
        except ValidationError as exc:
            raise access.AccessError(f"{file}: {exc.errors()[0]['msg']}") from None
        return await case_studies.edit(sessions, match_id=match_id, change=change, actor=actor)

    if not text.strip():
        raise _fail(f"{file} is empty: a case study needs its Markdown")
    _changed(_run(use), "edited")


def _mover(step: Literal["review", "publish", "unpublish"], done: str, doc: str) -> None:
    def command(
        match_id: Annotated[str, typer.Argument(help="the match's id")],
        acting: ActingUser,
        revision: Annotated[
            int | None, typer.Option(help="refuse if the case study is no longer at it")
        ] = None,
    ) -> None:
        async def use(sessions: async_sessionmaker[AsyncSession]) -> CaseStudyRead:
            actor = await case_studies.staff_actor(sessions, email=acting)
            return await case_studies.move(
                sessions, match_id=match_id, step=step, actor=actor, revision=revision
            )

        _changed(_run(use), done)

    command.__doc__ = doc
    case_study_app.command(step)(command)


_mover("review", "marked reviewed", "Mark a draft reviewed.")
_mover("publish", "published", "Publish a reviewed case study into the volume.")
_mover("unpublish", "unpublished", "Take a published case study out of the volume.")


@case_study_app.command("volume")
def volume(
    format: Annotated[  # noqa: A002 - the option's name
        Literal["md", "html"], typer.Option(help="md (Markdown) or html (one page)")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="write here (default: stdout)")
    ] = None,
) -> None:
    """Compile The South-South Matchmaker from the published case studies."""
    text = _run(case_studies.volume)
    if format == "html":
        text = render_html(text)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({text.count(chr(10))} lines)")
