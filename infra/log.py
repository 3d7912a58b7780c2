"""structlog set-up, done once per process by each entry point."""

import hashlib
import hmac
import logging
import re
import sys
from typing import Any

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, WrappedLogger

# An address as partners write them (international characters included). Loose on the
# domain (masking what only looks like an address costs nothing), plain on the local part so
# that a mask does not swallow what stands before it (a key's "…/", a repr's quote).
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# a Message-ID as Matchmaker makes them (activities/mail.message_id_for): 40 hex digits of a
# digest, no person's address; kept readable so a logged email can be found in the mail
# server's log
MESSAGE_ID_LOCAL = re.compile(r"[0-9a-f]{40}")
# what structlog and the stdlib bridge carry through the chain and must stay objects
UNTOUCHED = frozenset({"exc_info", "_record", "_from_structlog"})
SCALARS = (int, float, bool, type(None))


class MaskEmails:
    """A structlog processor that replaces every email address in what is logged (in any
    string, nested in dicts and lists too, or in the repr of any other value) by
    ``<email:1a2b3c4d>``: no address reaches the logs, yet one address keeps one mask, so
    the lines about it can still be found together. The mask is an HMAC under ``key`` (the
    signing secret in a deployment), so it cannot be reversed by trying known addresses."""

    def __init__(self, key: bytes = b"") -> None:
        self._key = hmac.new(key, b"matchmaker log email mask", hashlib.sha256).digest()

    def mask(self, address: str) -> str:
        digest = hmac.new(self._key, address.lower().encode(), hashlib.sha256).hexdigest()
        return f"<email:{digest[:8]}>"

    def text(self, value: str) -> str:
        """The string with every address in it masked."""
        return EMAIL.sub(self._masked, value) if "@" in value else value

    def _masked(self, found: re.Match[str]) -> str:
        address = found.group()
        local = address.split("@", 1)[0]
        before = found.string[found.start() - 1 : found.start()]
        if before == "<" and MESSAGE_ID_LOCAL.fullmatch(local):
            return address  # <digest@domain>: a Message-ID
        return self.mask(address)

    def scrub(self, value: Any) -> Any:
        """The value with every address in it masked, containers walked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, SCALARS):
            return value
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return type(value)(self.scrub(v) for v in value)
        shown = repr(value)  # what the renderers would print
        return self.text(shown) if "@" in shown else value

    def __call__(self, _logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
        return {
            key: value if key in UNTOUCHED else self.scrub(value)
            for key, value in event_dict.items()
        }


def add_trace_id(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: the ids of the current OpenTelemetry span, so that a log line
    leads to its trace (nothing when tracing is off or no span is current)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def configure_logging(
    *, level: str = "INFO", json: bool | None = None, mask_key: bytes = b""
) -> None:
    """Route structlog and stdlib logging through one renderer (JSON unless on a terminal),
    with every email address masked (``MaskEmails``), exception text included."""
    if json is None:
        json = not sys.stdout.isatty()
    mask = MaskEmails(mask_key)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        mask,  # structlog's events, and stdlib's records through foreign_pre_chain
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    # The processors list is changed in place: loggers already in use (cached on first use)
    # keep a reference to it, so a second configuration reaches them too.
    processors = structlog.get_config()["processors"]
    processors[:] = [
        structlog.stdlib.filter_by_level,  # first: a disabled level costs no processing
        *shared,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]
    structlog.configure(
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # exceptions become text here, in both renderings, so that their text is masked
            structlog.processors.format_exc_info,
            mask,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiosqlite", "asyncio", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
