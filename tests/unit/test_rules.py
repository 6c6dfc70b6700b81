"""Calendar rules: business days, holidays, close windows (worked examples and properties).

The worked examples were checked by hand against a wall calendar; the property tests range
over 2026-2030 and check the spec's invariants rather than re-deriving the answers.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.rules import (
    WEEKDAY_NAMES,
    CloseRule,
    CloseWindowConfig,
    FiscalPattern,
    OrgCalendar,
    fiscal_month,
    parse_blackout,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def month_days(year: int, month: int) -> list[date]:
    return days(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def runs(dates: list[date]) -> list[list[date]]:
    """Split sorted dates into runs of consecutive days."""
    grouped: list[list[date]] = []
    for day in dates:
        if grouped and day - grouped[-1][-1] == timedelta(days=1):
            grouped[-1].append(day)
        else:
            grouped.append([day])
    return grouped


def fiscal(pattern: FiscalPattern = "4-4-5", *, quarter_end_only: bool = False) -> OrgCalendar:
    config = CloseWindowConfig(
        rule="fiscal",
        pattern=pattern,
        year_start=date(2026, 1, 4),
        quarter_end_only=quarter_end_only,
    )
    return OrgCalendar(week_start=SUN, close_window=config)


# --------------------------------------------------------------------------- business days


def test_weekday_names_follow_date_weekday() -> None:
    assert WEEKDAY_NAMES[date(2026, 8, 31).weekday()] == "mon"
    assert WEEKDAY_NAMES[date(2026, 10, 31).weekday()] == "sat"
    assert len(WEEKDAY_NAMES) == 7


def test_no_country_means_no_holidays() -> None:
    org = OrgCalendar()
    assert org.holiday_name(date(2026, 12, 25)) is None
    assert org.is_business_day(date(2026, 12, 25))  # a Friday
    assert not org.is_business_day(date(2026, 12, 26))  # a Saturday


def test_december_2026_us_christmas_is_not_a_business_day() -> None:
    org = OrgCalendar(country="US")
    assert org.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert not org.is_business_day(date(2026, 12, 25))
    assert org.is_business_day(date(2026, 12, 24))
    assert org.last_business_day(2026, 12) == date(2026, 12, 31)  # a Thursday
    # The week of Thu 31 Dec runs Mon 28 Dec .. Sun 3 Jan and is December's quarter-end week.
    assert org.close_days(date(2026, 12, 7), date(2027, 1, 20)) == days(
        date(2026, 12, 28), date(2027, 1, 3)
    )
    assert org.close_reason(date(2027, 1, 2)) == "quarter-end close"


def test_observed_holiday_counts_us_july_3_2026() -> None:
    # 4 July 2026 is a Saturday; the US observes it on Friday 3 July.
    org = OrgCalendar(country="US")
    assert org.holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert not org.is_business_day(date(2026, 7, 3))


def test_business_days_in_a_range() -> None:
    org = OrgCalendar(country="US")
    assert org.business_days(date(2026, 12, 21), date(2027, 1, 3)) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]
    assert org.business_days(date(2026, 12, 31), date(2026, 12, 1)) == []


def test_custom_workdays_sunday_to_thursday() -> None:
    org = OrgCalendar(workdays=frozenset({SUN, MON, TUE, WED, THU}))
    assert org.is_business_day(date(2026, 8, 30))  # Sunday
    assert not org.is_business_day(date(2026, 8, 28))  # Friday
    assert org.last_business_day(2026, 10) == date(2026, 10, 29)  # Thu; 30-31 are Fri-Sat


def test_lowercase_country_and_subdivision_are_accepted() -> None:
    org = OrgCalendar(country="gb", subdivision="eng")
    assert (org.country, org.subdivision) == ("GB", "ENG")
    assert org.holiday_name(date(2026, 8, 31)) is not None


# --------------------------------------------------------------------------- last_week


def test_last_business_day_is_a_monday_2026_08() -> None:
    org = OrgCalendar()
    assert org.last_business_day(2026, 8) == date(2026, 8, 31)
    window = days(date(2026, 8, 31), date(2026, 9, 6))
    assert org.close_days(date(2026, 8, 1), date(2026, 9, 20)) == [
        date(2026, 8, 1),
        date(2026, 8, 2),
        *window,
    ]
    # 1-2 Aug above are the tail of July's week (Fri 31 Jul).
    # The days of September in August's week belong to August: month-end, not quarter-end.
    assert all(org.close_reason(day) == "month-end close" for day in window)
    assert not org.in_close_window(date(2026, 8, 30))


def test_last_day_is_a_saturday_2026_10() -> None:
    org = OrgCalendar()
    assert date(2026, 10, 31).weekday() == SAT
    assert org.last_business_day(2026, 10) == date(2026, 10, 30)
    assert org.close_days(date(2026, 10, 10), date(2026, 11, 15)) == days(
        date(2026, 10, 26), date(2026, 11, 1)
    )


def test_last_week_spills_into_next_month_2026_07() -> None:
    org = OrgCalendar()
    assert org.close_days(date(2026, 7, 10), date(2026, 8, 10)) == days(
        date(2026, 7, 27), date(2026, 8, 2)
    )
    assert org.close_reason(date(2026, 8, 1)) == "month-end close"
    assert org.close_reason(date(2026, 8, 3)) is None


def test_last_week_with_sunday_week_start() -> None:
    # Fri 31 Jul 2026: the Sunday-started week is Sun 26 Jul .. Sat 1 Aug.
    org = OrgCalendar(week_start=SUN)
    assert org.close_days(date(2026, 7, 10), date(2026, 8, 10)) == days(
        date(2026, 7, 26), date(2026, 8, 1)
    )


def test_last_weekday_is_a_holiday_gb_eng_2026_08() -> None:
    org = OrgCalendar(country="GB", subdivision="ENG")
    assert org.holiday_name(date(2026, 8, 31)) == "Late Summer Bank Holiday"
    assert org.last_business_day(2026, 8) == date(2026, 8, 28)
    assert org.close_days(date(2026, 8, 10), date(2026, 9, 10)) == days(
        date(2026, 8, 24), date(2026, 8, 30)
    )


def test_last_weekday_is_a_holiday_us_memorial_day_2027_05() -> None:
    org = OrgCalendar(country="US")
    assert org.holiday_name(date(2027, 5, 31)) == "Memorial Day"
    assert org.last_business_day(2027, 5) == date(2027, 5, 28)
    assert org.in_close_window(date(2027, 5, 24))
    assert not org.in_close_window(date(2027, 5, 31))


# --------------------------------------------------------------------------- last_business_days


def test_last_business_days_3_across_a_weekend_2026_08() -> None:
    org = OrgCalendar(close_window=CloseWindowConfig(rule="last_business_days", days=3))
    assert org.close_days(date(2026, 8, 1), date(2026, 9, 10)) == [
        date(2026, 8, 27),
        date(2026, 8, 28),
        date(2026, 8, 31),
    ]
    assert not org.in_close_window(date(2026, 8, 29))  # the weekend in between
    assert org.close_reason(date(2026, 8, 31)) == "month-end close"


def test_last_business_days_skip_holidays_us_2026_12() -> None:
    org = OrgCalendar(
        country="US", close_window=CloseWindowConfig(rule="last_business_days", days=5)
    )
    assert org.close_days(date(2026, 12, 1), date(2026, 12, 31)) == [
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]
    assert org.close_reason(date(2026, 12, 24)) == "quarter-end close"


def test_last_business_days_more_than_the_month_has() -> None:
    org = OrgCalendar(close_window=CloseWindowConfig(rule="last_business_days", days=40))
    first, last = date(2026, 2, 1), date(2026, 2, 28)
    assert org.close_days(first, last) == org.business_days(first, last)


# --------------------------------------------------------------------------- fiscal

# Fiscal month ends from Sun 2026-01-04, counted by hand (each a Saturday).
FISCAL_ENDS_445 = [
    date(2026, 1, 31),
    date(2026, 2, 28),
    date(2026, 4, 4),
    date(2026, 5, 2),
    date(2026, 5, 30),
    date(2026, 7, 4),
    date(2026, 8, 1),
    date(2026, 8, 29),
    date(2026, 10, 3),
    date(2026, 10, 31),
    date(2026, 11, 28),
    date(2027, 1, 2),
]
FISCAL_ENDS_454 = [
    date(2026, 1, 31),
    date(2026, 3, 7),
    date(2026, 4, 4),
    date(2026, 5, 2),
    date(2026, 6, 6),
    date(2026, 7, 4),
    date(2026, 8, 1),
    date(2026, 9, 5),
    date(2026, 10, 3),
    date(2026, 10, 31),
    date(2026, 12, 5),
    date(2027, 1, 2),
]
FISCAL_ENDS_544 = [
    date(2026, 2, 7),
    date(2026, 3, 7),
    date(2026, 4, 4),
    date(2026, 5, 9),
    date(2026, 6, 6),
    date(2026, 7, 4),
    date(2026, 8, 8),
    date(2026, 9, 5),
    date(2026, 10, 3),
    date(2026, 11, 7),
    date(2026, 12, 5),
    date(2027, 1, 2),
]


@pytest.mark.parametrize(
    ("pattern", "ends"),
    [("4-4-5", FISCAL_ENDS_445), ("4-5-4", FISCAL_ENDS_454), ("5-4-4", FISCAL_ENDS_544)],
)
def test_fiscal_year_2026_month_ends_and_windows(pattern: FiscalPattern, ends: list[date]) -> None:
    org = fiscal(pattern)
    year = days(date(2026, 1, 4), date(2027, 1, 2))
    assert [fiscal_month(end, pattern, date(2026, 1, 4)).end for end in ends] == ends
    assert [day for day in year if fiscal_month(day, pattern, date(2026, 1, 4)).end == day] == ends
    expected = [day for end in ends for day in days(end - timedelta(days=6), end)]
    assert org.close_days(year[0], year[-1]) == expected
    assert org.close_reason(ends[0]) == "fiscal month-end close"
    assert org.close_reason(ends[2]) == "fiscal quarter-end close"


def test_fiscal_445_first_windows_by_hand() -> None:
    org = fiscal("4-4-5")
    assert org.close_days(date(2026, 1, 4), date(2026, 2, 28)) == days(
        date(2026, 1, 25), date(2026, 1, 31)
    ) + days(date(2026, 2, 22), date(2026, 2, 28))
    # A 5-week fiscal month: 1 Mar .. 4 Apr, closing 29 Mar .. 4 Apr; March itself is mostly open.
    assert org.close_days(date(2026, 3, 1), date(2026, 4, 4)) == days(
        date(2026, 3, 29), date(2026, 4, 4)
    )


def test_fiscal_years_repeat_every_364_days_both_ways() -> None:
    org = fiscal("4-4-5")
    # The fiscal year before starts Sun 2025-01-05; its last week is 28 Dec 2025 .. 3 Jan 2026.
    previous = fiscal_month(date(2025, 12, 30), "4-4-5", date(2026, 1, 4))
    assert (previous.year_start, previous.number) == (date(2025, 1, 5), 12)
    assert org.close_days(date(2025, 12, 20), date(2026, 1, 10)) == days(
        date(2025, 12, 28), date(2026, 1, 3)
    )
    following = fiscal_month(date(2027, 1, 3), "4-4-5", date(2026, 1, 4))
    assert (following.year_start, following.number, following.end) == (
        date(2027, 1, 3),
        1,
        date(2027, 1, 30),
    )


def test_fiscal_ignores_public_holidays_and_workdays() -> None:
    config = CloseWindowConfig(rule="fiscal", year_start=date(2026, 1, 4))
    plain = OrgCalendar(close_window=config)
    us = OrgCalendar(country="US", workdays=frozenset({MON}), close_window=config)
    span = (date(2026, 1, 1), date(2026, 12, 31))
    assert plain.close_days(*span) == us.close_days(*span)


# --------------------------------------------------------------------------- quarter_end_only


def test_quarter_end_only_calendar_2026() -> None:
    org = OrgCalendar(close_window=CloseWindowConfig(quarter_end_only=True))
    close = org.close_days(date(2026, 1, 1), date(2026, 12, 31))
    assert [(run[0], run[-1]) for run in runs(close)] == [
        (date(2026, 1, 1), date(2026, 1, 4)),  # Wed 31 Dec 2025, from the range start
        (date(2026, 3, 30), date(2026, 4, 5)),  # Tue 31 Mar
        (date(2026, 6, 29), date(2026, 7, 5)),  # Tue 30 Jun
        (date(2026, 9, 28), date(2026, 10, 4)),  # Wed 30 Sep
        (date(2026, 12, 28), date(2026, 12, 31)),  # Thu 31 Dec, cut at the range end
    ]
    # 1-4 Oct are in September's quarter-end week; October's own (26 Oct..1 Nov) is not.
    assert org.close_reason(date(2026, 10, 2)) == "quarter-end close"
    assert not org.in_close_window(date(2026, 10, 30))
    # July's week spills into August; with quarter ends only it is not a close at all.
    assert not org.in_close_window(date(2026, 8, 1))


def test_quarter_end_only_last_business_days() -> None:
    config = CloseWindowConfig(rule="last_business_days", days=2, quarter_end_only=True)
    org = OrgCalendar(close_window=config)
    assert org.close_days(date(2026, 1, 1), date(2026, 6, 30)) == [
        date(2026, 3, 30),
        date(2026, 3, 31),
        date(2026, 6, 29),
        date(2026, 6, 30),
    ]


def test_quarter_end_only_fiscal_445() -> None:
    org = fiscal("4-4-5", quarter_end_only=True)
    close = org.close_days(date(2026, 1, 4), date(2027, 1, 2))
    assert [run[-1] for run in runs(close)] == FISCAL_ENDS_445[2::3]
    assert all(len(run) == 7 for run in runs(close))
    assert all(org.close_reason(day) == "fiscal quarter-end close" for day in close)


# --------------------------------------------------------------------------- blackout


def test_blackout_single_date_and_range() -> None:
    blackout = parse_blackout(["2026-11-26", "2026-12-21..2026-12-23"])
    assert blackout == (
        (date(2026, 11, 26), date(2026, 11, 26)),
        (date(2026, 12, 21), date(2026, 12, 23)),
    )
    org = OrgCalendar(close_window=CloseWindowConfig(blackout=blackout))
    assert org.close_reason(date(2026, 11, 26)) == "blackout"
    assert not org.in_close_window(date(2026, 11, 25))
    assert org.close_days(date(2026, 12, 19), date(2026, 12, 27)) == days(
        date(2026, 12, 21), date(2026, 12, 23)
    )
    assert org.close_reason(date(2026, 12, 22)) == "blackout"
    # A blackout day that is also in the rule's window keeps the rule's, more telling, reason.
    assert org.close_reason(date(2026, 12, 28)) == "quarter-end close"


def test_blackout_range_across_months_and_years() -> None:
    blackout = parse_blackout([" 2026-12-30..2027-01-05 "])
    org = OrgCalendar(close_window=CloseWindowConfig(rule="last_business_days", days=1))
    assert not org.in_close_window(date(2027, 1, 4))
    org = OrgCalendar(
        close_window=CloseWindowConfig(rule="last_business_days", days=1, blackout=blackout)
    )
    assert org.close_days(date(2026, 12, 25), date(2027, 1, 10)) == days(
        date(2026, 12, 30), date(2027, 1, 5)
    )
    assert org.close_reason(date(2026, 12, 31)) == "quarter-end close"
    assert org.close_reason(date(2027, 1, 5)) == "blackout"


# --------------------------------------------------------------------------- bad input


def test_unknown_country_xx() -> None:
    with pytest.raises(ValueError, match=r"unknown holiday country 'XX'"):
        OrgCalendar(country="XX")


def test_unknown_subdivision() -> None:
    with pytest.raises(ValueError, match=r"unknown holiday subdivision 'ZZ' for GB .*ENG"):
        OrgCalendar(country="GB", subdivision="ZZ")


def test_subdivision_without_country() -> None:
    with pytest.raises(ValueError, match="needs a country"):
        OrgCalendar(subdivision="ENG")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"days": 0}, "close_window.days must be at least 1"),
        ({"days": -2}, "close_window.days must be at least 1"),
        ({"rule": "fiscal"}, "close_window.year_start is required"),
        ({"rule": "weekly"}, "close_window.rule must be one of"),
        ({"pattern": "4-4-4"}, "close_window.pattern must be one of"),
        ({"policy": "move"}, "close_window.policy must be one of"),
        (
            {"blackout": ((date(2026, 5, 2), date(2026, 5, 1)),)},
            "close_window.blackout range 2026-05-02..2026-05-01 ends before it starts",
        ),
    ],
)
def test_bad_close_window_config(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CloseWindowConfig(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["2026-13-01"], r"item '2026-13-01' has an impossible date .*YYYY-MM-DD"),
        (["2026-05-02..2026-05-01"], r"item '2026-05-02..2026-05-01' ends before it starts"),
        (["next friday"], r"item 'next friday' is not valid; expected YYYY-MM-DD or"),
        (["20261224"], r"item '20261224' is not valid"),
        (["2026-12-24.."], r"item '2026-12-24..' is not valid"),
        ("2026-12-24", r"must be a list of dates"),
        ([date(2026, 12, 24)], r"must be a quoted string"),
    ],
)
def test_bad_blackout(items: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_blackout(items)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workdays": frozenset()}, "workdays must name at least one day"),
        ({"workdays": frozenset({0, 7})}, r"workdays must be weekday numbers 0..6"),
        ({"week_start": 7}, r"week_start must be a weekday number 0..6"),
    ],
)
def test_bad_org_calendar(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrgCalendar(**options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

REGIONS = [(None, None), ("US", None), ("US", "CA"), ("GB", "ENG"), ("DE", "BY")]
years = st.integers(min_value=2026, max_value=2030)
months = st.integers(min_value=1, max_value=12)
regions = st.sampled_from(REGIONS)
weekdays = st.integers(min_value=0, max_value=6)
workday_sets = st.frozensets(weekdays, min_size=1)
patterns: st.SearchStrategy[FiscalPattern] = st.sampled_from(get_args(FiscalPattern))
rules: st.SearchStrategy[CloseRule] = st.sampled_from(get_args(CloseRule))
dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=150, deadline=None)
@given(years, months, regions, weekdays, workday_sets, st.integers(1, 10), st.booleans())
def test_property_every_month_has_a_close_window(
    year: int,
    month: int,
    region: tuple[str | None, str | None],
    week_start: int,
    workdays: frozenset[int],
    count: int,
    quarter_end_only: bool,
) -> None:
    if quarter_end_only:
        month = (month - 1) // 3 * 3 + 3
    country, subdivision = region
    for config in (
        CloseWindowConfig(quarter_end_only=quarter_end_only),
        CloseWindowConfig(rule="last_business_days", days=count, quarter_end_only=quarter_end_only),
    ):
        org = OrgCalendar(
            workdays=workdays,
            country=country,
            subdivision=subdivision,
            week_start=week_start,
            close_window=config,
        )
        inside = [day for day in month_days(year, month) if org.in_close_window(day)]
        assert inside
        assert org.last_business_day(year, month) in inside


@settings(max_examples=150, deadline=None)
@given(years, months, regions, workday_sets)
def test_property_last_business_day_is_the_last_one(
    year: int, month: int, region: tuple[str | None, str | None], workdays: frozenset[int]
) -> None:
    org = OrgCalendar(workdays=workdays, country=region[0], subdivision=region[1])
    last = org.last_business_day(year, month)
    assert (last.year, last.month) == (year, month)
    assert org.is_business_day(last)
    assert not [day for day in month_days(year, month) if day > last and org.is_business_day(day)]


@settings(max_examples=150, deadline=None)
@given(years, months, regions, weekdays, st.integers(1, 15))
def test_property_last_business_days_has_exactly_n(
    year: int, month: int, region: tuple[str | None, str | None], week_start: int, count: int
) -> None:
    config = CloseWindowConfig(rule="last_business_days", days=count)
    org = OrgCalendar(
        country=region[0], subdivision=region[1], week_start=week_start, close_window=config
    )
    this_month = month_days(year, month)
    inside = [day for day in this_month if org.in_close_window(day)]
    business = [day for day in this_month if org.is_business_day(day)]
    assert len(inside) == min(count, len(business))
    assert all(org.is_business_day(day) for day in inside)
    # Only the last ones: no business day after the window's first day is left out.
    assert [day for day in business if day >= inside[0]] == inside


@settings(max_examples=150, deadline=None)
@given(dates, regions, weekdays, st.booleans())
def test_property_last_week_matches_its_definition(
    day: date, region: tuple[str | None, str | None], week_start: int, quarter_end_only: bool
) -> None:
    # Independent oracle: ``day`` is in the window iff the org week containing it also
    # contains the last business day of a (quarter-end, if asked) month.
    config = CloseWindowConfig(quarter_end_only=quarter_end_only)
    org = OrgCalendar(
        country=region[0], subdivision=region[1], week_start=week_start, close_window=config
    )
    week_first = day - timedelta(days=(day.weekday() - week_start) % 7)
    week = days(week_first, week_first + timedelta(days=6))
    closing_months = {
        (other.year, other.month)
        for other in week
        if other == org.last_business_day(other.year, other.month)
        and (not quarter_end_only or other.month % 3 == 0)
    }
    assert org.in_close_window(day) == bool(closing_months)


@settings(max_examples=100, deadline=None)
@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    patterns,
    st.integers(min_value=-2, max_value=6),
    st.booleans(),
)
def test_property_fiscal_year_has_12_windows_of_7_days(
    year_start: date, pattern: FiscalPattern, cycle: int, quarter_end_only: bool
) -> None:
    config = CloseWindowConfig(
        rule="fiscal", pattern=pattern, year_start=year_start, quarter_end_only=quarter_end_only
    )
    org = OrgCalendar(country="US", close_window=config)
    first = year_start + timedelta(days=364 * cycle)
    close = org.close_days(first, first + timedelta(days=363))
    windows = runs(close)
    assert len(windows) == (4 if quarter_end_only else 12)
    assert all(len(window) == 7 for window in windows)
    for number, window in enumerate(windows, start=1):
        period = fiscal_month(window[-1], pattern, year_start)
        assert period.end == window[-1]
        assert period.year_start == first
        assert period.number == (3 * number if quarter_end_only else number)
    # The fiscal year ends with its last window, so the next day starts a new fiscal year.
    assert windows[-1][-1] == first + timedelta(days=363)


@settings(max_examples=60, deadline=None)
@given(dates, rules, regions, weekdays)
def test_property_answers_do_not_depend_on_query_order(
    day: date, rule: CloseRule, region: tuple[str | None, str | None], week_start: int
) -> None:
    config = CloseWindowConfig(rule=rule, year_start=date(2026, 1, 4))

    def make() -> OrgCalendar:
        return OrgCalendar(
            country=region[0], subdivision=region[1], week_start=week_start, close_window=config
        )

    fresh = make()
    answer = (fresh.in_close_window(day), fresh.close_reason(day), fresh.is_business_day(day))
    warmed = make()
    span = warmed.close_days(day - timedelta(days=70), day + timedelta(days=70))
    assert (day in span, warmed.close_reason(day), warmed.is_business_day(day)) == answer
