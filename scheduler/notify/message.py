"""Composing notices as RFC 5322 messages. Pure: no I/O, no clock (``date`` is an argument).

Names and subjects come from the org file, which an admin edits by hand and which may be fed from
an HR export; anything in them that could start a new header line or recipient is neutralised
here, once, so no channel has to think about it:

- CR, LF and every other control character in a name or subject collapses to a single space, so
  ``"Ana\\r\\nBcc: evil@example.com"`` stays one display name and never becomes a header;
- display names are quoted and non-ASCII text is RFC 2047-encoded by ``email.headerregistry``;
- e-mail addresses are checked strictly (``ValueError`` naming the address) instead of cleaned,
  because a silently "fixed" address would deliver to someone nobody chose.

The output is pure ASCII (bodies are quoted-printable or base64 when they need to be), because
``smtplib`` and many relays refuse 8-bit data, and it is deterministic: the same inputs give the
same bytes, down to the MIME boundary, so a resend after a crash is byte-identical and an outbox
write is idempotent.

Exports: compose, message_id_for, recipients, address_of, check_address.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import format_datetime

__all__ = ["address_of", "compose", "message_id_for", "recipients"]

# SMTP line endings and header folding, but 7-bit bodies: non-ASCII text is sent
# quoted-printable or base64 rather than 8bit, which smtplib cannot send from a str.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")

# C0, DEL, C1 and the Unicode line/paragraph separators (which some mail readers break lines
# on), together with any whitespace around them: each run becomes one space.
_CONTROL_RUN = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# An addr-spec as organisations actually use them: one "@", no quoting, no comments. Whitespace,
# control characters and the specials that delimit addresses (<>,;:"()[]\) are refused, so no
# address can smuggle in a second one or end the header.
_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]\\@\x00-\x1f\x7f]+@[^\s<>,;:\"()\[\]\\@\x00-\x1f\x7f]+")

# "Display Name <addr>"; a bare address is also accepted.
_NAME_ADDR = re.compile(r"(?s)\s*(.*?)\s*<([^<>]*)>\s*")

_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


def _one_line(text: str) -> str:
    """``text`` with every run of control characters and whitespace as one space, trimmed."""
    return _CONTROL_RUN.sub(" ", text).strip()


def check_address(address: str) -> str:
    """``address`` itself, or ``ValueError`` naming it when it is not a plain, safe addr-spec.

    Plain means ``name@domain`` and nothing else, so that it can stand in a header or an SMTP
    command without any quoting.
    """
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ValueError(
            f"{address!r} is not a usable e-mail address: write it as name@domain, without "
            "spaces, line breaks, commas, angle brackets or quotes"
        )
    if not address.isascii():
        # Non-ASCII addresses need SMTPUTF8 end to end, which we cannot promise.
        raise ValueError(
            f"{address!r} is not a usable e-mail address: only ASCII addresses are supported"
        )
    return address


def _split_mailbox(text: str) -> tuple[str, str]:
    """(display name, address) of ``"Name <address>"`` or a bare ``"address"``."""
    match = _NAME_ADDR.fullmatch(text)
    if match:
        return _one_line(match[1].strip().strip('"')), check_address(match[2].strip())
    return "", check_address(text.strip())


def address_of(mailbox: str) -> str:
    """The bare address in ``"Name <address>"`` or ``"address"``, checked like every address.

    For the SMTP envelope and Message-IDs: the org file's ``from`` may be written either way.
    ``ValueError`` naming the address when it is not usable.
    """
    return _split_mailbox(mailbox)[1]


def _address(name: str, address: str) -> Address:
    return Address(display_name=_one_line(name), addr_spec=check_address(address))


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID that depends only on ``key`` and the sender's domain.

    The same notice (same ``key``, e.g. ``"nudge/marco@x/ana@x/2027-W05"``) always gets the same
    Message-ID, so a notice resent after a crash is recognised as a duplicate by mail clients and
    overwrites itself in the outbox.
    """
    domain = address_of(sender).rpartition("@")[2]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def compose(
    *,
    sender: str,
    to: Sequence[tuple[str, str]],
    cc: Sequence[tuple[str, str]],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
) -> str:
    """The RFC 5322 message (CRLF line endings, pure ASCII) for one notice.

    ``to`` and ``cc`` are ``(display name, address)`` pairs; ``sender`` is an address or
    ``"Name <address>"``. With ``html`` the body is multipart/alternative (plain text first, so
    clients that cannot show HTML show the text). ``date`` must be timezone-aware, since a
    naive one would be written as "-0000" (unknown zone). Raises ``ValueError`` for an unusable
    address, a missing recipient, a malformed ``message_id`` or a naive ``date``.
    """
    if not to:
        raise ValueError("a message needs at least one To recipient")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError(f"the date {date.isoformat()} has no time zone; pass an aware datetime")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"{message_id!r} is not a Message-ID; use message_id_for()")
    sender_name, sender_addr = _split_mailbox(sender)

    message = EmailMessage(policy=_POLICY)
    message["From"] = Address(display_name=sender_name, addr_spec=sender_addr)
    message["To"] = [_address(name, address) for name, address in to]
    if cc:
        message["Cc"] = [_address(name, address) for name, address in cc]
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        for part in message.iter_parts():
            # add_alternative repeats MIME-Version in the part; it belongs only at the top.
            del part["MIME-Version"]
        # The default boundary is random; derive it from the content instead so the output is
        # deterministic. "=_" cannot occur in quoted-printable or base64 text, and the hash
        # cannot occur in the parts it is computed from.
        seed = "\0".join((message_id, text, html)).encode("utf-8")
        message.set_boundary("=_oneonone_" + hashlib.sha256(seed).hexdigest()[:32])
    return message.as_string()


def recipients(raw: str) -> list[str]:
    """The envelope recipients of a composed message: its To and Cc addresses, each once.

    Read back from the headers rather than passed alongside, so what is sent to is exactly what
    the recipients see. Duplicates (an address in both To and Cc) are dropped, keeping the first,
    comparing without regard to case.
    """
    # The headers alone: parsing the whole message (its parts) was five times the cost, for
    # every notice a pass sends.
    parsed = HeaderParser(policy=email.policy.default).parsestr(raw)
    found: list[str] = []
    seen: set[str] = set()
    for header in ("To", "Cc"):
        for value in parsed.get_all(header, []):
            for address in value.addresses:
                if address.addr_spec.lower() not in seen:
                    seen.add(address.addr_spec.lower())
                    found.append(address.addr_spec)
    return found
