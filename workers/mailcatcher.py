"""The embedded SMTP catcher: aiosmtpd writing every message into a Maildir, and
`matchmaker mail-catcher`, the dev stack's process running it."""

import asyncio
import signal
from pathlib import Path

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from infra.settings import Settings

logger = structlog.get_logger()


def start_mail_catcher(*, host: str, port: int, maildir: Path) -> Controller:
    """Start an SMTP server on its own thread that stores what it receives in ``maildir``."""
    for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips these if the folder exists
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


async def serve_mail_catcher(settings: Settings, *, host: str = "127.0.0.1") -> None:
    """Catch mail on ``host:smtp_port`` into the Maildir under the data directory until
    SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    controller = start_mail_catcher(host=host, port=settings.smtp_port, maildir=settings.mail_dir)
    logger.info("mail catcher started", host=host, port=settings.smtp_port)
    try:
        await stop.wait()
    finally:
        controller.stop()
    logger.info("mail catcher stopped")
