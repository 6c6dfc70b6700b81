"""The planner's wall-clock helpers that both of its paths use (datetimes in, datetimes out).

Pure, no I/O. Exports: Span, regular_start, out_windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.domain import slot_day, wall_clock

__all__ = ["Span", "out_windows", "regular_start"]

Span = tuple[datetime, datetime]


@lru_cache(maxsize=65536)
def regular_start(weekday: int, at: time, timezone: str, week: str, shift: int) -> datetime:
    """The regular slot of org week ``week``: wall-clock ``at`` in ``timezone`` on the slot's
    organizer-local day (``shift``: see ``scheduler.domain.week_shift``)."""
    return wall_clock(slot_day(week, weekday, shift), at, ZoneInfo(timezone))


def out_windows(out_days: frozenset[date], timezone: str, window: Sequence[Span]) -> list[Span]:
    """Whole days out (``out_days``, dates in ``timezone``) over the dates ``window`` touches."""
    zone = ZoneInfo(timezone)
    first = window[0][0].astimezone(zone).date()
    last = window[-1][1].astimezone(zone).date()
    spans = []
    day = first
    while day <= last:
        if day in out_days:
            midnight = wall_clock(day, time(0), zone)
            spans.append((midnight, wall_clock(day + timedelta(days=1), time(0), zone)))
        day += timedelta(days=1)
    return spans
