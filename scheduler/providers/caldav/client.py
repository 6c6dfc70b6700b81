"""One CalDAV calendar collection over HTTP: the requests the provider makes, and the mirror
of the collection that makes a pass cost one request when nothing changed.

I/O: HTTP to the CalDAV server through python-caldav's ``DAVClient`` (its session, its
authentication negotiation, TLS verification with an optional CA bundle); the mirror's file.
Every library and HTTP exception becomes one of ``scheduler.errors`` here, as a sentence that
names the person and never the password.

Reading keeps a ``Mirror`` of the collection (each object's href, ETag and bytes, the sync
token or ctag): a pass asks the server only what changed since (``sync-collection``, RFC 6578;
where the server lacks it, the ctag and then the etags), fetches only the objects whose ETag
changed (``calendar-multiget``), and a sync token the server rejects means a full read. The
mirror lives as long as the process (a daemon polls with it) and is kept, with its token, in
one file per calendar under the data folder's ``cache/caldav`` (0600, written atomically after
each read), so a new process goes on from the last token instead of reading everything.

Writing is always conditional: ``If-Match`` with the ETag read, ``If-None-Match: *`` to
create; 412 (and a UID taken elsewhere, RFC 4791 ``no-uid-conflict``) is ``ConflictError``.

Exports: DavCalendar, Item, Mirror, session_for, forget_sessions, REQUESTS.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from scheduler.errors import AuthError, CalendarError, ConflictError, TransientError
from scheduler.providers.caldav.quirks import Quirks, recognise

__all__ = ["REQUESTS", "DavCalendar", "Item", "Mirror", "forget_sessions", "session_for"]

D = "DAV:"
C = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
_NS = f'xmlns:D="{D}" xmlns:C="{C}" xmlns:CS="{CS}"'
_XML = '<?xml version="1.0" encoding="utf-8"?>'
#: the mirror file's layout; another (an older version's) is not read
_CACHE_FORMAT = 1
#: hrefs per calendar-multiget
MULTIGET_LIMIT = 200
TIMEOUT_SECONDS = 30

#: HTTP requests sent (answered), by method and calendar URL ("REPORT", url) -> count: the
#: benchmark and the tests read it
REQUESTS: Counter[tuple[str, str]] = Counter()


@dataclass(frozen=True, slots=True)
class Item:
    """One calendar object as last read: where, its ETag and its bytes."""

    href: str
    etag: str
    data: bytes


@dataclass
class Mirror:
    """The collection as the last read left it."""

    items: dict[str, Item] = field(default_factory=dict)  # by href (the path, unquoted)
    token: str | None = None
    ctag: str | None = None
    complete: bool = False


def _transport_errors() -> tuple[type[Exception], ...]:
    """What the HTTP library python-caldav uses raises for a connection, TLS or timeout
    failure (niquests; requests where it falls back to it)."""
    found: list[type[Exception]] = [OSError]
    for module in ("niquests.exceptions", "requests.exceptions"):
        try:
            imported = __import__(module, fromlist=["RequestException"])
        except ImportError:
            continue
        found.append(imported.RequestException)
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


class TokenRejected(Exception):
    """The server no longer knows the sync token: read everything again."""


def _password_sentence(who: str, username: str, variable: str, url: str) -> str:
    return (
        f"{who}: the CalDAV server at {url} refused the sign-in of {username!r}; put the right "
        f"password in the environment variable {variable} (named by password_env) or fix "
        "username"
    )


class DavCalendar:
    """One person's calendar collection on a CalDAV server, as one account reaches it."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        who: str,
        password_env: str,
        ca_file: Path | None = None,
        cache_file: Path | None = None,
    ) -> None:
        from caldav.davclient import DAVClient

        self.cache_file = cache_file
        self.configured = url
        self.username = username
        self.who = who
        self.password_env = password_env
        self.ca_file = ca_file
        self.client = DAVClient(
            url=url,
            username=username,
            password=password,
            ssl_verify_cert=str(ca_file) if ca_file else True,
            timeout=TIMEOUT_SECONDS,
            enable_rfc6764=False,
        )
        # Every request on the wire is counted, the authentication handshake's too.
        self.client.session.hooks["response"].append(self._count)
        self.url: str | None = None  # the calendar collection, once found
        self.quirks: Quirks | None = None
        self.supports_sync = False
        self.auto_schedule = False
        self.mirror = Mirror()
        self.lock = threading.Lock()

    # ----------------------------------------------------------------------- transport

    def request(
        self, method: str, url: str, body: str = "", headers: dict[str, str] | None = None
    ) -> Any:
        """One request; its ``DAVResponse`` for any status but 401 (``AuthError``), and
        connection trouble as ``TransientError``/``CalendarError``."""
        from caldav.lib import error as dav_error

        try:
            return self.client.request(url, method, body, headers or {})
        except dav_error.AuthorizationError as exc:
            if exc.status == 401:
                raise AuthError(
                    _password_sentence(self.who, self.username, self.password_env, url)
                ) from None
            return _Refused(exc)
        except dav_error.RateLimitError as exc:
            raise TransientError(
                f"{self.who}: the CalDAV server at {url} asks to slow down; the next pass "
                "tries again"
            ) from exc
        except dav_error.DAVError as exc:
            raise CalendarError(f"{self.who}: CalDAV {method} {url} failed: {exc.reason}") from exc
        except _TRANSPORT_ERRORS as exc:  # connection, TLS and timeout errors
            raise self._connection_error(exc, url) from None

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        method = getattr(getattr(response, "request", None), "method", None) or "?"
        REQUESTS[(str(method), self.url or self.configured)] += 1
        return response

    def _connection_error(self, exc: BaseException, url: str) -> CalendarError:
        text = f"{type(exc).__name__}: {exc}"
        if "certificate" in text.lower() or "ssl" in text.lower():
            hint = (
                f"the server's TLS certificate is not trusted ({_short(exc)}); set ca_file to "
                "the CA bundle that signed it"
                if self.ca_file is None
                else f"the server's TLS certificate is not signed by {self.ca_file}"
            )
            return CalendarError(f"{self.who}: cannot reach the CalDAV server at {url}: {hint}")
        return TransientError(
            f"{self.who}: cannot reach the CalDAV server at {url} ({_short(exc)}); the next "
            "pass tries again"
        )

    def _fail(self, what: str, answer: Any) -> CalendarError:
        status = int(answer.status)
        if status == 403:
            return CalendarError(
                f"{self.who}: the CalDAV server refused to {what} (403 forbidden); point url "
                f"at a calendar {self.username!r} may read and write, or give it access"
            )
        if status == 404:
            return CalendarError(
                f"{self.who}: there is no calendar at {self.configured} (404); point url at "
                "the calendar collection"
            )
        if status >= 500 or status == 429:
            return TransientError(
                f"{self.who}: the CalDAV server could not {what} ({status}); the next pass "
                "tries again"
            )
        return CalendarError(f"{self.who}: the CalDAV server could not {what} ({status})")

    # ----------------------------------------------------------------------- finding it

    def connect(self) -> str:
        """The calendar collection's URL: the configured one when it is a calendar, else the
        first calendar of the account's principal. Learns the server's quirks once."""
        if self.url is not None:
            return self.url
        options = self.request("OPTIONS", self.configured)
        headers = getattr(options, "headers", {}) or {}
        dav_header = str(headers.get("DAV", ""))
        self.quirks = recognise(self.configured, str(headers.get("Server", "")), dav_header)
        advertised = "calendar-auto-schedule" in dav_header.lower()
        self.auto_schedule = (
            advertised
            if self.quirks.delivers_attendee_copies is None
            else self.quirks.delivers_attendee_copies
        )
        url = self._calendar_at(self.configured)
        if url is None:
            url = self._discover()
        self.url = url
        return url

    def _calendar_at(self, url: str) -> str | None:
        body = (
            f"{_XML}<D:propfind {_NS}><D:prop><D:resourcetype/><D:supported-report-set/>"
            "</D:prop></D:propfind>"
        )
        answer = self.request("PROPFIND", url, body, {"Depth": "0"})
        if int(answer.status) != 207:
            if int(answer.status) in (404, 405):
                return None
            raise self._fail(f"show {url}", answer)
        for response in _responses(answer):
            kinds = response.find(f".//{{{D}}}resourcetype")
            if kinds is not None and kinds.find(f"{{{C}}}calendar") is not None:
                reports = response.find(f".//{{{D}}}supported-report-set")
                self.supports_sync = (
                    reports is not None
                    and reports.find(f".//{{{D}}}sync-collection") is not None
                    and (self.quirks is None or self.quirks.sync_collection)
                )
                return url
        return None

    def _discover(self) -> str:
        from caldav.lib import error as dav_error

        try:
            calendars = self.client.principal().calendars()  # type: ignore[no-untyped-call]
        except dav_error.AuthorizationError as exc:
            if exc.status == 401:
                raise AuthError(
                    _password_sentence(self.who, self.username, self.password_env, self.configured)
                ) from None
            raise CalendarError(f"{self.who}: {self.configured} is not a calendar") from exc
        except dav_error.DAVError as exc:
            raise CalendarError(
                f"{self.who}: {self.configured} is not a calendar and no calendar was found "
                f"for {self.username!r} ({exc.reason}); point url at the calendar collection"
            ) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._connection_error(exc, self.configured) from None
        for calendar in calendars:
            url = str(calendar.url)
            if self._calendar_at(url) is not None:
                return url
        raise CalendarError(
            f"{self.who}: {self.configured} is not a calendar and {self.username!r} has none; "
            "create one or point url at the calendar collection"
        )

    # ----------------------------------------------------------------------- reading

    def sync(self) -> Mirror:
        """Bring the mirror up to date with as few requests as the server allows."""
        with self.lock:
            url = self.connect()
            if not self.mirror.complete:
                self.mirror = self._load(url)
            before = (self.mirror.token, self.mirror.ctag, len(self.mirror.items))
            self._bring_up_to_date(url)
            if (self.mirror.token, self.mirror.ctag, len(self.mirror.items)) != before:
                self._save(url)
            return self.mirror

    def _bring_up_to_date(self, url: str) -> None:
        mirror = self.mirror
        if mirror.complete and mirror.token and self.supports_sync:
            try:
                self._sync_changes(url, mirror.token)
                return
            except TokenRejected:
                pass  # RFC 6578 section 3.2: start over with a full read
        elif mirror.complete and not self.supports_sync and mirror.ctag:
            ctag = self._ctag(url)
            if ctag == mirror.ctag:
                return
            self._etag_changes(url)
            mirror.ctag = ctag
            return
        self._full(url)

    def _load(self, url: str) -> Mirror:
        """The mirror a process before this one kept, if it is this calendar's and readable;
        else an empty one (a full read follows)."""
        if self.cache_file is None:
            return Mirror()
        try:
            saved = json.loads(self.cache_file.read_text(encoding="utf-8"))
            if saved.get("url") != url or saved.get("format") != _CACHE_FORMAT:
                return Mirror()
            items = {
                str(href): Item(str(href), str(etag), str(data).encode("utf-8"))
                for href, (etag, data) in dict(saved["items"]).items()
            }
            return Mirror(
                items=items,
                token=saved.get("token") or None,
                ctag=saved.get("ctag") or None,
                complete=True,
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return Mirror()

    def _save(self, url: str) -> None:
        """Keep the mirror and its token together, atomically; a failure only costs the next
        process a full read."""
        if self.cache_file is None:
            return
        from scheduler.store.files import private_folder, write_atomically

        mirror = self.mirror
        saved = {
            "format": _CACHE_FORMAT,
            "url": url,
            "token": mirror.token,
            "ctag": mirror.ctag,
            "items": {
                href: [item.etag, item.data.decode("utf-8", "replace")]
                for href, item in mirror.items.items()
            },
        }
        try:
            # People's calendars: the folders are the daemon's user's only, as everything
            # under the data folder (0700 whatever the umask; also one an earlier version
            # left 0755, up to the cache folder).
            private_folder(self.cache_file.parent, up_to=self.cache_file.parent.parent)
            write_atomically(self.cache_file, json.dumps(saved).encode("utf-8"))
        except OSError:
            return

    def _ctag(self, url: str) -> str | None:
        body = f"{_XML}<D:propfind {_NS}><D:prop><CS:getctag/></D:prop></D:propfind>"
        answer = self.request("PROPFIND", url, body, {"Depth": "0"})
        if int(answer.status) != 207:
            raise self._fail("read the calendar", answer)
        for response in _responses(answer):
            return _text(response, f"{{{CS}}}getctag")
        return None

    def _full(self, url: str) -> None:
        """Everything: the token (or ctag) first, so a change made while the objects are read
        shows up again next time, then every object with its ETag in one REPORT."""
        props = "<D:sync-token/>" if self.supports_sync else ""
        body = f"{_XML}<D:propfind {_NS}><D:prop>{props}<CS:getctag/></D:prop></D:propfind>"
        answer = self.request("PROPFIND", url, body, {"Depth": "0"})
        if int(answer.status) != 207:
            raise self._fail("read the calendar", answer)
        token = ctag = None
        for response in _responses(answer):
            token = _text(response, f"{{{D}}}sync-token")
            ctag = _text(response, f"{{{CS}}}getctag")
        query = (
            f"{_XML}<C:calendar-query {_NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        answer = self.request("REPORT", url, query, {"Depth": "1"})
        if int(answer.status) != 207:
            raise self._fail("read the calendar", answer)
        items: dict[str, Item] = {}
        for response in _responses(answer):
            href = _href(response)
            etag = _text(response, f"{{{D}}}getetag")
            data = _text(response, f"{{{C}}}calendar-data")
            if href is None or href == _path(url) or etag is None or data is None:
                continue
            items[href] = Item(href, etag, data.encode("utf-8"))
        self.mirror = Mirror(items=items, token=token, ctag=ctag, complete=True)

    def _sync_changes(self, url: str, token: str) -> None:
        body = (
            f"{_XML}<D:sync-collection {_NS}><D:sync-token>{escape(token)}</D:sync-token>"
            "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        answer = self.request("REPORT", url, body, {"Depth": "1"})
        status = int(answer.status)
        assert self.quirks is not None
        if status in self.quirks.rejected_token_statuses or status in (400, 410):
            raise TokenRejected
        if status != 207:
            raise self._fail("read the calendar's changes", answer)
        changed: dict[str, str] = {}
        gone: list[str] = []
        for response in _responses(answer):
            href = _href(response)
            if href is None or href == _path(url):
                continue
            status_line = response.findtext(f"{{{D}}}status") or ""
            etag = _text(response, f"{{{D}}}getetag")
            if " 404" in status_line or etag is None:
                gone.append(href)
            else:
                changed[href] = etag
        new_token = _tree(answer).findtext(f"{{{D}}}sync-token")
        self._apply(url, changed, gone)
        if new_token:
            self.mirror.token = new_token.strip()

    def _etag_changes(self, url: str) -> None:
        body = f"{_XML}<D:propfind {_NS}><D:prop><D:getetag/></D:prop></D:propfind>"
        answer = self.request("PROPFIND", url, body, {"Depth": "1"})
        if int(answer.status) != 207:
            raise self._fail("read the calendar", answer)
        etags: dict[str, str] = {}
        for response in _responses(answer):
            href = _href(response)
            etag = _text(response, f"{{{D}}}getetag")
            if href is not None and href != _path(url) and etag is not None:
                etags[href] = etag
        gone = [href for href in self.mirror.items if href not in etags]
        self._apply(url, etags, gone)

    def _apply(self, url: str, etags: dict[str, str], gone: list[str]) -> None:
        mirror = self.mirror
        for href in gone:
            mirror.items.pop(href, None)
        wanted = [
            href
            for href, etag in etags.items()
            if href not in mirror.items or mirror.items[href].etag != etag
        ]
        for start in range(0, len(wanted), MULTIGET_LIMIT):
            chunk = wanted[start : start + MULTIGET_LIMIT]
            hrefs = "".join(f"<D:href>{escape(_quote_path(h))}</D:href>" for h in chunk)
            body = (
                f"{_XML}<C:calendar-multiget {_NS}><D:prop><D:getetag/><C:calendar-data/>"
                f"</D:prop>{hrefs}</C:calendar-multiget>"
            )
            answer = self.request("REPORT", url, body, {"Depth": "1"})
            if int(answer.status) != 207:
                raise self._fail("read the calendar", answer)
            for response in _responses(answer):
                got = _href(response)
                etag = _text(response, f"{{{D}}}getetag")
                data = _text(response, f"{{{C}}}calendar-data")
                if got is None:
                    continue
                href = got
                if etag is None or data is None:
                    mirror.items.pop(href, None)  # gone meanwhile
                    continue
                mirror.items[href] = Item(href, etag, data.encode("utf-8"))

    # ----------------------------------------------------------------------- writing

    def href_for(self, name: str) -> str:
        url = self.connect()
        return _path(url).rstrip("/") + "/" + name

    def put(self, href: str, data: bytes, expect: str | None) -> str | None:
        """Store ``data`` at ``href`` on condition ``expect`` (an ETag; ``None``: create);
        the new ETag when the server gives one. ``ConflictError`` when the condition fails."""
        url = self.connect()
        assert self.quirks is not None
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if expect is None:
            headers["If-None-Match"] = "*"
            if not self.quirks.honours_if_none_match and self.get(href) is not None:
                raise ConflictError(f"{href} appeared")
        else:
            headers["If-Match"] = expect
        answer = self.request("PUT", self._absolute(url, href), data.decode("utf-8"), headers)
        status = int(answer.status)
        if status in (412, 404) or _uid_taken(answer):
            raise ConflictError("appeared" if expect is None else f"{href}: {status}")
        if status not in (200, 201, 204):
            raise self._fail(f"store {href.rsplit('/', 1)[-1]}", answer)
        etag = answer.headers.get("ETag") if self.quirks.etag_on_put else None
        with self.lock:
            if etag and not etag.startswith("W/"):
                self.mirror.items[href] = Item(href, etag, data)
                return str(etag)
            self.mirror.items.pop(href, None)
        return None

    def delete(self, href: str, expect: str) -> bool:
        """Remove ``href`` if still at ``expect``; ``False`` when it is not there."""
        url = self.connect()
        answer = self.request("DELETE", self._absolute(url, href), "", {"If-Match": expect})
        status = int(answer.status)
        if status == 404:
            self.mirror.items.pop(href, None)
            return False
        if status == 412:
            # Gone (a missing object fails If-Match too) or changed.
            if self.get(href) is None:
                self.mirror.items.pop(href, None)
                return False
            raise ConflictError(f"{href}: 412")
        if status not in (200, 204):
            raise self._fail(f"delete {href.rsplit('/', 1)[-1]}", answer)
        with self.lock:
            self.mirror.items.pop(href, None)
        return True

    def get(self, href: str) -> Item | None:
        url = self.connect()
        answer = self.request("GET", self._absolute(url, href), "", {"Accept": "text/calendar"})
        if int(answer.status) == 404:
            return None
        if int(answer.status) != 200:
            raise self._fail(f"read {href.rsplit('/', 1)[-1]}", answer)
        etag = answer.headers.get("ETag") or ""
        raw = getattr(answer, "_raw", b"")
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        return Item(href, str(etag), data)

    def etag_of(self, href: str) -> str | None:
        """The ETag ``href`` has now, ``None`` when it is gone."""
        url = self.connect()
        body = f"{_XML}<D:propfind {_NS}><D:prop><D:getetag/></D:prop></D:propfind>"
        answer = self.request("PROPFIND", self._absolute(url, href), body, {"Depth": "0"})
        if int(answer.status) == 404:
            with self.lock:
                self.mirror.items.pop(href, None)
            return None
        if int(answer.status) != 207:
            raise self._fail(f"read {href.rsplit('/', 1)[-1]}", answer)
        for response in _responses(answer):
            return _text(response, f"{{{D}}}getetag")
        return None

    def find_uid(self, uid: str) -> Item | None:
        """The object holding ``uid`` wherever it is (a copy the server delivered itself under
        a name of its own), by a calendar-query on the UID."""
        url = self.connect()
        query = (
            f"{_XML}<C:calendar-query {_NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:prop-filter name="UID"><C:text-match collation="i;octet">'
            f"{escape(uid)}</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>"
            "</C:filter></C:calendar-query>"
        )
        answer = self.request("REPORT", url, query, {"Depth": "1"})
        if int(answer.status) != 207:
            return None
        for response in _responses(answer):
            href = _href(response)
            etag = _text(response, f"{{{D}}}getetag")
            data = _text(response, f"{{{C}}}calendar-data")
            if href and etag and data and uid.encode() in data.encode("utf-8"):
                return Item(href, etag, data.encode("utf-8"))
        return None

    @staticmethod
    def _absolute(url: str, href: str) -> str:
        return urljoin(url, _quote_path(href))


class _Refused:
    """A 403 python-caldav raised as an authorization error, as a response (status, body)."""

    def __init__(self, exc: Any) -> None:
        self.status = int(exc.status or 403)
        self.headers: dict[str, str] = {}
        self._raw = exc.body or b""
        self.preconditions = list(exc.preconditions or [])


# --------------------------------------------------------------------------- XML


def _tree(answer: Any) -> Any:
    raw = getattr(answer, "_raw", b"") or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        return etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError:
        return etree.Element(f"{{{D}}}multistatus")


def _responses(answer: Any) -> list[Any]:
    return list(_tree(answer).iter(f"{{{D}}}response"))


def _text(response: Any, tag: str) -> str | None:
    """The text of ``tag`` inside a 200 propstat of ``response``."""
    for propstat in response.iter(f"{{{D}}}propstat"):
        status = propstat.findtext(f"{{{D}}}status") or "200"
        if " 200" not in status and status != "200":
            continue
        found = propstat.find(f".//{tag}")
        if found is not None and found.text is not None:
            return str(found.text).strip() if tag != f"{{{C}}}calendar-data" else str(found.text)
    return None


def _href(response: Any) -> str | None:
    text = response.findtext(f"{{{D}}}href")
    return _path(text.strip()) if text else None


def _path(url: str) -> str:
    """An href as the mirror keys it: the unquoted path."""
    return unquote(urlsplit(url).path)


def _quote_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/@:+,;=-._~")


def _uid_taken(answer: Any) -> bool:
    preconditions = list(getattr(answer, "preconditions", []))
    raw = getattr(answer, "_raw", b"") or b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return int(answer.status) in (403, 409) and (
        any("no-uid-conflict" in p for p in preconditions)
        or "no-uid-conflict" in text
        or int(answer.status) == 409
    )


_REASONS = (
    ("refused", "connection refused"),
    ("timed out", "timed out"),
    ("timeout", "timed out"),
    ("name or service not known", "host not found"),
    ("nodename nor servname", "host not found"),
    ("getaddrinfo", "host not found"),
    ("certificate verify failed", "certificate verify failed"),
    ("hostname mismatch", "the certificate is for another host"),
    ("reset by peer", "connection reset"),
)


def _short(exc: BaseException) -> str:
    """What went wrong in a few words (urllib3's messages nest the reason in a repr)."""
    text = str(exc)
    for needle, reason in _REASONS:
        if needle in text.lower():
            return reason
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:120]


# --------------------------------------------------------------------------- sessions

_SESSIONS: dict[tuple[str, str, str | None], DavCalendar] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(
    url: str,
    username: str,
    password: str,
    *,
    who: str,
    password_env: str,
    ca_file: Path | None,
    cache_dir: Path | None = None,
) -> DavCalendar:
    """The process's one ``DavCalendar`` for this calendar and account, so a daemon keeps its
    mirror, its connection and its negotiated authentication from pass to pass. A changed
    password makes a new one."""
    secret = hashlib.sha256(password.encode("utf-8")).hexdigest()
    key = (url, username, f"{secret}:{ca_file}:{cache_dir}")
    name = hashlib.sha256(f"{url}\n{username}".encode()).hexdigest()[:32]
    with _SESSIONS_LOCK:
        found = _SESSIONS.get(key)
        if found is None:
            found = DavCalendar(
                url,
                username,
                password,
                who=who,
                password_env=password_env,
                ca_file=ca_file,
                cache_file=cache_dir / f"{name}.json" if cache_dir is not None else None,
            )
            _SESSIONS[key] = found
        return found


def forget_sessions() -> None:
    """Drop every session (a new process, as the tests see it)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()
