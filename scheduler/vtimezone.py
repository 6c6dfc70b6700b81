"""VTIMEZONE components (RFC 5545 3.6.5) built from the zone's real transitions.

Pure: no I/O, no clock. ``icalendar.Timezone.from_tzinfo`` writes every DAYLIGHT onset an hour
late (``DTSTART:20260308T030000`` with ``TZOFFSETFROM:-0500``: RFC 5545 reads an onset's
DTSTART in its TZOFFSETFROM offset, so that is 08:00Z, not the real 07:00Z), and clients that
trust the embedded VTIMEZONE (Outlook, ical.js) show wrong times in that hour. This module
finds each transition of a ``ZoneInfo`` to the second on the absolute timeline and writes its
onset as the wall time just before it, in the offset it changes from.

Onsets of the same kind that recur on the same "n-th (or last) weekday of a month at a time" in
consecutive years are written as one component with a yearly RRULE (as tzdata-derived
VTIMEZONEs usually are, and as Outlook expects); the last run of a zone that still changes is
left open-ended, so an open-ended series stays right after the span too. A zone with no change
in the span gets one STANDARD component with equal offsets.

Exports: ``Transition``, ``transitions``, ``vtimezone``, ``vtimezone_bytes``.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

__all__ = ["Transition", "transitions", "vtimezone", "vtimezone_bytes"]

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of a zone's rules: at ``instant`` (UTC) the offset goes from ``before`` to
    ``after`` and the abbreviation becomes ``name``; ``daylight`` when the new rule is DST."""

    instant: datetime
    before: timedelta
    after: timedelta
    name: str
    daylight: bool

    @property
    def onset(self) -> datetime:
        """The onset as RFC 5545 writes it: wall time in the offset changed from (naive)."""
        return (self.instant + self.before).replace(tzinfo=None)


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta, str, timedelta]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.tzname() or "", local.dst() or timedelta(0)


def _daylight(before: timedelta, after: timedelta) -> bool:
    """Whether a rule whose DST amount is ``after`` (coming from ``before``) is DAYLIGHT.

    tzdata gives a few zones a negative DST in winter (Europe/Dublin, Africa/Casablanca in
    Ramadan); readers expect the larger offset as DAYLIGHT and derive DST from it (dateutil's
    fold handling does), so leaving a negative-DST rule for a zero one counts as daylight too.
    """
    return after > timedelta(0) or (after == timedelta(0) and before < timedelta(0))


def transitions(zone: ZoneInfo, first: date, last: date) -> list[Transition]:
    """Every change of offset or abbreviation of ``zone`` in [first, last) (UTC days), in order,
    each found to the second by bisection between two days that differ.

    Found a whole UTC year at a time and kept (a year's scan is ~730 lookups and a series file
    names years of them, on every write), then cut to the span; the same changes a scan of
    the span alone finds, since each scan starts from the state at its start."""
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC)
    return [
        change
        for year in range(first.year, last.year + 1)
        for change in _year_transitions(zone, year)
        if begin < change.instant <= stop
    ]


@lru_cache(maxsize=2048)
def _year_transitions(zone: ZoneInfo, year: int) -> tuple[Transition, ...]:
    return tuple(_scan(zone, date(year, 1, 1), date(year + 1, 1, 1)))


def _scan(zone: ZoneInfo, first: date, last: date) -> list[Transition]:
    found: list[Transition] = []
    cursor = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC)
    state = _state(zone, cursor)
    step = timedelta(hours=12)
    while cursor < stop:
        nxt = min(cursor + step, stop)
        then = _state(zone, nxt)
        if then[:2] != state[:2]:
            low, high = cursor, nxt  # state(low) == state, state(high) != state
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    middle = low + timedelta(seconds=1)
                if _state(zone, middle)[:2] == state[:2]:
                    low = middle
                else:
                    high = middle
            after = _state(zone, high)
            found.append(
                Transition(high, state[0], after[0], after[1], _daylight(state[2], after[2]))
            )
            state = after
            # A second change between ``high`` and ``nxt`` (never seen in tzdata) would be
            # found by continuing from ``high``.
            cursor = high
            continue
        cursor, state = nxt, then
    return found


def _positions(moment: datetime) -> frozenset[int]:
    """Which BYDAY ordinals name ``moment``'s day in its month: n-th and/or last (-1)."""
    days_in_month = _calendar.monthrange(moment.year, moment.month)[1]
    found = {(moment.day - 1) // 7 + 1}
    if moment.day + 7 > days_in_month:
        found.add(-1)
    return frozenset(found)


def _runs(items: list[Transition]) -> list[tuple[list[Transition], int | None]]:
    """``items`` (one kind, same offsets and name, in order) cut into runs that one yearly rule
    describes: consecutive years, same month, weekday and wall time, a shared ordinal. Each
    run comes with its ordinal, ``None`` for a run of one."""
    runs: list[tuple[list[Transition], frozenset[int]]] = []
    for item in items:
        onset = item.onset
        if runs:
            run, ordinals = runs[-1]
            previous = run[-1].onset
            shared = ordinals & _positions(onset)
            if (
                onset.year == previous.year + 1
                and onset.month == previous.month
                and onset.weekday() == previous.weekday()
                and onset.time() == previous.time()
                and shared
            ):
                runs[-1] = ([*run, item], shared)
                continue
        runs.append(([item], _positions(onset)))
    result: list[tuple[list[Transition], int | None]] = []
    for run, ordinals in runs:
        # Prefer "last" (-1): it stays right in months where a fifth weekday comes and goes.
        ordinal = None if len(run) == 1 else (-1 if -1 in ordinals else min(ordinals))
        result.append((run, ordinal))
    return result


def vtimezone(key: str, first: date, last: date, tzid: str | None = None) -> Timezone:
    """The VTIMEZONE of IANA zone ``key`` valid for [first, last) (TZID ``tzid``, default the
    key): the rule in force at ``first`` and every transition until ``last``."""
    zone = ZoneInfo(key)
    # Local midnight of ``first`` (2:30 on a day when midnight does not exist is no matter:
    # only the instant is used).
    start = min(
        datetime.combine(first, time(0), zone).astimezone(UTC),
        datetime.combine(first, time(0), UTC),
    )
    timezone = Timezone()
    timezone.add("tzid", tzid or key)
    # The rule in force at ``first`` starts at its real onset (the last change in the year
    # before), so readers see its true offsets; a zone with no change in that year gets an
    # onset that changes nothing. Either way no instant of the span is before every onset.
    changes = transitions(zone, first - timedelta(days=366), last)
    earlier = [change for change in changes if change.instant <= start]
    changes = [change for change in changes if change.instant > start]
    components: list[tuple[datetime, TimezoneStandard | TimezoneDaylight]] = []
    if earlier:
        changes.insert(0, earlier[-1])
    else:
        offset, name, dst = _state(zone, start)
        opening = Transition(start, offset, offset, name, dst > timedelta(0))
        components.append(
            (opening.instant, _component(opening, [opening], None, last_run=not changes))
        )
    groups: dict[tuple[bool, timedelta, timedelta, str], list[Transition]] = {}
    for change in changes:
        groups.setdefault((change.daylight, change.before, change.after, change.name), []).append(
            change
        )
    final_year = changes[-1].onset.year if changes else first.year
    for items in groups.values():
        for run, ordinal in _runs(items):
            # Open-ended when the run reaches the span's last year of changes: the zone still
            # follows this rule, and an open-ended series should keep getting it.
            still = run[-1].onset.year >= final_year and ordinal is not None
            components.append((run[0].instant, _component(run[0], run, ordinal, still)))
    for _, component in sorted(components, key=lambda pair: pair[0]):
        timezone.add_component(component)
    return timezone


def _component(
    head: Transition, run: list[Transition], ordinal: int | None, last_run: bool
) -> TimezoneStandard | TimezoneDaylight:
    component: TimezoneStandard | TimezoneDaylight = (
        TimezoneDaylight() if head.daylight else TimezoneStandard()
    )
    component.add("dtstart", head.onset)
    component.add("tzoffsetfrom", head.before)
    component.add("tzoffsetto", head.after)
    if head.name:
        component.add("tzname", head.name)
    if ordinal is not None and len(run) > 1:
        onset = head.onset
        rule: dict[str, object] = {
            "FREQ": "YEARLY",
            "BYMONTH": onset.month,
            "BYDAY": f"{ordinal}{_WEEKDAYS[onset.weekday()]}",
        }
        if not last_run:
            # RFC 5545 3.6.5: UNTIL in a VTIMEZONE rule is a UTC date-time.
            rule["UNTIL"] = run[-1].instant
        component.add("rrule", rule)
    return component


@lru_cache(maxsize=256)
def vtimezone_bytes(key: str, first: date, last: date) -> bytes:
    """``vtimezone(key, first, last)`` as iCalendar bytes (cached: zones and spans repeat)."""
    return bytes(vtimezone(key, first, last).to_ical())
