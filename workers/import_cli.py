"""`matchmaker eoi import FILE`: load a workshop's file with a progress bar and a summary."""

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from domain.imports import ParsedImport

if TYPE_CHECKING:  # the use case (and Temporal) loads when the command runs, not with the CLI
    from domain.policy import TimingPolicy
    from services.imports import ImportRowResult, ImportSummary

OUTCOME_STYLE = {
    "started": "green",
    "already_present": "cyan",
    "refused": "bold red",
    "invalid": "red",
    "valid": "green",
}


def error_table(parsed: ParsedImport, file: Path) -> Table:
    """Every error of a file: where, which field, what would be accepted."""
    table = Table(
        title=f"{file.name}: {len(parsed.errors)} error(s); nothing was started",
        title_justify="left",
    )
    table.add_column("line" if parsed.format == "csv" else "item", justify="right")
    table.add_column("field")
    table.add_column("what is wrong; what would be accepted", overflow="fold")
    for error in parsed.errors:
        where = error.line if parsed.format == "csv" else error.item
        table.add_row(
            Text(str(where) if where is not None else "—"), Text(error.field), Text(error.message)
        )
    return table


def summary_table(summary: "ImportSummary", file: Path) -> Table:
    """One line per outcome (started, already present, refused, invalid), then the rows that
    need a look."""
    verb = "checked" if summary.dry_run else "imported"
    title = f"{file.name}: {verb} {summary.rows} rows"
    table = Table(title=title, title_justify="left", min_width=len(title))
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    counts = (
        [("valid", sum(r.outcome == "valid" for r in summary.results))]
        if summary.dry_run
        else [
            ("started", summary.started),
            ("already_present", summary.already_present),
            ("refused", summary.refused),
        ]
    )
    for outcome, count in [*counts, ("invalid", summary.invalid)]:
        table.add_row(Text(outcome.replace("_", " "), style=OUTCOME_STYLE[outcome]), str(count))
    return table


def problems_table(results: "list[ImportRowResult]", fmt: str) -> Table:
    """The rows refused or skipped as invalid, and why."""
    table = Table(title="rows not started", title_justify="left")
    table.add_column("line" if fmt == "csv" else "item", justify="right")
    table.add_column("eoi")
    table.add_column("outcome")
    table.add_column("why", overflow="fold")
    for r in results:
        where = r.line if fmt == "csv" else r.item
        table.add_row(
            Text(str(where) if where is not None else "—"),
            Text(r.eoi_id or "—"),
            Text(r.outcome.replace("_", " "), style=OUTCOME_STYLE[r.outcome]),
            Text(r.reason or ""),
        )
    return table


def eoi_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="start the valid rows even if others are not")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate only")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the summary as JSON")] = False,
    policy: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="the workshop's TimingPolicy (JSON); its matches keep it for life",
        ),
    ] = None,
) -> None:
    """Import a workshop (CSV or JSON): validate every row, then start each match once.

    Exit code 0 when every row was started or already present, 1 when rows were invalid or
    refused, 2 when the file could not be imported at all."""
    from services.imports import Format, ImportInvalid, import_file, validate
    from workers.api import open_backend
    from workers.cli import _fail, _settings, exit_without_teardown

    settings = _settings()
    for handler in logging.getLogger().handlers:  # stdout is the summary's (--json reads it)
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    data = file.read_bytes()
    fmt: Format | None = (
        "json"
        if file.suffix.lower() == ".json"
        else "csv"
        if file.suffix.lower() == ".csv"
        else None
    )
    parsed = validate(data, fmt=fmt)
    if policy is not None:
        parsed.policy = _workshop_policy(policy, parsed.policy is not None)
    console = Console(stderr=as_json)

    async def run() -> "ImportSummary":
        with Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=dry_run or not parsed.rows,
        ) as progress:
            task = progress.add_task("import", total=len(parsed.rows))
            if dry_run or (parsed.errors and not (skip_invalid and parsed.rows)):
                # nothing to start: answered without Temporal
                return await import_file(
                    None, parsed=parsed, skip_invalid=skip_invalid, dry_run=dry_run
                )
            async with open_backend(settings, lazy=False) as backend:
                return await import_file(
                    backend,
                    parsed=parsed,
                    skip_invalid=skip_invalid,
                    dry_run=dry_run,
                    on_row=lambda _row: progress.advance(task),
                )

    try:
        summary = asyncio.run(run())
    except ImportInvalid as exc:
        if as_json:
            typer.echo(
                json.dumps({"detail": str(exc), "errors": [e.model_dump() for e in exc.errors]})
            )
        else:
            console.print(error_table(parsed, file))
            typer.secho(f"matchmaker: {exc}", err=True, fg=typer.colors.RED)
        exit_without_teardown(1)
        return
    except RuntimeError as exc:
        exit_without_teardown(
            _fail(f"cannot reach Temporal at {settings.temporal_target}: {exc}", 2).exit_code
        )
        return
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
    else:
        console.print(summary_table(summary, file))
        problems = [r for r in summary.results if r.outcome in ("refused", "invalid")]
        if problems:
            console.print(problems_table(problems, summary.format))
    exit_without_teardown(1 if summary.refused or summary.invalid else 0)


def _workshop_policy(path: Path, in_file: bool) -> "TimingPolicy":
    """The --policy file as a TimingPolicy, or end the command saying what is wrong."""
    from pydantic import ValidationError

    from domain.policy import TimingPolicy
    from workers.cli import _fail

    if in_file:
        raise _fail("the file has its own workshop_policy: give the policy once", 2)
    try:
        return TimingPolicy.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "policy"
        raise _fail(f"{path}: {field}: {first['msg']} (see domain/policy.py)", 2) from None
