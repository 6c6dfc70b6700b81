"""Pure values for what a pair's series should look like and what was observed of it.

``SeriesSpec`` is what the product wants on a calendar (written by providers);
``ObservedSeries`` is what a provider read back from one calendar (one copy of the series).
Both speak in aware datetimes; instances are keyed by their original start (RECURRENCE-ID),
normalised to UTC so copies written in different zones compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "Attachment",
    "CalendarRead",
    "InstanceOverride",
    "ObservedInstance",
    "ObservedSeries",
    "SeriesSpec",
    "utc",
]

#: any white space (``str.isspace``'s): searched at C speed, every pass makes every link
_SPACE = re.compile(r"\s")

PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; the key under which instances are compared."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} where an aware one is needed")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document linked from an event or one instance of it: the 1:1's agenda.

    iCalendar writes it as ``ATTACH;FMTTYPE=text/html:<url>``; Google as an entry of the
    event's ``attachments`` (``fileUrl``, ``title``). ``title`` is what a client shows for it.
    """

    url: str
    title: str = ""

    def __post_init__(self) -> None:
        if not self.url.strip() or _SPACE.search(self.url):
            raise ValueError(f"attachment url {self.url!r} is empty or holds white space")


@dataclass(frozen=True, slots=True)
class InstanceOverride:
    """One instance of the series that differs from the rule (a RECURRENCE-ID override).

    ``recurrence_id`` is the instance's original start (the regular slot of that week).
    """

    recurrence_id: datetime
    start: datetime
    end: datetime
    description: str = ""
    cancelled: bool = False
    #: email -> PARTSTAT on this instance; empty means "same as the master".
    partstats: tuple[tuple[str, str], ...] = ()
    #: the instance's agenda; an unchanged week gets an override with the rule's start just to
    #: carry it
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """A pair's weekly series as the product wants it written.

    The organizer is the manager, the attendee the rep. ``dtstart`` is the first regular
    instance, wall-clock in the organizer's zone (its tzinfo is a ``ZoneInfo``), and the rule is
    ``FREQ=WEEKLY`` on that weekday; ``until`` ends it (a pair removed from the org file).
    ``exdates`` are the original starts of skipped weeks; ``overrides`` the moved instances.
    ``partstats`` maps each person's email to their answer on the master.
    """

    uid: str
    pair_key: str
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    dtstart: datetime
    duration: timedelta
    until: datetime | None = None
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[InstanceOverride, ...] = ()
    partstats: tuple[tuple[str, str], ...] = ()
    sequence: int = 0
    #: set on single make-up events; then there is no rule and no exdates/overrides.
    makeup_week: str | None = None
    #: a document linked from the master (a make-up's agenda); a weekly series' agendas are on
    #: its overrides, one per instance
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class ObservedInstance:
    """One instance override as read from a calendar."""

    recurrence_id: datetime  # original start, UTC
    start: datetime
    end: datetime
    cancelled: bool = False
    partstats: dict[str, str] = field(default_factory=dict)
    description: str = ""
    #: the ``ATTACH`` URIs of the instance, in file order
    attachments: tuple[str, ...] = ()

    def at_rule_time(self, duration: timedelta) -> bool:
        """Whether the instance is where its rule puts it: from its original start, as long
        as the rule's meeting (on the absolute timeline, as ``attach_series`` writes it)."""
        return (
            utc(self.start) == self.recurrence_id and utc(self.end) == self.recurrence_id + duration
        )


@dataclass(frozen=True, slots=True)
class ObservedSeries:
    """One copy of a product-owned object read back from a calendar (series or make-up).

    ``exdates`` and the keys of ``overrides`` are original starts in UTC.
    ``fingerprint`` is the ``X-ONEONONE-HASH`` the product stamped when it last wrote the
    object (``None`` when absent, e.g. a series created by a person and not yet adopted).
    """

    uid: str
    pair_key: str | None
    dtstart: datetime
    duration: timedelta
    weekly: bool  # has an RRULE FREQ=WEEKLY (False: a single event, e.g. a make-up)
    until: datetime | None = None
    exdates: frozenset[datetime] = frozenset()
    overrides: dict[datetime, ObservedInstance] = field(default_factory=dict)
    partstats: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False
    attendees: frozenset[str] = frozenset()
    organizer: str | None = None
    fingerprint: str | None = None
    sequence: int = 0
    makeup_week: str | None = None
    href: str = ""
    #: has any RRULE or RDATE (a weekly one or another)
    recurring: bool = False
    #: the master's ``ATTACH`` URIs, in file order
    attachments: tuple[str, ...] = ()
    #: the provider's version of the object as read (an etag, a content hash); a write is
    #: conditional on it (see ``scheduler.providers.base``)
    version: str | None = None


@dataclass(slots=True)
class CalendarRead:
    """Everything one read of one person's calendar gives, for the window asked.

    ``busy``: the person's own busy intervals (aware, any zone), excluding every object the
    product owns (tagged ``X-ONEONONE-PAIR`` or the pair's series UIDs), transparent,
    cancelled and declined ones. ``out_days``: dates in the person's zone they are away all
    day. ``owned``: product-owned objects by UID. ``weekly_candidates``: untagged weekly
    recurring events (for adoption). ``object_count``: every calendar object seen, so a
    suddenly empty calendar can be told from one that never held anything. ``problems``: one
    plain sentence per object that could not be read (it was skipped, not lost).
    ``candidate_busy``: the busy time of each weekly candidate, by UID, kept out of ``busy``
    (an adopted event is the 1:1 itself, not time the 1:1 must avoid; the pass adds the
    others back). ``single_meetings``: untagged one-off events between exactly two people
    (a make-up people booked themselves); they are busy time too. ``damaged``: objects stored
    under a product UID that could not be read (a truncated file), UID -> version: named in
    ``problems``, never taken for a deleted series, and replaced (conditionally) by the
    product's own write.
    """

    busy: list[tuple[datetime, datetime]] = field(default_factory=list)
    out_days: set[date] = field(default_factory=set)
    owned: dict[str, ObservedSeries] = field(default_factory=dict)
    weekly_candidates: list[ObservedSeries] = field(default_factory=list)
    candidate_busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    single_meetings: list[ObservedSeries] = field(default_factory=list)
    object_count: int = 0
    problems: list[str] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)
