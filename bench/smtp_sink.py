"""A loopback SMTP sink in its own process, for benchmarks whose driver must not share its GIL.

Accepts every message on 127.0.0.1:PORT and prints one line per message and recipient,
``<match id> <recipient>``, to standard output (the match id read from the text part, in
whatever language the email is written); ``ready`` once listening.

    python bench/smtp_sink.py PORT
"""

import asyncio
import email
import email.policy
import re
import sys

from aiosmtpd.smtp import SMTP

REFERENCE = re.compile(r"\b(match-[A-Za-z0-9._-]+)")


class Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        found = REFERENCE.search(part.get_content() if part is not None else "")
        reference = found.group(1) if found else "-"
        sys.stdout.write("".join(f"{reference} {to.lower()}\n" for to in envelope.rcpt_tos))
        sys.stdout.flush()
        return "250 OK"


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    sink = Sink()
    server = await loop.create_server(lambda: SMTP(sink), host="127.0.0.1", port=port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
