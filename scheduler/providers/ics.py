"""The ``ics`` provider: read-only busy time from a person's published ICS feed.

An Outlook (or any other calendar's) "publish" link, or a file: ``{ provider = "ics", url =
"https://..." }`` (``webcal://`` is fetched over https; a path or ``file://`` URL is read from
disk). The product cannot write there (``capabilities.writable`` is false): such a person gets
their 1:1s through their own oneonone feed (``scheduler.feeds``).

I/O: one HTTP GET (httpx) or file read per pass, and the cache folder
``<data_dir>/cache/ics/``: per source, the last good body and its ``ETag``/``Last-Modified``,
so the next fetch is conditional (a ``304`` costs no transfer) and a feed that is down or
suddenly malformed costs no busy time: the last good copy is used and the pass gets one plain
sentence naming the person and the address (credentials and secret-looking parts left out).
With no good copy ever, the read fails (``CalendarError``) and the pass leaves the person's
1:1s as they are rather than plan around busy time it does not know.

Limits against hostile or broken feeds (Radicale's habit: explicit limits): ``MAX_FEED_BYTES``
per body, a total deadline per fetch (not only per socket read, so a server dripping one byte
at a time cannot hold a pass), nesting depth, and per event a bound on the instances its rules
could produce before anything is expanded (``ical.MAX_INSTANCES`` in the window, and a bound on
the steps from its DTSTART, since the expander walks from there). An event over a bound is
reported and skipped; the rest of the feed still counts.

Exports: IcsProvider, MAX_FEED_BYTES.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Component

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import CalendarRead
from scheduler.errors import CalendarError
from scheduler.providers.base import Capabilities, WriteJob, Written

# The vdir provider's wording helpers: both providers speak to the admin the same way.
from scheduler.providers.vdir import _sentence, _zone_or
from scheduler.store.files import private_folder, write_atomically

__all__ = ["MAX_FEED_BYTES", "IcsProvider"]

#: A whole published calendar, years of history included, is rarely over a few MB.
MAX_FEED_BYTES = 16 * 1024 * 1024
#: Deepest component nesting a real calendar has is 3 (VCALENDAR > VEVENT > VALARM).
MAX_DEPTH = 8
#: Seconds a whole fetch may take (connect, headers and body together).
FETCH_SECONDS = 30.0
#: Redirects a fetch follows (publishing services redirect once or twice).
MAX_REDIRECTS = 5
#: Seconds reading one feed's events may take; the events not read by then are named.
READ_SECONDS = 20.0

_USER_AGENT = "oneonone (calendar busy-time reader)"

_SECRETISH = re.compile(r"^[A-Za-z0-9_\-.~%@]{20,}$")


class _FetchError(Exception):
    """The source could not be read; the message says why, in a few plain words."""


@dataclass(frozen=True, slots=True)
class _Cached:
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: str


def public_address(source: str) -> str:
    """``source`` fit for messages and logs: no user name or password, no query, and path
    segments that look like secrets (publish links carry one) shortened to ``…``."""
    parts = urllib.parse.urlsplit(source)
    if not parts.scheme or parts.scheme.lower() == "file" or len(parts.scheme) == 1:
        return source  # a file path: nothing secret in it that the admin did not write
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    segments = ["…" if _SECRETISH.match(s) else s for s in parts.path.split("/")]
    return urllib.parse.urlunsplit((parts.scheme, host, "/".join(segments), "", ""))


class IcsProvider:
    """One person's published feed. ``source`` is an http(s)/webcal URL or a file path."""

    name = "ics"
    capabilities = Capabilities(writable=False)

    def __init__(
        self,
        source: str | Path,
        cache_dir: Path | None,
        default_zone: ZoneInfo,
        *,
        timeout: float = FETCH_SECONDS,
        max_bytes: int = MAX_FEED_BYTES,
        read_seconds: float = READ_SECONDS,
    ) -> None:
        self.source = str(source)
        self.is_file = isinstance(source, Path) or not re.match(
            r"^(https?|webcal)://", self.source, re.IGNORECASE
        )
        if not self.is_file and self.source.lower().startswith("webcal://"):
            self.source = "https://" + self.source[len("webcal://") :]
        self.cache_dir = cache_dir
        self.default_zone = default_zone
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.read_seconds = read_seconds
        self.address = public_address(self.source)
        self.where = f"ICS feed {self.address}"

    # ----------------------------------------------------------------------- reading

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) from the feed (or its last good copy).

        The feed is cut into its events on the raw bytes first (``_split``); each event (a
        master and its overrides) is then screened, parsed and expanded on its own, so one
        hostile event costs only itself, events that surely lie outside the window are never
        parsed, and the whole read stops at ``READ_SECONDS`` (saying how many events were
        left unread) however large the feed.
        """
        result = CalendarRead()
        feed = self._feed(person, result.problems)
        zone = _zone_or(person, self.default_zone)
        deadline = time.monotonic() + self.read_seconds
        unread = 0
        for uid, blocks in feed.groups:
            result.object_count += 1
            if unread or time.monotonic() > deadline:
                unread += 1
                continue
            if uid.startswith(ical.PRODUCT_UID_PREFIX) or any(
                ical.PAIR_PROPERTY.encode() in block for block in blocks
            ):
                # The product's own 1:1 (the person imported their oneonone feed and the
                # calendar publishes it): it is the meeting, not time the meeting must avoid.
                continue
            if not _may_touch_raw(blocks, start, end):
                continue
            label = f"{self.address} (event {_short(uid) or 'without UID'})"
            try:
                calendars = ical.parse_object(feed.wrap(blocks), label)
                group = [c for cal in calendars for c in cal.walk("VEVENT")]
                if _is_product(uid, group):
                    continue
                busy, out_days = ical.busy_from_parsed(
                    calendars, label, person.email, start, end, zone
                )
            except ValueError as exc:
                text = str(exc)
                if not text.startswith(label):
                    text = f"{label}: cannot read calendar object: {_reason(exc)}"
                result.problems.append(f"{person.email}: {_sentence(text)}")
                continue
            except Exception as exc:  # icalendar raises many types on hostile values
                result.problems.append(
                    f"{person.email}: {label}: cannot read calendar object: "
                    f"{_sentence(_reason(exc))}"
                )
                continue
            result.busy.extend(busy)
            result.out_days.update(out_days)
        if unread:
            result.problems.append(
                f"{person.email}: reading the {self.where} took longer than "
                f"{self.read_seconds:g} seconds; {unread} of its {len(feed.groups)} events were "
                "not read, so their busy time is missing from this pass."
            )
        return result

    def _feed(self, person: Person, problems: list[str]) -> _Feed:
        """The feed to read, cut into events: fresh when it can be fetched and is a calendar,
        else the last good copy (saying so in ``problems``). Raises ``CalendarError`` when
        there is neither.

        A feed that suddenly lists no events while the last good copy had some is not believed
        (a publishing service having a bad moment, not a person who cleared their calendar):
        the copy is used and the read says so, until the feed lists events again.
        """
        cached = self._cache_load()
        try:
            fresh = self._fetch(cached)
            if fresh is None:  # 304 Not Modified
                assert cached is not None
                return _split(cached.body, self.address)
            body, etag, last_modified = fresh
            body = _normalise(body)
            feed = _split(body, self.address)
            if cached is not None and b"BEGIN:VEVENT" in cached.body and not feed.groups:
                raise ValueError("it suddenly lists no events")
        except (_FetchError, ValueError) as exc:
            what = _sentence(str(exc)).rstrip(".")
            if cached is not None:
                problems.append(
                    f"{person.email}: the {self.where} could not be used ({what}); their busy "
                    f"time is from the copy fetched at {cached.fetched_at}."
                )
                # Validated before it was stored, and checked against its hash when loaded.
                return _split(cached.body, self.address)
            raise CalendarError(
                f"{person.email}: the {self.where} could not be used ({what}) and there is no "
                "earlier copy; their 1:1s are left as they are until it can be read."
            ) from exc
        self._cache_store(_Cached(body, etag, last_modified, _now_text()))
        return feed

    def _fetch(self, cached: _Cached | None) -> tuple[bytes, str | None, str | None] | None:
        """(body, ETag, Last-Modified), or ``None`` when the server says nothing changed.

        Over httpx, following at most ``MAX_REDIRECTS`` redirects. Credentials written in the
        URL go as HTTP Basic to that origin only: httpx drops the ``Authorization`` header on
        a redirect to another origin (scheme, host or port), where urllib copied it.
        """
        if self.is_file:
            return self._read_file(), None, None
        parts = urllib.parse.urlsplit(self.source)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        headers = {
            "User-Agent": _USER_AGENT,
            "Accept": "text/calendar, */*;q=0.5",
            "Accept-Encoding": "identity",
        }
        auth: httpx.BasicAuth | None = None
        if parts.username is not None:
            # Publish links that need credentials carry them in the URL; they go as Basic.
            auth = httpx.BasicAuth(
                urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
            )
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        deadline = time.monotonic() + self.timeout
        try:
            with (
                httpx.Client(
                    follow_redirects=True,
                    max_redirects=MAX_REDIRECTS,
                    timeout=httpx.Timeout(self.timeout),
                ) as client,
                client.stream("GET", url, headers=headers, auth=auth) as response,
            ):
                if response.status_code == 304 and cached is not None:
                    return None
                if response.status_code != 200:
                    raise _FetchError(
                        f"the server answered {response.status_code} {response.reason_phrase}"
                    )
                body = self._read_limited(response.iter_bytes(64 * 1024), deadline)
                return body, response.headers.get("ETag"), response.headers.get("Last-Modified")
        except httpx.TimeoutException as exc:
            raise _FetchError("cannot reach it: timed out") from exc
        except httpx.TooManyRedirects as exc:
            raise _FetchError(f"it redirects more than {MAX_REDIRECTS} times") from exc
        except httpx.HTTPError as exc:
            raise _FetchError(f"cannot reach it: {_reason(exc)}") from exc
        except (OSError, ValueError) as exc:
            raise _FetchError(f"cannot reach it: {_reason(exc)}") from exc

    def _read_limited(self, chunks_in: Iterable[bytes], deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in chunks_in:
            if time.monotonic() > deadline:
                raise _FetchError(f"it took longer than {self.timeout:g} seconds")
            size += len(chunk)
            if size > self.max_bytes:
                raise _FetchError(f"it is larger than {self.max_bytes // (1024 * 1024)} MB")
            chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _FetchError(f"it took longer than {self.timeout:g} seconds")
        return b"".join(chunks)

    def _read_file(self) -> bytes:
        path = Path(self.source)
        if self.source.lower().startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlsplit(self.source).path))
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise _FetchError(f"cannot read the file: {_reason(exc)}") from exc
        if len(data) > self.max_bytes:
            raise _FetchError(f"it is larger than {self.max_bytes // (1024 * 1024)} MB")
        return data

    # ----------------------------------------------------------------------- the cache

    def _cache_paths(self) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:32]
        return self.cache_dir / f"{key}.ics", self.cache_dir / f"{key}.json"

    def _cache_load(self) -> _Cached | None:
        paths = self._cache_paths()
        if paths is None:
            return None
        body_path, meta_path = paths
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None  # torn or edited by hand: no copy is better than a wrong one
        return _Cached(
            body, meta.get("etag"), meta.get("last_modified"), meta.get("fetched_at", "")
        )

    def _cache_store(self, cached: _Cached) -> None:
        """Body first, then the metadata naming its hash, each atomically: a crash between
        the two leaves a mismatch that ``_cache_load`` ignores, never a wrong pairing."""
        paths = self._cache_paths()
        if paths is None:
            return
        body_path, meta_path = paths
        meta = {
            "source": self.address,
            "etag": cached.etag,
            "last_modified": cached.last_modified,
            "fetched_at": cached.fetched_at,
            "sha256": hashlib.sha256(cached.body).hexdigest(),
        }
        try:
            private_folder(self.cache_dir)  # type: ignore[arg-type]
            write_atomically(body_path, cached.body)
            write_atomically(meta_path, json.dumps(meta, indent=1).encode())
        except OSError:
            # The cache is a convenience: the body is still used for this pass.
            return

    # ----------------------------------------------------------------------- writing

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        return [
            CalendarError(
                f"{job.owner.email}'s calendar is a read-only {self.where}; the 1:1 reaches "
                f"them through their oneonone feed (`oneonone feeds url {job.owner.email}`)."
            )
            for job in jobs
        ]

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        raise CalendarError(
            f"{owner.email}'s calendar is a read-only {self.where}; nothing can be removed from it."
        )

    def check(self, person: Person) -> list[str]:
        """Fetch and parse the feed now; one sentence when that fails (the cache is not used)."""
        try:
            fresh = self._fetch(None)
            assert fresh is not None
            _split(_normalise(fresh[0]), self.address)
        except (_FetchError, ValueError) as exc:
            what = _sentence(str(exc)).rstrip(".")
            return [
                f"{person.email}: the {self.where} cannot be used ({what}); fix the address in "
                "the org file or ask them for a working publish link."
            ]
        return []


# --------------------------------------------------------------------------- helpers


def _normalise(data: bytes) -> bytes:
    """UTF-8 bytes from what servers send: a BOM dropped, UTF-16 converted, anything not
    UTF-8 read as Windows-1252 (Outlook's habit). Only text is affected, never times."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace").encode("utf-8")
    head = data[:64]
    if len(head) >= 8 and head[1::2].count(0) == len(head[1::2]):
        return data.decode("utf-16-le", "replace").encode("utf-8")
    if len(head) >= 8 and head[0::2].count(0) == len(head[0::2]):
        return data.decode("utf-16-be", "replace").encode("utf-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace").encode("utf-8")
    return data


@dataclass(frozen=True, slots=True)
class _Feed:
    """A feed cut into parts on its raw bytes: the VCALENDAR's own properties, its
    VTIMEZONEs, and its events grouped by UID (a master and its overrides), in order."""

    head: bytes
    zones: tuple[bytes, ...]
    groups: tuple[tuple[str, tuple[bytes, ...]], ...]

    def wrap(self, blocks: Iterable[bytes]) -> bytes:
        """``blocks`` as one VCALENDAR with the feed's properties and VTIMEZONEs."""
        return b"".join([b"BEGIN:VCALENDAR\r\n", self.head, *self.zones, *blocks]) + (
            b"END:VCALENDAR\r\n"
        )


_UID_LINE = re.compile(rb"^UID[;:](?:[^:\r\n]*:)?(.*)$", re.IGNORECASE | re.MULTILINE)


def _split(data: bytes, where: str) -> _Feed:
    """``data`` cut into a ``_Feed`` without parsing any value: linear in its size, so a
    large feed costs its parsing only for the events that are read. Raises ``ValueError``
    when it is no calendar (no VCALENDAR, a component never ended, nesting deeper than
    ``MAX_DEPTH``)."""
    head: list[bytes] = []
    zones: list[bytes] = []
    groups: dict[str, list[bytes]] = {}
    loose: list[tuple[str, tuple[bytes, ...]]] = []
    stack: list[bytes] = []
    block: list[bytes] = []
    calendars = 0
    for raw in data.splitlines(keepends=True):
        line = raw.rstrip(b"\r\n")
        word = line[:6].upper()
        if word == b"BEGIN:":
            name = line[6:].strip().upper()
            if not stack and name != b"VCALENDAR":
                raise ValueError(f"{where}: cannot read calendar object: not an iCalendar feed")
            stack.append(name)
            if len(stack) > MAX_DEPTH:
                raise ValueError(
                    f"{where}: cannot read calendar object: components are nested more than "
                    f"{MAX_DEPTH} deep"
                )
            if len(stack) == 1:
                calendars += 1
                continue
        elif word[:4] == b"END:" and stack:
            name = line[4:].strip().upper()
            if name != stack[-1]:
                raise ValueError(
                    f"{where}: cannot read calendar object: END:{name.decode('ascii', 'replace')}"
                    f" where END:{stack[-1].decode('ascii', 'replace')} belongs"
                )
            stack.pop()
            if len(stack) == 1:
                block.append(raw if raw.endswith(b"\n") else raw + b"\r\n")
                text = b"".join(block)
                block = []
                if name == b"VTIMEZONE":
                    zones.append(text)
                elif name == b"VEVENT":
                    found = _UID_LINE.search(text)
                    uid = found.group(1).strip().decode("utf-8", "replace") if found else ""
                    if uid:
                        groups.setdefault(uid, []).append(text)
                    else:
                        loose.append(("", (text,)))
                continue
            if not stack:
                continue
        if len(stack) == 1:
            if calendars == 1:
                head.append(raw if raw.endswith(b"\n") else raw + b"\r\n")
        elif len(stack) > 1:
            block.append(raw if raw.endswith(b"\n") else raw + b"\r\n")
    if calendars == 0:
        raise ValueError(f"{where}: cannot read calendar object: no VCALENDAR in it")
    if stack:
        raise ValueError(
            f"{where}: cannot read calendar object: it ends before END:"
            f"{stack[-1].decode('ascii', 'replace')} (truncated?)"
        )
    return _Feed(
        b"".join(head),
        tuple(zones),
        tuple([*((uid, tuple(blocks)) for uid, blocks in groups.items()), *loose]),
    )


_WHEN = re.compile(rb"^(DTSTART|DTEND)[^:\r\n]*:\s*(\d{8})", re.IGNORECASE | re.MULTILINE)
_REPEATS = re.compile(rb"^(RRULE|RDATE|RECURRENCE-ID|DURATION)[;:]", re.IGNORECASE | re.MULTILINE)


def _real_date(text: bytes) -> bool:
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def _may_touch_raw(blocks: Iterable[bytes], start: datetime, end: datetime) -> bool:
    """False only for a group that surely lies outside the window, judged on raw bytes: one-off
    events (no rule, extra dates, override or DURATION) whose DTSTART and DTEND dates are days
    before or after it. Published calendars carry years of history; skipping those unparsed
    keeps a read of a large feed cheap."""
    low = (start - timedelta(days=3)).strftime("%Y%m%d").encode()
    high = (end + timedelta(days=3)).strftime("%Y%m%d").encode()
    for block in blocks:
        if _REPEATS.search(block):
            return True
        dates = [found.group(2) for found in _WHEN.finditer(block)]
        if not dates or not all(_real_date(text) for text in dates):
            return True  # let the reader say what is wrong with it
        if min(dates) <= high and max(dates) >= low:
            return True
    return False


def _is_product(uid: str, events: list[Component]) -> bool:
    return uid.startswith(ical.PRODUCT_UID_PREFIX) or any(
        ical.PAIR_PROPERTY in event for event in events
    )


def _date_of(prop: Any) -> date | None:
    """The date of a DTSTART/DTEND property (the first one when repeated), or ``None`` when
    there is none or it is unreadable (the reader reports that)."""
    if isinstance(prop, list):
        prop = prop[0] if prop else None
    try:
        value = prop.dt if prop is not None else None
    except Exception:  # icalendar's broken-property placeholder raises its own error type
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _short(text: str) -> str:
    """A UID (or any text from the feed) fit for a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _reason(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _now_text() -> str:
    # Wall time of the fetch, for the message that says how old the copy in use is; not the
    # pass's (possibly simulated) clock, since this is about when bytes arrived.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
