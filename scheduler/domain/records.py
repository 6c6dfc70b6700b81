"""The records the ledger keeps: what the product knows of each pair, series, week, notice,
make-up, agenda document and action item, as frozen values.

Pure: no I/O and no clock. ``scheduler.store.ledger`` reads and writes them (and re-exports
them); reconcile, escalation and the agenda decisions take and return them. An occurrence's
statuses are the values of ``PlanStatus`` and ``LedgerStatus`` (``scheduler.domain``); the
other states (a make-up's, an agenda document's, an action item's) are the strings each
field's comment lists.

Exports: PairRecord, SeriesRecord, OccurrenceRecord, NoticeRecord, MakeupRecord,
AgendaDocRecord, ActionItemRecord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from operator import attrgetter

__all__ = [
    "ActionItemRecord",
    "AgendaDocRecord",
    "CopyRecord",
    "MakeupRecord",
    "NoticeRecord",
    "OccurrenceRecord",
    "PairRecord",
    "SeriesRecord",
]


@dataclass(frozen=True, slots=True)
class PairRecord:
    key: str
    manager: str
    rep: str
    skip_level: str | None
    active: bool
    created_at: datetime
    ended_at: datetime | None


#: ``SeriesRecord.window``: "<ISO week> <hex digest>".
_WINDOW = re.compile(r"(\d{4}-W\d{2}) [0-9a-f]+")


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    """What the product last wrote for a pair's series (its anchor and version)."""

    pair_key: str
    uid: str
    organizer: str
    dtstart: datetime
    weekday: int
    at_time: time
    timezone: str
    duration: timedelta
    until: datetime | None
    sequence: int
    fingerprint: str
    dtstamp: datetime
    created_at: datetime
    updated_at: datetime
    #: the fingerprint before the last change, and whether the files may still hold it:
    #: the ledger is committed before calendars are written, so a pass killed in between
    #: leaves ``pending`` set and the next pass knows an old file is ours, not a person's edit.
    previous_fingerprint: str | None = None  # space-separated while several are unwritten
    pending: bool = False
    #: the last pass that saw the organizer's copy on the calendar (or wrote it)
    seen_at: datetime | None = None
    #: the slot a person gave the whole series (or an adopted event had), as JSON; it
    #: replaces the org file's slot until the org file's slot for the pair changes
    person_slot: str | None = None
    #: weeks from the ISO week of the rule's weekday to the org week it counts in
    #: (``scheduler.domain.week_shift``)
    week_shift: int = 0
    #: "<ISO week> <digest>": the digest of the series' weeks from that week on, as last
    #: written or checked in full (``scheduler.engine.series.window_holds``); a pass that gets
    #: the same digest from those weeks knows the series is unchanged without its settled
    #: weeks (issue 17). ``None``: the next pass reads the pair's whole history.
    window: str | None = None

    def window_week(self) -> str | None:
        """The line of ``window``: ``None`` when there is none, or none a pass wrote (the
        pair is then read whole, which writes it afresh)."""
        found = _WINDOW.fullmatch(self.window or "")
        return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class CopyRecord:
    """The product's last confirmed write of one object (``uid``) to one calendar (``owner``).

    ``version`` is what the provider said the object's version became (``None`` when it could
    not tell without reading again); ``fingerprint`` the ``X-ONEONONE-HASH`` written;
    ``baseline`` (JSON, see ``scheduler.reconcile.Baseline``) the weeks as that write put them.
    """

    uid: str
    owner: str
    pair_key: str
    version: str | None
    fingerprint: str
    baseline: str
    written_at: datetime


@dataclass(frozen=True, slots=True)
class OccurrenceRecord:
    """One week of one pair as the ledger knows it.

    ``planned_*`` is where the product put (or keeps) the meeting; ``actual_*`` where people
    moved it, when they did. ``plan_status`` is the planner's word, ``status`` the report's.
    """

    pair_key: str
    week: str
    regular_start: datetime
    planned_start: datetime
    planned_end: datetime
    plan_status: str
    status: str
    reason: str
    people_changed: bool = False
    #: what a person did to it: "", "moved", "cancelled" or "declined"
    change: str = ""
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    agenda: str | None = None
    updated_at: datetime | None = None
    #: either person is out of office on every business day of the week (``time_off``,
    #: whatever else happened to it)
    away: bool = False
    #: whose edit ``change`` is (an e-mail); kept so that a decline outlives the copies that
    #: carried it (both deleted, the series is recreated with that person's answer)
    changed_by: str | None = None

    def same_facts(self, other: OccurrenceRecord) -> bool:
        """Equal but for ``updated_at``: whether saving ``other`` would change anything."""
        # Compared field by field in C (a pass compares every week of every pair's history;
        # two copies with ``updated_at`` cleared were most of that).
        return self is other or _occurrence_facts(self) == _occurrence_facts(other)


#: An occurrence's fields but ``updated_at``, as one tuple (``OccurrenceRecord.same_facts``)
_occurrence_facts = attrgetter(
    *(f.name for f in fields(OccurrenceRecord) if f.name != "updated_at")
)


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One recipient of one notice; the rows of one message share ``message_id``."""

    kind: str
    pair_key: str
    week: str
    recipient: str
    decided_at: datetime
    sent_at: datetime | None
    message_id: str
    channel: str = "email"
    #: the message exactly as it is (to be) sent: RFC 5322 text, or the Slack text
    raw: str = ""


@dataclass(frozen=True, slots=True)
class MakeupRecord:
    """A make-up the product booked for one cancelled or declined week of a pair."""

    pair_key: str
    week: str
    uid: str
    start: datetime
    end: datetime
    state: str  # "booked", "cancelled" or "declined" (by a person; then left alone)
    reason: str
    pending: bool
    fingerprint: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AgendaDocRecord:
    """One agenda document: a pair's session on ``session_date`` (``YYYY-MM-DD``).

    ``ref`` and ``url`` are the document store's (see ``scheduler.agenda.store``); both are
    ``None`` while it is ``pending`` and not yet written. ``items`` are (item id, text) as the
    document lists them, which reading it back matches against.
    """

    pair_key: str
    session_date: str
    week: str
    kind: str  # "series" or "makeup"
    start: datetime
    end: datetime
    title: str
    excerpt: str
    state: str  # "pending", "written", "read", "closed", "gone"
    items: tuple[tuple[str, str], ...]
    created_at: datetime
    ref: str | None = None
    url: str | None = None
    body: str | None = None
    written_at: datetime | None = None
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionItemRecord:
    """One action item of a pair and what became of it.

    ``first_agenda``/``last_agenda``/``decided_in`` are session dates of agenda documents: where
    it was first seen, the last one that listed it, and the one whose read-back set its state.
    ``history`` is a tuple of (at, event, text, agenda) entries, oldest first.
    """

    pair_key: str
    id: str
    text: str
    key: str
    state: str  # "open", "done", "dropped"
    first_agenda: str
    last_agenda: str
    created_at: datetime
    updated_at: datetime
    decided_in: str | None = None
    done_at: datetime | None = None
    history: tuple[tuple[str, str, str, str], ...] = ()
