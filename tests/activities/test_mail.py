import re
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default
from email.utils import getaddresses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.mail import RenderedEmail, build_message, message_id_for
from activities.smtp import SmtpMailer


def test_a_message_carries_non_ascii_names_and_text_intact():
    message = build_message(
        sender="matchmaker@ssn4psi.org",
        sender_name="Matchmaker",
        recipient="a.sadykova@gov.kz",
        recipient_name="Айгерим Садыкова",
        email=RenderedEmail(
            subject="Votre intérêt pour « Centres numériques » — prochaines étapes",
            text="Bonjour Айгерим,\n\nMerci — à bientôt.\n",
            html="<p>Bonjour Айгерим,</p><p>Merci — à bientôt.</p>",
        ),
        message_id=message_id_for("match-1/follow_up/p-1/a@x.org/1", domain="ssn4psi.org"),
        reply_to="secretariat@ssn4psi.org",
    )
    raw = message.as_bytes()
    assert raw.isascii()  # 7-bit safe for any relay
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["To"].addresses[0].display_name == "Айгерим Садыкова"
    assert parsed["Subject"] == "Votre intérêt pour « Centres numériques » — prochaines étapes"
    assert parsed["Message-ID"] == message_id_for(
        "match-1/follow_up/p-1/a@x.org/1", domain="ssn4psi.org"
    )
    assert parsed["Reply-To"] == "secretariat@ssn4psi.org"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain.get_content() == "Bonjour Айгерим,\n\nMerci — à bientôt.\n"
    assert "<p>Merci — à bientôt.</p>" in html.get_content()
    # quoted-printable keeps the plain text readable in the raw message
    assert b"Content-Transfer-Encoding: quoted-printable" in raw


# -- headers: any accepted name or subject --------------------------------------------------

# What input validation accepts in a name: printable characters (no control characters, no
# separators but the space), stripped, 1 to 200 of them. Tricky ones are drawn often.
PRINTABLE = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
TRICKY = st.sampled_from(
    ['"', "\\", ",", ";", "<", ">", "@", "=?", "?=", "=?utf-8?q?x?=", " ", "  ", "(", ")", ":"]
    + ["é", "Айгерим", "李", "😀", "\u0301", "א", "'", ".", "[", "]", "_", "=", "?"]
)
NAMES = (
    st.lists(st.one_of(TRICKY, st.text(PRINTABLE | st.just(" "), max_size=12)), max_size=40)
    .map(lambda parts: "".join(parts).strip()[:200].strip())
    .filter(bool)
)
TITLES = NAMES.map(lambda title: f'Reminder: Your interest in "{title}": please confirm')
ADDRESSES = st.sampled_from(
    ["a@x.org", "a.sadykova@gov.kz", "first.o'brien+tag@very-long-subdomain.example.org"]
    + [f"{'l' * 64}@{'d' * 60}.{'e' * 60}.org"]
)

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def _as_read(raw_header: str) -> tuple[str, str]:
    """What an RFC 5322 / RFC 2047 reader takes from an address header: the display name
    (encoded-words decoded, the space between adjacent ones ignored) and the address."""
    [(name, address)] = getaddresses([_UNFOLD.sub("", raw_header)])
    return str(make_header(decode_header(name))), address


def _text_as_read(raw_header: str) -> str:
    return str(make_header(decode_header(_UNFOLD.sub("", raw_header))))


def _assert_lines_fit(raw: bytes, *addresses: str) -> None:
    """RFC 5322: no line over 998 characters; over 78 only where folding cannot help (an
    address, which cannot be folded, on its own)."""
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    for line in head.split("\n"):
        assert len(line) <= 998
        if len(line) > 78:
            assert line.strip() in {f"<{a}>" for a in addresses}, line


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sender_name=NAMES, recipient_name=NAMES, recipient=ADDRESSES, subject=TITLES | NAMES)
def test_any_name_and_subject_make_headers_that_parse_back(
    sender_name, recipient_name, recipient, subject
):
    message = build_message(
        sender="matchmaker@ssn4psi.org",
        sender_name=sender_name,
        recipient=recipient,
        recipient_name=recipient_name,
        email=RenderedEmail(subject=subject, text="Hi\n", html="<p>Hi</p>"),
        message_id="<m@ssn4psi.org>",
        reply_to="secretariat@ssn4psi.org",
    )
    raw = message.as_bytes()
    assert raw.isascii()
    _assert_lines_fit(raw, recipient, "matchmaker@ssn4psi.org")
    parsed = message_from_bytes(raw)  # the raw headers, as they travel
    assert _as_read(parsed["From"]) == (sender_name, "matchmaker@ssn4psi.org")
    assert _as_read(parsed["To"]) == (recipient_name, recipient)
    assert _text_as_read(parsed["Subject"]) == subject
    modern = message_from_bytes(raw, policy=default)
    assert modern["Subject"] == subject
    assert modern["To"].addresses[0].addr_spec == recipient
    assert not modern["To"].defects and not modern["From"].defects


@pytest.mark.parametrize(
    "name",
    [
        'Ana "the boss" O\'Brien, Jr.; \\ <ana@evil.org>',
        "=?utf-8?q?x?= Ana",
        "Айгерим Садыкова",
        "Ministry of" + " Digital Development and Innovation" * 5,
    ],
)
def test_plain_names_parse_back_with_pythons_own_reader_too(name):
    """Python's header registry puts a space between adjacent encoded-words in a display name
    (RFC 2047 says to ignore it), so only names that fit one encoded-word (or none) read back
    exactly there; the property above reads every name as RFC 2047 says."""
    raw = build_message(
        sender="matchmaker@ssn4psi.org",
        sender_name="SSN4PSI Matchmaker",
        recipient="a@x.org",
        recipient_name=name,
        email=RenderedEmail(subject=name, text="Hi\n", html="<p>Hi</p>"),
        message_id="<m@ssn4psi.org>",
    ).as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    [address] = parsed["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, "a@x.org")
    assert parsed["Subject"] == name


async def test_any_name_survives_a_real_smtp_server(smtp):
    handler, port = smtp
    names = ['O\'Brien, "Ana"; <x@y> =?utf-8?q?z?= \\', "Айгерим " * 24 + "С", "😀李é" * 66]
    mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=5)
    try:
        for i, name in enumerate(names):
            message = build_message(
                sender="matchmaker@ssn4psi.org",
                sender_name=name,
                recipient=f"ana{i}@example.org",
                recipient_name=name,
                email=RenderedEmail(subject=f'Field visit for "{name}"', text="Hi\n", html="Hi"),
                message_id=f"<m{i}@ssn4psi.org>",
            )
            await mailer.send(
                message, sender="matchmaker@ssn4psi.org", recipients=[f"ana{i}@example.org"]
            )
    finally:
        await mailer.aclose()
    assert len(handler.messages) == len(names)
    for i, (name, received) in enumerate(zip(names, handler.messages, strict=True)):
        assert _as_read(received["To"]) == (name, f"ana{i}@example.org")
        assert _as_read(received["From"]) == (name, "matchmaker@ssn4psi.org")
        assert _text_as_read(received["Subject"]) == f'Field visit for "{name}"'
        _assert_lines_fit(received.as_bytes(), f"ana{i}@example.org", "matchmaker@ssn4psi.org")
