"""`matchmaker mail preview KIND --lang fr`: any email rendered from a sample match, in any
language Matchmaker speaks, as its subject and its text (or HTML) body."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from activities.mail import EmailNotBuildable, TemplateRenderer
from activities.samples import KINDS, sample_context
from infra.i18n import LANGUAGES

mail_app = typer.Typer(help="Emails: preview any kind in any language.", no_args_is_help=True)

# the choices typer offers, made from the kinds and languages there are (mypy reads an enum's
# members only from a literal)
Kind = StrEnum("Kind", {kind: kind for kind in KINDS})  # type: ignore[misc]  # members computed
Language = StrEnum("Language", {language: language for language in LANGUAGES})  # type: ignore[misc]  # members computed


@mail_app.command("preview")
def preview(
    kind: Annotated[Kind, typer.Argument(help="the kind of email", show_default=False)],
    lang: Annotated[Language, typer.Option("--lang", help="the recipient's language")] = "en",  # type: ignore[assignment]  # typer takes a choice's value as its default
    html: Annotated[bool, typer.Option("--html", help="print the HTML body, not the text")] = False,
    round: Annotated[
        int, typer.Option(min=1, help="1: the first email; n > 1: reminder n - 1")
    ] = 1,
    days_left: Annotated[int, typer.Option(help="days from today to the answer deadline")] = 14,
) -> None:
    """Print the subject and body of one email rendered from a sample match."""
    today = datetime.now(UTC).date()
    context = sample_context(str(kind), language=str(lang), round=round)
    if context["answer_by"] is not None:
        context["answer_by"] = (today + timedelta(days=days_left)).isoformat()
    try:
        rendered = TemplateRenderer().render(str(kind), context, today=today)
    except EmailNotBuildable as exc:
        typer.secho(f"matchmaker: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text)
