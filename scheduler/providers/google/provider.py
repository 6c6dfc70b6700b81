"""The Google Calendar provider: the same reads and writes as vdir, through Calendar v3.

How a pass talks to Google, and why it costs about one request per organizer per pass:

- **Only organizers' calendars are polled.** The series lives on the manager's calendar with
  the rep as attendee; Google keeps the rep's copy itself and shows the rep's answer
  (``responseStatus``) on the organizer's copy, so a rep's "copy" is read from the organizer's
  (a ``write_many`` job for an attendee copy sends nothing when the organizer is on Google:
  ``Capabilities.keeps_attendee_copies``).
- **Incremental sync.** Each organizer calendar is listed whole (``singleEvents=false``: masters
  and their exceptions, keyed by ``recurringEventId`` + ``originalStartTime``) once, then only
  its changes with ``syncToken``; 410 means a full resync. The first page of every organizer's
  list goes in batches of 50, each part acting as its organizer (one HTTP request per 50
  organizers; Google still counts each part as a request). Sync tokens cannot be combined with
  extended-property filters, so the tag is filtered here. What matters (tagged events, weekly
  two-person events that could be adopted, recent two-person meetings, out-of-office and
  all-day events) is kept with the token in the ledger's state, together, so a crash leaves a
  consistent pair and a restart needs no full sync.
- **Busy time from ``freebusy.query``**, up to 50 calendars per query, refreshed at most every
  ``BUSY_REFRESH`` (busy time only steers placement, and a fresh conflict found within the
  half hour is soon enough; polling it every pass would cost more than the series themselves).
  The product's own events are taken out of it (they are the 1:1s, not what the 1:1s avoid),
  which also hides another meeting at exactly the same times: said in the README.
  A business day whose working hours are busy end to end counts as a day out (free/busy does
  not say "out of office"; organizers' own out-of-office events are read exactly).
- **Versions and preconditions.** A series' version is a digest of its master's etag and its
  exceptions' (id, etag) pairs: Google gives every change a new etag. Every event a read returns
  carries it, a write or delete conditional on another version is refused before any request,
  and the requests carry ``If-Match`` so Google refuses (412) what changed since the read
  (``GoogleProvider.write_many`` says which requests, and when ``Written.version`` is known).
- **One request for a week's agenda.** When a write changes only what instances say (an
  agenda's link and words on a week that keeps its time) and the master would be written as
  it is, only those instances are patched: no master update, no stamp after it. The master
  keeps its stamp, and the calendar's cache remembers the new one in its place
  (``CalendarCache.stamps``, kept in the ledger's state) for as long as the master carries
  the stamp it had (``GoogleProvider.write_many`` says why that is safe).

Exports: ``GoogleSession``, ``GoogleProvider``, ``StateStore`` (``session_for`` is in the
package).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec, utc
from scheduler.errors import CalendarError, ConflictError
from scheduler.providers.base import (
    UNFINISHED,
    Capabilities,
    WriteJob,
    Written,
    is_candidate,
    is_single_meeting,
    link_let_go,
    unfinished,
)
from scheduler.providers.freebusy import days_out, subtract_spans
from scheduler.providers.google import events as gev
from scheduler.providers.google.client import (
    BATCH_LIMIT,
    BatchPart,
    DuplicateError,
    GoneError,
    GoogleCall,
    GoogleClient,
    NotFoundError,
)
from scheduler.providers.vdir import MEMO_BYTES, Lazy, Memo, event_weight

__all__ = ["BUSY_REFRESH", "GoogleProvider", "GoogleSession", "Stamp", "StateStore"]

BUSY_REFRESH = timedelta(minutes=30)
#: freebusy.query answers for at most 50 calendars (``calendarExpansionMax``).
FREEBUSY_LIMIT = 50
#: single meetings and days out older than this no longer matter to any pass
KEEP_PAST = timedelta(days=21)
PAGE_SIZE = 2500  # events.list maxResults: the documented maximum

_MEMO = Memo(MEMO_BYTES)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The fingerprint and sequence a series' last write, which patched only instances, would
    have put on its master: they stand in for the master's own stamp while the master still
    carries ``over`` (the fingerprint and sequence it had then), which every other write of
    the product replaces."""

    over: tuple[str, int]
    fingerprint: str
    sequence: int


@dataclass
class CalendarCache:
    """One organizer calendar as the last sync left it: the token and the events that matter
    (kept together under ``google.sync:<email>``), and the stamps of its series whose last
    write patched only instances (under ``google.stamps:<email>``, kept when a write ends)."""

    token: str | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Google id
    synced: bool = False  # this pass
    _grouped: list[tuple[dict[str, Any], list[dict[str, Any]]]] | None = None
    #: master id -> the stamp its last write, which patched only instances, stands for
    stamps: dict[str, Stamp] = field(default_factory=dict)

    def grouped(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each master with its exceptions, in id order; worked out once per sync (the
        organizer and each of their reps read the same calendar)."""
        if self._grouped is None:
            exceptions: dict[str, list[dict[str, Any]]] = {}
            for event in self.events.values():
                parent = event.get("recurringEventId")
                if parent:
                    exceptions.setdefault(str(parent), []).append(event)
            self._grouped = [
                (event, exceptions.get(event_id, []))
                for event_id, event in sorted(self.events.items())
                if "recurringEventId" not in event
            ]
        return self._grouped

    def to_json(self) -> str:
        return json.dumps({"token": self.token, "events": self.events}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> CalendarCache:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(token=data.get("token"), events=dict(data.get("events") or {}))
        except (ValueError, TypeError, AttributeError):
            return cls()  # unreadable: a full sync rebuilds it

    def stamps_json(self) -> str:
        return json.dumps(
            {
                event_id: [*stamp.over, stamp.fingerprint, stamp.sequence]
                for event_id, stamp in sorted(self.stamps.items())
            },
            separators=(",", ":"),
        )

    @staticmethod
    def stamps_from_json(text: str | None) -> dict[str, Stamp]:
        if not text:
            return {}
        try:
            return {
                str(event_id): Stamp((str(over), int(over_sequence)), str(found), int(sequence))
                for event_id, (over, over_sequence, found, sequence) in json.loads(text).items()
            }
        except (ValueError, TypeError, AttributeError):
            # Unreadable: each such series reads its master's stamp, and is rewritten once.
            return {}


class StateStore:
    """Where sync state is kept between processes (the ledger's key-value state)."""

    def __init__(self, get: Callable[[str], str | None], put: Callable[[str, str], None]) -> None:
        self.get = get
        self.put = put


class GoogleSession:
    """Everything Google for one org within one process: the client, the caches, busy time.

    Kept across passes (``session_for``) so a daemon keeps its credentials, caches and HTTP
    connections; every pass calls ``begin`` first.
    """

    def __init__(
        self,
        client: GoogleClient,
        people: Mapping[str, Person],
        organizers: Iterable[str],
        store: StateStore | None = None,
    ) -> None:
        self.client = client
        self.people = dict(people)  # the Google people of the org, by email
        self.organizers = set(organizers)
        self.store = store
        self.persist = False
        self.now = datetime.now(UTC)
        self._caches: dict[str, CalendarCache] = {}
        self._busy: dict[str, list[tuple[datetime, datetime]]] = {}
        self._busy_window: tuple[datetime, datetime] | None = None
        self._busy_at: datetime | None = None
        self._busy_errors: dict[str, str] = {}
        self._busy_failed = False
        self._listed: set[str] = set()  # organizers whose calendars this pass asked for
        #: rep -> their managers on Google (whose calendars hold the reps' series)
        self.pair_managers: dict[str, set[str]] = {}
        #: rep on Google -> their manager who is not (a pair the Google provider cannot keep)
        self.foreign_managers: dict[str, str] = {}

    def _events(self) -> Any:
        return self.client.events()

    def begin(self, now: datetime, *, persist: bool, store: StateStore | None) -> None:
        self.now = now
        self.persist = persist
        self.client.reset()
        if store is not None:
            self.store = store
        for cache in self._caches.values():
            cache.synced = False
        self._listed = set()

    # ----------------------------------------------------------------------- sync

    def _cache(self, email: str) -> CalendarCache:
        cache = self._caches.get(email)
        if cache is None:
            stored = self.store.get(f"google.sync:{email}") if self.store else None
            cache = CalendarCache.from_json(stored)
            if self.store is not None:
                stamps = self.store.get(f"google.stamps:{email}")
                cache.stamps = CalendarCache.stamps_from_json(stamps)
            self._caches[email] = cache
        return cache

    def save_stamps(self, email: str) -> None:
        """Keep ``email``'s stamps in the ledger's state (a pass that writes), without those
        whose master is gone or was written since (they never hold again)."""
        cache = self._cache(email)
        for event_id, stamp in list(cache.stamps.items()):
            master = cache.events.get(event_id)
            if master is None or gev.stamp_of(master) != stamp.over:
                del cache.stamps[event_id]
        if self.persist and self.store is not None:
            self.store.put(f"google.stamps:{email}", cache.stamps_json())

    def calendar(self, email: str) -> CalendarCache:
        """``email``'s calendar, synced once per pass. The first calendar a pass asks for
        brings the first page of every other organizer's not yet synced with it, in one batch
        per 50 (``_sync_together``), since a pass reads them all."""
        cache = self._cache(email)
        if not cache.synced:
            self._sync_together(email)
        return cache

    def _sync_together(self, email: str) -> None:
        # Each organizer goes in one batch a pass at most: one that failed there is synced
        # on its own when asked for, and is not sent again with the next.
        others = sorted(
            o for o in self.organizers - self._listed if o != email and not self._cache(o).synced
        )
        emails = [email, *others]
        self._listed.update(emails)
        firsts: dict[str, Any] = {}
        if len(emails) > 1:
            parts = [
                BatchPart(
                    other,
                    other,
                    GoogleCall(
                        "calendar.events.list",
                        self._events().list(**_list_params(other, self._cache(other).token, None)),
                    ),
                    f"{other}'s Google Calendar",
                )
                for other in emails
            ]
            firsts = self.client.batch_parts(parts)
        for other in emails:
            first = firsts.get(other)
            if other != email and not isinstance(first, dict | GoneError):
                continue  # failed: synced on its own when asked for, which says why
            cache = self._cache(other)
            self._sync(other, cache, first)
            cache.synced = True

    def _sync(self, email: str, cache: CalendarCache, first: Any = None) -> None:
        """Bring ``cache`` up to date; ``first`` is the answer to its first list request when
        that was sent already (in a batch): an answer, or the error it met."""
        what = f"{email}'s Google Calendar"
        full = cache.token is None
        try:
            if isinstance(first, CalendarError):
                raise first
            changes, token = self._list(email, cache.token, what, first)
        except GoneError:
            # https://developers.google.com/workspace/calendar/api/guides/sync: "Sometimes sync
            # tokens are invalidated by the server ... respond with 410 ... clear the client's
            # store and perform a new full sync."
            full = True
            changes, token = self._list(email, None, what)
        events = {} if full else dict(cache.events)
        for item in changes:
            event_id = str(item.get("id", ""))
            if not event_id:
                continue
            if item.get("status") == "cancelled" and "recurringEventId" not in item:
                # A deleted event (incremental sync reports deletions as cancelled).
                events.pop(event_id, None)
                for key in [k for k, e in events.items() if e.get("recurringEventId") == event_id]:
                    events.pop(key)
                continue
            events[event_id] = item
        events = self._relevant(events)
        # A new token alone is not worth a write: replaying the same (empty) changes from the
        # stored one after a restart gives the same cache.
        changed = full or bool(changes)
        cache.events = events
        cache.token = token
        cache._grouped = None
        if changed and self.persist and self.store is not None:
            self.store.put(f"google.sync:{email}", cache.to_json())

    def _list(
        self, email: str, token: str | None, what: str, first: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every page of a full list (``token`` None) or of the changes since ``token``
        (``first``: the first page, when it was asked for already)."""
        items: list[dict[str, Any]] = []
        page: str | None = None
        while True:
            if first is not None:
                answer, first = first, None
            else:
                answer = self.client.execute(
                    email,
                    GoogleCall(
                        "calendar.events.list",
                        self._events().list(**_list_params(email, token, page)),
                    ),
                    what=what,
                )
            items.extend(answer.get("items") or [])
            page = answer.get("nextPageToken")
            if not page:
                return items, answer.get("nextSyncToken")

    def _relevant(self, events: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The events a pass can use (see the module docstring); exceptions follow masters."""
        since = self.now - KEEP_PAST
        masters: dict[str, dict[str, Any]] = {}
        for event_id, event in events.items():
            if "recurringEventId" in event:
                continue
            if gev.is_owned(event):
                masters[event_id] = event
                continue
            people = {str(a.get("email", "")).lower() for a in event.get("attendees") or []}
            organizer = str((event.get("organizer") or {}).get("email", "")).lower()
            if organizer:
                people.add(organizer)
            useful = (
                len(people) == 2  # a 1:1 to adopt, or a make-up people booked themselves
                or event.get("eventType") == "outOfOffice"
                or "date" in (event.get("start") or {})  # all day: a day out
            )
            # A single event that ended weeks ago matters to no pass; a recurring one may.
            if useful and (event.get("recurrence") or gev.within(event, since)):
                masters[event_id] = event
        kept = dict(masters)
        for event_id, event in events.items():
            if event.get("recurringEventId") in masters:
                kept[event_id] = event
        return kept

    # ----------------------------------------------------------------------- busy time

    def busy(self, email: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """``email``'s busy intervals from free/busy, refreshed every ``BUSY_REFRESH``."""
        stale = (
            self._busy_at is None
            or self.now - self._busy_at >= BUSY_REFRESH
            or (self._busy_failed and self._busy_at != self.now)  # a failed query: next pass
            or self.now < self._busy_at
            or self._busy_window is None
            or not (self._busy_window[0] <= start and end <= self._busy_window[1])
        )
        if stale:
            self._load_busy(start, end)
        if email in self._busy_errors:
            raise CalendarError(self._busy_errors[email])
        return list(self._busy.get(email, []))

    def _load_busy(self, start: datetime, end: datetime) -> None:
        if self.store is not None and self._busy_at is None:
            stored = self.store.get("google.busy")
            if stored and self._restore_busy(stored, start, end):
                return
        emails = sorted(self.people)
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        errors: dict[str, str] = {}
        failed = False
        for index in range(0, len(emails), FREEBUSY_LIMIT):
            chunk = emails[index : index + FREEBUSY_LIMIT]
            actor = chunk[0]
            body = {
                "timeMin": utc(start).isoformat().replace("+00:00", "Z"),
                "timeMax": utc(end).isoformat().replace("+00:00", "Z"),
                "items": [{"id": email} for email in chunk],
            }
            try:
                answer = self.client.execute(
                    actor,
                    GoogleCall(
                        "calendar.freebusy.query",
                        self.client.resource("calendar", "freebusy").query(body=body),
                    ),
                    what="free/busy of "
                    + ", ".join(chunk[:3])
                    + (" ..." if len(chunk) > 3 else ""),
                )
            except CalendarError as error:
                # Those people are skipped this pass (said once each), the others go on; not
                # asked again for every one of them, and not kept for the next pass.
                failed = True
                errors.update((email, str(error)) for email in chunk)
                continue
            calendars = answer.get("calendars") or {}
            for email in chunk:
                found = calendars.get(email) or calendars.get(email.lower()) or {}
                if found.get("errors"):
                    reason = ", ".join(str(e.get("reason", "")) for e in found["errors"])
                    errors[email] = (
                        f"Google gives no free/busy for {email} ({reason}); check that the "
                        "address is right and that the calendar shares free/busy in the domain."
                    )
                    continue
                busy[email] = [
                    (_instant(item["start"]), _instant(item["end"]))
                    for item in found.get("busy") or []
                ]
        self._busy, self._busy_errors, self._busy_failed = busy, errors, failed
        self._busy_window = (start, end)
        self._busy_at = self.now
        if self.persist and self.store is not None and not failed:
            self.store.put(
                "google.busy",
                json.dumps(
                    {
                        "at": self.now.isoformat(),
                        "window": [start.isoformat(), end.isoformat()],
                        "busy": {
                            e: [[s.isoformat(), t.isoformat()] for s, t in spans]
                            for e, spans in busy.items()
                        },
                        "errors": errors,
                    }
                ),
            )

    def _restore_busy(self, text: str, start: datetime, end: datetime) -> bool:
        try:
            data = json.loads(text)
            at = datetime.fromisoformat(data["at"])
            window = (
                datetime.fromisoformat(data["window"][0]),
                datetime.fromisoformat(data["window"][1]),
            )
            busy = {
                email: [(datetime.fromisoformat(s), datetime.fromisoformat(t)) for s, t in spans]
                for email, spans in data["busy"].items()
            }
            errors = dict(data.get("errors") or {})
        except (ValueError, KeyError, TypeError):
            return False
        if not (at <= self.now < at + BUSY_REFRESH and window[0] <= start and end <= window[1]):
            return False
        if set(busy) | set(errors) != set(self.people):
            return False
        self._busy, self._busy_errors, self._busy_window, self._busy_at = busy, errors, window, at
        return True


def _list_params(email: str, token: str | None, page: str | None) -> dict[str, Any]:
    """``events.list`` of ``email``'s whole calendar (masters and exceptions), or of its
    changes since ``token``; ``page`` for the pages after the first."""
    params: dict[str, Any] = {"calendarId": email, "singleEvents": False, "maxResults": PAGE_SIZE}
    if token is not None:
        params["syncToken"] = token
    if page is not None:
        params["pageToken"] = page
    return params


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


@dataclass
class _WriteJob:
    """One object being written: what the calendar had as the pass read it, the master
    request if any, and what the requests answered."""

    spec: SeriesSpec
    event_id: str
    fingerprint: str
    current: dict[str, Any] | None
    observed: ObservedSeries | None
    #: the event's exceptions as read, by id
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the version read (``None``: no such event)
    version: str | None = None
    master: GoogleCall | None = None
    changed: bool = False
    #: the fingerprint goes on in a last request, once the instances are written
    stamp_later: bool = False
    #: only instances are written; the fingerprint goes in the cache's stamps, not on Google
    instances_only: bool = False
    #: the master as the last request that touched it answered
    master_answer: dict[str, Any] | None = None
    #: the master was made (or taken back) by this write: the exceptions read are not its own
    fresh: bool = False
    #: the master's update changed shared data, which Google carries to the exceptions that
    #: still had the series' value: their etags as read may be stale
    carried: bool = False
    #: the answers do not tell the resulting version (a 409 taken back)
    inexact: bool = False
    #: instances as their patches answered, by id
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: instances deleted by this write: id -> original start
    deleted: dict[str, datetime] = field(default_factory=dict)

    @property
    def stamp(self) -> str:
        """What the master carries until then: a stamp no pass wrote in full."""
        return f"{self.fingerprint}{UNFINISHED}" if self.stamp_later else self.fingerprint

    def version_after(self) -> str | None:
        """The version the write left, when the answers tell it exactly (``write_many``)."""
        if not self.changed:
            return self.version
        master = self.master_answer if self.master_answer is not None else self.current
        if self.inexact or self.deleted or master is None or not master.get("etag"):
            return None
        exceptions = {} if self.fresh else dict(self.exceptions)
        if self.carried and set(exceptions) - set(self.instances):
            return None
        exceptions.update(self.instances)
        return _version(_key(master, exceptions.values()))


@dataclass(frozen=True)
class _InstanceCall:
    """One instance request: the instance's id and original start, and the request."""

    instance: str
    original: datetime
    call: GoogleCall
    #: a patch that leaves the instance where it is, not cancelled: only its words and agenda
    #: change (what no pass compares when it looks for people's edits)
    keeps_time: bool = False


class GoogleProvider:
    """One person's Google Calendar (the calendar id is their e-mail)."""

    name = "google"
    capabilities = Capabilities(writable=True, keeps_attendee_copies=True, batch_size=BATCH_LIMIT)

    def __init__(self, session: GoogleSession, email: str) -> None:
        self.session = session
        self.email = email.lower()
        self.where = f"Google Calendar of {self.email}"

    def _events(self) -> Any:
        return self.session.client.events()

    # ----------------------------------------------------------------------- reading

    def _observe(
        self, master: dict[str, Any], exceptions: list[dict[str, Any]], cache: CalendarCache
    ) -> Any:
        """(parsed calendars, ObservedSeries with its version, memo key) of a master and its
        exceptions on the calendar ``cache`` holds; ``ValueError`` when they cannot be read.
        The fingerprint and sequence are the cache's ``Stamp`` for the event while its master
        still carries the stamp that one stands in for, else the master's."""
        key = _key(master, exceptions)
        href = f"{self.where}: event {master.get('id')}"
        stamp = cache.stamps.get(str(master.get("id")))
        if stamp is not None and stamp.over != gev.stamp_of(master):
            stamp = None  # the master was written since: its own stamp says what it holds
        # Converted only on a miss: a quiet pass reads the same events again and again.
        calendars = Lazy(lambda: _parse(master, exceptions, href))
        weight = event_weight(master, exceptions)
        observed = _MEMO.get(
            ("observe", href), (key, stamp), weight, _observe_versioned, calendars, href, key, stamp
        )
        return calendars, observed, key

    def _spans(
        self,
        calendars: Any,
        observed: ObservedSeries,
        key: tuple[Any, ...],
        start: datetime,
        end: datetime,
        zone: Any,
    ) -> tuple[list[tuple[datetime, datetime]], set[date]]:
        """This person's busy spans and days out from one observed object (memoised)."""
        found: tuple[list[tuple[datetime, datetime]], set[date]] = _MEMO.get(
            ("busy", observed.href, self.email, zone.key),
            (key, start, end),
            64,
            lambda: ical.busy_from_parsed(calendars(), observed.href, self.email, start, end, zone),
        )
        return found

    def _copy_of_ours(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` is this person's attendee copy of a product event another Google
        organizer holds. The tags are private to the organizer's copy ("Properties that are
        private to the copy of the event that appears on this calendar"), so the copy looks
        like anyone's weekly meeting and must be told apart by its id."""
        organizer = str((event.get("organizer") or {}).get("email", "")).lower()
        if not organizer or organizer == self.email or organizer not in self.session.organizers:
            return False
        theirs = self.session.calendar(organizer).events.get(str(event.get("id")))
        return theirs is not None and gev.is_owned(theirs)

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) and every product-owned object, each with its version (a
        digest of the master's etag and its exceptions' ids and etags); a rep's series are
        read from their managers' calendars, at the same versions. Adoption candidates and
        single meetings carry theirs too (adopting one is a write conditional on it). An
        owned event that cannot be read is named in ``problems`` and kept in ``damaged``."""
        result = CalendarRead()
        zone = person.zone
        own_spans: list[tuple[datetime, datetime]] = []
        if self.email in self.session.organizers:
            cache = self.session.calendar(self.email)
            result.object_count = len(cache.events)
            for master, exceptions in cache.grouped():
                if self._copy_of_ours(master):
                    continue  # read from its organizer's calendar below, as its attendee
                try:
                    calendars, observed, key = self._observe(master, exceptions, cache)
                    if observed is None:
                        continue
                    spans, out_days = self._spans(calendars, observed, key, start, end, zone)
                except ValueError as error:
                    result.problems.append(str(error))
                    if gev.is_owned(master):
                        # Ours and unreadable: not a deleted series; the product's next write
                        # replaces it, on condition that it is still what was read.
                        result.damaged[gev.uid_of(master)] = _version(_key(master, exceptions))
                    continue
                if gev.is_owned(master):
                    result.owned[observed.uid] = observed
                    own_spans.extend(spans)
                    continue
                result.out_days.update(out_days)
                if is_candidate(observed):
                    result.weekly_candidates.append(observed)
                    result.candidate_busy.setdefault(observed.uid, []).extend(spans)
                    own_spans.extend(spans)
                elif is_single_meeting(observed):
                    result.single_meetings.append(observed)
        # A rep's copies are their managers' (Google keeps attendee copies in step), and so are
        # the weekly meetings with them that could be adopted (kept out of busy time like
        # vdir's candidates: the pass adds back those it does not adopt).
        for manager in sorted(self.session.pair_managers.get(self.email, ())):
            cache = self.session.calendar(manager)
            for master, exceptions in cache.grouped():
                private = (master.get("extendedProperties") or {}).get("private") or {}
                ours = private.get(gev.PRIVATE_PAIR) == f"{manager}/{self.email}"
                if not ours and (gev.is_owned(master) or not master.get("recurrence")):
                    continue
                try:
                    calendars, observed, key = self._observe(master, exceptions, cache)
                    if observed is None:
                        continue
                    if not ours and not (
                        is_candidate(observed) and self.email in observed.attendees
                    ):
                        continue
                    spans, _ = self._spans(calendars, observed, key, start, end, zone)
                except ValueError as error:
                    result.problems.append(str(error))
                    if ours:
                        result.damaged[gev.uid_of(master)] = _version(_key(master, exceptions))
                    continue
                own_spans.extend(spans)
                if ours:
                    result.owned[observed.uid] = observed
                else:
                    result.candidate_busy.setdefault(observed.uid, []).extend(spans)
            result.object_count = max(result.object_count, len(result.owned))
        busy = self.session.busy(self.email, start, end)
        result.busy = subtract_spans(busy, own_spans)
        result.out_days |= days_out(result.busy, person, start, end)
        return result

    # ----------------------------------------------------------------------- writing

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Write each job in up to three rounds of batches (``capabilities.batch_size``
        requests each): the masters, the instances of those that need any, then those
        masters' fingerprints. Each job's outcome in order; one failing stops only itself.

        **Preconditions.** A job whose ``expect`` is not the version this pass read (the
        session's synced calendar) fails with ``ConflictError`` before any request. Then
        Google checks the rest: a master update carries ``If-Match`` with the master's etag,
        an instance patch or delete ``If-Match`` with its exception's etag when the instance
        has an exception (an instance never changed has no etag of its own), and a 412
        (``conditionNotMet``) is that job's ``ConflictError``. An insert that meets its own
        id (409: a lost answer, or a deleted event, which keeps its id) is taken back by an
        update conditional on the etag just read. A job spans several requests and Google
        has no transactions: when an instance request fails after its master was updated,
        the master keeps the ``UNFINISHED`` stamp, so the next pass reads it again. When an
        update changes the series' shared data Google carries it to the exceptions that
        still had the series' value (new etags nobody can know without reading), so the
        instance requests that follow it in the same job go without ``If-Match``.

        **Versions.** ``Written.version`` is exact when the answers give it: the master's
        etag from the last request that touched the master (else as read), each patched
        instance's etag from its answer, every other exception as read. It is ``None`` when
        they do not: an instance was deleted (a delete answers no etag), an insert was taken
        back after a 409 (the old event's exceptions are unknown), or the master's update
        changed shared data and some exception was not rewritten after it. A job that
        changes nothing gives the version read.

        **Instance-only writes.** When every instance request patches only a week's words
        and agenda (its time as it is, not cancelled) and the master would be updated with
        what it holds but for its stamp, the job sends those patches alone (round 2); its
        fingerprint and sequence go in the calendar's ``Stamp`` in place of the master's,
        kept in the ledger's state before ``write_many`` returns. A read takes the stamp
        while the master carries the one it stood in for; every other write of the product
        puts a new stamp on the master, which ends it. It is as safe as a stamp on the master:
        it says the same of the same copy, and survives people's edits as a master's stamp
        does. When it is not there (a pass killed before it was kept, a patch that failed
        after another went, another process's cache), the master's older stamp is read:
        the copy then holds some of the new write that no pass compares (words and agendas;
        a time or a cancellation always goes through the master), so nothing of it is read
        as people's doing, and the next pass writes the series again. With no master request
        there is no ``If-Match`` on the master: a person's edit of it since the read is kept
        and read next pass like any other, against the stamp.

        **Attendee copies.** Google keeps an attendee's copy of a series whose organizer is
        on Google itself: such a job sends nothing and gives ``Written(False, None)``.
        """
        outcomes: list[Written | CalendarError] = [Written(False, None)] * len(jobs)
        work: dict[str, _WriteJob] = {}
        for index, write in enumerate(jobs):
            organizer = write.spec.organizer_email.lower()
            if organizer != self.email:
                # The attendee's copy: Google keeps it in step with the organizer's.
                if organizer not in self.session.organizers:
                    outcomes[index] = CalendarError(_foreign(self.email, organizer))
                continue
            try:
                work[str(index)] = self._job(write)
            except CalendarError as error:
                outcomes[index] = error

        def fail(key: str, error: CalendarError) -> None:
            # The first error stands, but a person's edit (a conflict) is the one to tell.
            held = outcomes[int(key)]
            if not isinstance(held, CalendarError) or (
                isinstance(error, ConflictError) and not isinstance(held, ConflictError)
            ):
                outcomes[int(key)] = error

        # Round 1: the masters (inserted, or updated with If-Match on their etag).
        calls = {key: job.master for key, job in work.items() if job.master is not None}
        for key, answer in self._batch(calls).items():
            job = work[key]
            if isinstance(answer, DuplicateError):
                # Inserted by a pass that died before it knew (or a retried insert whose
                # first answer was lost), or deleted by a person (a deleted event keeps its
                # id): take it back with an update.
                try:
                    answer = self._recover(job)
                except CalendarError as error:
                    answer = error
                else:
                    job.fresh = job.inexact = True
            if isinstance(answer, CalendarError):
                fail(key, answer)
                work.pop(key)  # nothing of it was written: no instances, no stamp
                continue
            if calls[key].method == "calendar.events.insert" or job.current is None:
                job.fresh = True
                job.observed = None  # a new event: no exceptions yet
            elif job.exceptions and _shared(job.current) != _shared(answer):
                job.carried = True
            job.master_answer = answer
            job.changed = True
        # Round 2: the instances that differ from the spec.
        targets: dict[str, _InstanceCall] = {}
        for key, job in work.items():
            for number, item in enumerate(self._instance_calls(job)):
                targets[f"{key}:{number}"] = item
        answers = self._batch({key: item.call for key, item in targets.items()})
        for call_key, answer in answers.items():
            key = call_key.partition(":")[0]
            job, item = work[key], targets[call_key]
            deleting = item.call.method == "calendar.events.delete"
            if isinstance(answer, GoneError) and deleting:
                answer = None  # already deleted
            if isinstance(answer, CalendarError):
                fail(key, answer)
                continue
            job.changed = True
            if deleting:
                job.deleted[item.instance] = item.original
            elif isinstance(answer, dict):
                job.instances[item.instance] = answer
        # Round 3: the fingerprint, last, on the masters whose instances all went (see _job).
        # Not conditional: it claims only the product's own write, and a person's edit made
        # since round 1 stays theirs (read as such next pass, since the stamp says what the
        # product wrote).
        stamps = {
            key: GoogleCall(
                "calendar.events.patch",
                self._events().patch(
                    calendarId=self.email,
                    eventId=job.event_id,
                    body={"extendedProperties": {"private": {gev.PRIVATE_HASH: job.fingerprint}}},
                    sendUpdates="none",
                ),
            )
            for key, job in work.items()
            if job.stamp_later and not isinstance(outcomes[int(key)], CalendarError)
        }
        for key, answer in self._batch(stamps).items():
            if isinstance(answer, CalendarError):
                fail(key, answer)
                continue
            work[key].master_answer = answer
        if work:
            cache = self.session.calendar(self.email)
            restamped = False
            for key, job in work.items():
                self._remember(cache, job)
                failed = isinstance(outcomes[int(key)], CalendarError)
                if not failed:
                    outcomes[int(key)] = Written(job.changed, job.version_after())
                restamped |= self._restamp(cache, job, failed)
            if restamped:
                self.session.save_stamps(self.email)
        return outcomes

    @staticmethod
    def _restamp(cache: CalendarCache, job: _WriteJob, failed: bool) -> bool:
        """Record the stamp of an instance-only write that went in full (one that did not
        keeps the stamp before it: see ``write_many``); forget the stamp of a master written
        since. Whether the stamps changed."""
        if job.instances_only and not failed and job.current is not None:
            over, sequence = gev.stamp_of(job.current)
            if over is not None:
                cache.stamps[job.event_id] = Stamp(
                    (over, sequence), job.fingerprint, job.spec.sequence
                )
                return True
        if job.master_answer is not None:
            return cache.stamps.pop(job.event_id, None) is not None
        return False

    def _batch(self, calls: Mapping[str, GoogleCall]) -> dict[str, Any]:
        if not calls:
            return {}
        if len(calls) == 1:
            # One request needs no batch envelope (the envelope is an HTTP request of its own).
            [(key, call)] = calls.items()
            try:
                return {key: self.session.client.execute(self.email, call, what=self.where)}
            except CalendarError as error:
                return {key: error}
        return self.session.client.batch(self.email, list(calls.items()), what=self.where)

    def _held(self, event_id: str) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
        """The event ``event_id`` and its exceptions (by id) as this pass read them."""
        cache = self.session.calendar(self.email)
        current = cache.events.get(event_id)
        exceptions = {
            str(event.get("id")): event
            for event in cache.events.values()
            if event.get("recurringEventId") == event_id
        }
        return current, exceptions

    def _job(self, write: WriteJob) -> _WriteJob:
        spec = write.spec
        event_id = gev.event_id_for(spec.uid)
        current, exceptions = self._held(event_id)
        version = None if current is None else _version(_key(current, exceptions.values()))
        if version != write.expect:
            raise ConflictError(_conflict(spec.uid, self.where, current, write.expect))
        observed: ObservedSeries | None = None
        if current is not None:
            try:
                _, observed, _ = self._observe(
                    current, list(exceptions.values()), self.session.calendar(self.email)
                )
            except ValueError:
                observed = None  # unreadable (the read named it): written whole again
        fingerprint = write.digest()
        job = _WriteJob(spec, event_id, fingerprint, current, observed, exceptions, version)
        inserting = current is None or current.get("status") == "cancelled"
        rewriting = inserting or (
            observed is None
            or observed.fingerprint != fingerprint
            or observed.sequence != spec.sequence
        )
        if inserting:
            job.observed = None
        instance_calls = self._instance_calls(job) if rewriting else []
        if (
            not inserting
            and current is not None
            and observed is not None
            and observed.fingerprint is not None
            and not unfinished(observed.fingerprint)
            and instance_calls
            and all(item.keeps_time for item in instance_calls)
            and _same_master(current, gev.master_body(spec, fingerprint, current))
        ):
            # Only weeks' words and agendas change: they alone are patched, and the new stamp
            # goes in the cache in place of the master's (see write_many). Two requests fewer,
            # every week, for every pair whose agenda is attached.
            job.instances_only = True
            return job
        # The master and its instances are separate requests, so a pass may die between them.
        # The fingerprint says "the product's last write reached this copy" (what is not as
        # written is people's doing), so when instances follow it is stamped last (round 3):
        # until then the master carries a stamp no pass wrote in full, and the next pass
        # rewrites rather than reads a half-written series as people's edits.
        job.stamp_later = bool(instance_calls)
        stamp = job.stamp
        if inserting:
            job.master = GoogleCall(
                "calendar.events.insert",
                self._events().insert(
                    calendarId=self.email,
                    body=gev.master_body(spec, stamp, current),
                    sendUpdates="all",
                    supportsAttachments=True,
                ),
            )
        elif rewriting and current is not None:
            body = gev.master_body(spec, stamp, current)
            request = self._events().update(
                calendarId=self.email,
                eventId=event_id,
                body=body,
                sendUpdates="all" if _moved(current, body) else "none",
                supportsAttachments=True,
            )
            if current.get("etag"):
                request.headers["If-Match"] = current["etag"]
            job.master = GoogleCall("calendar.events.update", request)
        return job

    def _recover(self, job: _WriteJob) -> Any:
        """The insert's id is taken (409): update that event instead, on condition that it is
        still at the etag just read (a 412 is a ``ConflictError``, as for any update)."""
        found = self._call(
            "calendar.events.get",
            self._events().get(calendarId=self.email, eventId=job.event_id),
            self.where,
        )
        request = self._events().update(
            calendarId=self.email,
            eventId=job.event_id,
            body=gev.master_body(job.spec, job.stamp, found),
            sendUpdates="all",
            supportsAttachments=True,
        )
        if found.get("etag"):
            request.headers["If-Match"] = found["etag"]
        return self._call("calendar.events.update", request, self.where)

    def _instance_calls(self, job: _WriteJob) -> list[_InstanceCall]:
        """The requests that make each instance what the spec says; only those that differ."""
        spec = job.spec
        if spec.makeup_week is not None:
            return []
        have = job.observed.overrides if job.observed is not None else {}
        exdates = {utc(moment) for moment in spec.exdates}
        wanted = {utc(item.recurrence_id): item for item in spec.overrides}
        calls: list[_InstanceCall] = []
        for original, item in sorted(wanted.items()):
            found = have.get(original)
            instance = gev.instance_id(job.event_id, original)
            if item.cancelled:
                if found is None or not found.cancelled:
                    request = self._events().delete(
                        calendarId=self.email, eventId=instance, sendUpdates="all"
                    )
                    self._if_match(job, instance, request)
                    calls.append(
                        _InstanceCall(
                            instance, original, GoogleCall("calendar.events.delete", request)
                        )
                    )
                continue
            description = item.description or spec.description
            attached = (item.attachment.url,) if item.attachment is not None else ()
            if found is not None and not found.cancelled:
                same = (
                    utc(found.start) == utc(item.start)
                    and utc(found.end) == utc(item.end)
                    and found.description == description
                    and found.attachments == attached
                )
            else:
                same = found is None and (
                    utc(item.start) == original
                    and utc(item.end) == original + spec.duration
                    and description == spec.description
                    and not attached
                )
            if same:
                continue
            if found is not None and not found.cancelled:
                kept = utc(found.start) == utc(item.start) and utc(found.end) == utc(item.end)
            else:
                kept = found is None and (
                    utc(item.start) == original and utc(item.end) == original + spec.duration
                )
            body = gev.instance_body(spec, item)
            if job.instances_only:
                # Words and agenda alone: a person's move of the week since the read (no
                # If-Match guards an instance nobody changed before) stays theirs.
                del body["start"], body["end"]
            request = self._events().patch(
                calendarId=self.email,
                eventId=instance,
                body=body,
                # Attendees hear of a week that moves or comes back, not of its words or
                # agenda (the rep is asked to prepare the agenda by the product's own notice).
                sendUpdates="none" if kept else "all",
                supportsAttachments=True,
            )
            self._if_match(job, instance, request)
            calls.append(
                _InstanceCall(
                    instance, original, GoogleCall("calendar.events.patch", request), kept
                )
            )
        # Exceptions the product made earlier that the spec no longer has: back to the rule;
        # but a week whose agenda link the series let go (ical.links_line) keeps its words.
        line = ical.links_line(spec)
        for original, found in sorted(have.items()):
            if original in wanted or original in exdates or found.cancelled:
                continue
            if link_let_go(spec, line, original, found):
                continue
            instance = gev.instance_id(job.event_id, original)
            request = self._events().patch(
                calendarId=self.email,
                eventId=instance,
                body=gev.regular_instance_body(spec, original),
                sendUpdates="all",
            )
            self._if_match(job, instance, request)
            calls.append(
                _InstanceCall(instance, original, GoogleCall("calendar.events.patch", request))
            )
        return calls

    @staticmethod
    def _if_match(job: _WriteJob, instance: str, request: Any) -> None:
        """``If-Match`` on the instance's exception as read, when it has one and its etag is
        still known (not after a new master, nor after shared changes Google carried)."""
        if job.fresh or job.carried:
            return
        found = job.exceptions.get(instance)
        if found is not None and found.get("etag"):
            request.headers["If-Match"] = found["etag"]

    @staticmethod
    def _remember(cache: CalendarCache, job: _WriteJob) -> None:
        """Put what the answers said in the pass's copy of the calendar, so that a read or a
        write later in the pass starts from it (the next sync brings Google's own).

        Only what is known goes in: the master and the patched instances as answered, and
        each deleted instance as a cancelled exception without an etag (a version with it
        matches no version the pass holds, so a later conditional write is refused rather
        than sent on a guess). Exceptions whose etags Google may have changed unseen keep
        the ones read: Google's If-Match is the judge of those."""
        if job.master_answer is not None:
            cache.events[job.event_id] = job.master_answer
        cache.events.update(job.instances)
        for instance, original in job.deleted.items():
            cache.events[instance] = {
                "id": instance,
                "recurringEventId": job.event_id,
                "originalStartTime": {"dateTime": original.isoformat()},
                "status": "cancelled",
            }
        cache._grouped = None

    def _call(self, method: str, request: Any, what: str, *, gone_ok: bool = False) -> Any:
        try:
            return self.session.client.execute(self.email, GoogleCall(method, request), what=what)
        except GoneError:
            if gone_ok:
                return None
            raise

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        """Remove the product's event ``uid`` if it is still at version ``expect``; whether
        there was one to remove. ``ConflictError`` when it changed since it was read (before
        any request, or Google's 412 on the master's etag); ``CalendarError`` for an event the
        product does not own. An attendee's copy of a series whose organizer is on Google is
        Google's to remove (the organizer's delete cancels it): ``False``, nothing sent."""
        event_id = gev.event_id_for(uid)
        if self.email not in self.session.organizers:
            return False  # only attendee copies: nothing of the product's is kept here
        current, exceptions = self._held(event_id)
        if current is None or self._copy_of_ours(current):
            return False
        if not gev.is_owned(current):
            raise CalendarError(
                f"{self.where} holds {uid} but the product does not own it; it was left alone."
            )
        version = _version(_key(current, exceptions.values()))
        if version != expect:
            raise ConflictError(_conflict(uid, self.where, current, expect))
        if current.get("status") == "cancelled":
            return False
        request = self._events().delete(calendarId=self.email, eventId=event_id, sendUpdates="all")
        if current.get("etag"):
            request.headers["If-Match"] = current["etag"]
        try:
            self._call("calendar.events.delete", request, f"{uid} on {self.where}")
        except (GoneError, NotFoundError):
            return False  # deleted meanwhile: gone as wanted
        cache = self.session.calendar(self.email)
        for key in [event_id, *exceptions]:
            cache.events.pop(key, None)
        cache.stamps.pop(event_id, None)
        cache._grouped = None
        return True

    # ----------------------------------------------------------------------- checking

    def check(self, person: Person) -> list[str]:
        """Reach the calendar as the person: one request that needs their delegation."""
        manager = self.session.foreign_managers.get(self.email)
        if manager is not None:
            return [f"{person.email}: {_foreign(person.email, manager)}"]
        try:
            if self.email in self.session.organizers:
                self.session.client.execute(
                    self.email,
                    GoogleCall(
                        "calendar.events.list",
                        self._events().list(calendarId=self.email, maxResults=1),
                    ),
                    what=self.where,
                )
            else:
                now = datetime.now(UTC)
                answer = self.session.client.execute(
                    self.email,
                    GoogleCall(
                        "calendar.freebusy.query",
                        self.session.client.resource("calendar", "freebusy").query(
                            body={
                                "timeMin": now.isoformat().replace("+00:00", "Z"),
                                "timeMax": (now + timedelta(days=1))
                                .isoformat()
                                .replace("+00:00", "Z"),
                                "items": [{"id": self.email}],
                            }
                        ),
                    ),
                    what=self.where,
                )
                found = (answer.get("calendars") or {}).get(self.email) or {}
                if found.get("errors"):
                    return [
                        f"{person.email}: Google gives no free/busy for this calendar "
                        f"({found['errors'][0].get('reason', '')}); check the address."
                    ]
        except CalendarError as error:
            return [f"{person.email}: {error}"]
        return []


def _key(master: Mapping[str, Any], exceptions: Iterable[Mapping[str, Any]]) -> tuple[Any, ...]:
    """What a master and its exceptions are at: the master's id and etag and each exception's
    (id, etag), sorted. Google gives every change a new etag, so equal keys are equal events."""
    return (
        master.get("id"),
        master.get("etag"),
        tuple(sorted(((e.get("id"), e.get("etag")) for e in exceptions), key=repr)),
    )


def _version(key: tuple[Any, ...]) -> str:
    """An owned copy's version (``ObservedSeries.version``): a digest of its ``_key``."""
    text = json.dumps(key, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _observe_versioned(
    calendars: Callable[[], Any], href: str, key: tuple[Any, ...], stamp: Stamp | None
) -> ObservedSeries | None:
    observed = ical.observe_parsed(calendars(), href, UTC)
    if observed is None:
        return None
    if stamp is not None:
        return replace(
            observed, version=_version(key), fingerprint=stamp.fingerprint, sequence=stamp.sequence
        )
    return replace(observed, version=_version(key))


def _parse(master: dict[str, Any], exceptions: list[dict[str, Any]], href: str) -> Any:
    try:
        data = gev.to_ical(master, exceptions)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # An event without the fields every event has: said (and skipped) like any object
        # the readers cannot use, never a traceback.
        raise ValueError(
            f"{href}: cannot read the event ({type(error).__name__}: {error})"
        ) from error
    return ical.parse_object(data, href)


def _foreign(rep: str, manager: str) -> str:
    return (
        f"{rep} is on Google Calendar but their manager {manager} is not; oneonone keeps a "
        "Google series only on the manager's own Google Calendar: put both on Google, or the "
        "rep on another calendar provider"
    )


#: What is the calendar's own in an event resource (or changes with every write), not the
#: event's shared data: "Properties that are private to the copy of the event that appears on
#: this calendar", and the bookkeeping Google sets itself.
_NOT_SHARED = frozenset(
    {
        "kind",
        "etag",
        "updated",
        "created",
        "sequence",
        "htmlLink",
        "reminders",
        "colorId",
        "transparency",
        "extendedProperties",
    }
)


def _shared(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's shared data (what Google carries from a series to its exceptions)."""
    found = {key: value for key, value in event.items() if key not in _NOT_SHARED}
    found["sharedProperties"] = (event.get("extendedProperties") or {}).get("shared")
    return found


#: What Google sets on an event itself: never a difference between a master and a body.
_GOOGLE_OWN = frozenset(
    {
        "kind",
        "etag",
        "id",
        "htmlLink",
        "created",
        "updated",
        "creator",
        "organizer",
        "iCalUID",
        "sequence",
    }
)
#: The documented defaults of the fields a master may leave out (Event resource).
_DEFAULTS: dict[str, Any] = {
    "status": "confirmed",
    "summary": "",
    "description": "",
    "eventType": "default",
    "visibility": "default",
    "transparency": "opaque",
    "reminders": {"useDefault": True},
    "guestsCanModify": False,
    "guestsCanInviteOthers": True,
    "guestsCanSeeOtherGuests": True,
    "anyoneCanAddSelf": False,
    "attendeesOmitted": False,
    "endTimeUnspecified": False,
    "privateCopy": False,
    "locked": False,
}


def _same_master(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether updating ``current`` with ``body`` would leave it as it is but for the stamp
    (fingerprint and sequence). Any field this cannot tell equal counts as a difference: the
    update is then sent, as always (a person's location or colour is taken off, as before)."""
    for name in set(current) | set(body):
        if name in _GOOGLE_OWN:
            continue
        have, want = current.get(name, _DEFAULTS.get(name)), body.get(name, _DEFAULTS.get(name))
        if name in ("start", "end"):
            same = _same_time(have, want)
        elif name == "attendees":
            same = _attendee_keys(have) == _attendee_keys(want)
        elif name == "extendedProperties":
            same = _unstamped(have) == _unstamped(want)
        elif name == "attachments":
            same = _attachment_keys(have) == _attachment_keys(want)
        else:
            same = have == want
        if not same:
            return False
    return True


def _same_time(have: Any, want: Any) -> bool:
    """The same instant in the same zone (Google may write the offset another way)."""
    if not isinstance(have, Mapping) or not isinstance(want, Mapping):
        return False
    if "dateTime" not in have or "dateTime" not in want:
        return dict(have) == dict(want)
    try:
        instants = _instant(have["dateTime"]), _instant(want["dateTime"])
    except (TypeError, ValueError):
        return False
    return instants[0] == instants[1] and have.get("timeZone") == want.get("timeZone")


def _attendee_keys(entries: Any) -> list[str]:
    """Attendees without Google's ``self`` mark and with its defaults, in e-mail order."""
    found = []
    for entry in entries or []:
        item = {key: value for key, value in dict(entry).items() if key != "self"}
        item["email"] = str(item.get("email", "")).lower()
        item.setdefault("responseStatus", "needsAction")
        if not item.get("organizer"):
            item.pop("organizer", None)
        found.append(json.dumps(item, sort_keys=True, default=str))
    return sorted(found)


def _unstamped(properties: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(private, shared) extended properties, without the product's stamp."""
    properties = properties or {}
    private = dict(properties.get("private") or {})
    private.pop(gev.PRIVATE_HASH, None)
    private.pop(gev.PRIVATE_SEQUENCE, None)
    return private, dict(properties.get("shared") or {})


def _attachment_keys(entries: Any) -> list[tuple[Any, Any]]:
    # Google adds its own fields (iconLink, fileId) to what was written.
    return [(entry.get("fileUrl"), entry.get("title")) for entry in entries or []]


def _conflict(uid: str, where: str, held: Mapping[str, Any] | None, expected: str | None) -> str:
    if expected is None:
        what = "appeared"
    elif held is None:
        what = "was removed"
    else:
        what = "changed"
    return (
        f"{uid} on the {where} {what} since this pass read it (a person at work); it was "
        "left as it is and is read again next pass."
    )


def _moved(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether an update changes what attendees must hear about (time or recurrence)."""
    return (
        current.get("start") != body.get("start")
        or current.get("end") != body.get("end")
        or (current.get("recurrence") or []) != (body.get("recurrence") or [])
    )
