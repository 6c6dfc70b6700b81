"""What CalDAV servers do differently, in one table (python-caldav's ``compatibility_hints``
is the model): the provider asks ``Quirks`` and never tests a server's name anywhere else.

No I/O. A server is recognised by its address (``/remote.php/dav`` is Nextcloud's, an
``icloud.com`` host Apple's) or by its answers (the ``Server`` and ``DAV`` headers of the
first ``OPTIONS``); an unknown server gets ``STANDARD``, which follows the RFCs, and what it
says about itself (``sync-collection`` in its report set, ``calendar-auto-schedule`` in its
``DAV`` header) decides the rest.

Each entry says where the knowledge comes from: measured by this project's tests against the
server, or taken from python-caldav's hints (``caldav/compatibility_hints.py``).

Exports: Quirks, STANDARD, KNOWN, recognise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

__all__ = ["KNOWN", "STANDARD", "Quirks", "recognise"]


@dataclass(frozen=True, slots=True)
class Quirks:
    """How one server family departs from RFC 4791 / 6578 / 6638 (defaults: it does not)."""

    #: the family, for messages and the benchmark ("radicale", "nextcloud", ...)
    name: str
    #: the sync-collection REPORT (RFC 6578) can be trusted; False: ctag + etags
    sync_collection: bool = True
    #: statuses besides 403/409 (RFC 6578 section 3.2) that mean "this sync token is no good,
    #: read everything again"
    rejected_token_statuses: frozenset[int] = frozenset({403, 409})
    #: ``If-None-Match: *`` refuses a PUT onto an existing object; False: the provider looks
    #: (GET) before it creates, as the server would overwrite
    honours_if_none_match: bool = True
    #: a PUT answers with the stored object's ETag; False: the version is learnt on the next read
    etag_on_put: bool = True
    #: when an organizer's object is written, the server itself puts the attendee's copy in
    #: the attendee's calendar (RFC 6638 implicit scheduling), advertised or not
    delivers_attendee_copies: bool | None = None


STANDARD = Quirks("caldav")

KNOWN: dict[str, Quirks] = {
    # Measured here (tests/caldav, tests/contract/test_caldav.py), Radicale 3.9: sync tokens
    # work; no scheduling; If-Match: * is compared as a literal etag (we never send it).
    "radicale": Quirks("radicale", delivers_attendee_copies=False),
    # Measured here, Xandikos 0.4: advertises calendar-auto-schedule but its principal has no
    # calendar-user-address, so no copy is delivered; a token it never issued is refused
    # with 412 (with valid-sync-token) or 500 (python-caldav: sync-token.invalid-token).
    "xandikos": Quirks(
        "xandikos",
        rejected_token_statuses=frozenset({403, 409, 412, 500}),
        delivers_attendee_copies=False,
    ),
    # SabreDAV (Nextcloud, Baïkal): implicit scheduling delivers the attendee's copy when the
    # attendee is a user of the same server; the PUT gives no ETag when the server changed
    # the object it stored (it adds SCHEDULE-STATUS): python-caldav hints, sabre docs.
    "nextcloud": Quirks("nextcloud", etag_on_put=False, delivers_attendee_copies=True),
    "baikal": Quirks("baikal", etag_on_put=False, delivers_attendee_copies=True),
    # SOGo ignores If-None-Match: * and overwrites (python-caldav: save.if-none-match).
    "sogo": Quirks("sogo", honours_if_none_match=False),
    # iCloud and Fastmail (Cyrus) schedule implicitly; Cyrus answers a UID already taken with
    # 403 no-uid-conflict (python-caldav: UidConflictAuthorizationError).
    "icloud": Quirks("icloud", etag_on_put=False, delivers_attendee_copies=True),
    "fastmail": Quirks("fastmail", delivers_attendee_copies=True),
}

#: (family, what in the address says so)
_BY_ADDRESS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nextcloud", re.compile(r"/remote\.php/(dav|caldav)", re.IGNORECASE)),
    ("baikal", re.compile(r"/(cal|dav)\.php", re.IGNORECASE)),
    ("sogo", re.compile(r"/SOGo/dav", re.IGNORECASE)),
    ("icloud", re.compile(r"^[^/]*icloud\.com$", re.IGNORECASE)),
    ("fastmail", re.compile(r"^[^/]*fastmail\.com$", re.IGNORECASE)),
)

#: (family, what in the Server header, or the DAV header, says so)
_BY_HEADER: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("radicale", re.compile(r"radicale", re.IGNORECASE)),
    ("xandikos", re.compile(r"xandikos", re.IGNORECASE)),
    ("nextcloud", re.compile(r"nextcloud|owncloud", re.IGNORECASE)),
    ("sogo", re.compile(r"sogo", re.IGNORECASE)),
)


def recognise(url: str, server_header: str = "", dav_header: str = "") -> Quirks:
    """The quirks of the server at ``url`` that answered with these headers.

    Radicale's own ``Server`` header names only the WSGI server; it is recognised by its
    ``DAV`` header (calendar and address books, no ``sync-collection`` token in it, which
    Xandikos and Sabre list).
    """
    parts = urlsplit(url)
    for name, pattern in _BY_ADDRESS:
        if pattern.search(parts.path) or pattern.search(parts.hostname or ""):
            return KNOWN[name]
    for name, pattern in _BY_HEADER:
        if pattern.search(server_header):
            return KNOWN[name]
    tokens = {token.strip().lower() for token in dav_header.split(",")}
    if "aiohttp" in server_header.lower() and "calendar-auto-schedule" in tokens:
        return KNOWN["xandikos"]
    if "wsgiserver" in server_header.lower() and "extended-mkcol" in tokens:
        return KNOWN["radicale"]
    if "calendar-auto-schedule" in tokens:
        return replace(STANDARD, delivers_attendee_copies=True)
    return STANDARD
