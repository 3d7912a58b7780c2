from email import message_from_bytes
from email.policy import default

from activities.mail import RenderedEmail, build_message, message_id_for


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
