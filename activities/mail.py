"""SMTP delivery and email rendering."""

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any, Literal

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).parent / "templates"


class PermanentDeliveryError(Exception):
    """The SMTP server refused the message for good (5xx): retrying cannot help."""


class TransientDeliveryError(Exception):
    """The SMTP server is unreachable or asked us to try later (4xx)."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    """Renders one text + HTML template pair per email kind; the text template sets ``subject``."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, kind: str, context: dict[str, Any]) -> RenderedEmail:
        """Render the templates of one kind with the given context."""
        text_template = self._env.get_template(f"{kind}.txt.j2")
        module = text_template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"template {kind}.txt.j2 sets no subject")
        html = self._env.get_template(f"{kind}.html.j2").render(context)
        return RenderedEmail(subject=subject, text=str(module), html=html)


def message_id_for(business_key: str, *, domain: str) -> str:
    """Return the deterministic Message-ID of the email identified by a business key."""
    digest = hashlib.sha256(business_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


# UTF-8 bodies as quoted-printable: readable in raw form, safe for 7-bit relays.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


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
    """Assemble a multipart/alternative (text + HTML) message with a fixed Message-ID.

    Built with the classic ``email.mime`` classes: an order of magnitude cheaper than
    ``EmailMessage``, whose header registry parses every header it is given."""
    message = MIMEMultipart("alternative")
    message["From"] = formataddr((sender_name, sender), charset="utf-8")
    message["To"] = formataddr((recipient_name, recipient), charset="utf-8")
    message["Subject"] = (
        Header(email.subject, "utf-8") if not email.subject.isascii() else email.subject
    )
    message["Message-ID"] = message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if reply_to:
        message["Reply-To"] = reply_to
    message.attach(MIMEText(email.text, "plain", _UTF8))
    message.attach(MIMEText(email.html, "html", _UTF8))
    return message


class SmtpMailer:
    """Sends messages through one SMTP server over a small pool of reused connections,
    sorting failures into permanent (5xx) and transient (4xx, network) ones."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        tls: Literal["none", "starttls", "tls"] = "none",
        timeout: float = 30.0,
        pool_size: int = 4,
    ) -> None:
        self._options: dict[str, Any] = {
            "hostname": host,
            "port": port,
            "username": username,
            "password": password,
            "use_tls": tls == "tls",
            "start_tls": tls == "starttls",
            "timeout": timeout,
        }
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)

    async def send(self, message: Message) -> None:
        """Deliver one message or raise PermanentDeliveryError / TransientDeliveryError."""
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            if client is not None:
                try:  # a kept connection may have been closed by the server meanwhile
                    await client.send_message(message)
                except aiosmtplib.SMTPServerDisconnected:
                    client = None
                except (aiosmtplib.SMTPException, OSError) as exc:
                    await self._discard(client)
                    raise _classified(exc) from exc
                else:
                    self._idle.append(client)
                    return
            client = aiosmtplib.SMTP(**self._options)
            try:
                await client.connect()
                await client.send_message(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._discard(client)
                raise _classified(exc) from exc
            self._idle.append(client)

    async def aclose(self) -> None:
        """Close the kept connections (QUIT)."""
        while self._idle:
            await self._discard(self._idle.pop())

    @staticmethod
    async def _discard(client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(Exception):
            if client.is_connected:
                await client.quit()
        client.close()


def _classified(exc: aiosmtplib.SMTPException | OSError) -> Exception:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        detail = "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients)
        if codes and all(code >= 500 for code in codes):
            return PermanentDeliveryError(detail)
        return TransientDeliveryError(detail)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
        return PermanentDeliveryError(text) if exc.code >= 500 else TransientDeliveryError(text)
    return TransientDeliveryError(f"{type(exc).__name__}: {exc}")
