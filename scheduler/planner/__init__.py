"""The planner: where each pair's 1:1 goes in each week of the horizon.

Pure: a function of (pairs, the org's calendar rules, everyone's busy time, what the ledger
already holds, now). No I/O and no clock, so ``plan`` is a dry run of exactly what ``sync`` does
and hypothesis can check the invariants.

Placement, in order of preference (spec "Calendar rules"):
1. the pair's regular slot (wall-clock in the organizer's zone);
2. if that is taken, the free quarter-hour slot of the same week inside both people's working
   hours, on a business day, outside the close window, nearest to the regular slot: same day
   first, then the nearest day (the earlier one on a tie);
3. else the regular slot stays and the week is a ``conflict``.

Stability: an occurrence that starts within ``freeze`` of now, or that a person changed, is
kept exactly as it is and placed before everything else; all other weeks are planned afresh
from the same inputs in the same order, so an unchanged world gives an unchanged plan.
Each planned 1:1 is busy time for the other pairs of the same people (a manager's reps never
land on top of each other) — the product's own series are never read as busy time.

Speed: ``plan`` plans each week with the fast path of ``scheduler.planner.fast`` (the same
steps on timestamps, the same plan, several times faster) and leaves to ``_Planner`` here, which
works on aware datetimes, only a week with a slot or allowed span near a change of a UTC
offset. ``find_makeup`` and ``away_all_week`` use ``_Planner``.

Exports: plan, PlannerSettings, Known, PlannedOccurrence.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.domain import (
    WEEKDAY_LABELS,
    BusyCalendar,
    Pair,
    Person,
    PlanStatus,
    WorkingHours,
    iso_week,
    slot_day,
    wall_clock,
    week_monday,
)
from scheduler.planner.fast import FastPlanner
from scheduler.planner.times import Span
from scheduler.planner.times import out_windows as _out_windows
from scheduler.planner.times import regular_start as _regular_start
from scheduler.planner.values import Known, PlannedOccurrence, PlannerSettings
from scheduler.rules import OrgCalendar

__all__ = [
    "Known",
    "PlannedOccurrence",
    "PlannerSettings",
    "away_all_week",
    "find_makeup",
    "plan",
    "weeks_from",
]

QUARTER_HOUR = timedelta(minutes=15)
_EMPTY = BusyCalendar()
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class _MustMove:
    """What ``_Planner._place`` gives in its first pass for a pair that has to move."""


_MUST_MOVE = _MustMove()


def weeks_from(now: datetime, zone: ZoneInfo, count: int) -> list[str]:
    """The ISO week containing ``now`` (in ``zone``) and the ``count - 1`` weeks after it."""
    monday = week_monday(iso_week(now.astimezone(zone).date()))
    return [iso_week(monday + timedelta(weeks=i)) for i in range(count)]


def plan(
    pairs: Sequence[Pair],
    rules: OrgCalendar,
    org_zone: ZoneInfo,
    busy: Mapping[str, BusyCalendar],
    known: Mapping[str, Mapping[str, Known]],
    now: datetime,
    settings: PlannerSettings,
    weeks: Sequence[str] | None = None,
) -> list[PlannedOccurrence]:
    """Plan every pair over ``weeks`` (default: the horizon from ``now``).

    ``busy`` maps an email to that person's own busy time (never the product's series);
    ``known`` maps a pair key to {week: what is already decided}. Returns one entry per pair
    per week, except weeks whose regular slot is already past and hold nothing yet (a new
    pair starts with the first week still ahead). Sorted by pair (input order), then week.
    """
    with _no_cycle_collection():
        return _plan(pairs, rules, org_zone, busy, known, now, settings, weeks)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: planning a large org makes millions of short-lived
    tuples and lists, and each of the collector's passes walks every object alive (all the
    busy calendars), a fifth of the planning time. The planner makes no reference cycles:
    reference counting frees all it makes, and any cycle made meanwhile (in a library) is
    collected once the collector is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan(
    pairs: Sequence[Pair],
    rules: OrgCalendar,
    org_zone: ZoneInfo,
    busy: Mapping[str, BusyCalendar],
    known: Mapping[str, Mapping[str, Known]],
    now: datetime,
    settings: PlannerSettings,
    weeks: Sequence[str] | None,
) -> list[PlannedOccurrence]:
    planner = _Planner(rules, org_zone, busy, now, settings)
    fast = FastPlanner(planner, _zones(pairs, org_zone, now, known))
    infos = [fast.info(pair) for pair in pairs]
    with_org: list[Pair] | None = None
    weeks = list(weeks) if weeks is not None else weeks_from(now, org_zone, settings.horizon_weeks)
    by_week: dict[str, list[PlannedOccurrence]] = {}
    for week in weeks:
        # The fast path gives the same plan as the datetime one, except near a change of a
        # UTC offset (see scheduler.planner.fast), where it leaves the week to the other.
        planned = fast.plan_week(week, infos, known)
        if planned is None:
            if with_org is None:
                # Weeks are the org's: a pair made without the org's zone counts in this one.
                with_org = [
                    p if p.org_timezone else replace(p, org_timezone=org_zone.key) for p in pairs
                ]
            planned = planner.plan_week(week, with_org, known)
        by_week[week] = planned
    # Sorted by pair, then week: each pair's entries collected week by week, in week order
    # (what a stable sort by (pair index, week) of the weeks' lists, joined in order, gives).
    order = {pair.key: index for index, pair in enumerate(pairs)}
    by_pair: list[list[PlannedOccurrence]] = [[] for _ in pairs]
    for week in sorted(weeks):
        for item in by_week[week]:
            by_pair[order[item.pair_key]].append(item)
    return [item for items in by_pair for item in items]


def _zones(
    pairs: Sequence[Pair],
    org_zone: ZoneInfo,
    now: datetime,
    known: Mapping[str, Mapping[str, Known]],
) -> set[tzinfo]:
    """Every zone whose aware datetimes planning compares: the org's, now's, each person's
    own and their working hours', and the ledger's."""
    names = {org_zone.key}
    for pair in pairs:
        for person in (pair.manager, pair.rep):
            names.add(person.timezone)
            if person.working_hours.timezone:
                names.add(person.working_hours.timezone)
    zones: set[tzinfo] = {ZoneInfo(name) for name in names}
    for moment in [now] + [
        m for weeks in known.values() for k in weeks.values() for m in (k.start, k.end)
    ]:
        if moment.tzinfo is not None:
            zones.add(moment.tzinfo)
    return zones


def find_makeup(
    pair: Pair,
    week: str,
    rules: OrgCalendar,
    org_zone: ZoneInfo,
    busy: Mapping[str, BusyCalendar],
    taken: Mapping[str, list[tuple[datetime, datetime]]],
    earliest: datetime,
) -> datetime | None:
    """A make-up start for ``pair`` in ``week``: not before ``earliest``, on a business day
    outside the close window, inside both people's working hours, clear of their busy time and
    of the 1:1s in ``taken``; the quarter hour nearest the regular time of day, nearest day
    first. None when the rest of the week has no such slot."""
    if not pair.org_timezone:
        pair = replace(pair, org_timezone=org_zone.key)
    planner = _Planner(rules, org_zone, busy, earliest, PlannerSettings())
    regular = _regular_start(
        pair.slot.weekday, pair.slot.at, pair.manager.timezone, week, pair.week_shift
    )
    return planner._nearest_free(pair, week, regular, taken)


def away_all_week(
    pair: Pair, week: str, rules: OrgCalendar, busy: Mapping[str, BusyCalendar]
) -> str | None:
    """The first name of a person of ``pair`` out on every business day of ``week``, if any."""
    # No clock is involved: being away is a fact of the calendars, whenever it is asked.
    planner = _Planner(rules, ZoneInfo("UTC"), busy, _EPOCH, PlannerSettings())
    return planner._away_all_week(pair, week)


class _Planner:
    def __init__(
        self,
        rules: OrgCalendar,
        org_zone: ZoneInfo,
        busy: Mapping[str, BusyCalendar],
        now: datetime,
        settings: PlannerSettings,
    ) -> None:
        self.rules = rules
        self.org_zone = org_zone
        self.busy = busy
        self.now = now
        self.settings = settings
        self.freeze_until = now + settings.freeze
        self._allowed_cache: dict[str, list[tuple[datetime, datetime]]] = {}
        self._pair_cache: dict[tuple[object, ...], tuple[tuple[date, list[Span]], ...]] = {}

    # ----------------------------------------------------------------- one week

    def plan_week(
        self, week: str, pairs: Sequence[Pair], known: Mapping[str, Mapping[str, Known]]
    ) -> list[PlannedOccurrence]:
        # 1:1s of this week already placed, per person: sibling pairs avoid them.
        taken: dict[str, list[tuple[datetime, datetime]]] = {}
        result: list[PlannedOccurrence] = []
        fresh: list[Pair] = []
        # A kept conflict was placed on top of the pairs before it: it blocks, as it did then,
        # only the pairs after it, or a second pass would move those pairs off it.
        # email -> (index of the pair in ``pairs``, start, end) of each such conflict
        conflicts: dict[str, list[tuple[int, datetime, datetime]]] = {}
        for index, pair in enumerate(pairs):
            decided = known.get(pair.key, {}).get(week)
            if decided is not None and (
                decided.people_changed or decided.start < self.freeze_until
            ):
                result.append(self._keep(pair, week, decided))
                if decided.status is PlanStatus.CONFLICT and not decided.people_changed:
                    for email in (pair.manager.email, pair.rep.email):
                        conflicts.setdefault(email, []).append((index, decided.start, decided.end))
                elif decided.happens and decided.status not in (
                    PlanStatus.CLOSE_WEEK,
                    PlanStatus.TIME_OFF,
                ):
                    self._take(taken, pair, decided.start, decided.end)
            else:
                fresh.append(pair)
        fresh_keys = {pair.key for pair in fresh}
        # Every pair's regular slot is reserved before any pair is moved, so a moved 1:1 never
        # takes a sibling's free regular slot (placing pairs in file order let an earlier
        # pair's move land on a later pair's regular time). First pass, in order: the pairs
        # that keep their regular slot (or skip the week) are placed; the others wait. Kept
        # conflicts block, in both passes, only the pairs after them (see above).
        order = {pair.key: index for index, pair in enumerate(pairs)}

        def blocked(pair: Pair) -> dict[str, list[tuple[datetime, datetime]]]:
            """What the pair's two people may not meet on: the 1:1s placed so far, and the
            kept conflicts of the pairs before it (only theirs: planning stays linear)."""
            index = order[pair.key]
            around: dict[str, list[tuple[datetime, datetime]]] = {}
            for email in (pair.manager.email, pair.rep.email):
                spans = list(taken.get(email, ()))
                spans.extend(
                    (start, end) for at, start, end in conflicts.get(email, ()) if at < index
                )
                around[email] = spans
            return around

        waiting: list[Pair] = []
        for pair in pairs:
            if pair.key not in fresh_keys:
                continue
            decided = known.get(pair.key, {}).get(week)
            planned = self._place(pair, week, blocked(pair), decided, move=False)
            if planned is None:
                continue
            if planned is _MUST_MOVE:
                waiting.append(pair)
                continue
            assert isinstance(planned, PlannedOccurrence)
            result.append(planned)
            if not planned.skipped:
                self._take(taken, pair, planned.start, planned.end)
        # Second pass, in order: the pairs that must move, around every regular slot kept (a
        # pair that finds no slot here found none in the first pass either: fewer were taken).
        for pair in waiting:
            decided = known.get(pair.key, {}).get(week)
            planned = self._place(pair, week, blocked(pair), decided)
            if planned is None:
                continue
            assert isinstance(planned, PlannedOccurrence)
            result.append(planned)
            if not planned.skipped:
                self._take(taken, pair, planned.start, planned.end)
        return result

    @staticmethod
    def _take(
        taken: dict[str, list[tuple[datetime, datetime]]],
        pair: Pair,
        start: datetime,
        end: datetime,
    ) -> None:
        taken.setdefault(pair.manager.email, []).append((start, end))
        taken.setdefault(pair.rep.email, []).append((start, end))

    def _keep(self, pair: Pair, week: str, decided: Known) -> PlannedOccurrence:
        if decided.people_changed:
            status = PlanStatus.PEOPLE_CHANGED
        elif decided.status in (PlanStatus.CLOSE_WEEK, PlanStatus.TIME_OFF):
            status = decided.status
        else:
            status = PlanStatus.FROZEN
        return PlannedOccurrence(
            pair.key,
            pair.manager.email,
            pair.rep.email,
            week,
            decided.start,
            decided.end,
            pair.regular_start(week),
            status,
            decided.reason,
        )

    def _place(
        self,
        pair: Pair,
        week: str,
        taken: Mapping[str, list[tuple[datetime, datetime]]],
        decided: Known | None,
        *,
        move: bool = True,
    ) -> PlannedOccurrence | _MustMove | None:
        """The week's entry for ``pair``; ``None`` for a week with nothing to plan. With
        ``move`` false, ``_MUST_MOVE`` instead of looking for another slot when the regular one
        cannot hold the 1:1 (the first of ``plan_week``'s two passes)."""
        regular = _regular_start(
            pair.slot.weekday, pair.slot.at, pair.manager.timezone, week, pair.week_shift
        )
        regular_end = regular + pair.duration
        if decided is None and regular <= self.now:
            return None  # nothing to plan in the past; a new series starts next week

        def result(status: PlanStatus, start: datetime, reason: str) -> PlannedOccurrence:
            if decided is not None and (decided.status, decided.start, decided.end) == (
                status,
                start,
                start + pair.duration,
            ):
                reason = decided.reason  # unchanged: keep its explanation, change nothing
            return PlannedOccurrence(
                pair.key,
                pair.manager.email,
                pair.rep.email,
                week,
                start,
                start + pair.duration,
                regular,
                status,
                reason,
            )

        away = self._away_all_week(pair, week)
        if away is not None:
            return result(PlanStatus.TIME_OFF, regular, f"no 1:1 this week: {away} is out")

        close = next(
            (r for d in self._org_days(regular, regular_end) if (r := self.rules.close_reason(d))),
            None,
        )
        if close is not None and self.settings.policy == "skip":
            return result(PlanStatus.CLOSE_WEEK, regular, f"no 1:1 this week: {close}")

        problem = self._problem_with(pair, regular, regular_end, taken, check_close=False)
        if close is None and problem is None:
            return result(PlanStatus.PLANNED, regular, "")
        if not move:
            return _MUST_MOVE
        why = close if close is not None else problem
        found = self._nearest_free(pair, week, regular, taken)
        if found is not None:
            return result(PlanStatus.PLANNED, found, f"moved from {pair.slot.label()}: {why}")
        if close is not None:
            return result(
                PlanStatus.CLOSE_WEEK,
                regular,
                f"no 1:1 this week: {close}, and no free slot outside it",
            )
        return result(
            PlanStatus.CONFLICT,
            regular,
            f"kept {pair.slot.label()}: {why}, and no free slot for "
            f"{pair.manager.first_name} and {pair.rep.first_name} this week",
        )

    # ----------------------------------------------------------------- checks

    def _away_all_week(self, pair: Pair, week: str) -> str | None:
        """The first name of a person out on every business day of ``week``, if any."""
        business = self._business_days(week)
        if not business:
            return None
        for person in (pair.rep, pair.manager):
            out = self.busy.get(person.email, _EMPTY).out_days
            if out and all(day in out for day in business):
                return person.first_name
        return None

    def _business_days(self, week: str) -> tuple[date, ...]:
        # Kept by the org calendar, not this planner: ``away_all_week`` makes a planner for
        # every pair and week a pass checks.
        rules = self.rules

        def business() -> tuple[date, ...]:
            monday = week_monday(week)
            days = (monday + timedelta(days=i) for i in range(7))
            return tuple(day for day in days if rules.is_business_day(day))

        return rules.derived(("business_days", week), business)

    def _org_days(self, start: datetime, end: datetime) -> list[date]:
        """The org-zone dates [start, end) touches: a 1:1 can cross midnight in the org zone."""
        first = start.astimezone(self.org_zone).date()
        last = (end - timedelta(microseconds=1)).astimezone(self.org_zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def _problem_with(
        self,
        pair: Pair,
        start: datetime,
        end: datetime,
        taken: Mapping[str, list[tuple[datetime, datetime]]],
        *,
        check_close: bool,
    ) -> str | None:
        """Why [start, end) cannot hold this pair's 1:1, or None when it can."""
        if start <= self.now:
            return "already past"
        days = self._org_days(start, end)
        for day in days:
            if not self.rules.is_business_day(day):
                holiday = self.rules.holiday_name(day)
                return holiday if holiday else "not a business day"
        for day in days if check_close else ():
            close = self.rules.close_reason(day)
            if close is not None:
                return close
        for person in (pair.manager, pair.rep):
            if not person.working_hours.contains(start, end, person.zone):
                return f"outside {person.first_name}'s working hours"
        busy_people = [
            person.first_name
            for person in (pair.manager, pair.rep)
            if not _is_free(
                person, self.busy.get(person.email, _EMPTY), taken.get(person.email, ()), start, end
            )
        ]
        if busy_people:
            return " and ".join(busy_people) + " busy"
        return None

    def _nearest_free(
        self,
        pair: Pair,
        week: str,
        regular: datetime,
        taken: Mapping[str, list[tuple[datetime, datetime]]],
    ) -> datetime | None:
        """The valid quarter-hour start nearest to the regular slot, or None.

        Works on free intervals rather than trying each of the week's 672 quarter hours: per
        organizer-local day, the allowed time (org business day of the org week outside the
        close window, both people's working hours, after now) minus both people's busy time and
        placed 1:1s.
        """
        slot_date = slot_day(week, pair.slot.weekday, pair.week_shift)
        by_day = self._pair_allowed(pair, week)
        for day, allowed in sorted(by_day, key=lambda item: (abs(item[0] - slot_date), item[0])):
            free = [span for span in allowed if span[1] > self.now]
            if not free:
                continue
            if free[0][0] <= self.now:  # a 1:1 must start after now, not at it
                free[0] = (self.now + timedelta(microseconds=1), free[0][1])
            for person in (pair.manager, pair.rep):
                calendar = self.busy.get(person.email, _EMPTY)
                blocked = calendar.between(free[0][0], free[-1][1])
                blocked.extend(taken.get(person.email, ()))
                if calendar.out_days:
                    blocked.extend(_out_windows(calendar.out_days, person.timezone, free))
                if blocked:
                    free = _subtract(free, blocked)
                if not free:
                    break
            if free:
                target = wall_clock(day, pair.slot.at, pair.manager.zone)
                best = _nearest_start(free, target, pair.duration)
                if best is not None:
                    return best
        return None

    def _pair_allowed(self, pair: Pair, week: str) -> tuple[tuple[date, list[Span]], ...]:
        """When this pair may meet on each organizer-local day the org week ``week`` touches,
        before anyone's busy time: org business days of the org week outside the close
        window, inside both people's working hours. Cached: pairs with the same zones and
        hours share it."""
        key = (
            week,
            pair.manager.timezone,
            pair.manager.working_hours,
            pair.rep.timezone,
            pair.rep.working_hours,
        )
        cached = self._pair_cache.get(key)
        if cached is None:
            allowed = _intersect(
                _intersect(
                    self._org_allowed(week),
                    _working_windows(pair.manager.working_hours, pair.manager.timezone, week),
                ),
                _working_windows(pair.rep.working_hours, pair.rep.timezone, week),
            )
            days = _org_week_days(pair.manager.timezone, self.org_zone.key, week)
            cached = tuple((day, _intersect(allowed, [span])) for day, span in days)
            self._pair_cache[key] = cached
        return cached

    def _org_allowed(self, week: str) -> list[tuple[datetime, datetime]]:
        """Org-zone days of the week that are business days outside the close window, as
        instants: a 1:1 moves within its org week, never into the next or the last."""
        cached = self._allowed_cache.get(week)
        if cached is None:
            monday = week_monday(week)
            cached = []
            for offset in range(7):
                day = monday + timedelta(days=offset)
                if self.rules.is_business_day(day) and self.rules.close_reason(day) is None:
                    start = wall_clock(day, time(0), self.org_zone)
                    end = wall_clock(day + timedelta(days=1), time(0), self.org_zone)
                    if cached and cached[-1][1] == start:
                        cached[-1] = (cached[-1][0], end)
                    else:
                        cached.append((start, end))
            self._allowed_cache[week] = cached
        return cached


_FAR = datetime.max.replace(tzinfo=UTC)


def _intersect(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    """Intersection of two sorted lists of disjoint spans."""
    result: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def _subtract(spans: Sequence[Span], blocked: Iterable[Span]) -> list[Span]:
    """Sorted disjoint ``spans`` minus every blocked span (in any order, may overlap): one
    sweep over both sorted lists."""
    cuts = sorted(blocked)
    result: list[Span] = []
    j = 0
    for start, end in spans:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cursor:
                result.append((cursor, cuts[k][0]))
            if cuts[k][1] > cursor:
                cursor = cuts[k][1]
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def _nearest_start(spans: Sequence[Span], target: datetime, duration: timedelta) -> datetime | None:
    """The quarter-hour start nearest ``target`` (the earlier on a tie) whose meeting fits in
    one span. Every zone's offset is a multiple of 15 minutes, so quarter hours in UTC are
    quarter hours on every wall clock."""
    best: datetime | None = None
    best_key: tuple[timedelta, datetime] | None = None
    for start, end in spans:
        first = _ceil_quarter(start)
        last = _floor_quarter(end - duration)
        if last < first:
            continue
        pick = min(max(target, first), last)
        lower = _floor_quarter(pick)
        upper = _ceil_quarter(pick)
        for candidate in (lower, upper):
            if first <= candidate <= last:
                key = (abs(candidate - target), candidate)
                if best_key is None or key < best_key:
                    best, best_key = candidate, key
    return best


def _floor_quarter(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _ceil_quarter(moment: datetime) -> datetime:
    floor = _floor_quarter(moment)
    return floor if floor == moment else floor + QUARTER_HOUR


@lru_cache(maxsize=4096)
def _org_week_days(timezone: str, org_timezone: str, week: str) -> tuple[tuple[date, Span], ...]:
    """The local dates in ``timezone`` that org week ``week`` (ISO, in ``org_timezone``)
    touches, each with the part of the org week it holds, as instants: seven days in the org's
    zone, up to eight partial ones in another."""
    zone, org_zone = ZoneInfo(timezone), ZoneInfo(org_timezone)
    monday = week_monday(week)
    begin = wall_clock(monday, time(0), org_zone)
    end = wall_clock(monday + timedelta(weeks=1), time(0), org_zone)
    day = begin.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days = []
    while day <= last:
        start = max(begin, wall_clock(day, time(0), zone))
        stop = min(end, wall_clock(day + timedelta(days=1), time(0), zone))
        if start < stop:
            days.append((day, (start, stop)))
        day += timedelta(days=1)
    return tuple(days)


@lru_cache(maxsize=65536)
def _working_windows(hours: WorkingHours, timezone: str, week: str) -> tuple[Span, ...]:
    """A person's working hours around ``week`` as instants (their own zone and workdays)."""
    zone = ZoneInfo(hours.timezone or timezone)
    monday = week_monday(week)
    spans = []
    for offset in range(-1, 8):
        day = monday + timedelta(days=offset)
        if day.weekday() in hours.days:
            spans.append((wall_clock(day, hours.start, zone), wall_clock(day, hours.end, zone)))
    return tuple(spans)


def _is_free(
    person: Person,
    busy: BusyCalendar,
    taken: Iterable[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
) -> bool:
    if not busy.is_free(start, end):
        return False
    # All-day absences are dates in the person's own zone.
    if busy.out_days and start.astimezone(person.zone).date() in busy.out_days:
        return False
    return all(not (s < end and start < e) for s, e in taken)


def describe_slot(start: datetime, zone: ZoneInfo) -> str:
    """``Tue 10:00`` for an instant, read in ``zone``."""
    local = start.astimezone(zone)
    return f"{WEEKDAY_LABELS[local.weekday()]} {local:%H:%M}"
