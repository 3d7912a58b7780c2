"""SMTP servers on loopback that misbehave on purpose.

aiosmtpd with a handler that answers each command as a test asks, and bare TCP servers for
the one thing aiosmtpd cannot be made to say: a greeting other than 220."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope

from tests.support import RecordingHandler
from workers.ports import free_port


@dataclass
class ScriptedHandler(RecordingHandler):
    """Answers EHLO/HELO, MAIL, RCPT (every recipient) or DATA with a chosen reply; None:
    as a normal server. ``data_delays`` hold the DATA replies back, in turn, after taking
    each message (a slow server); ``drop_on_data`` closes the connection instead."""

    ehlo: str | None = None
    mail: str | None = None
    rcpt: str | None = None
    data: str | None = None
    data_delays: list[float] = field(default_factory=list)
    drop_on_data: bool = False
    auth: str | None = None
    """None: any login succeeds; else the AUTH reply, e.g. ``535 5.7.8 ...``."""
    data_started: list[float] = field(default_factory=list)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        if self.ehlo:
            return [self.ehlo]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):  # noqa: N802
        if self.ehlo:
            return self.ehlo
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope: Envelope, address, mail_options):  # noqa: N802
        if self.mail:
            return self.mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt:
            return self.rcpt
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.data_started.append(asyncio.get_running_loop().time())
        if self.drop_on_data:
            server.transport.close()
            return "250 never read"
        if self.data:
            return self.data
        reply = await super().handle_DATA(server, session, envelope)
        if self.data_delays:
            await asyncio.sleep(self.data_delays.pop(0))
        return reply

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """The aiosmtpd authenticator: the reply set in ``auth``, or success."""
        if self.auth is None:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message=self.auth)


@contextmanager
def scripted_smtp(handler: ScriptedHandler, **smtp_options: Any) -> Iterator[int]:
    """Run aiosmtpd with the handler on loopback (AUTH offered without TLS); yield its port."""
    port = free_port()
    options = {"authenticator": handler.authenticate, "auth_require_tls": False, **smtp_options}
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@asynccontextmanager
async def bare_server(greeting: bytes | None, *, close: bool = True) -> AsyncIterator[int]:
    """A TCP server that sends ``greeting`` (None: nothing) to each client, then closes the
    connection (or keeps it open, silent); yield its port."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if greeting is not None:
            writer.write(greeting)
            await writer.drain()
        if close:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
