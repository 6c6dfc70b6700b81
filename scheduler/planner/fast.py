"""The planner's fast path: one org week planned on POSIX timestamps instead of datetimes.

Pure, no I/O. ``FastPlanner.plan_week`` gives exactly what the aware-datetime reference,
``_Planner.plan_week`` in ``scheduler.planner``, gives: the same steps in the same order, but
each regular slot, each pair's allowed time per day and each target time are worked out once
per week with datetimes, as the reference does, and cached, and the hot loops (a pair's regular
slot, the nearest free slot) compare and subtract floats. Each float is an exact count of
microseconds divided by 10**6, as ``datetime.timestamp()`` and ``BusyCalendar`` give them, so
they compare as the instants do (see ``Stamps``) and busy time needs no conversion.

Why a guard: two aware datetimes of one zone compare by wall clock, not by instant, and adding
a timedelta is wall-clock arithmetic; both differ from instants only within a few hours of a
change of that zone's UTC offset. A week is planned here only when no time its planning
compares (regular slots, allowed spans and so all that lies inside them) is that close to an
offset change of any zone involved; for any other week, such as one with a 1:1 at 01:30 on the
night the clocks go back, ``plan_week`` gives None and the reference plans it, so every plan
stays the same.

Exports: FastPlanner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler.domain import (
    BusyCalendar,
    Pair,
    Person,
    PlanStatus,
    slot_day,
    wall_clock,
    week_monday,
    week_shift,
)
from scheduler.planner.times import out_windows, regular_start
from scheduler.planner.values import Known, PlannedOccurrence

if TYPE_CHECKING:
    from scheduler.planner import _Planner

__all__ = ["FastPlanner"]

_MICRO = timedelta(microseconds=1)
_SECOND = 1_000_000
_HOUR = 3600 * _SECOND
_QUARTER_S = 900.0
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY = BusyCalendar()
#: How far from an offset change every compared time must be, besides the longest 1:1: more
#: than any offset change there is (wall-clock and instant order differ only within it).
_MARGIN = 6 * _HOUR
#: Offsets are sampled hourly (a change and its undoing within one hour does not happen).
_STEP = _HOUR

Span = tuple[int, int]
#: instants as POSIX timestamps, each ``to_us(moment) / _SECOND`` exactly, as ``BusyCalendar``
#: keeps them (``datetime.timestamp()`` is that division too): distinct microseconds give
#: distinct floats in the same order (until the year 2242), so they compare as the instants do
Stamps = tuple[float, float]


def to_us(moment: datetime) -> int:
    """The instant as microseconds since 1970 (exact: timedelta arithmetic, no float)."""
    return (moment - _UNIX) // _MICRO


def _stamp(moment: datetime) -> float:
    """The instant as a ``Stamps`` float."""
    return to_us(moment) / _SECOND


@dataclass(slots=True, eq=False)
class _Regular:
    """A regular slot in one week, worked out once with datetimes as the reference does."""

    start: datetime
    end: datetime
    start_ts: float
    end_ts: float
    past: bool  # start <= now, compared as the reference compares it
    close: str | None  # the close reason of an org day it touches
    not_business: str | None  # why an org day it touches is not a business day
    safe: bool  # far from every offset change
    span: Stamps  # (start_ts, end_ts)


@dataclass(slots=True, eq=False)
class _Info:
    """What the fast path needs of a pair, worked out once per ``plan``."""

    pair: Pair
    key: str
    manager: str
    rep: str
    manager_first: str
    rep_first: str
    manager_zone: ZoneInfo
    rep_zone: ZoneInfo
    manager_busy: BusyCalendar
    rep_busy: BusyCalendar
    away_days: bool  # whether either has days out
    label: str
    shift: int
    slot_offset: int  # days from the org week's Monday to the slot's (organizer-local) date
    duration: timedelta
    duration_us: int
    slot_id: int  # (weekday, at, organizer zone, shift, duration)
    allowed_id: int  # (zones and working hours of both)
    hours_id: int  # (slot_id, both people's zones and working hours)
    manager_hours_id: int  # (zone, working hours)
    rep_hours_id: int


#: Enum members as module constants: ``PlanStatus.PLANNED`` is a slow lookup in the hot loops
_PLANNED = PlanStatus.PLANNED
_CLOSE_WEEK = PlanStatus.CLOSE_WEEK
_TIME_OFF = PlanStatus.TIME_OFF
_CONFLICT = PlanStatus.CONFLICT
_PEOPLE_CHANGED = PlanStatus.PEOPLE_CHANGED
_FROZEN = PlanStatus.FROZEN


_NOTHING: Mapping[str, Known] = {}


class _MustMove:
    """``_place``'s answer in the first pass for a pair that has to move."""


_MUST_MOVE = _MustMove()
#: ``_static``'s codes for a slot outside the manager's or the rep's working hours
_MANAGER_HOURS = 1
_REP_HOURS = 2


class FastPlanner:
    def __init__(self, reference: _Planner, zones: set[tzinfo]) -> None:
        self.ref = reference
        self.org_timezone = reference.org_zone.key
        self.now = reference.now
        now_us = to_us(reference.now)
        self.now_stamp = now_us / _SECOND
        self.after_now = (now_us + 1) / _SECOND  # a 1:1 starts after now, not at it
        self.skip_close = reference.settings.policy == "skip"
        self.zones = zones
        self._infos: dict[int, _Info] = {}
        self._people: dict[int, tuple[Person, tuple[int, str, ZoneInfo, BusyCalendar]]] = {}
        self._ids: dict[object, int] = {}
        self._offsets: dict[tuple[tzinfo, int], timedelta | None] = {}
        # target instants by (organizer-local day, slot id), for every week
        self._targets: dict[tuple[date, int], float] = {}
        self._moved_cache: dict[tuple[float, timedelta], tuple[datetime, datetime]] = {}
        # per week (cleared when the week changes)
        self._week = ""
        self._danger: list[Span] = []
        self._bounds: Span = (0, 0)
        self._regulars: dict[int, _Regular] = {}
        self._statics: dict[int, str | int | None] = {}
        self._hours: dict[tuple[int, int], bool] = {}
        self._allowed: dict[int, tuple[tuple[date, list[Stamps]], ...]] = {}
        self._allowed_safe: dict[int, bool] = {}
        self._ordered: dict[tuple[int, int], list[tuple[date, list[Stamps]]]] = {}
        # whether every 1:1 kept this week lasts a while (see ``_nearest_free``)
        self._positive_cuts = True

    # ----------------------------------------------------------------- caches

    def _id(self, value: object) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self._ids)
        return found

    def info(self, pair: Pair) -> _Info:
        """What the fast path needs of ``pair`` (whose weeks are the org's when it has no
        ``org_timezone`` of its own, as in ``plan``)."""
        # Keyed by identity: ``plan`` hands the same pair objects for every week.
        found = self._infos.get(id(pair))
        if found is None or found.pair is not pair:
            manager, rep = pair.manager, pair.rep
            manager_id, manager_first, manager_zone, manager_busy = self._person(manager)
            rep_id, rep_first, rep_zone, rep_busy = self._person(rep)
            slot = pair.slot
            shift = week_shift(
                slot.weekday, slot.at, manager.timezone, pair.org_timezone or self.org_timezone
            )
            slot_id = self._id((slot.weekday, slot.at, manager.timezone, shift, pair.duration))
            found = _Info(
                pair,
                pair.key,
                manager.email,
                rep.email,
                manager_first,
                rep_first,
                manager_zone,
                rep_zone,
                manager_busy,
                rep_busy,
                bool(manager_busy.out_days or rep_busy.out_days),
                slot.label(),
                shift,
                slot.weekday + 7 * shift,
                pair.duration,
                pair.duration // _MICRO,
                slot_id,
                self._id((-1, manager_id, rep_id)),
                self._id((-2, slot_id, manager_id, rep_id)),
                manager_id,
                rep_id,
            )
            self._infos[id(pair)] = found
        return found

    def _person(self, person: Person) -> tuple[int, str, ZoneInfo, BusyCalendar]:
        """(id of the zone and working hours, first name, zone, busy time) of a person."""
        found = self._people.get(id(person))
        if found is None or found[0] is not person:
            hours_id = self._id(("person", person.timezone, person.working_hours))
            busy = self.ref.busy.get(person.email, _EMPTY)
            found = (person, (hours_id, person.first_name, person.zone, busy))
            self._people[id(person)] = found
        return found[1]

    def _start_week(self, week: str, margin: int) -> None:
        if week == self._week:
            return
        self._week = week
        for cache in (
            self._regulars,
            self._statics,
            self._hours,
            self._allowed,
            self._allowed_safe,
            self._ordered,
        ):
            cache.clear()
        monday = datetime.combine(week_monday(week), time(0), UTC)
        begin = to_us(monday - timedelta(days=3))
        end = to_us(monday + timedelta(days=10))
        self._bounds = (begin + margin, end - margin)
        self._danger = self._offset_changes(begin, end, margin)

    def _offset_changes(self, begin: int, end: int, margin: int) -> list[Span]:
        """Around each UTC-offset change of the zones in [begin, end]: the span, widened by
        ``margin``, in which it happens (offsets sampled hourly, and remembered)."""
        found: list[Span] = []
        first, last = begin // _STEP, end // _STEP + 1
        for zone in self.zones:
            previous = None
            for hour in range(first, last + 1):
                key = (zone, hour)
                if key in self._offsets:
                    offset = self._offsets[key]
                else:
                    offset = datetime.fromtimestamp(hour * _STEP // _SECOND, zone).utcoffset()
                    self._offsets[key] = offset
                if hour > first and offset != previous:
                    found.append(((hour - 1) * _STEP - margin, hour * _STEP + margin))
                previous = offset
        return found

    def _near_change(self, start: int, end: int) -> bool:
        """Whether [start, end] comes near an offset change, or leaves the sampled range."""
        if start < self._bounds[0] or end > self._bounds[1]:
            return True
        return any(start <= high and low <= end for low, high in self._danger)

    def _regular(self, info: _Info, week: str) -> _Regular:
        found = self._regulars.get(info.slot_id)
        if found is None:
            ref = self.ref
            pair = info.pair
            start = _regular_start(pair, week, info.shift)
            end = start + info.duration
            days = ref._org_days(start, end)
            close = next((r for d in days if (r := ref.rules.close_reason(d))), None)
            not_business = None
            for day in days:
                if not ref.rules.is_business_day(day):
                    holiday = ref.rules.holiday_name(day)
                    not_business = holiday if holiday else "not a business day"
                    break
            start_us, end_us = to_us(start), to_us(end)
            found = _Regular(
                start,
                end,
                start_us / _SECOND,  # == datetime.timestamp(): both divide exact integers
                end_us / _SECOND,
                start <= self.now,
                close,
                not_business,
                not self._near_change(min(start_us, end_us), max(start_us, end_us)),
                (start_us / _SECOND, end_us / _SECOND),
            )
            self._regulars[info.slot_id] = found
        return found

    def _static(self, info: _Info, regular: _Regular) -> str | int | None:
        """The reference's ``_problem_with`` up to busy time: it is the same for every pair
        with the same slot, zones and working hours."""
        if info.hours_id in self._statics:
            return self._statics[info.hours_id]
        found: str | int | None = None
        pair = info.pair
        if regular.past:
            found = "already past"
        elif regular.not_business is not None:
            found = regular.not_business
        elif not self._in_hours(info.slot_id, info.manager_hours_id, pair.manager, regular):
            found = _MANAGER_HOURS
        elif not self._in_hours(info.slot_id, info.rep_hours_id, pair.rep, regular):
            found = _REP_HOURS
        self._statics[info.hours_id] = found
        return found

    def _in_hours(self, slot_id: int, hours_id: int, person: Person, regular: _Regular) -> bool:
        key = (slot_id, hours_id)
        found = self._hours.get(key)
        if found is None:
            found = person.working_hours.contains(regular.start, regular.end, person.zone)
            self._hours[key] = found
        return found

    def _pair_allowed(self, info: _Info, week: str) -> tuple[tuple[date, list[Stamps]], ...]:
        found = self._allowed.get(info.allowed_id)
        if found is None:
            exact = [
                (day, [(to_us(s), to_us(e)) for s, e in spans])
                for day, spans in self.ref._pair_allowed(info.pair, week)
            ]
            found = tuple(
                (day, [(s / _SECOND, e / _SECOND) for s, e in spans]) for day, spans in exact
            )
            self._allowed[info.allowed_id] = found
            self._allowed_safe[info.allowed_id] = not any(
                self._near_change(s, e) for _, spans in exact for s, e in spans
            )
        return found

    def _by_day(self, info: _Info, week: str) -> list[tuple[date, list[Stamps]]]:
        """The pair's allowed spans per organizer-local day, nearest day to the slot's first
        (the earlier on a tie)."""
        key = (info.allowed_id, info.slot_offset)
        found = self._ordered.get(key)
        if found is None:
            slot_date = slot_day(week, info.pair.slot.weekday, info.shift)
            found = sorted(
                self._pair_allowed(info, week),
                key=lambda item: (abs(item[0] - slot_date), item[0]),
            )
            self._ordered[key] = found
        return found

    def _target(self, info: _Info, day: date) -> float:
        """The regular time of day on ``day``, in the organizer's zone."""
        key = (day, info.slot_id)
        found = self._targets.get(key)
        if found is None:
            found = _stamp(wall_clock(day, info.pair.slot.at, info.manager_zone))
            self._targets[key] = found
        return found

    # ----------------------------------------------------------------- one week

    def plan_week(
        self, week: str, infos: Sequence[_Info], known: Mapping[str, Mapping[str, Known]]
    ) -> list[PlannedOccurrence] | None:
        """``_Planner.plan_week`` (see there for the why of each step), on timestamps; None,
        before planning anything, when a regular slot or allowed span of the week is near an
        offset change (see the module's docstring): then the reference must plan it."""
        if not infos:
            return []
        # (whole seconds: the float arithmetic below is exact for those, see ``_nearest_start``)
        if any(info.duration_us <= 0 or info.duration_us % _SECOND for info in infos):
            return None
        self._start_week(week, _MARGIN + max(info.duration_us for info in infos))
        ref = self.ref
        freeze_until = ref.freeze_until
        known_regulars, known_statics = self._regulars, self._statics
        allowed_safe = self._allowed_safe
        taken: dict[str, list[Stamps]] = {}
        result: list[PlannedOccurrence] = []
        conflicts: dict[str, list[tuple[int, float, float]]] = {}
        self._positive_cuts = True
        # What the ledger holds for the week, and the 1:1s kept as they are, placed first.
        decideds: list[Known | None] = []
        is_kept: list[bool] = []
        if known:
            for index, info in enumerate(infos):
                decided = known.get(info.key, _NOTHING).get(week)
                decideds.append(decided)
                keep = decided is not None and (
                    decided.people_changed or decided.start < freeze_until
                )
                is_kept.append(keep)
                if not keep:
                    continue
                assert decided is not None
                result.append(_keep(info, week, decided))
                if not decided.end > decided.start:
                    self._positive_cuts = False
                if decided.status is _CONFLICT and not decided.people_changed:
                    span = (index, _stamp(decided.start), _stamp(decided.end))
                    for email in (info.manager, info.rep):
                        conflicts.setdefault(email, []).append(span)
                elif decided.happens and decided.status not in (_CLOSE_WEEK, _TIME_OFF):
                    _take(taken, info, (_stamp(decided.start), _stamp(decided.end)))
        order = {info.key: index for index, info in enumerate(infos)}
        empty: list[Stamps] = []

        def blocked(info: _Info, email: str) -> list[Stamps]:
            """The 1:1s placed so far, and the kept conflicts of the pairs before it."""
            spans = taken.get(email, empty)
            kept = conflicts.get(email)
            if kept:
                at_most = order[info.key]
                spans = spans + [(start, end) for at, start, end in kept if at < at_most]
            return spans

        skip_close = self.skip_close
        planned: PlannedOccurrence | _MustMove
        waiting: list[tuple[_Info, _Regular, str | int | None, Known | None]] = []
        # First pass: ``_place`` with ``move`` false, whose reasons for moving are not needed;
        # on the way, the guard (nothing is kept of a week it refuses).
        for index, info in enumerate(infos):
            regular = known_regulars.get(info.slot_id) or self._regular(info, week)
            if not regular.safe:
                return None
            safe = allowed_safe.get(info.allowed_id)
            if safe is None:
                self._pair_allowed(info, week)
                safe = allowed_safe[info.allowed_id]
            if not safe:
                return None
            if known:
                if is_kept[index]:
                    continue
                decided = decideds[index]
            else:
                decided = None
            if decided is None and regular.past:
                continue  # nothing to plan in the past; a new series starts next week
            if info.hours_id in known_statics:
                static = known_statics[info.hours_id]
            else:
                static = self._static(info, regular)
            if conflicts:
                manager_taken = blocked(info, info.manager)
                rep_taken = blocked(info, info.rep)
            else:
                manager_taken = taken.get(info.manager, empty)
                rep_taken = taken.get(info.rep, empty)
            if info.away_days:  # someone is out some day: maybe all week, ``_place`` says
                planned = self._place(
                    info, week, regular, static, manager_taken, rep_taken, decided, False
                )
            elif regular.close is not None:
                if skip_close:
                    reason = f"no 1:1 this week: {regular.close}"
                    planned = _occurrence(info, week, regular, decided, _CLOSE_WEEK, None, reason)
                else:
                    planned = _MUST_MOVE
            elif static is None and _free_of_busy(info, regular, manager_taken, rep_taken):
                planned = _occurrence(info, week, regular, decided, _PLANNED, None, "")
            else:
                planned = _MUST_MOVE
            if planned is _MUST_MOVE:
                waiting.append((info, regular, static, decided))
                continue
            assert isinstance(planned, PlannedOccurrence)
            result.append(planned)
            if planned.status is _PLANNED:  # (not ``skipped``: the others here)
                # ``_take``, inline: this runs for most pairs of most weeks
                kept = regular.span
                spans = taken.get(info.manager)
                if spans is None:
                    taken[info.manager] = [kept]
                else:
                    spans.append(kept)
                spans = taken.get(info.rep)
                if spans is None:
                    taken[info.rep] = [kept]
                else:
                    spans.append(kept)
        # Second pass: the pairs that must move.
        for info, regular, static, decided in waiting:
            if conflicts:
                manager_taken = blocked(info, info.manager)
                rep_taken = blocked(info, info.rep)
            else:
                manager_taken = taken.get(info.manager, empty)
                rep_taken = taken.get(info.rep, empty)
            planned = self._place(
                info, week, regular, static, manager_taken, rep_taken, decided, True
            )
            assert isinstance(planned, PlannedOccurrence)
            result.append(planned)
            if planned.status is not _CLOSE_WEEK and planned.status is not _TIME_OFF:
                if planned.start is regular.start:
                    _take(taken, info, regular.span)
                else:
                    # (``timestamp()`` of a UTC datetime is ``_stamp``: the same division)
                    _take(taken, info, (planned.start.timestamp(), planned.end.timestamp()))
        return result

    def _place(
        self,
        info: _Info,
        week: str,
        regular: _Regular,
        static: str | int | None,
        manager_taken: list[Stamps],
        rep_taken: list[Stamps],
        decided: Known | None,
        move: bool,
    ) -> PlannedOccurrence | _MustMove:
        """``_Planner._place`` for a week it does not skip as past."""
        if info.away_days:
            away = self.ref._away_all_week(info.pair, week)
            if away is not None:
                reason = f"no 1:1 this week: {away} is out"
                return _occurrence(info, week, regular, decided, _TIME_OFF, None, reason)
        close = regular.close
        if close is not None and self.skip_close:
            reason = f"no 1:1 this week: {close}"
            return _occurrence(info, week, regular, decided, _CLOSE_WEEK, None, reason)
        problem = _problem(info, regular, static, manager_taken, rep_taken)
        if close is None and problem is None:
            return _occurrence(info, week, regular, decided, _PLANNED, None, "")
        if not move:
            return _MUST_MOVE
        why = close if close is not None else problem
        found = self._nearest_free(info, week, manager_taken, rep_taken)
        if found is not None:
            reason = f"moved from {info.label}: {why}"
            moved = self._moved(found, info.duration)
            return _occurrence(info, week, regular, decided, _PLANNED, moved, reason)
        if close is not None:
            reason = f"no 1:1 this week: {close}, and no free slot outside it"
            return _occurrence(info, week, regular, decided, _CLOSE_WEEK, None, reason)
        reason = (
            f"kept {info.label}: {why}, and no free slot for "
            f"{info.manager_first} and {info.rep_first} this week"
        )
        return _occurrence(info, week, regular, decided, _CONFLICT, None, reason)

    def _moved(self, start: float, duration: timedelta) -> tuple[datetime, datetime]:
        """A moved 1:1's start and end, in UTC as the reference gives them; shared, as pairs
        move to the same quarter hours (datetimes are immutable)."""
        key = (start, duration)
        found = self._moved_cache.get(key)
        if found is None:
            moment = _UNIX + timedelta(seconds=int(start))  # a quarter hour: whole seconds
            found = self._moved_cache[key] = (moment, moment + duration)
        return found

    def _nearest_free(
        self, info: _Info, week: str, manager_taken: list[Stamps], rep_taken: list[Stamps]
    ) -> float | None:
        """``_Planner._nearest_free`` on timestamps."""
        now = self.now_stamp
        manager_busy, rep_busy = info.manager_busy, info.rep_busy
        at_once = self._positive_cuts and not info.away_days
        days = self._ordered.get((info.allowed_id, info.slot_offset)) or self._by_day(info, week)
        for day, allowed in days:
            if not allowed or allowed[-1][1] <= now:
                continue
            # (spans are sorted: those that end after now are the last ones)
            free = allowed if allowed[0][1] > now else [s for s in allowed if s[1] > now]
            if free[0][0] <= now:  # a 1:1 must start after now, not at it
                free = [(self.after_now, free[0][1]), *free[1:]]
            if at_once:
                # Both people's busy time and 1:1s at once: every cut is a span of positive
                # length, so cutting all at once leaves what cutting one person's, then the
                # other's leaves.
                low, high = free[0][0], free[-1][1]
                blocked = manager_busy.timestamps_between(low, high)
                blocked += rep_busy.timestamps_between(low, high)
                blocked += manager_taken
                blocked += rep_taken
                if blocked:
                    free = _subtract(free, blocked)
            else:
                people = (
                    (manager_busy, info.pair.manager.timezone, manager_taken),
                    (rep_busy, info.pair.rep.timezone, rep_taken),
                )
                for calendar, timezone, taken in people:
                    blocked = calendar.timestamps_between(free[0][0], free[-1][1])
                    blocked.extend(taken)
                    if calendar.out_days:
                        blocked.extend(_out_windows(calendar.out_days, timezone, free))
                    if blocked:
                        free = _subtract(free, blocked)
                    if not free:
                        break
            if free:
                target = self._targets.get((day, info.slot_id)) or self._target(info, day)
                best = _nearest_start(free, target, info.duration_us // _SECOND)
                if best is not None:
                    return best
        return None


def _problem(
    info: _Info,
    regular: _Regular,
    static: str | int | None,
    manager_taken: list[Stamps],
    rep_taken: list[Stamps],
) -> str | None:
    """The reference's ``_problem_with`` for the regular slot (``static``: see ``_static``)."""
    if static is not None:
        if static == _MANAGER_HOURS:
            return f"outside {info.manager_first}'s working hours"
        if static == _REP_HOURS:
            return f"outside {info.rep_first}'s working hours"
        assert isinstance(static, str)
        return static
    manager_free = _is_free(info.manager_busy, info.manager_zone, manager_taken, regular)
    rep_free = _is_free(info.rep_busy, info.rep_zone, rep_taken, regular)
    if manager_free and rep_free:
        return None
    if manager_free:
        return f"{info.rep_first} busy"
    if rep_free:
        return f"{info.manager_first} busy"
    return f"{info.manager_first} and {info.rep_first} busy"


def _keep(info: _Info, week: str, decided: Known) -> PlannedOccurrence:
    """The reference's ``_keep``."""
    if decided.people_changed:
        status = _PEOPLE_CHANGED
    elif decided.status in (_CLOSE_WEEK, _TIME_OFF):
        status = decided.status
    else:
        status = _FROZEN
    regular = _regular_start(info.pair, week, info.shift)
    return PlannedOccurrence(
        info.key,
        info.manager,
        info.rep,
        week,
        decided.start,
        decided.end,
        regular,
        status,
        decided.reason,
    )


def _occurrence(
    info: _Info,
    week: str,
    regular: _Regular,
    decided: Known | None,
    status: PlanStatus,
    moved: tuple[datetime, datetime] | None,
    reason: str,
) -> PlannedOccurrence:
    """The reference's ``result``: at the regular slot, or at ``moved`` (start, end)."""
    start, end = (regular.start, regular.end) if moved is None else moved
    if decided is not None and (decided.status, decided.start, decided.end) == (
        status,
        start,
        end,
    ):
        reason = decided.reason  # unchanged: keep its explanation, change nothing
    return PlannedOccurrence(
        info.key, info.manager, info.rep, week, start, end, regular.start, status, reason
    )


def _is_free(busy: BusyCalendar, zone: tzinfo, taken: list[Stamps], regular: _Regular) -> bool:
    if not busy.is_free_at(regular.start_ts, regular.end_ts):
        return False
    if busy.out_days and regular.start.astimezone(zone).date() in busy.out_days:
        return False
    start, end = regular.start_ts, regular.end_ts
    for s, e in taken:  # noqa: SIM110 - a loop: no generator in the hot path
        if s < end and start < e:
            return False
    return True


def _free_of_busy(
    info: _Info, regular: _Regular, manager_taken: list[Stamps], rep_taken: list[Stamps]
) -> bool:
    """``_is_free`` for both people of a pair with no days out (none to check)."""
    start, end = regular.start_ts, regular.end_ts
    if not (info.manager_busy.is_free_at(start, end) and info.rep_busy.is_free_at(start, end)):
        return False
    for s, e in manager_taken:
        if s < end and start < e:
            return False
    for s, e in rep_taken:  # noqa: SIM110 - a loop: no generator in the hot path
        if s < end and start < e:
            return False
    return True


def _take(taken: dict[str, list[Stamps]], info: _Info, span: Stamps) -> None:
    taken.setdefault(info.manager, []).append(span)
    taken.setdefault(info.rep, []).append(span)


def _regular_start(pair: Pair, week: str, shift: int) -> datetime:
    return regular_start(pair.slot.weekday, pair.slot.at, pair.manager.timezone, week, shift)


def _subtract(spans: Sequence[Stamps], blocked: list[Stamps]) -> list[Stamps]:
    """Sorted disjoint ``spans`` minus every blocked span (the reference's sweep)."""
    cuts = sorted(blocked)
    result: list[Stamps] = []
    j = 0
    count = len(cuts)
    for start, end in spans:
        while j < count and cuts[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < count and cuts[k][0] < end:
            cut_start, cut_end = cuts[k]
            if cut_start > cursor:
                result.append((cursor, cut_start))
            if cut_end > cursor:
                cursor = cut_end
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def _nearest_start(spans: Sequence[Stamps], target: float, duration: int) -> float | None:
    """The quarter-hour start nearest ``target`` (the earlier on a tie) whose meeting fits in
    one span; quarter hours of 1970 UTC are quarter hours of every zone.

    Exact on floats: quarter hours are whole seconds, so exact floats; a span end is a whole
    second or at least a microsecond off one, and so is ``end - duration`` (a duration is whole
    seconds), far more than float rounding, so floors and ceilings land where the reference's
    do; a tie between two quarter hours needs ``target`` on the half quarter, a whole second."""
    best: float | None = None
    best_distance = 0.0
    for start, end in spans:
        first = -(-start // _QUARTER_S) * _QUARTER_S
        last = (end - duration) // _QUARTER_S * _QUARTER_S
        if last < first:
            continue
        # the reference's candidates: the quarter hours on either side of ``target`` clipped
        # to [first, last], the nearer (the earlier on a tie)
        if target <= first:
            candidate, distance = first, first - target
        elif target >= last:
            candidate, distance = last, target - last
        else:
            lower = target // _QUARTER_S * _QUARTER_S
            upper = lower if lower == target else lower + _QUARTER_S
            if target - lower <= upper - target:
                candidate, distance = lower, target - lower
            else:
                candidate, distance = upper, upper - target
        if (
            best is None
            or distance < best_distance
            or (distance == best_distance and candidate < best)
        ):
            best, best_distance = candidate, distance
    return best


def _out_windows(
    out_days: frozenset[date], timezone: str, window: Sequence[Stamps]
) -> list[Stamps]:
    spans = [
        (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        for start, end in (window[0], window[-1])
    ]
    return [(_stamp(s), _stamp(e)) for s, e in out_windows(out_days, timezone, spans)]
