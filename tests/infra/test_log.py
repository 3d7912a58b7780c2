"""No email address reaches the logs, whichever way it comes: masked, one mask per address."""

import subprocess
import sys
import textwrap

import pytest

from infra.log import EMAIL, MaskEmails
from tests.support import ROOT

# What a process logs: structlog events with addresses in values, nested, in an exception and
# in the repr of an object; stdlib records (as temporalio and uvicorn write them) with an
# address in the message and in an exception.
SCRIPT = textwrap.dedent(
    """
    import logging, sys
    import structlog
    from infra.log import configure_logging

    configure_logging(level="INFO", json=sys.argv[1] == "json", mask_key=b"secret")
    log = structlog.get_logger("test")
    log.info("email sent", recipient="ana@example.org", business_key="m-1/follow_up/p-1/ana@example.org/1")
    log.warning("bounced", reply={"to": ["Bo.Li@mail.example.kz", {"cc": "célia@exämple.bd"}]})
    log.info("object", error=ValueError("ana@example.org refused"))
    try:
        raise RuntimeError("550 <ana@example.org>: mailbox unavailable")
    except RuntimeError:
        log.exception("send failed")
    logging.getLogger("temporalio.activity").warning(
        "Completing activity as failed: %s", "Bo.Li@mail.example.kz refused"
    )
    try:
        raise ValueError("no such user ana@example.org")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    """
)


@pytest.mark.parametrize("rendering", ["json", "console"])
def test_a_configured_process_logs_no_address(rendering):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, rendering],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = done.stdout
    assert EMAIL.findall(out) == [] and "@" not in out, out
    ana, bo = (
        MaskEmails(b"secret").mask("ana@example.org"),
        MaskEmails(b"secret").mask("bo.li@mail.example.kz"),
    )
    assert out.count(ana) == 5 and out.count(bo) == 2, out  # one address, one mask
    assert "mailbox unavailable" in out and "Traceback" in out  # the exceptions are still there
    assert "email sent" in out and "Completing activity as failed" in out


def test_addresses_are_masked_wherever_they_are_nested():
    mask = MaskEmails(b"k")
    event = {
        "event": "x ana@example.org y",
        "data": {"to": ("ana@example.org", 3, None), "list": [{"deep": "b@c.de"}]},
        "exc_info": True,
        "count": 2,
    }
    scrubbed = mask(None, "info", event)
    assert scrubbed["event"] == f"x {mask.mask('ana@example.org')} y"
    assert scrubbed["data"] == {
        "to": (mask.mask("ana@example.org"), 3, None),
        "list": [{"deep": mask.mask("b@c.de")}],
    }
    assert scrubbed["exc_info"] is True and scrubbed["count"] == 2


def test_the_mask_is_stable_per_address_and_keyed():
    one = MaskEmails(b"k")
    assert one.mask("Ana@Example.org") == one.mask("ana@example.org")
    assert one.mask("ana@example.org") != one.mask("bo@example.org")
    assert one.mask("ana@example.org") != MaskEmails(b"other").mask("ana@example.org")
    assert EMAIL.fullmatch(one.mask("ana@example.org")) is None


def test_a_message_id_stays_readable_while_addresses_around_it_are_masked():
    from activities.mail import message_id_for

    mask = MaskEmails(b"k")
    message_id = message_id_for("match-NS21-014/introduction_adopter-1/1", domain="ssn4psi.org")
    line = f"possible duplicate {message_id} to ana@example.org, {'a' * 40}@example.org"
    assert mask.text(line) == (
        f"possible duplicate {message_id} to {mask.mask('ana@example.org')}, "
        f"{mask.mask('a' * 40 + '@example.org')}"  # the same shape, not in angle brackets
    )
