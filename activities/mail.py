"""SMTP delivery and email rendering."""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.charset import QP, Charset
from email.errors import MessageError
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, quote
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import structlog
from email_validator import EmailNotValidError, validate_email
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    FunctionLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from markupsafe import Markup

from activities.failures import cut
from activities.invitations import invitation_ics
from infra.i18n import days_until, jinja_filters, language_of, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent / "locale"

logger = structlog.get_logger()


CORRECT_THE_CONTACT = "correct the contact and resend"
FIX_THE_TEMPLATE = "fix the template (a bug: tell the developers), then resend"


class EmailNotBuildable(Exception):
    """The email cannot be built from its data (a template or header error): retrying the
    same data cannot help, so the email is poison rather than a retry."""

    def __init__(self, reason: str, *, remedy: str = CORRECT_THE_CONTACT) -> None:
        # short: the outbox row, the match's history and the Secretariat's email show it
        super().__init__(f"{cut(reason, limit=240)}; {remedy}")


def _html_macros(files: FileSystemLoader, name: str) -> tuple[str, str, Any] | None:
    """The source of ``_macros.j2`` under an HTML name, so autoescape applies to it."""
    if name != "_macros.html.j2":
        return None
    source, filename, uptodate = files.get_source(Environment(), "_macros.j2")
    return source, filename, uptodate


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    calendar: str = ""  # an iCalendar invitation or cancellation (text/calendar), if any
    calendar_method: str = ""


class TemplateRenderer:
    """Renders one text + HTML template pair per email kind, in the recipient's language
    (English when Matchmaker does not speak it); the text template sets ``subject``."""

    def __init__(
        self, directory: Path = TEMPLATES_DIR, locale_dir: Path = LOCALE_DIR, *, width: int = 76
    ) -> None:
        self._directory = directory
        self._width = width
        self._locale_dir = locale_dir
        self._environments: dict[str, Environment] = {}

    def _environment(self, language: str) -> Environment:
        """One environment per language: its catalog and its date and number formats."""
        env = self._environments.get(language)
        if env is None:
            files = FileSystemLoader(self._directory)
            env = Environment(
                # the macros are compiled twice: as HTML (escaping) for the HTML templates,
                # which import "_macros.html.j2", and as text for the text ones
                loader=ChoiceLoader([files, FunctionLoader(partial(_html_macros, files))]),
                autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                extensions=["jinja2.ext.i18n"],
            )
            env.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
                translations(self._locale_dir, language), newstyle=True
            )
            env.filters.update(jinja_filters(language))
            env.filters["strong"] = lambda v: Markup("<strong>%s</strong>") % v
            env.filters["code"] = lambda v: Markup("<code>%s</code>") % v
            self._environments[language] = env
        return env

    def render(
        self, kind: str, context: dict[str, Any], *, today: date | None = None
    ) -> RenderedEmail:
        """Render the templates of one kind with the given context, or raise EmailNotBuildable
        (a missing template, a syntax error, an undefined variable, no subject).

        ``today`` (the send date, UTC by default) says how many days are left to answer."""
        language = language_of((context.get("recipient") or {}).get("language"))
        answer_by = context.get("answer_by")
        if today is None and context.get("today"):  # the stack's compressed calendar
            today = date.fromisoformat(str(context["today"]))
        today = today or datetime.now(UTC).date()
        context = {
            **context,
            "language": language,
            "days_left": days_until(answer_by, today) if answer_by else None,
        }
        env = self._environment(language)
        try:
            text_template = env.get_template(f"{kind}.txt.j2")
            module = text_template.make_module(context)
            subject = " ".join(str(getattr(module, "subject", "")).split())
            html = env.get_template(f"{kind}.html.j2").render(context)
        except (TemplateError, ValueError, TypeError) as exc:  # a bad date or number too
            raise EmailNotBuildable(
                f"template {kind}: {type(exc).__name__}: {exc}", remedy=FIX_THE_TEMPLATE
            ) from exc
        if not subject:
            raise EmailNotBuildable(
                f"template {kind}.txt.j2 sets no subject", remedy=FIX_THE_TEMPLATE
            )
        text = wrap_text(str(module), self._width)
        if not context.get("invitation"):
            return RenderedEmail(subject=subject, text=text, html=html)
        try:
            calendar = invitation_ics(
                invitation=context["invitation"],
                plan=context["plan"],
                summary=" ".join(str(getattr(module, "event_summary", subject)).split()),
                description=str(getattr(module, "event_description", text)).strip(),
                location=" ".join(str(getattr(module, "event_location", "")).split()),
                organizer_email=context["secretariat_email"],
                organizer_name="SSN4PSI Secretariat",
                attendee_email=context["recipient"]["email"],
                attendee_name=context["recipient"]["name"],
                language=language,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise EmailNotBuildable(
                f"invitation of {kind}: {type(exc).__name__}: {exc}", remedy=FIX_THE_TEMPLATE
            ) from exc
        method = str(context["invitation"]["method"])
        return RenderedEmail(subject, text, html, calendar=calendar, calendar_method=method)


_ITEM = re.compile(r"^(\s*(?:[-*]|\d+\.)\s+|\s+)")


def wrap_text(text: str, width: int = 76) -> str:
    """Fold the long lines of a plain-text email at spaces (a translated paragraph is one
    line in its catalog), list items under their text; words and links are never cut, and a
    no-break space (French ":" and quotes) never folds."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        lead = _ITEM.match(line)
        indent = " " * len(lead.group(1)) if lead else ""
        prefix = lead.group(1) if lead else ""
        current = prefix.rstrip() if prefix.strip() else prefix
        for word in line[len(prefix) :].split(" "):
            if not word:
                continue
            if len(current) + 1 + len(word) > width and current.strip():
                lines.append(current)
                current = indent + word
            else:
                current = f"{current} {word}" if current.strip() else current + word
        lines.append(current)
    return "\n".join(lines)


def message_id_for(business_key: str, *, domain: str) -> str:
    """Return the deterministic Message-ID of the email identified by a business key."""
    digest = hashlib.sha256(business_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


# UTF-8 bodies as quoted-printable: readable in raw form, safe for 7-bit relays.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _utf8_part(text: str, subtype: str) -> MIMEText:
    """A text part in UTF-8, quoted-printable (MIMEText takes the Charset to the payload)."""
    return MIMEText(text, subtype, _UTF8)  # type: ignore[arg-type]  # a Charset works; typeshed says str


# RFC 5322 asks for lines of at most 78 characters; folding happens only at whitespace.
_MAX_LINE = 78


@lru_cache(maxsize=4096)
def smtp_address(address: str) -> str:
    """Return the address as the envelope and a 7-bit header carry it (an IDNA domain), or
    raise EmailNotBuildable: an address that is not one mailbox, or whose local part is not
    ASCII (that needs SMTPUTF8, which Matchmaker does not use)."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise EmailNotBuildable(f"not a valid email address {address!r}: {exc}") from exc
    if checked.ascii_email is None:
        raise EmailNotBuildable(f"{address} has a non-ASCII local part (it needs SMTPUTF8)")
    return address if address.isascii() else checked.ascii_email


def _literal(text: str) -> bool:
    """Tell whether text can stand as it is in a 7-bit header: printable ASCII that no reader
    mistakes for an RFC 2047 encoded-word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _folds(header: str, value: str) -> bool:
    """Tell whether an ASCII value folds, at its spaces, into lines of at most 78 characters."""
    if len(header) + 2 + len(value) <= _MAX_LINE:
        return True
    folded = Header(value, header_name=header).encode(maxlinelen=_MAX_LINE, linesep="\n")
    first, *rest = folded.split("\n")
    return len(header) + 2 + len(first) <= _MAX_LINE and all(len(x) <= _MAX_LINE for x in rest)


def _unstructured(header: str, text: str) -> str | Header:
    """A free-text header (Subject): as it is when it can be, else RFC 2047 encoded-words,
    which can be folded anywhere and carry any character."""
    if _literal(text) and _folds(header, text):
        return text
    return Header(text, "utf-8", header_name=header)


def _mailbox(header: str, name: str, address: str) -> str | Header:
    """An address header that any RFC 5322 / RFC 2047 reader parses back to this display
    name and address: a quoted name when it is plain ASCII and folds, else encoded-words."""
    if not name:
        return address
    quoted = f'"{quote(name)}" <{address}>'
    if _literal(name) and _folds(header, quoted):
        return quoted
    value = Header(name, "utf-8", header_name=header)
    value.append(f"<{address}>", "us-ascii")
    return value


def build_message(
    *,
    sender: str,
    sender_name: str,
    recipient: str,
    recipient_name: str,
    email: RenderedEmail,
    message_id: str,
    reply_to: str | None = None,
) -> MIMEMultipart:
    """Assemble a multipart/alternative (text + HTML) message with a fixed Message-ID, or raise
    EmailNotBuildable.

    Every header is 7-bit, folds at 78 characters wherever a fold is possible and parses back
    to the same names, whatever characters the names and subject hold. Built with the classic
    ``email.mime`` classes: an order of magnitude cheaper than ``EmailMessage``, whose header
    registry parses every header it is given (and splits encoded names with spaces)."""
    try:
        message = MIMEMultipart("alternative")
        # a Header value is folded as built (the compat32 policy); typeshed's messages take str
        message["From"] = _mailbox("From", sender_name, smtp_address(sender))  # type: ignore[assignment]  # a Header
        message["To"] = _mailbox("To", recipient_name, smtp_address(recipient))  # type: ignore[assignment]  # a Header
        message["Subject"] = _unstructured("Subject", email.subject)  # type: ignore[assignment]  # a Header
        message["Message-ID"] = message_id
        message["Date"] = formatdate(localtime=False, usegmt=True)
        if reply_to:
            message["Reply-To"] = smtp_address(reply_to)
        message.attach(_utf8_part(email.text, "plain"))
        message.attach(_utf8_part(email.html, "html"))
        if email.calendar:  # last: the alternative mail programs show as the invitation
            invitation = _utf8_part(email.calendar, "calendar")
            invitation.set_param("method", email.calendar_method)
            message.attach(invitation)
    except (MessageError, ValueError) as exc:  # UnicodeError is a ValueError
        raise EmailNotBuildable(f"header: {type(exc).__name__}: {exc}") from exc
    return message
