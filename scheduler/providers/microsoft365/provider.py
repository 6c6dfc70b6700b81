"""The Microsoft 365 provider: the same reads and writes as Google's, through Graph v1.0.

How a pass talks to Graph, and why a quiet pass costs about one Graph request per organizer:

- **Only organizers' mailboxes are read.** The series lives in the manager's mailbox with the
  rep as attendee; Exchange puts the rep's copy in the rep's calendar and shows the rep's
  answers on the organizer's copy (``attendees[].status``), so a rep's series are read from
  their managers' mailboxes (``Capabilities.keeps_attendee_copies``: a ``write_many`` job for
  an attendee's copy sends nothing).
- **Incremental reads with ``calendarView/delta``.** Each organizer's calendar view over a
  fixed window (``WINDOW_BACK`` before now to ``WINDOW_AHEAD`` after, moved forward only when
  the pass nears its edge) is read whole once, then only its changes from the ``deltaLink``; a
  410 (the service lost the sync state) means a new round from scratch. Delta gives occurrences,
  exceptions and single events, not series masters nor extended properties ("Delta function
  on calendarView" in https://learn.microsoft.com/graph/api/event-delta), so the masters of
  changed series (and two-person single events, which may be make-ups) are fetched with their
  extended properties, 20 to a ``$batch``, only when something of theirs changed.
- **Busy time**: an organizer's from their own calendar view as the delta round left it
  (each event's ``showAs``; free, cancelled and declined ones left out): no request, and as
  fresh as the pass. Everyone else in a pair (the reps) from ``getSchedule``, 20 people per
  request, read again after ``BUSY_REFRESH`` (30 minutes) when one of their 1:1s freezes
  within ``NEAR_FREEZE`` or their series changed this pass (a decline: its make-up is placed
  on fresh busy time), else after ``BUSY_REFRESH_FAR`` (3 hours): the planner moves a week
  off a new conflict until the week freezes, so a conflict with a week further out is only
  seen later, never too late. Minus the product's own events; ``oof`` spans and working days
  busy from start to end are days out.
- **Versions and preconditions.** A series' version is its master's ``@odata.etag``: Exchange
  keeps exceptions with the master, so a change to any week (an edit, a deleted occurrence, an
  attendee's answer) gives the master a new change key. A write on a version other than the
  one read fails before any request; the master's update carries ``If-Match`` (412 is a
  ``ConflictError``), and so does a delete.
- **Creates** carry a ``transactionId`` derived from the write, so a POST retried after a lost
  answer gives back the event the first one made.

Exports: ``Microsoft365Session``, ``Microsoft365Provider``, ``BUSY_REFRESH``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from scheduler import ical
from scheduler.domain import CalendarSettings, Person
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
)
from scheduler.providers.freebusy import days_out
from scheduler.providers.microsoft365 import events as mev
from scheduler.providers.microsoft365.client import (
    BATCH_LIMIT,
    GoneError,
    GraphClient,
    GraphRequest,
    NotFoundError,
    user_path,
)
from scheduler.providers.vdir import MEMO_BYTES, Lazy, Memo, event_weight

__all__ = [
    "BUSY_REFRESH",
    "BUSY_REFRESH_FAR",
    "NEAR_FREEZE",
    "Microsoft365Provider",
    "Microsoft365Session",
    "StateStore",
]


#: a rep's busy time (getSchedule) is read again after this long when one of their 1:1s
#: freezes within ``NEAR_FREEZE`` or their series changed this pass ...
BUSY_REFRESH = timedelta(minutes=30)
#: ... and after this long otherwise (a conflict with a week further out is seen this much
#: later, still long before that week freezes)
BUSY_REFRESH_FAR = timedelta(hours=3)
NEAR_FREEZE = timedelta(hours=4)
#: mailboxSettings (zone, working hours) are read again after this long; a failed read
#: keeps the last answer, however old
SETTINGS_REFRESH = timedelta(hours=24)
#: getSchedule: people per request
SCHEDULE_LIMIT = 20
#: the delta window: this far back (last week's read, with room) ...
WINDOW_BACK = timedelta(weeks=6)
#: ... and this far ahead (12 months of skipped close weeks, the horizon, with room)
WINDOW_AHEAD = timedelta(weeks=62)
#: the window moves forward by this much when the pass nears its start
WINDOW_STEP = timedelta(weeks=13)
PAGE_SIZE = 500
#: answers as text bodies and in UTC (the product reads both kinds of name anyway)
READ_HEADERS = {"Prefer": f'outlook.body-content-type="text", odata.maxpagesize={PAGE_SIZE}'}


_MEMO = Memo(MEMO_BYTES)


class StateStore:
    """Where delta state is kept between processes (the ledger's key-value state)."""

    def __init__(self, get: Callable[[str], str | None], put: Callable[[str, str], None]) -> None:
        self.get = get
        self.put = put


@dataclass
class MailboxCache:
    """One organizer's calendar view as the last delta round left it."""

    window: tuple[datetime, datetime] | None = None
    delta_link: str | None = None
    #: occurrences, exceptions and single events by id, as delta gave them
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: series masters (and two-person single events) with their extended properties, by id
    masters: dict[str, dict[str, Any]] = field(default_factory=dict)
    synced: bool = False

    def grouped(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each master (or single event) with its instances, in id order."""
        children: dict[str, list[dict[str, Any]]] = {}
        singles: list[dict[str, Any]] = []
        for item in self.instances.values():
            parent = item.get("seriesMasterId")
            if parent:
                children.setdefault(str(parent), []).append(item)
            else:
                singles.append(self.masters.get(str(item.get("id")), item))
        found = [
            (master, children.get(master_id, []))
            for master_id, master in self.masters.items()
            if master.get("type") == "seriesMaster" and master_id in children
        ]
        found += [(single, []) for single in singles]
        return sorted(found, key=lambda pair: str(pair[0].get("id")))

    def to_json(self) -> str:
        window = [m.isoformat() for m in self.window] if self.window else None
        return json.dumps(
            {
                "window": window,
                "delta": self.delta_link,
                "instances": self.instances,
                "masters": self.masters,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> MailboxCache:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            window = data.get("window")
            return cls(
                window=(datetime.fromisoformat(window[0]), datetime.fromisoformat(window[1]))
                if window
                else None,
                delta_link=data.get("delta"),
                instances=dict(data.get("instances") or {}),
                masters=dict(data.get("masters") or {}),
            )
        except (ValueError, TypeError, AttributeError, IndexError):
            return cls()


def _is_two_person_single(item: Mapping[str, Any], email: str) -> bool:
    return (
        item.get("type") == "singleInstance"
        and bool(item.get("isOrganizer"))
        and len(item.get("attendees") or []) == 1
    )


class Microsoft365Session:
    """Everything Graph for one org within one process: the client, the caches, busy time.

    Kept across passes (``session_for``); every pass calls ``begin`` first."""

    def __init__(
        self,
        client: GraphClient,
        people: Mapping[str, Person],
        organizers: Iterable[str],
        store: StateStore | None = None,
    ) -> None:
        self.client = client
        self.people = dict(people)
        self.organizers = set(organizers)
        self.store = store
        self.persist = False
        self.now = datetime.now(UTC)
        self._caches: dict[str, MailboxCache] = {}
        #: reps' getSchedule answers, when each was read and for which window, what failed
        self._busy: dict[str, list[tuple[datetime, datetime, str]]] = {}
        self._busy_at: dict[str, tuple[datetime, tuple[datetime, datetime]]] = {}
        self._busy_errors: dict[str, str] = {}
        #: reps whose series or make-ups changed in this pass's delta rounds
        self._changed_reps: set[str] = set()
        #: this pass's ``_near_reps`` once worked out
        self._near: set[str] | None = None
        #: the org's ``freeze_hours``: a 1:1 starting sooner is never moved
        self.freeze = timedelta(hours=48)
        #: rep -> their managers on Microsoft 365 (whose mailboxes hold the reps' series)
        self.pair_managers: dict[str, set[str]] = {}
        #: rep on Microsoft 365 -> their manager who is not
        self.foreign_managers: dict[str, str] = {}
        #: organizer -> (first delta URL, its answer or error), fetched together this pass
        self._first: dict[str, tuple[str, Any]] = {}
        #: email -> (when read, the mailboxSettings answer)
        self._settings: dict[str, tuple[datetime, dict[str, Any]]] = {}
        #: email -> why their mailbox settings, which they need, could not be read (this pass)
        self.settings_errors: dict[str, str] = {}

    def begin(self, now: datetime, *, persist: bool, store: StateStore | None) -> None:
        self.now = now
        self.persist = persist
        if store is not None:
            self.store = store
        for cache in self._caches.values():
            cache.synced = False
        self._first.clear()
        self._changed_reps.clear()
        self._near = None

    # ----------------------------------------------------------------------- delta

    def calendar(self, email: str) -> MailboxCache:
        """``email``'s calendar view, synced once per pass."""
        cache = self._cache(email)
        if not cache.synced:
            if email in self.organizers and email not in self._first:
                self._prefetch()
            self._sync(email, cache)
            cache.synced = True
        return cache

    def _cache(self, email: str) -> MailboxCache:
        cache = self._caches.get(email)
        if cache is None:
            stored = self.store.get(f"microsoft365.delta:{email}") if self.store else None
            cache = MailboxCache.from_json(stored)
            self._caches[email] = cache
        return cache

    def _start(self, email: str, cache: MailboxCache) -> str:
        """The first request of ``email``'s delta round this pass: its deltaLink, or a new
        round over the window (none yet, or the window moved on)."""
        window = self._window(cache)
        if cache.delta_link is not None and cache.window == window:
            return self._relative(cache.delta_link)
        return (
            f"{user_path(email)}/calendarView/delta?startDateTime={_iso(window[0])}"
            f"&endDateTime={_iso(window[1])}"
        )

    def _prefetch(self) -> None:
        """The first delta page of every organizer not yet read this pass, 20 organizers to a
        ``$batch``: a quiet pass then costs one HTTP request per 20 organizers (each part is
        still one request to Graph's throttling, on its own mailbox)."""
        due = {
            email: self._start(email, self._cache(email))
            for email in sorted(self.organizers)
            if not self._cache(email).synced
        }
        if len(due) < 2:
            return
        calls = [
            (email, GraphRequest("GET", url, headers=dict(READ_HEADERS)))
            for email, url in due.items()
        ]
        answers = self.client.batch(next(iter(due)), calls, what="Microsoft 365 calendars")
        for email, answer in answers.items():
            self._first[email] = (due[email], answer)

    def _window(self, cache: MailboxCache) -> tuple[datetime, datetime]:
        if cache.window is not None:
            start, end = cache.window
            if start <= self.now - WINDOW_BACK and self.now + WINDOW_AHEAD <= end:
                return cache.window
        # Anchored to a fixed grid, so every replica and restart picks the same window.
        epoch = datetime(2000, 1, 3, tzinfo=UTC)
        steps = (self.now - WINDOW_BACK - epoch) // WINDOW_STEP
        start = epoch + steps * WINDOW_STEP
        return start, start + WINDOW_BACK + WINDOW_AHEAD + WINDOW_STEP

    def _sync(self, email: str, cache: MailboxCache) -> None:
        what = f"{email}'s Microsoft 365 calendar"
        window = self._window(cache)
        start = self._start(email, cache)
        full = "$deltatoken" not in start
        prefetched = self._first.pop(email, None)
        first = prefetched[1] if prefetched is not None and prefetched[0] == start else None
        changes: list[dict[str, Any]] = []
        link: str | None = None
        try:
            changes, link = self._round(email, start, what, first)
        except GoneError:
            if full:
                raise
            # https://learn.microsoft.com/graph/delta-query-overview: a 410 means the
            # token is gone; a new round from scratch (a full read) follows.
            full = True
            cache.delta_link = None
            changes, link = self._round(email, self._start(email, cache), what, None)
        instances = {} if full else dict(cache.instances)
        touched: set[str] = set()
        for item in changes:
            item_id = str(item.get("id", ""))
            if not item_id:
                continue
            if "@removed" in item:
                removed = instances.pop(item_id, None)
                if removed is not None and removed.get("seriesMasterId"):
                    touched.add(str(removed["seriesMasterId"]))
                continue
            instances[item_id] = item
            if item.get("seriesMasterId"):
                touched.add(str(item["seriesMasterId"]))
            elif _is_two_person_single(item, email):
                touched.add(item_id)
        masters = {} if full else dict(cache.masters)
        live = {str(i.get("seriesMasterId") or i.get("id")) for i in instances.values()}
        for master_id in list(masters):
            if master_id not in live:
                masters.pop(master_id)
        wanted = sorted(m for m in touched if m in live)
        fetched = self.client.batch(
            email,
            [
                (
                    master_id,
                    GraphRequest(
                        "GET",
                        f"{user_path(email)}/events/{quote(master_id, safe='')}"
                        f"?$expand={mev.EXPAND}",
                        headers=dict(READ_HEADERS),
                    ),
                )
                for master_id in wanted
            ],
            what=what,
        )
        for master_id, answer in fetched.items():
            if isinstance(answer, NotFoundError):
                masters.pop(master_id, None)  # deleted since the delta round
                continue
            if isinstance(answer, CalendarError):
                raise answer
            masters[master_id] = answer
        for master_id in touched:
            rep = _rep_of(masters.get(master_id) or (cache.masters.get(master_id)))
            if rep is not None:
                self._changed_reps.add(rep)
        cache.window = window
        cache.delta_link = link
        cache.instances = instances
        cache.masters = masters
        if (full or changes) and self.persist and self.store is not None:
            self.store.put(f"microsoft365.delta:{email}", cache.to_json())

    def _round(
        self, email: str, url: str, what: str, first: Any = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every page of a delta round from ``url`` (``first``: its answer, already fetched
        in a batch, or the error it gave)."""
        items: list[dict[str, Any]] = []
        while True:
            if isinstance(first, CalendarError):
                raise first
            if first is not None:
                answer, first = first, None
            else:
                answer = self.client.call(
                    email, GraphRequest("GET", url, headers=dict(READ_HEADERS)), what=what
                )
            items.extend(answer.get("value") or [])
            following = answer.get("@odata.nextLink")
            if following:
                url = self._relative(str(following))
                continue
            return items, answer.get("@odata.deltaLink")

    def _relative(self, link: str) -> str:
        base = self.client.base_url
        if link.startswith(base):
            return link[len(base) :]
        # A link on another host than the configured one (a proxy's): only its path matters.
        path = link.split("/v1.0", 1)[-1] if "/v1.0" in link else link
        return path

    # ----------------------------------------------------------------------- settings

    def mailbox_settings(self, emails: Iterable[str]) -> dict[str, CalendarSettings]:
        """The zone and working hours of each of ``emails`` from its ``mailboxSettings``:
        read again every ``SETTINGS_REFRESH`` (20 to a ``$batch``), kept in the ledger's
        state between processes; a read that fails keeps the last answer. A mailbox with no
        answer at all is left out, its reason in ``settings_errors``."""
        wanted = sorted({email.lower() for email in emails})
        due = []
        for email in wanted:
            held = self._settings.get(email)
            if held is None and self.store is not None:
                held = _stored_settings(self.store.get(f"microsoft365.settings:{email}"))
                if held is not None:
                    self._settings[email] = held
            if held is None or not (held[0] <= self.now < held[0] + SETTINGS_REFRESH):
                due.append(email)
        errors: dict[str, str] = {}
        if due:
            answers = self.client.batch(
                due[0],
                [
                    (email, GraphRequest("GET", f"{user_path(email)}/mailboxSettings"))
                    for email in due
                ],
                what="Microsoft 365 mailbox settings",
            )
            for email, answer in answers.items():
                if isinstance(answer, CalendarError) or not isinstance(answer, dict):
                    errors[email] = (
                        f"{email}: the time zone and working hours come from their Microsoft "
                        f"365 mailbox settings (the org file gives none), which could not be "
                        f"read: {answer}; set timezone and working_hours for them in the org "
                        "file, or check the mailbox"
                    )
                    continue
                kept = {k: answer[k] for k in ("timeZone", "workingHours") if k in answer}
                self._settings[email] = (self.now, kept)
                if self.persist and self.store is not None:
                    self.store.put(
                        f"microsoft365.settings:{email}",
                        json.dumps({"at": self.now.isoformat(), "settings": kept}),
                    )
        self.settings_errors = {e: why for e, why in errors.items() if e not in self._settings}
        return {
            email: mev.settings_of(self._settings[email][1])
            for email in wanted
            if email in self._settings
        }

    # ----------------------------------------------------------------------- busy time

    def busy(
        self, email: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, str]]:
        """``email``'s busy spans (start, end, status) in [start, end): an organizer's from
        their calendar view as this pass's delta round left it (no request); anyone else's
        from getSchedule, read again when ``_busy_due`` says so."""
        email = email.lower()
        if email in self.organizers:
            return _view_busy(self.calendar(email).instances.values(), start, end)
        if email not in self.pair_managers and email not in self.foreign_managers:
            return []  # a rep of no one: nothing is planned around their time
        if self._busy_due(email, start, end, self._near):
            self._load_busy(start, end)
        if email in self._busy_errors:
            raise CalendarError(self._busy_errors[email])
        return list(self._busy.get(email, []))

    def _busy_due(self, email: str, start: datetime, end: datetime, near: set[str] | None) -> bool:
        """Whether ``email``'s getSchedule answer must be read again: never read, for another
        window, failed on an earlier pass, or older than ``BUSY_REFRESH_FAR``; older than
        ``BUSY_REFRESH`` when one of their 1:1s freezes soon or their series changed this
        pass (``near``: those reps; ``None``: count them as near)."""
        held = self._busy_at.get(email)
        if held is None:
            return True
        at, window = held
        if not (window[0] <= start and end <= window[1]) or self.now < at:
            return True
        if email in self._busy_errors:
            return at != self.now
        age = self.now - at
        if age >= BUSY_REFRESH_FAR:
            return True
        if age < BUSY_REFRESH:
            return False
        return near is None or email in near

    def _near_reps(self) -> set[str]:
        """Reps whose series changed this pass, or one of whose 1:1s (as the organizers'
        calendars hold them: weeks, moved weeks, make-ups) starts within ``NEAR_FREEZE``
        after the freeze: the planner's last chance to move it is close, so their busy time
        is read every ``BUSY_REFRESH``."""
        for organizer in sorted(self.organizers):
            try:
                self.calendar(organizer)
            except CalendarError:
                continue  # said by that organizer's own read
        near = set(self._changed_reps)
        low = self.now + self.freeze
        high = low + NEAR_FREEZE
        # The view's times are UTC texts (no Prefer: outlook.timezone), compared as text.
        low_text, high_text = _naive(low), _naive(high)
        for organizer in self.organizers:
            cache = self._caches.get(organizer)
            if cache is None:
                continue
            for item in cache.instances.values():
                when = item.get("start") or {}
                text = str(when.get("dateTime", ""))[:19]
                if str(when.get("timeZone") or "UTC") == "UTC":
                    if not (low_text <= text < high_text):
                        continue
                elif not (low <= mev.parse_instant(when) < high):
                    continue
                master = cache.masters.get(str(item.get("seriesMasterId") or item.get("id")))
                rep = _rep_of(master)
                if rep is not None:
                    near.add(rep)
        return near

    def _load_busy(self, start: datetime, end: datetime) -> None:
        """getSchedule for every rep due (20 to a request): all at once, so a pass that needs
        any reads them in as few requests as it can."""
        reps = sorted(
            email
            for email in {*self.pair_managers, *self.foreign_managers}
            if email not in self.organizers
        )
        far = [email for email in reps if self._busy_due(email, start, end, set())]
        maybe = [email for email in reps if email not in far]
        due = list(far)
        if self._near is None and any(self._busy_due(e, start, end, None) for e in maybe):
            self._near = self._near_reps()  # once a pass: every organizer is read by then
        if self._near is not None:
            near = self._near
            due += [email for email in maybe if self._busy_due(email, start, end, near)]
        for index in range(0, len(due), SCHEDULE_LIMIT):
            chunk = sorted(due[index : index + SCHEDULE_LIMIT])
            actor = chunk[0]
            body = {
                "schedules": chunk,
                "startTime": {"dateTime": _naive(start), "timeZone": "UTC"},
                "endTime": {"dateTime": _naive(end), "timeZone": "UTC"},
                "availabilityViewInterval": 15,
            }
            what = "free/busy of " + ", ".join(chunk[:3]) + (" ..." if len(chunk) > 3 else "")
            for email in chunk:
                self._busy_at[email] = (self.now, (start, end))
                self._busy_errors.pop(email, None)
            try:
                answer = self.client.call(
                    actor,
                    GraphRequest("POST", f"{user_path(actor)}/calendar/getSchedule", body),
                    what=what,
                )
            except CalendarError as error:
                self._busy_errors.update((email, str(error)) for email in chunk)
                continue
            found = {str(v.get("scheduleId", "")).lower(): v for v in answer.get("value") or []}
            for email in chunk:
                value = found.get(email) or {}
                if value.get("error") or not value:
                    reason = (value.get("error") or {}).get("responseCode", "no answer")
                    self._busy_errors[email] = (
                        f"Microsoft 365 gives no free/busy for {email} ({reason}); check that "
                        "the address is a mailbox of the tenant."
                    )
                    continue
                self._busy[email] = [
                    (
                        mev.parse_instant(item["start"]),
                        mev.parse_instant(item["end"]),
                        str(item.get("status", "busy")).lower(),
                    )
                    for item in value.get("scheduleItems") or []
                    if str(item.get("status", "busy")).lower() != "free"
                ]


def _view_busy(
    items: Iterable[Mapping[str, Any]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """Busy spans of a calendar view's events in [start, end), as getSchedule would give
    them: each event's ``showAs`` as its status, free, cancelled and declined ones left
    out (https://learn.microsoft.com/graph/api/resources/scheduleitem)."""
    found = []
    for item in items:
        status = str(item.get("showAs") or "busy").lower()
        answer = str((item.get("responseStatus") or {}).get("response") or "").lower()
        if status == "free" or item.get("isCancelled") or answer == "declined":
            continue
        try:
            begin = mev.parse_instant(item["start"])
            finish = mev.parse_instant(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if begin < end and start < finish:
            found.append((begin, finish, status))
    return sorted(found)


def _rep_of(master: Mapping[str, Any] | None) -> str | None:
    """The rep of a product-owned series or make-up (its pair tag's second half)."""
    if master is None:
        return None
    pair = mev.props_of(master).get(mev.PAIR)
    if not pair or "/" not in pair:
        return None
    return pair.split("/", 1)[1].lower()


def _stored_settings(text: str | None) -> tuple[datetime, dict[str, Any]] | None:
    if not text:
        return None
    try:
        data = json.loads(text)
        return datetime.fromisoformat(data["at"]), dict(data["settings"])
    except (ValueError, TypeError, KeyError):
        return None


def _iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


def _version(resource: Mapping[str, Any]) -> str:
    """An owned object's version: its master's (or single event's) etag."""
    return str(resource.get("@odata.etag") or resource.get("changeKey") or "")


def _parse(
    master: dict[str, Any],
    instances: list[dict[str, Any]],
    window: tuple[datetime, datetime] | None,
    href: str,
) -> Any:
    try:
        data = mev.to_ical(master, instances, window)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(
            f"{href}: cannot read the event ({type(error).__name__}: {error})"
        ) from error
    return ical.parse_object(data, href)


def _observe_versioned(
    calendars: Callable[[], Any], href: str, version: str
) -> ObservedSeries | None:
    observed = ical.observe_parsed(calendars(), href, UTC)
    return None if observed is None else replace(observed, version=version)


def _key(master: Mapping[str, Any], instances: Iterable[Mapping[str, Any]]) -> tuple[Any, ...]:
    return (
        master.get("id"),
        master.get("@odata.etag"),
        tuple(sorted((str(i.get("id")), str(i.get("@odata.etag"))) for i in instances)),
    )


@dataclass
class _Job:
    spec: SeriesSpec
    current: dict[str, Any] | None
    observed: ObservedSeries | None
    fingerprint: str
    stamp_later: bool = False
    master_answer: dict[str, Any] | None = None
    changed: bool = False
    instance_calls: list[tuple[str, GraphRequest]] = field(default_factory=list)

    @property
    def stamp(self) -> str:
        return f"{self.fingerprint}{UNFINISHED}" if self.stamp_later else self.fingerprint


class Microsoft365Provider:
    """One person's Microsoft 365 calendar (their mailbox is their e-mail)."""

    name = "microsoft365"
    capabilities = Capabilities(writable=True, keeps_attendee_copies=True, batch_size=BATCH_LIMIT)

    def __init__(self, session: Microsoft365Session, email: str) -> None:
        self.session = session
        self.email = email.lower()
        self.where = f"Microsoft 365 calendar of {self.email}"

    # ----------------------------------------------------------------------- reading

    def _observe(
        self, master: dict[str, Any], instances: list[dict[str, Any]], window: Any
    ) -> tuple[Any, ObservedSeries | None, tuple[Any, ...]]:
        key = (*_key(master, instances), repr(window))
        href = f"{self.where}: event {master.get('id')}"
        # Converted only on a miss: a quiet pass reads the same events again and again.
        calendars = Lazy(lambda: _parse(master, instances, window, href))
        weight = event_weight(master, instances)
        observed = _MEMO.get(
            ("observe", href), key, weight, _observe_versioned, calendars, href, _version(master)
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
    ) -> list[tuple[datetime, datetime]]:
        found: tuple[list[tuple[datetime, datetime]], set[date]] = _MEMO.get(
            ("busy", observed.href, self.email, zone.key),
            (key, start, end),
            64,
            lambda: ical.busy_from_parsed(calendars(), observed.href, self.email, start, end, zone),
        )
        return found[0]

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) and every product-owned object with its version (its
        master's etag); a rep's series are read from their managers' mailboxes."""
        why = self.session.settings_errors.get(self.email)
        if why is not None:
            # Planned with the org's defaults instead, the 1:1 could land outside the hours
            # the person keeps in Outlook: their calendar counts as unread this pass.
            raise CalendarError(why)
        result = CalendarRead()
        zone = person.zone
        own: list[tuple[datetime, datetime]] = []
        if self.email in self.session.organizers:
            cache = self.session.calendar(self.email)
            result.object_count = len(cache.instances)
            for master, instances in cache.grouped():
                if not master.get("isOrganizer", True) and master.get("type") == "seriesMaster":
                    continue
                try:
                    calendars, observed, key = self._observe(master, instances, cache.window)
                    if observed is None:
                        continue
                    spans = self._spans(calendars, observed, key, start, end, zone)
                except ValueError as error:
                    result.problems.append(str(error))
                    if mev.is_owned(master):
                        result.damaged[mev.uid_of(master)] = _version(master)
                    continue
                if mev.is_owned(master):
                    result.owned[observed.uid] = observed
                    own.extend(spans)
                    continue
                if not master.get("isOrganizer", True):
                    continue  # someone else's meeting: busy time from getSchedule
                if is_candidate(observed):
                    result.weekly_candidates.append(observed)
                    result.candidate_busy.setdefault(observed.uid, []).extend(spans)
                    own.extend(spans)
                elif is_single_meeting(observed):
                    result.single_meetings.append(observed)
        for manager in sorted(self.session.pair_managers.get(self.email, ())):
            cache = self.session.calendar(manager)
            for master, instances in cache.grouped():
                props = mev.props_of(master)
                ours = props.get(mev.PAIR) == f"{manager}/{self.email}"
                if not ours and (mev.is_owned(master) or master.get("type") != "seriesMaster"):
                    continue
                try:
                    calendars, observed, key = self._observe(master, instances, cache.window)
                    if observed is None:
                        continue
                    if not ours and not (
                        is_candidate(observed) and self.email in observed.attendees
                    ):
                        continue
                    spans = self._spans(calendars, observed, key, start, end, zone)
                except ValueError as error:
                    result.problems.append(str(error))
                    if ours:
                        result.damaged[mev.uid_of(master)] = _version(master)
                    continue
                own.extend(spans)
                if ours:
                    result.owned[observed.uid] = observed
                else:
                    result.candidate_busy.setdefault(observed.uid, []).extend(spans)
            result.object_count = max(result.object_count, len(result.owned))
        schedule = self.session.busy(self.email, start, end)
        away = [(s, e) for s, e, status in schedule if status == "oof"]
        # getSchedule and the calendar view give each event apart (Google's freeBusy merges
        # them): the product's own 1:1s are left out as events, so a meeting booked over a
        # 1:1 stays busy time (cutting the 1:1's time out of every span would hide it).
        mine = {(utc(s), utc(e)) for s, e in own}
        result.busy = sorted((s, e) for s, e, _ in schedule if (utc(s), utc(e)) not in mine)
        result.out_days |= days_out(result.busy, person, start, end)
        result.out_days |= days_out(away, person, start, end)
        return result

    # ----------------------------------------------------------------------- writing

    def _held(
        self, uid: str, *, owned: bool = False
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The event ``uid`` this mailbox organizes (only the product's when ``owned``) and
        its instances, as read this pass. A write may take an untagged one: adopting a
        weekly 1:1 people made is a write conditional on the version read."""
        cache = self.session.calendar(self.email)
        for master, instances in cache.grouped():
            if mev.uid_of(master) != uid or not master.get("isOrganizer", True):
                continue
            if mev.is_owned(master) or not owned:
                return master, instances
        return None, []

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Write each job in up to three rounds of batches (20 requests each): the masters
        (created with a ``transactionId``, or updated with ``If-Match``), the occurrences
        that differ from the spec (deleted for skipped weeks, patched for moved ones; their
        ids from ``instances``), then the fingerprint on the masters whose occurrences were
        written. A job whose ``expect`` is not the version read fails before any request;
        Graph's 412 on the master's etag is that job's ``ConflictError``.

        ``Written.version`` is the master's etag as the last request that touched it
        answered; every occurrence change moves the master's etag, so a job whose last
        request was an occurrence's gives ``None`` only when no stamp followed it.
        An attendee's copy is Exchange's to keep: such a job sends nothing."""
        outcomes: list[Written | CalendarError] = [Written(False, None)] * len(jobs)
        work: dict[str, _Job] = {}
        for index, write in enumerate(jobs):
            organizer = write.spec.organizer_email.lower()
            if organizer != self.email:
                if organizer not in self.session.organizers:
                    outcomes[index] = CalendarError(_foreign(self.email, organizer))
                continue
            try:
                job = self._job(write)
            except CalendarError as error:
                outcomes[index] = error
                continue
            if job is not None:
                work[str(index)] = job
            else:
                current, _ = self._held(write.spec.uid)
                outcomes[index] = Written(False, _version(current) if current else None)

        def fail(key: str, error: CalendarError) -> None:
            held = outcomes[int(key)]
            if not isinstance(held, CalendarError) or (
                isinstance(error, ConflictError) and not isinstance(held, ConflictError)
            ):
                outcomes[int(key)] = error

        # Round 1: the masters.
        calls: dict[str, GraphRequest] = {}
        for key, job in work.items():
            body = mev.master_body(job.spec, job.stamp)
            if job.current is not None and _addresses(job.current) == _addresses(body):
                # The same people: not sent, so their answers (response tracking) stay.
                body.pop("attendees")
            if job.current is None:
                body["transactionId"] = mev.transaction_id(
                    job.spec, job.fingerprint, jobs[int(key)].dtstamp
                )
                calls[key] = GraphRequest(
                    "POST",
                    f"{user_path(self.email)}/events?$expand={mev.EXPAND}",
                    body,
                    headers=dict(READ_HEADERS),
                )
            else:
                calls[key] = GraphRequest(
                    "PATCH",
                    f"{self._event_path(str(job.current['id']))}?$expand={mev.EXPAND}",
                    body,
                    headers={**READ_HEADERS, "If-Match": _version(job.current)},
                )
        answers = self._batch(calls)
        for key, answer in answers.items():
            job = work[key]
            if isinstance(answer, CalendarError):
                if isinstance(answer, (ConflictError, NotFoundError)):
                    answer = ConflictError(_conflict(job.spec.uid, self.where, job.current))
                fail(key, answer)
                work.pop(key)
                continue
            job.master_answer = answer
            job.changed = True
        # Round 2: the occurrences (their ids from ``instances`` of the master as it is now).
        instance_calls: dict[str, GraphRequest] = {}
        for key, job in work.items():
            if job.spec.makeup_week is not None or job.master_answer is None:
                continue
            try:
                job.instance_calls = self._instance_calls(job)
            except CalendarError as error:
                fail(key, error)
                continue
            for number, (_, request) in enumerate(job.instance_calls):
                instance_calls[f"{key}:{number}"] = request
        for call_key, answer in self._batch(instance_calls).items():
            key = call_key.partition(":")[0]
            if isinstance(answer, NotFoundError) and instance_calls[call_key].method == "DELETE":
                continue  # already gone
            if isinstance(answer, CalendarError):
                fail(key, answer)
        # Round 3: the fingerprint, on masters whose occurrences all went.
        stamps = {
            key: GraphRequest(
                "PATCH",
                f"{self._event_path(str(job.master_answer['id']))}?$expand={mev.EXPAND}",
                mev.stamp_body(job.fingerprint),
                headers=dict(READ_HEADERS),
            )
            for key, job in work.items()
            if job.master_answer is not None
            and job.stamp_later
            and not isinstance(outcomes[int(key)], CalendarError)
        }
        for key, answer in self._batch(stamps).items():
            if isinstance(answer, CalendarError):
                fail(key, answer)
                continue
            work[key].master_answer = answer
        for key, job in work.items():
            if isinstance(outcomes[int(key)], CalendarError):
                continue
            version = _version(job.master_answer) if job.master_answer else None
            if job.stamp_later and key not in stamps:
                version = None
            outcomes[int(key)] = Written(job.changed, version)
        if work:
            # What this pass wrote is read back by the next delta round; until then, the
            # masters as answered stand for the pass's later reads and writes.
            cache = self.session.calendar(self.email)
            for job in work.values():
                if job.master_answer is not None and not job.stamp_later:
                    cache.masters[str(job.master_answer["id"])] = job.master_answer
        return outcomes

    def _event_path(self, event_id: str) -> str:
        return f"{user_path(self.email)}/events/{quote(event_id, safe='')}"

    def _batch(self, calls: Mapping[str, GraphRequest]) -> dict[str, Any]:
        if not calls:
            return {}
        return self.session.client.batch(self.email, list(calls.items()), what=self.where)

    def _job(self, write: WriteJob) -> _Job | None:
        spec = write.spec
        current, instances = self._held(spec.uid)
        version = _version(current) if current is not None else None
        if version != write.expect:
            raise ConflictError(_conflict(spec.uid, self.where, current, write.expect))
        observed: ObservedSeries | None = None
        if current is not None:
            try:
                cache = self.session.calendar(self.email)
                _, observed, _ = self._observe(current, instances, cache.window)
            except ValueError:
                observed = None
        fingerprint = write.digest()
        if (
            observed is not None
            and observed.fingerprint == fingerprint
            and observed.sequence == spec.sequence
        ):
            return None  # as the product last wrote it: nothing to send
        job = _Job(spec, current, observed, fingerprint)
        # The master and its weeks are separate requests and a pass may die between them:
        # until the weeks are written the master carries a stamp no pass wrote in full, so
        # the next pass rewrites rather than reads a half-written series as people's edits.
        job.stamp_later = spec.makeup_week is None and (
            bool(spec.exdates or spec.overrides)
            or (observed is not None and bool(observed.overrides or observed.exdates))
        )
        return job

    def _instance_calls(self, job: _Job) -> list[tuple[str, GraphRequest]]:
        """The requests that make each week what the spec says (only those that differ).

        Changing a series' times or pattern drops its exceptions and deleted occurrences
        (Exchange), so they are compared against the master as it is now."""
        spec = job.spec
        master = job.master_answer or {}
        retimed = job.current is None or any(
            (job.current or {}).get(k) != master.get(k) for k in ("start", "end", "recurrence")
        )
        have = {} if retimed or job.observed is None else dict(job.observed.overrides)
        gone = set() if retimed or job.observed is None else set(job.observed.exdates)
        wanted = {utc(item.recurrence_id): item for item in spec.overrides}
        skipped = {utc(moment) for moment in spec.exdates} | {
            original for original, item in wanted.items() if item.cancelled
        }
        todo: dict[datetime, dict[str, Any] | None] = {}
        for original in sorted(skipped - gone):
            found = have.get(original)
            if found is None or not found.cancelled:
                todo[original] = None  # delete
        for original, item in sorted(wanted.items()):
            if item.cancelled:
                continue
            found = have.get(original)
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
            if not same:
                todo[original] = mev.instance_body(spec, item)
        # Exceptions the product made earlier that the spec no longer has: back to the rule;
        # but a week whose agenda link the series let go (ical.links_line) keeps its words.
        line = ical.links_line(spec)
        for original, found in sorted(have.items()):
            if original in wanted or original in skipped or found.cancelled:
                continue
            if link_let_go(spec, line, original, found):
                continue
            todo[original] = mev.regular_body(spec, original)
        if not todo:
            return []
        # The occurrences' ids: those this pass read (a moved week may be anywhere), else
        # from ``instances`` of the master as it is now (ids are Graph's own, opaque).
        ids: dict[datetime, str] = {}
        if not retimed:
            cache = self.session.calendar(self.email)
            for held in cache.instances.values():
                if held.get("seriesMasterId") == master["id"] and held.get("originalStart"):
                    ids[utc(mev.parse_instant(str(held["originalStart"])))] = str(held["id"])
        missing = [original for original in todo if original not in ids]
        if missing:
            ids.update(
                self._occurrence_ids(
                    str(master["id"]),
                    min(missing) - timedelta(days=7),
                    max(missing) + spec.duration + timedelta(days=7),
                )
            )
        calls: list[tuple[str, GraphRequest]] = []
        for original, body in sorted(todo.items()):
            occurrence = ids.get(original)
            if occurrence is None:
                continue  # not there (deleted already, or outside the series)
            path = self._event_path(occurrence)
            if body is None:
                calls.append((occurrence, GraphRequest("DELETE", path)))
            else:
                calls.append((occurrence, GraphRequest("PATCH", path, body)))
        return calls

    def _occurrence_ids(
        self, master_id: str, start: datetime, end: datetime
    ) -> dict[datetime, str]:
        since, until = _iso(start - timedelta(days=1)), _iso(end + timedelta(days=1))
        url = (
            f"{self._event_path(master_id)}/instances?startDateTime={since}"
            f"&endDateTime={until}&$select=id,originalStart,type"
        )
        found: dict[datetime, str] = {}
        while True:
            answer = self.session.client.call(
                self.email, GraphRequest("GET", url, headers=dict(READ_HEADERS)), what=self.where
            )
            for item in answer.get("value") or []:
                if item.get("originalStart"):
                    found[utc(mev.parse_instant(str(item["originalStart"])))] = str(item["id"])
            following = answer.get("@odata.nextLink")
            if not following:
                return found
            url = self.session._relative(str(following))

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        """Remove the product's event ``uid`` if still at version ``expect`` (``If-Match``);
        whether there was one. An attendee's copy is Exchange's: ``False``, nothing sent."""
        if self.email not in self.session.organizers:
            return False
        current, _ = self._held(uid, owned=True)
        if current is None:
            cache = self.session.calendar(self.email)
            for master, _instances in cache.grouped():
                if mev.uid_of(master) == uid:
                    raise CalendarError(
                        f"{self.where} holds {uid} but the product does not own it; it was "
                        "left alone."
                    )
            return False
        if _version(current) != expect:
            raise ConflictError(_conflict(uid, self.where, current, expect))
        try:
            self.session.client.call(
                self.email,
                GraphRequest(
                    "DELETE",
                    self._event_path(str(current["id"])),
                    headers={"If-Match": _version(current)},
                ),
                what=f"{uid} on {self.where}",
            )
        except NotFoundError:
            return False
        except ConflictError as error:
            raise ConflictError(_conflict(uid, self.where, current, expect)) from error
        cache = self.session.calendar(self.email)
        cache.masters.pop(str(current["id"]), None)
        for key in [
            k
            for k, i in cache.instances.items()
            if i.get("seriesMasterId") == current["id"] or k == current["id"]
        ]:
            cache.instances.pop(key)
        return True

    # ----------------------------------------------------------------------- checking

    def check(self, person: Person) -> list[str]:
        """Reach the mailbox as the app: its mailbox settings (one request), and say when
        its time zone is not the one the org file gives the person."""
        manager = self.session.foreign_managers.get(self.email)
        if manager is not None:
            return [f"{person.email}: {_foreign(person.email, manager)}"]
        try:
            answer = self.session.client.call(
                self.email,
                GraphRequest("GET", f"{user_path(self.email)}/mailboxSettings"),
                what=self.where,
            )
        except CalendarError as error:
            return [f"{person.email}: {error}"]
        if not isinstance(answer, dict):
            return [f"{person.email}: Microsoft Graph gave no mailbox settings for {self.where}"]
        return []


def _addresses(resource: Mapping[str, Any]) -> set[str]:
    return {
        str((a.get("emailAddress") or {}).get("address", "")).lower()
        for a in resource.get("attendees") or []
    }


def _foreign(rep: str, manager: str) -> str:
    return (
        f"{rep} is on Microsoft 365 but their manager {manager} is not; oneonone keeps a "
        "Microsoft 365 series only in the manager's own mailbox: put both on Microsoft 365, "
        "or the rep on vdir, CalDAV or an ICS feed"
    )


def _conflict(
    uid: str, where: str, held: Mapping[str, Any] | None, expected: str | None = "x"
) -> str:
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
