"""SmtpMailer against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import logging
import ssl
from datetime import UTC, datetime

import pytest

from scheduler.errors import DeliveryError
from scheduler.notify import SmtpMailer, compose, message_id_for, recipients
from tests.notify.servers import HOST, PASSWORD, USER, SmtpServer, free_port

SENDER = "Sales Ops <ops@acme.example>"


def notice(**changes: object) -> str:
    arguments: dict[str, object] = {
        "sender": SENDER,
        "to": [("Vera Skip", "vera@acme.example")],
        "cc": [("Marco Rossi", "marco@acme.example")],
        "subject": "Escalation: Marco and Ana missed 2 weeks",
        "text": "Marco and Ana have not met since 2027-W03.\n",
        "html": "<p>Marco and Ana have not met since 2027-W03.</p>",
        "message_id": message_id_for("escalation/marco/ana/2027-W05", SENDER),
        "date": datetime(2027, 2, 1, 14, 0, tzinfo=UTC),
    }
    arguments.update(changes)
    return compose(**arguments)  # type: ignore[arg-type]


def plain(port: int, **options: object) -> SmtpMailer:
    settings: dict[str, object] = {"starttls": False, "username": "", "password": ""}
    settings.update(options)
    return SmtpMailer(HOST, port, **settings)  # type: ignore[arg-type]


def send(mailer: SmtpMailer, raw: str) -> None:
    mailer.send(raw, SENDER, recipients(raw))


def test_delivers_to_to_and_cc_with_the_headers_intact(smtp_server: SmtpServer) -> None:
    raw = notice()
    send(plain(smtp_server.port), raw)
    (got,) = smtp_server.recorder.messages
    assert got.mail_from == "ops@acme.example"
    assert got.rcpt_tos == ["vera@acme.example", "marco@acme.example"]
    message = email.message_from_bytes(got.content, policy=email.policy.default)
    assert message["From"] == SENDER
    assert message["To"] == "Vera Skip <vera@acme.example>"
    assert message["Cc"] == "Marco Rossi <marco@acme.example>"
    assert message["Subject"] == "Escalation: Marco and Ana missed 2 weeks"
    assert message["Message-ID"] == message_id_for("escalation/marco/ana/2027-W05", SENDER)
    assert message.get_content_type() == "multipart/alternative"
    # What arrives is what was composed: a resend is byte-identical.
    assert got.content.rstrip(b"\r\n") == raw.encode().rstrip(b"\r\n")


def test_header_injection_adds_no_header_and_no_recipient(smtp_server: SmtpServer) -> None:
    raw = notice(
        to=[("Ana\r\nBcc: evil@example.com", "ana@acme.example")],
        cc=[],
        subject="Missed 1:1\r\nBcc: evil@example.com",
    )
    send(plain(smtp_server.port), raw)
    (got,) = smtp_server.recorder.messages
    assert got.rcpt_tos == ["ana@acme.example"]
    message = email.message_from_bytes(got.content, policy=email.policy.default)
    assert "Bcc" not in message
    assert [address.addr_spec for address in message["To"].addresses] == ["ana@acme.example"]
    assert message["Subject"] == "Missed 1:1 Bcc: evil@example.com"


def test_non_ascii_names_arrive_intact(smtp_server: SmtpServer) -> None:
    raw = notice(to=[("José Núñez", "jose@acme.example")], subject="1:1 José — Zoë", text="Olá\n")
    send(plain(smtp_server.port), raw)
    (got,) = smtp_server.recorder.messages
    message = email.message_from_bytes(got.content, policy=email.policy.default)
    assert message["To"].addresses[0].display_name == "José Núñez"
    assert message["Subject"] == "1:1 José — Zoë"


def test_starttls_and_auth_login(smtp_tls_server: SmtpServer, client_tls: ssl.SSLContext) -> None:
    mailer = SmtpMailer(
        HOST,
        smtp_tls_server.port,
        starttls=True,
        username=USER,
        password=PASSWORD,
        ssl_context=client_tls,
    )
    send(mailer, notice())
    assert smtp_tls_server.recorder.mechanisms == ["LOGIN"]
    (got,) = smtp_tls_server.recorder.messages
    assert got.rcpt_tos == ["vera@acme.example", "marco@acme.example"]


def test_a_wrong_password_is_permanent_and_never_shown(
    smtp_tls_server: SmtpServer, client_tls: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "hunter2-wrong"
    mailer = SmtpMailer(
        HOST,
        smtp_tls_server.port,
        starttls=True,
        username=USER,
        password=wrong,
        ssl_context=client_tls,
    )
    with pytest.raises(DeliveryError) as caught:
        send(mailer, notice())
    assert caught.value.transient is False
    message = str(caught.value)
    assert message.startswith(f"SMTP server {HOST}:{smtp_tls_server.port}: ")
    assert "535" in message and USER in message
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    for text in (message, repr(mailer), caplog.text):
        assert wrong not in text
    assert smtp_tls_server.recorder.messages == []


def test_an_untrusted_certificate_is_permanent(smtp_tls_server: SmtpServer) -> None:
    # The system trust store does not know the test CA.
    mailer = SmtpMailer(HOST, smtp_tls_server.port, starttls=True, username=USER, password=PASSWORD)
    with pytest.raises(DeliveryError, match="certificate could not be verified") as caught:
        send(mailer, notice())
    assert caught.value.transient is False


def test_implicit_tls(smtps_server: SmtpServer, client_tls: ssl.SSLContext) -> None:
    mailer = plain(smtps_server.port, implicit_tls=True, ssl_context=client_tls)
    send(mailer, notice())
    assert len(smtps_server.recorder.messages) == 1


def test_port_465_means_implicit_tls() -> None:
    assert SmtpMailer(HOST, 465, starttls=True, username="", password="").implicit_tls
    assert not SmtpMailer(HOST, 587, starttls=True, username="", password="").implicit_tls


def test_a_refused_connection_is_transient() -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as caught:
        send(plain(port), notice())
    assert caught.value.transient is True
    assert str(caught.value) == f"SMTP server {HOST}:{port}: connection refused"


def test_a_silent_server_times_out_transiently(silent_port: int) -> None:
    with pytest.raises(DeliveryError, match=r"no answer within 0\.2 seconds") as caught:
        send(plain(silent_port, timeout=0.2), notice())
    assert caught.value.transient is True


@pytest.mark.parametrize(
    ("reply", "transient"), [("450 4.2.1 busy", True), ("550 5.1.1 no", False)]
)
def test_every_recipient_refused(smtp_server: SmtpServer, reply: str, transient: bool) -> None:
    smtp_server.recorder.refuse = {"vera@acme.example": reply, "marco@acme.example": reply}
    with pytest.raises(DeliveryError, match="every recipient was refused") as caught:
        send(plain(smtp_server.port), notice())
    assert caught.value.transient is transient
    assert "vera@acme.example" in str(caught.value)


def test_some_recipients_refused_is_delivered_and_logged(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.recorder.refuse = {"marco@acme.example": "550 5.1.1 no such user"}
    send(plain(smtp_server.port), notice())
    (got,) = smtp_server.recorder.messages
    assert got.rcpt_tos == ["vera@acme.example"]
    assert "marco@acme.example: 550 5.1.1 no such user" in caplog.text


def test_starttls_demanded_of_a_server_without_it_is_permanent(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS") as caught:
        send(plain(smtp_server.port, starttls=True), notice())
    assert caught.value.transient is False


def test_a_bad_quit_after_delivery_is_still_delivered(smtp_server: SmtpServer) -> None:
    # Reporting this as a failure would make the caller send the notice again.
    smtp_server.recorder.quit_reply = "500 what?"
    send(plain(smtp_server.port), notice())
    assert len(smtp_server.recorder.messages) == 1


@pytest.mark.parametrize(
    "envelope", [[], ["ana@acme.example\r\nRCPT TO:<evil@example.com>"], ["not an address"]]
)
def test_bad_envelopes_are_refused_before_connecting(envelope: list[str]) -> None:
    # Nothing listens on this port: a ValueError proves no connection was tried.
    with pytest.raises(ValueError):
        plain(free_port()).send(notice(), SENDER, envelope)
