"""The org calendar: business days (workdays minus public holidays) and the close window.

Pure: no I/O and no clock. Public holidays come from the ``holidays`` package, which computes
them in memory. Every answer is cached per year or per calendar month, because the planner
asks about the same few hundred dates tens of thousands of times.

Exports: WEEKDAY_NAMES, OrgCalendar.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Hashable, Iterable
from datetime import date, timedelta
from typing import Any, TypeVar, cast

import holidays

from scheduler.rules.close import CloseWindowConfig, fiscal_month

__all__ = ["WEEKDAY_NAMES", "OrgCalendar"]

#: Config spelling of weekdays; the index is ``date.weekday()`` (Monday is 0).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ONE_DAY = timedelta(days=1)
# The most subdivision codes an error message lists before it stops: the US alone has 57.
_MAX_LISTED = 12

#: Results ``OrgCalendar.derived`` keeps (a few per distinct slot of the org's pairs)
DERIVED_KEPT = 4096

T = TypeVar("T")


def _days(start: date, end: date) -> Iterable[date]:
    """Every date in [start, end], inclusive; nothing when end is before start."""
    day = start
    while day <= end:
        yield day
        day += _ONE_DAY


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _neighbour_month(year: int, month: int, step: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + step
    return index // 12, index % 12 + 1


class OrgCalendar:
    """The org's business days and close window, as the spec's "Calendar rules" define them.

    ``workdays`` are ``date.weekday()`` numbers (Monday is 0); ``country`` and ``subdivision``
    select public holidays (none without a country); ``week_start`` is the weekday the org's
    weeks start on, which the ``last_week`` close rule uses.
    """

    __slots__ = (
        "_close_by_month",
        "_derived",
        "_holidays_by_year",
        "_last_business_day",
        "_month_window",
        "close_window",
        "country",
        "subdivision",
        "week_start",
        "workdays",
    )

    def __init__(
        self,
        *,
        workdays: frozenset[int] = frozenset(range(5)),
        country: str | None = None,
        subdivision: str | None = None,
        week_start: int = 0,
        close_window: CloseWindowConfig = CloseWindowConfig(),  # noqa: B008 - frozen value
    ) -> None:
        workdays = frozenset(workdays)
        if not workdays:
            raise ValueError("workdays must name at least one day")
        bad = sorted((d for d in workdays if not (isinstance(d, int) and 0 <= d <= 6)), key=repr)
        if bad:
            raise ValueError(f"workdays must be weekday numbers 0..6 (Monday is 0), not {bad}")
        if not (isinstance(week_start, int) and 0 <= week_start <= 6):
            raise ValueError(
                f"week_start must be a weekday number 0..6 (Monday is 0), not {week_start!r}"
            )
        self.workdays: frozenset[int] = workdays
        self.week_start: int = week_start
        self.close_window: CloseWindowConfig = close_window
        self.country, self.subdivision = _check_region(country, subdivision)
        self._holidays_by_year: dict[int, dict[date, str]] = {}
        self._last_business_day: dict[tuple[int, int], date] = {}
        self._month_window: dict[tuple[int, int], tuple[date, ...]] = {}
        self._close_by_month: dict[tuple[int, int], dict[date, str]] = {}
        self._derived: dict[Hashable, Any] = {}

    def __repr__(self) -> str:
        days = ",".join(WEEKDAY_NAMES[day] for day in sorted(self.workdays))
        region = "-".join(part for part in (self.country, self.subdivision) if part) or "none"
        return f"OrgCalendar(workdays={days}, holidays={region}, rule={self.close_window.rule})"

    def derived(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, made once per ``key`` for this calendar: what another module works out
        from these rules alone (``reconcile.close_weeks_ahead``: a year of close weeks for
        each slot, which every pair of a pass asked for again). At most ``DERIVED_KEPT``
        results are kept; past that the oldest half goes."""
        if key in self._derived:
            return cast(T, self._derived[key])
        value = make()
        if len(self._derived) >= DERIVED_KEPT:
            for old in list(self._derived)[: DERIVED_KEPT // 2]:
                self._derived.pop(old, None)  # another thread (the feed server) may be here
        self._derived[key] = value
        return value

    # ----------------------------------------------------------------------- business days

    def _holidays(self, year: int) -> dict[date, str]:
        table = self._holidays_by_year.get(year)
        if table is None:
            table = {}
            if self.country is not None:
                found = holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
                table = {day: str(name) for day, name in found.items()}
            self._holidays_by_year[year] = table
        return table

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on ``day`` (names joined by "; " when several), or None."""
        return self._holidays(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is an org workday and not a public holiday."""
        return day.weekday() in self.workdays and day not in self._holidays(day.year)

    def business_days(self, start: date, end: date) -> list[date]:
        """Every business day in [start, end], inclusive, in order."""
        return [day for day in _days(start, end) if self.is_business_day(day)]

    def last_business_day(self, year: int, month: int) -> date:
        """The last business day of the calendar month.

        In the (theoretical) month where holidays cover every workday, this is the month's
        last workday instead, so every month still has a close window.
        """
        key = (year, month)
        found = self._last_business_day.get(key)
        if found is None:
            first, last = _month_bounds(year, month)
            days = list(_days(first, last))
            workdays = [day for day in days if day.weekday() in self.workdays]
            business = [day for day in workdays if self.is_business_day(day)]
            # Every weekday occurs at least four times in a month and workdays is never
            # empty, so ``workdays`` always has a last element.
            found = business[-1] if business else workdays[-1]
            self._last_business_day[key] = found
        return found

    # ----------------------------------------------------------------------- close window

    def in_close_window(self, day: date) -> bool:
        """Whether ``day`` is in the close window (by the rule or a blackout)."""
        return day in self._close_map(day.year, day.month)

    def close_reason(self, day: date) -> str | None:
        """Why ``day`` is in the close window, as a short phrase for event descriptions.

        "month-end close", "quarter-end close", "fiscal month-end close",
        "fiscal quarter-end close" or "blackout"; None outside the window. A day that is both
        in the rule's window and a blackout gets the rule's phrase, the more informative one.
        """
        return self._close_map(day.year, day.month).get(day)

    def close_days(self, start: date, end: date) -> list[date]:
        """Every close-window date in [start, end], inclusive, in order."""
        return [day for day in _days(start, end) if self.in_close_window(day)]

    def _close_map(self, year: int, month: int) -> dict[date, str]:
        """The close-window dates that fall in one calendar month, with their reasons."""
        key = (year, month)
        found = self._close_by_month.get(key)
        if found is None:
            found = self._build_close_map(year, month)
            self._close_by_month[key] = found
        return found

    def _build_close_map(self, year: int, month: int) -> dict[date, str]:
        first, last = _month_bounds(year, month)
        config = self.close_window
        reasons: dict[date, str] = {}
        if config.rule == "fiscal":
            # CloseWindowConfig refuses "fiscal" without a year_start; this only narrows the type.
            assert config.year_start is not None
            for day in _days(first, last):
                period = fiscal_month(day, config.pattern, config.year_start)
                if day < period.close_start or (
                    config.quarter_end_only and not period.ends_quarter
                ):
                    continue
                reasons[day] = (
                    "fiscal quarter-end close" if period.ends_quarter else "fiscal month-end close"
                )
        else:
            # A calendar month's window is attributed to that month even where it spills into
            # the next one (the last week of July can end on 2 August), so the dates of this
            # month are collected from the windows of the months around it, never decided by
            # the date's own month; with quarter_end_only that keeps 1-4 October in September's
            # quarter-end week while October's own window stays out.
            for step in (-1, 0, 1):
                period_year, period_month = _neighbour_month(year, month, step)
                ends_quarter = period_month % 3 == 0
                if config.quarter_end_only and not ends_quarter:
                    continue
                reason = "quarter-end close" if ends_quarter else "month-end close"
                for day in self._calendar_window(period_year, period_month):
                    if first <= day <= last:
                        reasons.setdefault(day, reason)
        for start, end in config.blackout:
            for day in _days(max(start, first), min(end, last)):
                reasons.setdefault(day, "blackout")
        return reasons

    def _calendar_window(self, year: int, month: int) -> tuple[date, ...]:
        """The close window that belongs to one calendar month, under a calendar rule."""
        key = (year, month)
        found = self._month_window.get(key)
        if found is None:
            if self.close_window.rule == "last_business_days":
                first, last = _month_bounds(year, month)
                business = self.business_days(first, last)
                found = tuple(business[-self.close_window.days :])
            else:
                closing = self.last_business_day(year, month)
                week_first = closing - timedelta(days=(closing.weekday() - self.week_start) % 7)
                found = tuple(week_first + timedelta(days=offset) for offset in range(7))
            self._month_window[key] = found
        return found


def _check_region(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Validate the holiday region up front, so a typo fails at startup, not mid-plan.

    Returns the spelling the ``holidays`` package accepted (country codes are upper-cased).
    """
    if country is None or not country.strip():
        if subdivision:
            raise ValueError(f"holiday subdivision {subdivision!r} needs a country as well")
        return None, None
    code = country.strip().upper()
    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if code not in supported:
        raise ValueError(
            f"unknown holiday country {country!r}: use a two-letter ISO 3166 country code "
            'such as "US", "GB" or "DE" that the holidays package supports'
        )
    if subdivision is None or not subdivision.strip():
        return code, None
    known = supported[code]
    # The package also takes some spelled-out aliases ("England"), so its own verdict decides;
    # upper-casing is only a second try for codes written in lower case ("eng").
    for spelling in dict.fromkeys((subdivision.strip(), subdivision.strip().upper())):
        try:
            holidays.country_holidays(code, subdiv=spelling)
        except NotImplementedError:
            continue
        return code, spelling
    listed = ", ".join(known[:_MAX_LISTED]) + (", …" if len(known) > _MAX_LISTED else "")
    hint = f"known codes: {listed}" if known else f"{code} has no subdivisions"
    raise ValueError(f"unknown holiday subdivision {subdivision!r} for {code} ({hint})")
