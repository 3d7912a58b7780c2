"""SMTP delivery: a pooled client that sorts every failure into a bounce, a deferral or the
server refusing Matchmaker itself."""

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Sequence
from email.message import Message
from enum import StrEnum
from typing import Any, Literal

import aiosmtplib
import structlog
from opentelemetry import trace

from activities.failures import cut
from activities.mail import EmailNotBuildable

logger = structlog.get_logger()
# the process's tracer provider, or a no-op one when tracing is off
tracer = trace.get_tracer(__name__)


class PermanentDeliveryError(Exception):
    """The recipient or the message was refused for good (RCPT or DATA 5xx): a bounce."""


class TransientDeliveryError(Exception):
    """The recipient or the message was deferred (RCPT or DATA 4xx): retry later."""


class ServerProblem(StrEnum):
    """What the mail server refuses Matchmaker itself, whoever the email is for."""

    AUTHENTICATION = "authentication"
    SENDER = "sender"
    GREETING = "greeting"
    TLS = "tls"
    UNAVAILABLE = "unavailable"
    CONNECTION = "connection"
    UNSUPPORTED = "unsupported"
    REFUSED = "refused"


WHAT_TO_DO: dict[ServerProblem, str] = {
    ServerProblem.AUTHENTICATION: (
        "check MATCHMAKER_SMTP_USERNAME and MATCHMAKER_SMTP_PASSWORD, and that the account "
        "may send mail"
    ),
    ServerProblem.SENDER: (
        "check that the server lets this account send as MATCHMAKER_MAIL_FROM (the sender "
        "address, its domain, the relay rules)"
    ),
    ServerProblem.GREETING: (
        "check that MATCHMAKER_SMTP_HOST and MATCHMAKER_SMTP_PORT point to an SMTP server "
        "that accepts connections from this host"
    ),
    ServerProblem.TLS: (
        "check MATCHMAKER_SMTP_TLS (none, starttls or tls) against what the server on "
        "MATCHMAKER_SMTP_PORT expects, and its certificate"
    ),
    ServerProblem.UNAVAILABLE: (
        "the server closes connections (421): check its status, quotas and rate limits"
    ),
    ServerProblem.CONNECTION: (
        "check that the mail server at MATCHMAKER_SMTP_HOST:MATCHMAKER_SMTP_PORT runs and "
        "is reachable from this host"
    ),
    ServerProblem.UNSUPPORTED: (
        "the server lacks an SMTP extension the email needs (SMTPUTF8 for non-ASCII "
        "addresses): use a server that has it"
    ),
    ServerProblem.REFUSED: "read the server's reply (cause) and the mail server's logs",
}


class ServerDeliveryError(TransientDeliveryError):
    """The mail server refuses Matchmaker itself (login, sender, greeting, TLS, 421, network).

    Retried like any transient failure, and never a recipient's bounce: a wrong password must
    not turn every partner's address into a dead one."""

    def __init__(self, message: str, *, problem: ServerProblem) -> None:
        super().__init__(message)
        self.problem = problem


Step = Literal["connect", "login", "send"]


class SmtpMailer:
    """Sends messages through one SMTP server over a small pool of reused connections.

    Sorts failures into a recipient's or message's bounce (PermanentDeliveryError), a deferral
    (TransientDeliveryError) and the server refusing Matchmaker itself (ServerDeliveryError),
    which it reports once per kind of problem until a send succeeds again."""

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
            "use_tls": tls == "tls",
            "start_tls": tls == "starttls",
            "timeout": timeout,
        }
        self._login = (username, password or "") if username else None
        self._server = f"{host}:{port}"
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)
        self._alerted: set[ServerProblem] = set()

    async def send(self, message: Message, *, sender: str, recipients: Sequence[str]) -> None:
        """Deliver one message to the envelope given, or raise PermanentDeliveryError,
        TransientDeliveryError (ServerDeliveryError among them) or EmailNotBuildable. One
        span per send when tracing is on (no address in it: the server only)."""
        # the error's type only: an SMTP reply may quote the recipient's address
        with tracer.start_as_current_span(
            "smtp send",
            kind=trace.SpanKind.CLIENT,
            attributes={"smtp.server": self._server},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                async with self._slots:
                    await self._send(message, sender, list(recipients))
            except ServerDeliveryError as error:
                span.set_status(trace.StatusCode.ERROR, type(error).__name__)
                self._alert(error)
                raise
            except Exception as error:
                span.set_status(trace.StatusCode.ERROR, type(error).__name__)
                raise
            self._recovered()

    async def aclose(self) -> None:
        """Close the kept connections (QUIT)."""
        while self._idle:
            await self._discard(self._idle.pop())

    async def _send(self, message: Message, sender: str, recipients: list[str]) -> None:
        kept = self._idle.pop() if self._idle else None
        if kept is not None:
            try:
                await self._step(
                    kept, "send", kept.send_message(message, sender=sender, recipients=recipients)
                )
            except ServerDeliveryError as error:
                if not _dropped(error):
                    raise
                # the server closed the kept connection meanwhile: open a new one
            else:
                self._idle.append(kept)
                return
        client = aiosmtplib.SMTP(**self._options)
        await self._step(client, "connect", client.connect())
        if self._login:
            await self._step(client, "login", client.login(*self._login))
        await self._step(
            client, "send", client.send_message(message, sender=sender, recipients=recipients)
        )
        self._idle.append(client)

    async def _step(self, client: aiosmtplib.SMTP, step: Step, operation: Awaitable[Any]) -> None:
        """Run one step of the conversation; on failure drop the connection and raise the
        failure sorted."""
        try:
            await operation
        except asyncio.CancelledError:  # no QUIT: the connection is in an unknown state
            client.close()
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._discard(client)
            raise _classified(exc, step) from exc
        except ValueError as exc:  # aiosmtplib refuses an address it cannot put on a command
            await self._discard(client)
            raise EmailNotBuildable(f"envelope: {exc}") from exc

    def _alert(self, error: ServerDeliveryError) -> None:
        """Tell the operator, once per kind of problem, that the server refuses Matchmaker."""
        if error.problem in self._alerted:
            return
        self._alerted.add(error.problem)
        logger.error(
            "mail server refuses Matchmaker",
            server=self._server,
            problem=str(error.problem),
            cause=str(error),
            what_to_do=WHAT_TO_DO[error.problem],
        )

    def _recovered(self) -> None:
        if self._alerted:
            logger.info(
                "mail server accepts Matchmaker again",
                server=self._server,
                problems=sorted(str(p) for p in self._alerted),
            )
            self._alerted.clear()

    @staticmethod
    async def _discard(client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(Exception):
            if client.is_connected:
                await client.quit()
        client.close()


# Replies about the client's authentication, wherever they come: 530 authentication required,
# 534 mechanism too weak, 535 credentials invalid, 538 encryption required, 454 temporary.
AUTHENTICATION_CODES = frozenset({454, 530, 534, 535, 538})
SERVICE_CLOSING = 421


def _dropped(error: ServerDeliveryError) -> bool:
    """Tell whether a kept connection had been closed by the server (idle timeout)."""
    cause = error.__cause__
    return isinstance(cause, aiosmtplib.SMTPServerDisconnected) or (
        isinstance(cause, aiosmtplib.SMTPResponseException) and cause.code == SERVICE_CLOSING
    )


def _reply(code: int, message: str) -> str:
    return cut(f"{code} {message}")


def _classified(exc: aiosmtplib.SMTPException | OSError, step: Step) -> Exception:
    """Sort an SMTP failure: only RCPT and DATA replies can be about one email."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        detail = cut("; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients))
        if problem := _server_code(codes):
            return ServerDeliveryError(detail, problem=problem)
        if codes and all(code >= 500 for code in codes):
            return PermanentDeliveryError(detail)
        return TransientDeliveryError(detail)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        detail = _reply(exc.code, exc.message)
        if problem := _server_code([exc.code]):
            return ServerDeliveryError(detail, problem=problem)
        return PermanentDeliveryError(detail) if exc.code >= 500 else TransientDeliveryError(detail)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        detail = _reply(exc.code, exc.message)
    else:
        detail = cut(f"{type(exc).__name__}: {exc}")
    return ServerDeliveryError(f"{step}: {detail}", problem=_server_problem(exc, step))


def _server_code(codes: list[int]) -> ServerProblem | None:
    if SERVICE_CLOSING in codes:
        return ServerProblem.UNAVAILABLE
    if AUTHENTICATION_CODES.intersection(codes):
        return ServerProblem.AUTHENTICATION
    return None


def _server_problem(exc: aiosmtplib.SMTPException | OSError, step: Step) -> ServerProblem:
    """Name what the server refuses, from the reply code, the exception and the step."""
    code = getattr(exc, "code", None)
    if code is not None and (problem := _server_code([code])):
        return problem
    if _tls_failure(exc):
        return ServerProblem.TLS
    if isinstance(exc, aiosmtplib.SMTPHeloError | aiosmtplib.SMTPConnectResponseError):
        return ServerProblem.GREETING
    if isinstance(exc, OSError):  # refused, reset, timed out, disconnected
        return ServerProblem.CONNECTION
    if step == "login":
        return ServerProblem.AUTHENTICATION
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return ServerProblem.SENDER
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return ServerProblem.UNSUPPORTED
    if step == "connect":  # what is left of connecting is STARTTLS
        return ServerProblem.TLS
    return ServerProblem.REFUSED


def _tls_failure(exc: BaseException) -> bool:
    """Tell whether a TLS handshake or certificate failed, here or in what caused it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
