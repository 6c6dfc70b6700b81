"""Composing notices: headers that cannot be injected, encoded names, deterministic output."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from scheduler.notify import address_of, compose, message_id_for, recipients

WHEN = datetime(2027, 2, 2, 9, 0, tzinfo=ZoneInfo("America/New_York"))
SENDER = "oneonone@acme.example"


def make(**changes: object) -> str:
    arguments: dict[str, object] = {
        "sender": SENDER,
        "to": [("Marco Rossi", "marco@acme.example")],
        "cc": [("Ana Alvarez", "ana@acme.example")],
        "subject": "No 1:1 in 2027-W05",
        "text": "Your 1:1 with Ana did not take place.\n",
        "html": None,
        "message_id": message_id_for("nudge/marco/ana/2027-W05", SENDER),
        "date": WHEN,
    }
    arguments.update(changes)
    return compose(**arguments)  # type: ignore[arg-type]


def parse(raw: str) -> email.message.EmailMessage:
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def body(part: email.message.EmailMessage) -> str:
    """A text part's content with the wire's CRLF line endings as plain newlines."""
    return str(part.get_content()).replace("\r\n", "\n")


def test_headers_and_envelope_recipients() -> None:
    message = parse(make())
    assert message["From"] == SENDER
    assert message["To"] == "Marco Rossi <marco@acme.example>"
    assert message["Cc"] == "Ana Alvarez <ana@acme.example>"
    assert message["Subject"] == "No 1:1 in 2027-W05"
    assert message["Date"] == "Tue, 02 Feb 2027 09:00:00 -0500"
    assert message["Message-ID"] == message_id_for("nudge/marco/ana/2027-W05", SENDER)
    assert message.get_content_type() == "text/plain"
    assert body(message) == "Your 1:1 with Ana did not take place.\n"
    assert recipients(make()) == ["marco@acme.example", "ana@acme.example"]


def test_without_cc_there_is_no_cc_header() -> None:
    raw = make(cc=[])
    assert "Cc" not in parse(raw)
    assert recipients(raw) == ["marco@acme.example"]


def test_an_address_in_to_and_cc_is_one_envelope_recipient() -> None:
    raw = make(cc=[("Marco", "MARCO@acme.example"), ("Ana", "ana@acme.example")])
    assert recipients(raw) == ["marco@acme.example", "ana@acme.example"]


def test_output_is_crlf_ascii_and_deterministic() -> None:
    raw = make(html="<p>Your 1:1 with <b>Ana</b> did not take place.</p>")
    assert raw == make(html="<p>Your 1:1 with <b>Ana</b> did not take place.</p>")
    assert raw.isascii()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", "")


def test_html_makes_multipart_alternative_text_first() -> None:
    message = parse(make(html="<p>Hi</p>"))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert body(parts[1]) == "<p>Hi</p>\n"
    assert all("MIME-Version" not in part for part in parts)


def test_different_content_gets_a_different_boundary() -> None:
    one, two = parse(make(html="<p>one</p>")), parse(make(html="<p>two</p>"))
    assert one.get_boundary() != two.get_boundary()


def test_crlf_in_a_name_cannot_add_a_header_or_a_recipient() -> None:
    raw = make(to=[("Ana\r\nBcc: evil@example.com", "ana@acme.example")], cc=[])
    message = parse(raw)
    assert "Bcc" not in message
    assert message.get_all("To") is not None and len(message.get_all("To")) == 1
    (address,) = message["To"].addresses
    assert address.display_name == "Ana Bcc: evil@example.com"
    assert address.addr_spec == "ana@acme.example"
    assert recipients(raw) == ["ana@acme.example"]


def test_crlf_in_the_subject_stays_in_the_subject() -> None:
    raw = make(subject="Missed 1:1\r\nBcc: evil@example.com\n\nbody")
    message = parse(raw)
    assert "Bcc" not in message
    assert message["Subject"] == "Missed 1:1 Bcc: evil@example.com body"
    assert "evil@example.com" not in recipients(raw)


def test_other_control_characters_collapse_to_one_space() -> None:
    raw = make(to=[("Ana\x00\x1b[31m \t Alvarez\u2028", "ana@acme.example")])
    assert parse(raw)["To"].addresses[0].display_name == "Ana [31m Alvarez"


def test_a_name_with_specials_is_quoted_not_split() -> None:
    raw = make(to=[('Rossi, Marco "The Boss" <boss@evil.example>', "marco@acme.example")], cc=[])
    (address,) = parse(raw)["To"].addresses
    assert address.addr_spec == "marco@acme.example"
    assert address.display_name == 'Rossi, Marco "The Boss" <boss@evil.example>'
    assert recipients(raw) == ["marco@acme.example"]


def test_non_ascii_names_and_subjects_are_rfc2047_encoded() -> None:
    raw = make(
        to=[("José Núñez", "jose@acme.example")],
        cc=[("Zoë Ørsted", "zoe@acme.example")],
        subject="1:1 José / Zoë — résumé",
        text="Olá José ✓\n",
    )
    assert raw.isascii()
    assert "=?utf-8?" in raw
    message = parse(raw)
    assert message["To"].addresses[0].display_name == "José Núñez"
    assert message["Cc"].addresses[0].display_name == "Zoë Ørsted"
    assert message["Subject"] == "1:1 José / Zoë — résumé"
    assert body(message) == "Olá José ✓\n"


@pytest.mark.parametrize(
    "bad",
    [
        "ana@acme.example\r\nBcc: evil@example.com",
        "ana@acme.example, evil@example.com",
        "Ana <ana@acme.example>",
        "ana acme@example.com",
        "ana.acme.example",
        "ana@acme.example\x00",
        "",
        "anä@acme.example",
    ],
)
def test_unusable_addresses_are_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        make(to=[("Ana", bad)])
    assert repr(bad) in str(caught.value)
    with pytest.raises(ValueError):
        make(cc=[("Ana", bad)])


def test_a_sender_with_a_display_name() -> None:
    raw = make(sender="Sales Ops <ops@acme.example>")
    assert parse(raw)["From"] == "Sales Ops <ops@acme.example>"
    assert address_of("Sales Ops <ops@acme.example>") == "ops@acme.example"
    assert address_of(" ops@acme.example ") == "ops@acme.example"
    with pytest.raises(ValueError, match="evil"):
        address_of("Ops <ops@acme.example>\r\nBcc: evil@example.com")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="To recipient"):
        make(to=[])
    with pytest.raises(ValueError, match="time zone"):
        make(date=datetime(2027, 2, 2, 9, 0))
    with pytest.raises(ValueError, match="Message-ID"):
        make(message_id="<x@y>\r\nBcc: evil@example.com")


def test_the_date_keeps_its_offset() -> None:
    raw = make(date=datetime(2027, 2, 2, 14, 0, tzinfo=timezone(timedelta(hours=1))))
    assert parse(raw)["Date"] == "Tue, 02 Feb 2027 14:00:00 +0100"


def test_message_id_is_stable_per_key_and_uses_the_sender_domain() -> None:
    first = message_id_for("escalation/marco/ana/2027-W05", "Ops <ops@acme.example>")
    assert first == message_id_for("escalation/marco/ana/2027-W05", "ops@acme.example")
    assert first != message_id_for("escalation/marco/ana/2027-W06", "ops@acme.example")
    assert first.startswith("<") and first.endswith("@acme.example>")
    assert len(first.split("@")[0]) == 1 + 32
