"""Pure values of the product: people, pairs, slots, weeks, busy time, occurrences.

No I/O and no clock: every function that needs "now" takes it as an argument.
Everything here is a frozen value object validated at construction, so the planner,
the rules and the reconcile step can trust what they are given.

Exports: Person, Pair, Slot, WorkingHours, Interval, BusyCalendar, Occurrence statuses,
IsoWeek helpers (iso_week, week_monday), pair_key / series_uid, wall_clock.

The submodules, imported on their own: ``series`` (a calendar's series as the providers read
and write it), ``records`` (what the ledger keeps) and ``settings`` (the org and its settings,
as the org file gives them). None of them does I/O or loads SQLAlchemy, pydantic or Jinja2.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "ABSENT_STATUSES",
    "GIVEN_ALL",
    "MISSED_STATUSES",
    "BusyCalendar",
    "CalendarSettings",
    "Interval",
    "LedgerStatus",
    "Pair",
    "Person",
    "PlanStatus",
    "Slot",
    "WorkingHours",
    "iso_week",
    "pair_key",
    "series_uid",
    "slot_day",
    "slot_week",
    "wall_clock",
    "week_monday",
    "week_shift",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class PlanStatus(StrEnum):
    """What the planner decided for one week of one pair (``plan --json`` ``status``)."""

    PLANNED = "planned"
    CLOSE_WEEK = "close_week"
    TIME_OFF = "time_off"
    CONFLICT = "conflict"
    FROZEN = "frozen"
    PEOPLE_CHANGED = "people_changed"
    ADOPT = "adopt"


class LedgerStatus(StrEnum):
    """What became of one week of one pair (``report --json`` ``status``)."""

    UPCOMING = "upcoming"
    HELD = "held"
    MOVED = "moved"
    MADE_UP = "made_up"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    MISSED = "missed"
    CLOSE_WEEK = "close_week"
    TIME_OFF = "time_off"


#: Statuses that count as a missed 1:1 for streaks and adherence.
MISSED_STATUSES = frozenset({LedgerStatus.CANCELLED, LedgerStatus.DECLINED, LedgerStatus.MISSED})
#: Weeks with no 1:1 on purpose: skipped over by streaks, excluded from adherence.
ABSENT_STATUSES = frozenset({LedgerStatus.CLOSE_WEEK, LedgerStatus.TIME_OFF})


# --------------------------------------------------------------------------- time


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware instant at wall-clock ``at`` on ``day`` in ``zone``.

    DST: a wall time that does not exist (the spring-forward gap) moves forward by the gap,
    the way calendar clients show it (02:30 becomes 03:30); a wall time that happens twice
    (the autumn fold) means its first occurrence. The round trip through UTC normalises both.
    """
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)


def iso_week(day: date) -> str:
    """The ISO-8601 week of ``day``, written ``2027-W05``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of an ISO week written ``2027-W05``."""
    year, _, number = week.partition("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def week_after(week: str, count: int = 1) -> str:
    return iso_week(week_monday(week) + timedelta(weeks=count))


# Weeks are ISO weeks in the org's zone (spec "Calendar rules"), but a series' rule lives in its
# organizer's zone: a Tokyo manager's Monday 09:00 is Sunday evening in New York, a week
# earlier there. The instance of org week W is the rule's instance that falls in W: the
# organizer-local weekday of ISO week W + ``shift``, where ``shift`` (-1, 0 or 1) is the same
# every week so the weekly rule and the weeks stay one to one. It is worked out with the two
# zones' standard offsets, so a DST change never moves a slot to another week (a slot within an
# hour of the org week's edge may lie that hour outside it half the year).
_SHIFT_REFERENCE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _standard_offset(zone: ZoneInfo) -> timedelta:
    local = _SHIFT_REFERENCE.astimezone(zone)
    return (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))


@lru_cache(maxsize=4096)
def week_shift(weekday: int, at: time, timezone: str, org_timezone: str | None) -> int:
    """Weeks from the ISO week of ``weekday`` ``at`` in ``timezone`` to the org week it is
    counted in (``org_timezone``; none or the same zone: 0)."""
    if not org_timezone or org_timezone == timezone:
        return 0
    gap = _standard_offset(ZoneInfo(org_timezone)) - _standard_offset(ZoneInfo(timezone))
    in_org_week = timedelta(days=weekday, hours=at.hour, minutes=at.minute) + gap
    return -(in_org_week // timedelta(weeks=1))


def slot_day(week: str, weekday: int, shift: int) -> date:
    """The organizer-local date of the regular slot of org week ``week``."""
    return week_monday(week) + timedelta(days=weekday + 7 * shift)


def slot_week(local_day: date, shift: int) -> str:
    """The org week whose regular slot falls on the organizer-local ``local_day`` (the inverse
    of ``slot_day``: a RECURRENCE-ID's week)."""
    return iso_week(local_day - timedelta(weeks=shift))


# --------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """A person's working day in their own time zone: ``start`` to ``end`` on ``days``.

    ``timezone``: the zone the hours are read in when it is not the person's own (Outlook's
    working hours carry a zone of their own); ``None``, the usual case: the person's."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = frozenset(range(5))  # date.weekday() numbers; Monday is 0
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"working hours end {self.end:%H:%M} is not after start {self.start:%H:%M}"
            )

    def contains(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """Whether [start, end) lies inside one working day of this person, read in ``zone``
        (the person's; the hours' own ``timezone`` when they have one)."""
        if self.timezone is not None:
            zone = ZoneInfo(self.timezone)
        local_start = start.astimezone(zone)
        local_end = end.astimezone(zone)
        if local_start.weekday() not in self.days or local_end.date() != local_start.date():
            return False
        return self.start <= local_start.time() and local_end.time() <= self.end


@dataclass(frozen=True, slots=True)
class Slot:
    """A weekly wall-clock time: weekday (Monday is 0) and time of day, in some zone."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0..6")

    def label(self) -> str:
        return f"{WEEKDAY_LABELS[self.weekday]} {self.at:%H:%M}"


#: what a person's own org-file entry can set that their calendar's settings could also give
GIVEN_ALL = frozenset({"timezone", "working_hours", "workdays"})


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """A person's time zone and working hours as their calendar keeps them (Outlook's
    ``mailboxSettings``); ``None``: the calendar does not say."""

    timezone: str | None = None
    working_hours: WorkingHours | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """``given``: which of ``GIVEN_ALL`` the person's own org-file entry sets (the others are
    the org's defaults, which their calendar's settings replace); ``from_calendar``: which of
    them came from their calendar's settings (``with_calendar_settings``)."""

    email: str
    name: str
    timezone: str
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    manager: str | None = None
    given: frozenset[str] = GIVEN_ALL
    from_calendar: frozenset[str] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hours_zone(self) -> ZoneInfo:
        """The zone the person's working hours are read in."""
        return ZoneInfo(self.working_hours.timezone or self.timezone)

    def with_calendar_settings(self, settings: CalendarSettings) -> Person:
        """This person with what their calendar says in place of the org's defaults; what
        their own org-file entry sets always stays."""
        taken: set[str] = set()
        timezone = self.timezone
        if "timezone" not in self.given and settings.timezone:
            timezone = settings.timezone
            taken.add("timezone")
        hours = self.working_hours
        found = settings.working_hours
        if found is not None:
            start, end, zone = hours.start, hours.end, hours.timezone
            if "working_hours" not in self.given:
                # Hours with no zone of their own are in the calendar's zone.
                start, end = found.start, found.end
                zone = found.timezone or settings.timezone
                taken.add("working_hours")
            days = hours.days
            if "workdays" not in self.given and found.days:
                days = found.days
                taken.add("workdays")
            if zone == timezone:
                zone = None
            elif "working_hours" in self.given:
                zone = hours.timezone  # the org file's hours are in the person's zone
            hours = WorkingHours(start, end, days, zone)
        if not taken:
            return self
        return replace(self, timezone=timezone, working_hours=hours, from_calendar=frozenset(taken))

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email.split("@")[0]


def pair_key(manager: str, rep: str) -> str:
    """The tag value of a pair: ``<manager email>/<rep email>`` (spec "Tags")."""
    return f"{manager.lower()}/{rep.lower()}"


def pair_emails(key: str) -> tuple[str, str]:
    """The (manager, rep) of a ``pair_key``; a digest's key (``<manager>/``) has no rep: ""."""
    manager, _, rep = key.partition("/")
    return manager, rep


_UID_NAMESPACE = uuid.UUID("6f1c7a52-4c1e-4b7e-9d0a-0e5f1b2c3d4e")


def series_uid(manager: str, rep: str) -> str:
    """The stable UID of a pair's series: the same pair always gets the same UID."""
    return f"oneonone-{uuid.uuid5(_UID_NAMESPACE, pair_key(manager, rep))}"


def makeup_uid(manager: str, rep: str, week: str) -> str:
    """The stable UID of a pair's make-up event for one week: never two for one week."""
    return f"oneonone-makeup-{uuid.uuid5(_UID_NAMESPACE, pair_key(manager, rep) + '#' + week)}"


@dataclass(frozen=True, slots=True)
class Pair:
    """A manager and one direct report, with the pair's regular slot in the organizer's zone.

    The manager is the organizer. ``skip_level`` is the manager's own manager, if any.
    """

    manager: Person
    rep: Person
    slot: Slot
    duration: timedelta
    skip_level: str | None = None
    #: the org's zone, whose ISO weeks the pair's weeks are (None: the organizer's own)
    org_timezone: str | None = None

    @property
    def key(self) -> str:
        return pair_key(self.manager.email, self.rep.email)

    @property
    def uid(self) -> str:
        return series_uid(self.manager.email, self.rep.email)

    @property
    def organizer_zone(self) -> ZoneInfo:
        return self.manager.zone

    @property
    def org_zone(self) -> ZoneInfo:
        """The zone whose ISO weeks the pair's weeks are."""
        return ZoneInfo(self.org_timezone or self.manager.timezone)

    @property
    def week_shift(self) -> int:
        """See ``week_shift``: 0 unless the slot falls in another org week than its own."""
        return week_shift(self.slot.weekday, self.slot.at, self.manager.timezone, self.org_timezone)

    def regular_start(self, week: str) -> datetime:
        """The regular slot's instant in org ``week`` (ISO week), wall-clock in the organizer's
        zone."""
        day = slot_day(week, self.slot.weekday, self.week_shift)
        return wall_clock(day, self.slot.at, self.organizer_zone)

    def week_of(self, instant: datetime) -> str:
        """The org week of the regular-slot instance at ``instant`` (a RECURRENCE-ID)."""
        return slot_week(instant.astimezone(self.organizer_zone).date(), self.week_shift)


# --------------------------------------------------------------------------- busy time


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open span of time [start, end), both aware."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


class BusyCalendar:
    """One person's busy time: merged spans, queried with bisection.

    Spans are kept as POSIX timestamps (floats), not datetimes: a large org holds millions of
    them and a float is a third of the memory; instants compare the same either way.
    ``out_days`` are the dates (in the person's zone) they are away all day (all-day or
    out-of-office events).
    """

    __slots__ = ("_ends", "_starts", "out_days")

    def __init__(self, intervals: Iterable[Interval] = (), out_days: Iterable[date] = ()) -> None:
        starts: list[float] = []
        ends: list[float] = []
        for begin, finish in sorted(
            (i.start.timestamp(), i.end.timestamp()) for i in intervals if i.end > i.start
        ):
            if ends and begin <= ends[-1]:
                if finish > ends[-1]:
                    ends[-1] = finish
            else:
                starts.append(begin)
                ends.append(finish)
        self._starts = starts
        self._ends = ends
        self.out_days: frozenset[date] = frozenset(out_days)

    @property
    def intervals(self) -> list[Interval]:
        return [
            Interval(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC))
            for s, e in zip(self._starts, self._ends, strict=True)
        ]

    def is_free(self, start: datetime, end: datetime) -> bool:
        """Whether nothing busy overlaps [start, end)."""
        # Spans are merged, so ends are sorted too: the first span ending after ``start`` is
        # the only one that can overlap.
        index = bisect.bisect_right(self._ends, start.timestamp())
        return index >= len(self._starts) or self._starts[index] >= end.timestamp()

    def is_free_at(self, start: float, end: float) -> bool:
        """``is_free`` for POSIX timestamps (the planner's hot loop has them already)."""
        index = bisect.bisect_right(self._ends, start)
        return index >= len(self._starts) or self._starts[index] >= end

    def timestamps_between(self, start: float, end: float) -> list[tuple[float, float]]:
        """``between`` for POSIX timestamps, giving the spans' own timestamps."""
        first = bisect.bisect_right(self._ends, start)
        last = bisect.bisect_left(self._starts, end)
        return list(zip(self._starts[first:last], self._ends[first:last], strict=True))

    def between(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The busy spans overlapping [start, end), as (start, end) pairs in UTC."""
        first = bisect.bisect_right(self._ends, start.timestamp())
        last = bisect.bisect_left(self._starts, end.timestamp())
        return [
            (
                datetime.fromtimestamp(self._starts[i], UTC),
                datetime.fromtimestamp(self._ends[i], UTC),
            )
            for i in range(first, last)
        ]

    def __repr__(self) -> str:
        return f"BusyCalendar({len(self._starts)} spans, {len(self.out_days)} out days)"
