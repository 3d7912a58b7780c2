"""A field visit as an iCalendar invitation (RFC 5545, with the iTIP methods of RFC 5546).

Outlook, Gmail and Thunderbird show an email as an invitation when one of its alternatives is
``text/calendar; method=REQUEST`` (or ``CANCEL``) whose VEVENT has a UID, a SEQUENCE, an
ORGANIZER and the recipient as ATTENDEE; a later message with the same UID and a higher
SEQUENCE changes or cancels the event in their calendar. A visit takes whole days: DTSTART and
DTEND are dates, DTEND the day after the last (exclusive, as RFC 5545 says).
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

PRODUCT = "-//SSN4PSI//Matchmaker//EN"
METHODS = ("REQUEST", "CANCEL")


def invitation_ics(
    *,
    invitation: dict[str, Any],
    plan: dict[str, Any],
    summary: str,
    description: str,
    location: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
    language: str,
    now: datetime | None = None,
) -> str:
    """The invitation (or cancellation) of one visit for one attendee, as iCalendar text."""
    method = str(invitation["method"])
    if method not in METHODS:
        raise ValueError(f"an invitation's method is one of {', '.join(METHODS)}, not {method}")
    domain = organizer_email.rpartition("@")[2] or "matchmaker.invalid"
    start, end = date.fromisoformat(str(plan["start"])), date.fromisoformat(str(plan["end"]))

    event = Event()
    event.add("uid", f"{invitation['uid']}@{domain}")
    event.add("sequence", int(invitation["sequence"]))
    event.add("dtstamp", now or datetime.now(UTC))
    event.add("dtstart", start)
    event.add("dtend", end + timedelta(days=1))
    event.add("summary", vText(summary, params={"LANGUAGE": language}))
    event.add("description", vText(description, params={"LANGUAGE": language}))
    if location:
        event.add("location", vText(location, params={"LANGUAGE": language}))
    if plan.get("meeting_url"):
        event.add("url", plan["meeting_url"])
    event.add("transp", "TRANSPARENT" if plan.get("format") == "virtual" else "OPAQUE")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["CN"] = vText(organizer_name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params.update(
        {
            "CN": vText(attendee_name),
            "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "NEEDS-ACTION",
            "RSVP": "FALSE",  # the Network asks for no reply by calendar: the dates are agreed
        }
    )
    event.add("attendee", attendee)

    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical.decode()
