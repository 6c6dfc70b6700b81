"""The notification channels: thin I/O adapters that deliver an already composed notice.

What to send, to whom and when is decided elsewhere; these classes only move bytes and turn
every library exception into one ``DeliveryError`` at the edge, with ``transient`` telling the
caller whether to try the same notice again later. Secrets stay secret: the SMTP password and
the Slack webhook address (which is itself the credential) appear in no message, log line or
``repr``.

- ``SmtpMailer``: ``smtplib``; implicit TLS on port 465, else STARTTLS when asked, then LOGIN when
  a username is set. Certificates are always verified (``smtplib.starttls()`` without a context
  would not).
- ``OutboxMailer``: the embedded default when no SMTP host is set: one ``<message-id>.eml`` file
  per message, written atomically, mode 0600 (notices name people and their managers).
- ``SlackChannel``: a JSON POST to an incoming webhook with ``urllib`` (no extra dependency).
- ``mailer_for`` / ``slack_for``: the channel an org's settings and environment call for.

Exports: Mailer, SmtpMailer, OutboxMailer, SlackChannel, mailer_for, slack_for, outbox_filename.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import logging
import os
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from email.parser import HeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Protocol

from scheduler.domain.settings import Org
from scheduler.errors import DeliveryError, UserError
from scheduler.notify.message import address_of, check_address
from scheduler.store.files import write_atomically

__all__ = [
    "Mailer",
    "OutboxMailer",
    "SlackChannel",
    "SmtpMailer",
    "mailer_for",
    "outbox_filename",
    "slack_for",
]

log = logging.getLogger(__name__)

#: Server replies quoted in messages are cut to this many characters.
_REPLY_CHARS = 200


class Mailer(Protocol):
    """Somewhere a composed message can be delivered."""

    #: where messages go, for messages ("SMTP server mail.example:587", "outbox folder data/outbox")
    where: str

    def send(self, raw: str, sender: str, recipients: Sequence[str]) -> None:
        """Deliver ``raw`` from ``sender`` to the envelope ``recipients``.

        Raises ``DeliveryError`` (``transient`` set when a later retry may succeed). Sending the
        same message twice must be harmless where the channel can make it so (the outbox does).
        """
        ...


# --------------------------------------------------------------------------- shared reasons


def _one_line(text: str) -> str:
    """A remote party's text made fit for a one-line message (no escapes, no line breaks)."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(printable.split())[:_REPLY_CHARS]


def _os_reason(exc: OSError, timeout: float) -> tuple[str, bool]:
    """(reason, transient) for a network-level failure.

    Anything the network may heal is transient; a host name that does not exist, or a TLS
    certificate that does not verify, is configuration and stays broken until someone fixes it.
    """
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate could not be verified ({exc.verify_message})", False
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return "the connection closed during the TLS handshake", True
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})", False
    if isinstance(exc, socket.gaierror):
        if exc.errno == socket.EAI_AGAIN:
            return "its host name could not be looked up for now", True
        return "its host name was not found", False
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} seconds", True
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused", True
    if isinstance(exc, ConnectionResetError):
        return "connection reset", True
    reason = exc.strerror.lower() if exc.strerror else _one_line(str(exc)) or type(exc).__name__
    return reason, True


# --------------------------------------------------------------------------- SMTP


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {_one_line(text)}".strip()


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {_reply(*reply)}" for address, reply in refused.items())


def _transient_code(code: int) -> bool:
    """SMTP 4xx means "try again later" (RFC 5321 §4.2.1); 5xx means "this will not work"."""
    return 400 <= code < 500


class SmtpMailer:
    """Delivery over SMTP with ``smtplib``.

    ``implicit_tls`` defaults to "port is 465" (SMTPS, RFC 8314); pass it to use implicit TLS on
    another port. ``ssl_context`` defaults to the system's trust store with host name checks.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool,
        username: str,
        password: str,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
        implicit_tls: bool | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.implicit_tls = port == 465 if implicit_tls is None else implicit_tls
        # Always a verifying context: smtplib's own default for starttls() checks nothing.
        self._context = ssl_context or ssl.create_default_context()
        self.where = f"SMTP server {host}:{port}"

    def __repr__(self) -> str:
        # Never the password.
        return f"SmtpMailer({self.host!r}, {self.port}, username={self.username!r})"

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, raw: str, sender: str, recipients: Sequence[str]) -> None:
        """Send ``raw``; recipients the server refuses while accepting others are logged.

        A partly refused message is not an error: it was accepted for the other recipients,
        and raising would make the caller resend it to them too.
        """
        if not recipients:
            raise ValueError("a message needs at least one envelope recipient")
        # Checked before connecting: an address with a line break would be an SMTP command.
        envelope_from = address_of(sender)
        envelope_to = [check_address(recipient) for recipient in recipients]
        try:
            smtp = self._connect()
            try:
                if self.starttls and not self.implicit_tls:
                    smtp.starttls(context=self._context)
                if self.username:
                    smtp.login(self.username, self._password)
                refused = smtp.sendmail(envelope_from, envelope_to, raw.encode("utf-8"))
            finally:
                _quit_quietly(smtp)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(
                f"login as {self.username} was refused ({_reply(exc.smtp_code, exc.smtp_error)})",
                # 454 is "temporary authentication failure"; any 5xx means wrong credentials.
                _transient_code(exc.smtp_code),
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise self._error(
                f"every recipient was refused ({_refusals(exc.recipients)})",
                all(map(_transient_code, codes)),
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise self._error(
                f"the sender {exc.sender} was refused ({_reply(exc.smtp_code, exc.smtp_error)})",
                _transient_code(exc.smtp_code),
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a read timeout as a disconnection; the timeout is the context.
            if isinstance(exc.__context__, TimeoutError):
                raise self._error(f"no answer within {self.timeout:g} seconds", True) from None
            raise self._error("the server closed the connection unexpectedly", True) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(f"{_one_line(str(exc)).rstrip('.')}", False) from None
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                f"the server answered {_reply(exc.smtp_code, exc.smtp_error)}",
                _transient_code(exc.smtp_code),
            ) from None
        except smtplib.SMTPException as exc:
            # E.g. "No suitable authentication method found.": configuration, not luck.
            raise self._error(_one_line(str(exc)).rstrip("."), False) from None
        except OSError as exc:
            reason, transient = _os_reason(exc, self.timeout)
            raise self._error(reason, transient) from None
        if refused:
            log.warning(
                "%s refused some recipients (the others got the message): %s",
                self.where,
                _refusals(refused),
            )

    def check(self) -> list[str]:
        """One sentence when the server does not answer as a send needs it to: it is
        reached, greets, takes STARTTLS when set and the login when a user is set. Sends
        nothing. For ``oneonone check``, which said ok where every send then failed."""
        try:
            smtp = self._connect()
            try:
                smtp.ehlo()
                if self.starttls and not self.implicit_tls:
                    smtp.starttls(context=self._context)
                if self.username:
                    smtp.login(self.username, self._password)
            finally:
                _quit_quietly(smtp)
        except smtplib.SMTPAuthenticationError as exc:
            return [
                f"{self.where}: login as {self.username} was refused "
                f"({_reply(exc.smtp_code, exc.smtp_error)}); fix [notify.email] username or the "
                "password in the variable password_env names."
            ]
        except (smtplib.SMTPException, OSError) as exc:
            if isinstance(exc, OSError):
                reason = _os_reason(exc, self.timeout)[0]
            else:
                reason = _one_line(str(exc)).rstrip(".") or type(exc).__name__
            return [
                f"{self.where}: {reason}; fix [notify.email] host and port, or start the mail "
                "server (no notice can be sent until it answers)."
            ]
        return []

    def _error(self, reason: str, transient: bool) -> DeliveryError:
        return DeliveryError(f"{self.where}: {reason}", transient=transient)


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    """Say QUIT and close, ignoring any trouble.

    Not ``with smtplib.SMTP(...)``: its exit raises when QUIT gets no 221, which after a
    successful DATA would report a delivered message as failed, and a retry would send it twice.
    """
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    smtp.close()


# --------------------------------------------------------------------------- outbox

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")


def outbox_filename(raw: str) -> str:
    """The outbox file name of a message: ``<its Message-ID, made safe>.eml``.

    Derived from the Message-ID so that the same notice, which always has the same Message-ID,
    always lands in the same file; a message without one is named after its content's hash.
    """
    headers = HeaderParser(policy=default_policy).parsestr(raw)
    message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
    if not message_id:
        message_id = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    safe = _UNSAFE.sub("_", message_id)
    if safe.startswith("."):
        # Dotfiles are where temp files live, and many tools hide them.
        safe = "_" + safe
    return f"{safe}.eml"


class OutboxMailer:
    """Delivery to a folder of ``.eml`` files: the embedded default, needing no mail server.

    The envelope is not recorded: a composed message's recipients are exactly its To and Cc
    headers, which the file holds.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.where = f"outbox folder {self.folder}"

    def send(self, raw: str, sender: str, recipients: Sequence[str]) -> None:
        """Write ``raw`` as ``outbox_filename(raw)``; the same message twice leaves one file."""
        name = outbox_filename(raw)
        target = self.folder / name
        data = raw.encode("utf-8")
        try:
            self._make_folder()
            with contextlib.suppress(FileNotFoundError):
                if target.read_bytes() == data:
                    return
            # mkstemp makes the file 0600, which is the mode we want: mail says who manages whom.
            write_atomically(target, data)
        except OSError as exc:
            reason = exc.strerror.lower() if exc.strerror else str(exc)
            # A full disk may be freed; a permission problem needs a person.
            transient = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            raise DeliveryError(
                f"{self.where}: cannot write {name}: {reason}", transient=transient
            ) from exc

    def _make_folder(self) -> None:
        if self.folder.is_dir():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; the outbox holds who manages whom.
        os.chmod(self.folder, 0o700)


# --------------------------------------------------------------------------- Slack

_HTTP_URL = re.compile(r"https?://[^\s/]+", re.IGNORECASE)


class SlackChannel:
    """A Slack incoming webhook. The URL is the credential: it is shown nowhere."""

    where = "the Slack webhook"

    def __init__(self, url: str, timeout: float = 10) -> None:
        if not _HTTP_URL.match(url):
            # urllib would also open file: and ftp: addresses; a webhook is neither.
            raise ValueError(f"{self.where} address is not an http:// or https:// address")
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return "SlackChannel(<webhook address hidden>)"

    def post(self, text: str) -> None:
        """Post ``text`` as a message; ``DeliveryError`` when Slack does not answer 2xx."""
        request = urllib.request.Request(
            self._url,
            data=json.dumps({"text": text}).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        # Every error is raised "from None": urllib's exceptions carry the URL as an attribute,
        # and a chained one would put it in any traceback that gets logged.
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            try:
                detail = _one_line(exc.read(_REPLY_CHARS).decode("utf-8", "replace"))
            except (OSError, http.client.HTTPException):
                detail = ""
            finally:
                exc.close()
            detail = detail.replace(self._url, "<webhook>")
            answer = f"HTTP {exc.code}" + (f" ({detail})" if detail else "")
            # 429: rate limited (Slack sends Retry-After); 5xx: Slack's side.
            transient = exc.code == 429 or exc.code >= 500
            raise self._error(f"answered {answer}", transient) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, OSError):
                reason, transient = _os_reason(exc.reason, self.timeout)
            else:
                reason, transient = _one_line(str(exc.reason)).replace(self._url, "<webhook>"), True
            raise self._error(reason, transient) from None
        except OSError as exc:
            reason, transient = _os_reason(exc, self.timeout)
            raise self._error(reason, transient) from None
        except http.client.HTTPException as exc:
            raise self._error(f"sent a broken answer ({type(exc).__name__})", True) from None

    def _error(self, reason: str, transient: bool) -> DeliveryError:
        return DeliveryError(f"{self.where}: {reason}", transient=transient)


# --------------------------------------------------------------------------- from settings


def mailer_for(org: Org, env: Mapping[str, str]) -> Mailer:
    """The mailer the org's ``[notify.email]`` asks for: SMTP, or the outbox without a host.

    The password is read from the environment variable the org file names in ``password_env``
    (never from the file itself); ``UserError`` naming that variable when a username is set and
    the variable is missing or empty.
    """
    settings = org.email
    if not settings.host:
        return OutboxMailer(org.data_dir / "outbox")
    password = ""
    if settings.username:
        variable = settings.password_env
        password = env.get(variable, "") if variable else ""
        if not password:
            where = f"{org.path}: notify.email.password_env"
            if not variable:
                raise UserError(
                    f"{where}: is empty but username {settings.username!r} needs a password; "
                    "name the environment variable that holds it."
                )
            raise UserError(
                f"{where}: the environment variable {variable} is not set or empty; set it to "
                f"the SMTP password of {settings.username} at {settings.host}:{settings.port}."
            )
    return SmtpMailer(
        settings.host,
        settings.port,
        starttls=settings.starttls,
        username=settings.username,
        password=password,
    )


def slack_for(org: Org, env: Mapping[str, str]) -> SlackChannel | None:
    """The org's Slack webhook, or ``None`` when ``[notify.slack] webhook_url_env`` is unset.

    ``UserError`` naming the variable when it is named but missing, empty or not a web address
    (the value itself is never shown: it is the secret).
    """
    variable = org.slack_webhook_env
    if not variable:
        return None
    where = f"{org.path}: notify.slack.webhook_url_env"
    url = env.get(variable, "").strip()
    if not url:
        raise UserError(
            f"{where}: the environment variable {variable} is not set or empty; set it to the "
            "Slack incoming webhook's address, or remove webhook_url_env."
        )
    try:
        return SlackChannel(url)
    except ValueError:
        raise UserError(
            f"{where}: the environment variable {variable} does not hold an https:// address; "
            "set it to the Slack incoming webhook's address."
        ) from None
