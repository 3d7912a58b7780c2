"""The Secretariat's console in a terminal: matches and one match as readable tables (rich)."""

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from services.bulk import BulkResult
from services.views import MatchDetail, MatchList, MatchRead

NONE = "—"


def _text(value: object) -> Text:
    """A cell from data partners wrote: shown as it is (no rich markup read into it)."""
    if value is None or value == "" or value == []:
        return Text(NONE, style="dim")
    if isinstance(value, datetime):
        return Text(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value))
    return Text(str(value))


def _deadline(match: MatchRead, now: datetime) -> Text:
    cell = _text(match.next_deadline)
    if match.next_deadline is not None and match.next_deadline < now:
        cell.append(" overdue", style="bold red")
    return cell


def _waiting(match: MatchRead) -> Text:
    if match.waiting_on is None:
        return Text("not recorded yet", style="dim")
    return _text(match.waiting_on)


def match_table(page: MatchList, *, now: datetime) -> Table:
    """One page of matches, with how many pass the filters in all."""
    shown = f"{page.offset + 1}–{page.offset + len(page.items)}" if page.items else "none"
    total = f"{page.total:,}+" if page.total_is_lower_bound else f"{page.total:,}"
    table = Table(
        title=f"Matches {shown} of {total}",
        title_justify="left",
        caption=None if page.next is None else f"next page: --after {page.next}",
        caption_justify="left",
    )
    table.add_column("match", no_wrap=True)
    table.add_column("stage")
    table.add_column("status")
    table.add_column("waiting on")
    table.add_column("next deadline")
    table.add_column("workshop")
    table.add_column("summary", overflow="fold")
    for match in page.items:
        status = _text(match.status)
        if match.needs_attention:
            status.stylize("bold yellow")
        table.add_row(
            _text(match.id),
            _text(match.stage),
            status,
            _waiting(match),
            _deadline(match, now),
            _text(match.workshop_id),
            _text(match.summary),
        )
    return table


def print_match(console: Console, match: MatchDetail, *, now: datetime) -> None:
    """One match: where it stands, its live state (or why not), its timeline and emails."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    for label, value in (
        ("match", _text(match.id)),
        ("summary", _text(match.summary)),
        ("stage", _text(match.stage)),
        ("status", _text(match.status)),
        ("close reason", _text(match.close_reason)),
        ("waiting on", _waiting(match)),
        ("needs attention", _text("yes" if match.needs_attention else "no")),
        ("next deadline", _deadline(match, now)),
        ("workshop", _text(match.workshop_id)),
        ("solution", _text(match.solution_id)),
        ("focus area", _text(match.focus_area)),
        ("countries", _text(f"{match.provider_country} → {match.adopter_country}")),
        ("created", _text(match.created_at)),
        ("updated", _text(match.updated_at)),
    ):
        facts.add_row(label, value)
    console.print(facts)
    console.print()
    live = match.live
    if live is None:
        console.print(Text(f"Live state unavailable: {match.note}", style="yellow"))
    else:
        console.print(
            Text(
                f"Live: {live.stage}, {live.status}; rules version {live.rules_version}; "
                f"lapse on day {live.policy.lapse_day:g}"
            )
        )
        for cause, why in live.attention.items():
            console.print(Text(f"  needs attention ({cause}): {why}", style="bold yellow"))
        prompts = Table(title="Open prompts", title_justify="left")
        for column in ("prompt", "party", "sends", "next reminder", "escalates", "lapses"):
            prompts.add_column(column)
        for p in live.open_prompts:
            prompts.add_row(
                _text(p.id),
                _text(p.party),
                _text(p.sends),
                _text(min(p.reminders_due) if p.reminders_due else None),
                _text(p.escalate_at),
                _text(p.lapse_at),
            )
        console.print(prompts)
    timeline = Table(title=f"Timeline ({len(match.history)} entries)", title_justify="left")
    for column in ("#", "when", "stage", "by", "what"):
        timeline.add_column(column, overflow="fold")
    for entry in match.history:
        timeline.add_row(
            _text(entry.seq),
            _text(entry.occurred_at),
            _text(entry.stage),
            _text(entry.actor),
            _text(entry.summary),
        )
    console.print(timeline)
    emails = Table(title=f"Emails ({len(match.emails)})", title_justify="left")
    for column in ("kind", "to", "status", "attempts", "sent", "last error"):
        emails.add_column(column, overflow="fold")
    for email in match.emails:
        emails.add_row(
            _text(email.kind),
            _text(email.recipient),
            _text(email.status),
            _text(email.attempts),
            _text(email.sent_at),
            _text(email.last_error),
        )
    console.print(emails)


_OUTCOME_STYLE = {
    "would_apply": "green",
    "applied": "bold green",
    "would_refuse": "yellow",
    "refused": "bold yellow",
    "failed": "bold red",
}


def bulk_table(result: BulkResult, *, action: str) -> Table:
    """A bulk action's matches, each with what the rules say (dry run) or what became of it,
    titled with the count and the totals."""
    totals = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in result.totals.items())
    what = "Dry run of" if result.dry_run else "Applied"
    table = Table(
        title=f"{what} {action} on {result.count} matches: {totals}", title_justify="left"
    )
    for column in ("match", "stage", "status", "waiting on", "summary"):
        table.add_column(column, overflow="fold", no_wrap=column == "match")
    table.add_column("outcome", no_wrap=True)
    table.add_column("why", overflow="fold")
    for item in result.items:
        table.add_row(
            _text(item.match_id),
            _text(item.stage),
            _text(item.status),
            _text(item.waiting_on),
            _text(item.summary),
            Text(item.outcome.replace("_", " "), style=_OUTCOME_STYLE[item.outcome]),
            _text(item.reason),
        )
    return table
