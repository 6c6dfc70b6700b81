"""Each person's ICS feed, built from the ledger; feed tokens; agenda page addresses.

I/O: reads the ledger (series, occurrences, make-ups, tokens, one state key, feed versions)
and writes it only to store a token hash, the agenda secret or a built feed (``FeedCache``).
No network I/O; the only files read are the feed-rendering modules' own source, once per
process (``feed_context``). No clock: callers pass ``now`` where a time is recorded.

The feed of a person (spec "ICS feeds") is one VCALENDAR with ``METHOD:PUBLISH``: every series
in which they are the manager or the rep, past pairs included, as the ledger describes it
(the rule, an EXDATE for each skipped, cancelled or unrecorded week, a RECURRENCE-ID override
for each moved week and for each week with an agenda, the agenda as ``ATTACH`` and in the
``DESCRIPTION``), each booked make-up as a single event (its week's agenda linked the same
way), and one VTIMEZONE per zone used.
It is built from the ledger, not from calendar files: a person on a read-only ``ics`` calendar
has no copy of the series anywhere else. Output depends only on the ledger and the org file
(DTSTAMPs are the series' own), so the same ledger gives the same bytes and the same ETag.

Tokens: 192 random bits, URL-safe; the ledger keeps only their SHA-256, so a copy of the
ledger opens no feed, and an address can be shown only when it is issued. Lookups go by hash
and end in a constant-time comparison.

Agenda pages: ``/agendas/<token>/<manager>/<rep>/<date>`` where the token is an HMAC of that
path under a per-deployment secret kept in the ledger (``agenda_url`` builds the address). One
forwarded agenda link opens that agenda only. The secret is kept itself, not a hash: the
server must recompute tokens, and the addresses end up in the ledger anyway (an occurrence's
``agenda``), so a hash would protect nothing.

Feeds served are kept (``FeedCache``, in memory and in the ledger's ``feed_cache``) and built
again only when that person's 1:1s change (their feed version, ``scheduler.store.feedcache``)
or the org file's part of the feed does (``feed_context``).

Exports: Feed, FeedCache, FEED_FORMAT, build_feed, feed_context, issue_token, find_feed,
feed_url, token_hash, agenda_url, agenda_token, agenda_file, check_agenda_token,
AGENDA_SEGMENT.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import importlib.util
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, vDuration, vUri
from sqlalchemy.exc import SQLAlchemyError

from scheduler import ical
from scheduler.domain import Pair, week_after, week_monday
from scheduler.domain.series import Attachment, InstanceOverride, SeriesSpec, utc
from scheduler.orgfile import Org
from scheduler.reconcile import (
    anchor_pair,
    close_weeks_ahead,
    instance_week,
    rule_instance,
    series_spec,
)
from scheduler.store import feedcache
from scheduler.store.ledger import Ledger, MakeupRecord, OccurrenceRecord, SeriesRecord
from scheduler.vtimezone import vtimezone_bytes

log = logging.getLogger(__name__)

__all__ = [
    "AGENDA_SEGMENT",
    "FEED_FORMAT",
    "Feed",
    "FeedCache",
    "agenda_file",
    "agenda_token",
    "agenda_url",
    "build_feed",
    "check_agenda_token",
    "current_link",
    "current_links_in_text",
    "feed_context",
    "feed_url",
    "find_feed",
    "issue_token",
    "token_hash",
]

#: Bytes of randomness in a feed token (192 bits; the spec asks for at least 128).
TOKEN_BYTES = 24
#: What a token in a URL can look like; anything else is not looked up at all.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
#: A path segment of an agenda address: an e-mail address (no slash, no dot-only name).
AGENDA_SEGMENT = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AGENDA_SECRET_KEY = "agenda_secret"

#: Clients should not poll more often than this, whatever ``poll_minutes`` says.
_MIN_REFRESH = timedelta(minutes=15)


# --------------------------------------------------------------------------- tokens


def token_hash(token: str) -> str:
    """The SHA-256 of a token, hex: what the ledger keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(ledger: Ledger, email: str, now: datetime) -> str:
    """A new feed token for ``email``, replacing (and so invalidating) any earlier one.

    The token is returned once and never stored; only its hash is.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ledger.set_feed_token(email.lower(), token_hash(token), now)
    return token


def feed_url(org: Org, token: str) -> str:
    return f"{org.server.public_url}/feeds/{token}.ics"


def find_feed(ledger: Ledger, token: str) -> str | None:
    """The email whose feed ``token`` opens, or ``None``.

    Every well-formed token costs one hash and one indexed lookup by that hash, then a
    constant-time comparison: how long an unknown token takes says nothing about how close it
    was to a real one.
    """
    well_formed = bool(_TOKEN_RE.match(token))
    # A malformed token is looked up too (by the hash of nothing), so it takes as long.
    digest = token_hash(token if well_formed else "")
    found = ledger.feed_token_email(digest)
    if found is None or not well_formed:
        return None
    email, stored = found
    return email if hmac.compare_digest(stored.encode(), digest.encode()) else None


# --------------------------------------------------------------------------- agendas


def _agenda_secret(ledger: Ledger, *, create: bool) -> bytes | None:
    """The deployment's agenda secret; made on first use when ``create``.

    Only ``agenda_url`` creates it, and it runs in a pass, which holds the data folder's lock
    (SQLite) or the pass lease (PostgreSQL, every write fenced): two processes never make two
    secrets. The server only reads it.
    """
    secret = ledger.get_state(_AGENDA_SECRET_KEY)
    if secret is None and create:
        secret = secrets.token_hex(32)
        ledger.set_state(_AGENDA_SECRET_KEY, secret)
    return bytes.fromhex(secret) if secret is not None else None


def _agenda_mac(secret: bytes, manager: str, rep: str, day: str) -> str:
    message = f"{manager.lower()}/{rep.lower()}/{day}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def agenda_token(ledger: Ledger, manager: str, rep: str, day: str) -> str:
    """The token of one agenda's address: 128 bits of HMAC-SHA256 over its path."""
    secret = _agenda_secret(ledger, create=True)
    assert secret is not None
    return _agenda_mac(secret, manager, rep, day)


def check_agenda_token(ledger: Ledger, token: str, manager: str, rep: str, day: str) -> bool:
    """Whether ``token`` opens the agenda of (manager, rep, day), compared in constant time.

    ``False`` while no agenda address was ever made (there is no secret yet).
    """
    secret = _agenda_secret(ledger, create=False)
    expected = _agenda_mac(secret or b"\0" * 32, manager, rep, day)
    matches = hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
    return matches and secret is not None


def agenda_file(org: Org, manager: str, rep: str, day: str) -> Path | None:
    """``<data_dir>/agendas/<manager>/<rep>/<day>.md`` when the parts are well formed and the
    file (symbolic links resolved) lies inside the agendas folder; ``None`` otherwise."""
    if not (AGENDA_SEGMENT.match(manager) and AGENDA_SEGMENT.match(rep) and _DATE_RE.match(day)):
        return None
    try:
        date.fromisoformat(day)
    except ValueError:
        return None
    root = (org.data_dir / "agendas").resolve()
    candidate = (root / manager.lower() / rep.lower() / f"{day}.md").resolve()
    if not candidate.is_relative_to(root):
        return None
    return candidate


#: The product's own agenda address, with or without scheme and host: ``/agendas/<token>/...``.
_AGENDA_LINK = re.compile(r"^(?:https?://[^/?#]+)?(/agendas/[0-9a-f]{32}/[^\s?#]+)$", re.IGNORECASE)
_AGENDA_LINK_IN_TEXT = re.compile(r"https?://[^/\s?#]+(/agendas/[0-9a-f]{32}/[^\s?#)\]>\"']+)")


def current_link(org: Org, url: str) -> str:
    """``url`` on the ``public_url`` in force now when it is one of the product's agenda
    addresses (whatever host it was made with, or none), else as it is (a Google Doc).

    Links are built when they are used (a feed served, a calendar written, an agenda written
    or shown, a report printed), never trusted as stored: a ``public_url`` changed since (a
    TLS proxy put in front) would otherwise leave feeds mixing both hosts."""
    found = _AGENDA_LINK.match(url.strip())
    if found is None:
        return url
    return org.server.public_url.rstrip("/") + found.group(1)


def current_links_in_text(org: Org, text: str) -> str:
    """``text`` with every agenda address in it on the current ``public_url``."""
    base = org.server.public_url.rstrip("/")
    return _AGENDA_LINK_IN_TEXT.sub(lambda found: base + found.group(1), text)


def agenda_url(org: Org, ledger: Ledger, path: Path) -> str:
    """The address that serves the agenda file ``path`` as a page.

    ``path`` is ``<data_dir>/agendas/<manager>/<rep>/<YYYY-MM-DD>.md`` (absolute, or relative
    to the agendas folder). Raises ``ValueError`` for any other path.
    """
    root = (org.data_dir / "agendas").resolve()
    full = (path if path.is_absolute() else root / path).resolve()
    if not full.is_relative_to(root) or full.suffix != ".md":
        raise ValueError(f"{path} is not an agenda file under {root}")
    parts = full.relative_to(root).parts
    if len(parts) != 3:
        raise ValueError(f"{path} is not laid out as <manager>/<rep>/<date>.md under {root}")
    manager, rep, name = parts
    day = name.removesuffix(".md")
    if agenda_file(org, manager, rep, day) != full:
        raise ValueError(f"{path} is not laid out as <manager>/<rep>/<date>.md under {root}")
    token = agenda_token(ledger, manager, rep, day)
    return (
        f"{org.server.public_url}/agendas/{token}/"
        f"{quote(manager.lower(), safe='@')}/{quote(rep.lower(), safe='@')}/{day}"
    )


# --------------------------------------------------------------------------- the feed


@dataclass(frozen=True, slots=True)
class Feed:
    """One person's feed: the bytes served and their (strong) ETag, quoted."""

    email: str
    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class _Inputs:
    """Everything one feed is built from, read from the ledger in one go."""

    series: tuple[SeriesRecord, ...]
    weeks: tuple[tuple[OccurrenceRecord, ...], ...]
    makeups: tuple[tuple[MakeupRecord, ...], ...]


def _read_inputs(ledger: Ledger, email: str) -> _Inputs:
    # Separate reads, not one transaction: the server shares one Ledger between threads and
    # a transaction binds a connection to the Ledger object. A pass committing in between
    # gives a feed that is current on the next fetch (its ETag differs), never a broken one.
    mine = ledger.feed_series(email)
    keys = [s.pair_key for s in mine]
    makeups = ledger.makeups(keys)
    occurrences = ledger.occurrences(keys)
    weeks = [occurrences.get(key, {}) for key in keys]
    return _Inputs(
        series=tuple(mine),
        weeks=tuple(tuple(w[k] for k in sorted(w)) for w in weeks),
        makeups=tuple(
            tuple(m for _, m in sorted(makeups.get(s.pair_key, {}).items()) if m.state == "booked")
            for s in mine
        ),
    )


def build_feed(org: Org, ledger: Ledger, email: str) -> Feed:
    """``email``'s feed (an empty calendar when they are in no pair)."""
    email = email.lower()
    return _render_feed(org, email, _read_inputs(ledger, email))


def _render_feed(org: Org, email: str, inputs: _Inputs) -> Feed:
    """The feed's bytes: a VCALENDAR head, one VTIMEZONE per zone, each series' events.

    Assembled from bytes rather than serialised as one icalendar object: each series' part is
    rendered once (``_series_part``, shared by the manager's and the rep's feed and kept while
    it does not change) and each VTIMEZONE once per span (``_vtimezone``).
    """
    person = org.people.get(email)
    name = person.name if person is not None and person.name else email
    refresh = max(_MIN_REFRESH, timedelta(minutes=org.schedule.poll_minutes))

    head = Calendar()
    head.add("prodid", ical.PRODID)
    head.add("version", "2.0")
    head.add("method", "PUBLISH")
    head.add("x-wr-calname", f"1:1s of {name}")
    head.add("x-wr-caldesc", f"Weekly 1:1s kept on the calendar by oneonone ({org.name}).")
    head.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    head.add("x-published-ttl", vDuration(refresh))
    opening = bytes(head.to_ical()).removesuffix(b"END:VCALENDAR\r\n")

    parts: list[bytes] = []
    spans: list[datetime] = []
    for anchor, weeks, makeups in zip(inputs.series, inputs.weeks, inputs.makeups, strict=True):
        pair, summary, description = _pair(org, anchor)
        # Agenda links on the public_url in force now, whatever was stored.
        weeks = tuple(
            replace(record, agenda=current_link(org, record.agenda)) if record.agenda else record
            for record in weeks
        )
        ahead = close_weeks_ahead(
            anchor,
            (record.week for record in weeks),
            org.calendar,
            org.zone,
            org.calendar.close_window.policy,
        )
        part, span = _series_part(pair, anchor, weeks, makeups, summary, description, ahead)
        parts.append(part)
        spans.extend(span)
    zones: list[bytes] = []
    if spans:
        # The same span rule as ``ical.render``: a year before the first instant to ten years
        # on, so an open-ended series stays covered until it is next rewritten.
        first = min(utc(moment) for moment in spans).date()
        last = max(utc(moment) for moment in spans).date()
        first_date = date(first.year - 1, 1, 1)
        last_date = date(max(last.year, first.year + 10) + 1, 1, 1)
        for zone in sorted({anchor.timezone for anchor in inputs.series}):
            zones.append(_vtimezone(zone, first_date, last_date))
    body = b"".join([opening, *zones, *parts, b"END:VCALENDAR\r\n"])
    return Feed(email, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _vtimezone(zone: str, first: date, last: date) -> bytes:
    # From the zone's real transitions: icalendar's ``Timezone.from_tzinfo`` writes every
    # DAYLIGHT onset an hour late (see ``scheduler.vtimezone``).
    return vtimezone_bytes(zone, first, last)


@lru_cache(maxsize=4096)
def _series_part(
    pair: Pair,
    anchor: SeriesRecord,
    weeks: tuple[OccurrenceRecord, ...],
    makeups: tuple[MakeupRecord, ...],
    summary: str,
    description: str,
    ahead: tuple[datetime, ...] = (),
) -> tuple[bytes, tuple[datetime, ...]]:
    """One series' VEVENTs (and its make-ups') as bytes, with the instants they name (for the
    VTIMEZONE span). Cached on its inputs, all frozen values: the same inputs, the same bytes."""
    records = {record.week: record for record in weeks}
    spec = _feed_spec(pair, anchor, records, summary, description, ahead)
    attachments = _attachments(anchor, records, spec)
    events = _events(ical.render(spec, anchor.dtstamp))
    for event in events:
        rid = event.get("RECURRENCE-ID")
        url = attachments.get(utc(rid.dt)) if rid is not None else None
        if url is not None:
            event.add("attach", vUri(url))
    spans = [spec.dtstart, *spec.exdates, *(o.start for o in spec.overrides)]
    if anchor.until is not None:
        spans.append(anchor.until)
    for makeup in makeups:
        single = _makeup_spec(pair, anchor, makeup, summary, records.get(makeup.week))
        events.append(_events(ical.render(single, makeup.updated_at))[0])
        spans.append(makeup.start)
    return b"".join(bytes(event.to_ical()) for event in events), tuple(spans)


def _events(data: bytes) -> list[Component]:
    parsed = Calendar.from_ical(data)
    return [component for component in parsed.subcomponents if component.name == "VEVENT"]


def _pair(org: Org, anchor: SeriesRecord) -> tuple[Pair, str, str]:
    """The pair of a series record, from the org file or (a pair that left it) the ledger."""
    pair = anchor_pair(org, anchor)
    manager, rep = pair.manager, pair.rep
    manager_email, rep_email = manager.email, rep.email
    if manager_email in org.people and rep_email in org.people:
        summary = org.title(pair)
    else:
        summary = f"1:1 {manager.first_name} / {rep.first_name}"
    if anchor.until is not None:
        description = "This 1:1 series has ended: the pair is no longer in the org file."
    else:
        description = (
            f"Weekly 1:1 of {manager.name or manager.email} and {rep.name or rep.email}, kept "
            "on the calendar by oneonone. This feed is read-only: moves, cancellations and "
            f"make-ups made on {manager.first_name}'s calendar show up here."
        )
    return pair, summary, description


def _feed_spec(
    pair: Pair,
    anchor: SeriesRecord,
    records: dict[str, OccurrenceRecord],
    summary: str,
    description: str,
    ahead: tuple[datetime, ...] = (),
) -> SeriesSpec:
    """The series as the ledger has it, plus what only a feed needs: an override for each
    agenda, and an EXDATE for each week that will not or did not take place although the
    calendars still show it: a week the rep or the manager declined (a 1:1 with one person
    is no 1:1; its make-up, if any, is in the feed instead), and a week of the rule the ledger
    holds no occurrence for (the daemon was not running, say). The feed shows the 1:1s that
    happen, so a subscriber's calendar never shows a meeting the ledger says is off."""
    spec = series_spec(
        pair,
        anchor,
        records,
        summary=summary,
        description=description,
        partstats={},
        override_partstats={},
        ahead=ahead,
    )
    zone = ZoneInfo(anchor.timezone)
    exdates = list(spec.exdates)
    if records:
        week = instance_week(anchor, anchor.dtstart)
        last = max(records)
        while week <= last:
            if week not in records:
                rid = rule_instance(anchor, week)
                if rid >= anchor.dtstart and (anchor.until is None or rid <= anchor.until):
                    exdates.append(rid)
            week = week_after(week)
    for week, record in records.items():
        rid = rule_instance(anchor, week)
        in_rule = rid >= anchor.dtstart and (anchor.until is None or rid <= anchor.until)
        if record.change == "declined" and in_rule:
            exdates.append(rid)
    excluded = {utc(moment) for moment in exdates}
    overrides = {
        utc(o.recurrence_id): o for o in spec.overrides if utc(o.recurrence_id) not in excluded
    }
    for week, record in records.items():
        if not record.agenda:
            continue
        rid = rule_instance(anchor, week)
        key = utc(rid)
        if key in excluded or rid < anchor.dtstart:
            continue
        if anchor.until is not None and rid > anchor.until:
            continue
        current = overrides.get(key) or InstanceOverride(
            recurrence_id=rid,
            start=rid.astimezone(zone),
            end=(key + anchor.duration).astimezone(zone),
            description=record.reason,
        )
        text = current.description or description
        overrides[key] = replace(current, description=f"{text}\n\nAgenda: {record.agenda}")
    return replace(
        spec,
        exdates=tuple(sorted(exdates, key=utc)),
        overrides=tuple(overrides[key] for key in sorted(overrides)),
    )


def _attachments(
    anchor: SeriesRecord, records: dict[str, OccurrenceRecord], spec: SeriesSpec
) -> dict[datetime, str]:
    """Agenda URL by the UTC recurrence id of each override that carries one."""
    written = {utc(o.recurrence_id) for o in spec.overrides}
    result: dict[datetime, str] = {}
    for week, record in records.items():
        if record.agenda:
            key = utc(rule_instance(anchor, week))
            if key in written:
                result[key] = record.agenda
    return result


def _makeup_spec(
    pair: Pair,
    anchor: SeriesRecord,
    makeup: MakeupRecord,
    summary: str,
    record: OccurrenceRecord | None = None,
) -> SeriesSpec:
    """A make-up as a single event; with the week's agenda (the make-up's own, once it has
    one) as its ``ATTACH`` and in its description."""
    zone = ZoneInfo(anchor.timezone)
    monday = week_monday(makeup.week)
    description = (
        makeup.reason
        or f"Make-up for the 1:1 of the week of {monday:%d %b %Y}, booked by oneonone."
    )
    agenda = record.agenda if record is not None else None
    if agenda:
        description = f"{description}\n\nAgenda: {agenda}"
    return SeriesSpec(
        uid=makeup.uid,
        pair_key=anchor.pair_key,
        summary=summary,
        attachment=Attachment(agenda, "Agenda") if agenda else None,
        description=description,
        organizer_email=pair.manager.email,
        organizer_name=pair.manager.name,
        attendee_email=pair.rep.email,
        attendee_name=pair.rep.name,
        dtstart=makeup.start.astimezone(zone),
        duration=makeup.end - makeup.start,
        makeup_week=makeup.week,
    )


#: Bumped whenever the same ledger and org file give other bytes (the feed cache in the
#: database must not serve a feed built by older code; the rendering modules' source is
#: hashed into the context too, see ``_code_digest``).
FEED_FORMAT = "1"
#: The modules whose code decides a feed's bytes.
_RENDERING = ("scheduler.feeds", "scheduler.ical", "scheduler.reconcile", "scheduler.vtimezone")


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """A digest of the code that renders feeds (read once per process), so replicas of two
    versions during an upgrade never serve each other's stored feeds."""
    digest = hashlib.sha256(FEED_FORMAT.encode())
    for name in _RENDERING:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        try:
            digest.update(Path(origin).read_bytes() if origin else name.encode())
        except OSError:
            digest.update(name.encode())
    for package in ("icalendar", "holidays"):
        try:
            digest.update(importlib.metadata.version(package).encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(package.encode())
    return digest.hexdigest()


def feed_context(org: Org) -> str:
    """What a feed's bytes depend on besides the ledger: the org file's names, titles, zones,
    close window, refresh interval and public address, and the code. A change of any of these
    rebuilds every feed (lazily, each on its next fetch); the org file changes rarely."""
    calendar = org.calendar
    parts = (
        _code_digest(),
        org.name,
        org.timezone,
        org.title_template,
        org.schedule.poll_minutes,
        org.server.public_url,
        sorted(calendar.workdays),
        calendar.country,
        calendar.subdivision,
        calendar.week_start,
        calendar.close_window,
        sorted(org.people.items()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Entry:
    feed: Feed
    #: the person's feed version it was built at (``scheduler.store.feedcache``)
    version: int
    context: str


class FeedCache:
    """Built feeds by person, kept until that person's 1:1s change: a fetch of a feed that
    did not change reads nothing from the ledger.

    - Each ledger write that changes a person's series, weeks or make-ups (or rotates their
      token) bumps their feed version when it commits (``scheduler.store.feedcache``). This
      cache asks the ledger what changed since it last asked (one indexed read) at most once
      every ``check_every`` seconds, and at once after a ledger of this process committed a
      change: a pass's change shows on the next fetch from this process, and within a second
      from another replica's.
    - A feed not held here is read from the ledger's ``feed_cache`` when one of the same
      version and context is stored there (``share``: by default on a shared ledger, where
      replicas serve one another's builds), else built and stored.
    - Token lookups of known tokens are kept too; an unknown token is always looked up in the
      ledger (``find_feed``: constant work, whatever the token).
    - At most ``max_bytes`` of feeds are held; the oldest built go first.

    ``cached`` is the fast path (no I/O, safe on the event loop); ``open`` and ``get`` do the
    rest in a worker thread. Thread-safe; the server shares one.
    """

    def __init__(
        self,
        *,
        share: bool | None = None,
        check_every: float = 1.0,
        max_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.share = share
        self.check_every = check_every
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._bytes = 0
        self._tokens: dict[str, str] = {}  # token hash -> email
        self._token_of: dict[str, str] = {}  # email -> token hash
        self._versions: dict[str, int] = {}  # email -> feed version, as last read
        self._generation = -1  # the newest feed generation read (-1: never read)
        self._checked = -1e18  # time.monotonic() of the last read
        self._local = -1  # feedcache.local_changes() at the last read
        self._org: Org | None = None
        self._context = ""

    # ------------------------------------------------------------------ the fast path

    def cached(self, org: Org, digest: str) -> Feed | None:
        """The feed the token whose hash is ``digest`` (``token_hash``) opens, when it is
        held here and known current; ``None`` when the slow path (``open``) must decide.
        Reads nothing but memory."""
        if (
            org is not self._org
            or time.monotonic() - self._checked > self.check_every
            or feedcache.local_changes() != self._local
        ):
            return None
        email = self._tokens.get(digest)
        if email is None:
            return None
        entry = self._entries.get(email)
        if (
            entry is None
            or entry.context != self._context
            or entry.version < self._versions.get(email, 0)
        ):
            return None
        return entry.feed

    # ------------------------------------------------------------------ the slow path

    def open(self, org: Org, ledger: Ledger, token: str) -> Feed | None:
        """The feed ``token`` opens, or ``None`` for an unknown token."""
        self._refresh(ledger)
        digest = token_hash(token)
        email = self._tokens.get(digest)
        if email is None:
            email = find_feed(ledger, token)
            if email is None:
                return None
            with self._lock:
                old = self._token_of.get(email)
                if old is not None:
                    self._tokens.pop(old, None)
                self._tokens[digest] = email
                self._token_of[email] = digest
        return self.get(org, ledger, email)

    def get(self, org: Org, ledger: Ledger, email: str) -> Feed:
        """``email``'s feed, current as of the last look at the ledger (at most
        ``check_every`` seconds ago, or after this process's last change)."""
        email = email.lower()
        self._refresh(ledger)
        context = self._context_of(org)
        entry = self._entries.get(email)
        if (
            entry is not None
            and entry.context == context
            and entry.version >= self._versions.get(email, 0)
        ):
            return entry.feed
        share = ledger.shared if self.share is None else self.share
        # The version is read before the inputs: a pass committing in between makes the
        # version newer than the one recorded here, so the next look drops this build.
        if share:
            version, stored = ledger.stored_feed(email)
        else:
            version, stored = ledger.feed_version(email), None
        if stored is not None and stored.version == version and stored.context == context:
            feed = Feed(email, stored.body, stored.etag)
        else:
            feed = build_feed(org, ledger, email)
            if share:
                try:
                    ledger.keep_feed(
                        email, feedcache.StoredFeed(version, context, feed.etag, feed.body)
                    )
                except SQLAlchemyError as error:  # a cache: serving goes on without it
                    log.warning("could not keep the feed of %s in the ledger: %s", email, error)
        self._remember(email, _Entry(feed, version, context))
        return feed

    def _context_of(self, org: Org) -> str:
        if org is not self._org:
            context = feed_context(org)
            with self._lock:
                self._org, self._context = org, context
        return self._context

    def _remember(self, email: str, entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(email, None)
            if old is not None:
                self._bytes -= len(old.feed.body)
            self._entries[email] = entry
            self._bytes += len(entry.feed.body)
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                oldest = next(iter(self._entries))
                self._bytes -= len(self._entries.pop(oldest).feed.body)

    def _refresh(self, ledger: Ledger) -> None:
        """Read what changed since the last read, when it is due (see the class)."""
        if (
            time.monotonic() - self._checked <= self.check_every
            and feedcache.local_changes() == self._local
        ):
            return
        with self._refresh_lock:
            local = feedcache.local_changes()
            began = time.monotonic()
            if began - self._checked <= self.check_every and local == self._local:
                return  # another thread read it meanwhile
            changed = ledger.feeds_changed_since(self._generation)
            with self._lock:
                for email, version in changed.items():
                    if email == feedcache.GENERATION:
                        self._generation = max(self._generation, version)
                        continue
                    self._versions[email] = version
                    entry = self._entries.get(email)
                    if entry is not None and entry.version < version:
                        self._bytes -= len(self._entries.pop(email).feed.body)
                    digest = self._token_of.pop(email, None)
                    if digest is not None:
                        self._tokens.pop(digest, None)
                if self._generation < 0:
                    self._generation = 0  # nothing ever bumped: read only changes from now
                # Both read before the query: a change committed meanwhile is read next time.
                self._local, self._checked = local, began
