"""The embedded SMTP catcher: aiosmtpd writing every message into a Maildir."""

from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def start_mail_catcher(*, host: str, port: int, maildir: Path) -> Controller:
    """Start an SMTP server on its own thread that stores what it receives in ``maildir``."""
    for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips these if the folder exists
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller
