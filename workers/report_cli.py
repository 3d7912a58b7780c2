"""`matchmaker report …`: the funnel, the stalled matches and the network summary in a
terminal (rich tables), as CSV or as JSON, through services/reports.py."""

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.enums import FocusArea
from domain.reports import plural

report_app = typer.Typer(
    help="Reports: funnel, stalled matches, network summary.", no_args_is_help=True
)


class By(StrEnum):
    WORKSHOP = "workshop"
    FOCUS_AREA = "focus_area"
    ADOPTER_COUNTRY = "adopter_country"
    PROVIDER_COUNTRY = "provider_country"
    SOLUTION = "solution"
    YEAR = "year"


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


Workshop = Annotated[str | None, typer.Option(help="a workshop id")]
Focus = Annotated[FocusArea | None, typer.Option()]
Adopter = Annotated[str | None, typer.Option(help="adopter country, ISO 3166 alpha-2")]
Provider = Annotated[str | None, typer.Option(help="provider country, ISO 3166 alpha-2")]
Solution = Annotated[str | None, typer.Option(help="a solution id")]
Year = Annotated[int | None, typer.Option(help="the year the matches started")]
FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]


def _filters(**values: Any) -> Any:
    from services.reports import ReportFilter
    from workers.cli import _fail

    try:
        return ReportFilter(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        option = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
        raise _fail(f"{option}: {error['msg']}") from None


def _run(use: Callable[[Any], Awaitable[Any]], show: Callable[[Any], None]) -> None:
    """Run a report on the configured database and show it; one line and exit 1 if it is
    down."""
    from workers import cli

    settings = cli._settings()

    async def read() -> Any:
        from workers.api import open_backend

        async with open_backend(settings) as backend:
            return await use(backend)

    cli.exit_without_teardown(cli._run_read(read, show))


def _ratio(value: float | None) -> Text:
    return Text("—", style="dim") if value is None else Text(f"{value:.0%}")


def _days(value: float | None) -> Text:
    return Text("—", style="dim") if value is None else Text(f"{value:g}")


def funnel_table(report: Any) -> Table:
    """One row per key: matches, then per step reached (conversion) and median days."""
    table = Table(title=f"Funnel by {report.by}", title_justify="left")
    table.add_column(report.by, no_wrap=True)
    table.add_column("matches", justify="right")
    table.add_column("open", justify="right")
    for step in report.total.steps:
        table.add_column(step.stage.replace("_", " "), justify="right")
    table.add_column("closed: reasons")
    for row in [*report.rows, report.total]:
        cells: list[Text | str] = [Text(row.key), str(row.matches), str(row.open)]
        for step in row.steps:
            cell = Text(str(step.reached))
            if step.conversion is not None:
                cell.append(" (").append(_ratio(step.conversion)).append(")")
            if step.median_days is not None:
                cell.append(f"\n{step.median_days:g} d", style="dim")
            cells.append(cell)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(row.close_reasons.items()))
        cells.append(Text(reasons or "—"))
        table.add_row(*cells, end_section=row is report.rows[-1] if report.rows else False)
    table.caption = "reached (conversion from the step before); median days in the stage"
    return table


@report_app.command("funnel")
def funnel(
    workshop: Workshop = None,
    by: Annotated[By, typer.Option(help="one row per this key")] = By.WORKSHOP,
    focus_area: Focus = None,
    adopter_country: Adopter = None,
    provider_country: Provider = None,
    solution: Solution = None,
    year: Year = None,
    format: FormatOption = Format.TABLE,
) -> None:
    """The funnel: how many reached each stage, conversion, median days, close reasons."""
    from services import reports

    filters = _filters(
        workshop_id=workshop,
        focus_area=focus_area,
        year=year,
        adopter_country=adopter_country,
        provider_country=provider_country,
        solution_id=solution,
    )

    def show(report: Any) -> None:
        if format == Format.JSON:
            typer.echo(report.model_dump_json(indent=2))
        elif format == Format.CSV:
            typer.echo(reports.funnel_csv(report), nl=False)
        else:
            Console().print(funnel_table(report))

    _run(lambda backend: reports.funnel(backend, by=by.value, filters=filters), show)


@report_app.command("stalled")
def stalled(
    days: Annotated[int, typer.Option(min=1, help="no movement for this many days")] = 30,
    workshop: Workshop = None,
    focus_area: Focus = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    format: FormatOption = Format.TABLE,
) -> None:
    """The open matches that have not moved for DAYS days, longest still first."""
    from services import reports

    filters = _filters(workshop_id=workshop, focus_area=focus_area)

    def show(page: Any) -> None:
        if format == Format.JSON:
            typer.echo(page.model_dump_json(indent=2))
            return
        if format == Format.CSV:
            typer.echo(reports.stalled_csv(page), nl=False)
            return
        table = Table(
            title=f"{plural(page.total, 'match', 'matches')} without movement for "
            f"{plural(page.days, 'day')}",
            title_justify="left",
        )
        for column in ("match", "stage", "status", "workshop", "last moved", "days still"):
            table.add_column(column, justify="right" if column == "days still" else "left")
        for item in page.items:
            table.add_row(
                Text(item.id),
                item.stage,
                item.status,
                Text(item.workshop_id),
                item.last_moved_at.strftime("%Y-%m-%d"),
                f"{item.days_still:g}",
            )
        Console().print(table)

    _run(
        lambda backend: reports.stalled(
            backend, days=days, filters=filters, limit=limit, offset=offset
        ),
        show,
    )


@report_app.command("network")
def network(
    workshop: Workshop = None,
    focus_area: Focus = None,
    year: Year = None,
    format: FormatOption = Format.TABLE,
) -> None:
    """The network summary from the records, in the sentence the Network publishes."""
    from services import reports

    filters = _filters(workshop_id=workshop, focus_area=focus_area, year=year)

    def show(summary: Any) -> None:
        if format == Format.JSON:
            typer.echo(summary.model_dump_json(indent=2))
            return
        if format == Format.CSV:
            typer.echo(reports.network_csv(summary), nl=False)
            return
        table = Table(title="The network", title_justify="left", show_header=False)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for name, value in summary.figures.model_dump().items():
            table.add_row(name.replace("_", " "), "—" if value is None else f"{value:,}")
        console = Console()
        console.print(Text(summary.sentence))
        console.print(table)

    _run(lambda backend: reports.network(backend, filters=filters), show)
