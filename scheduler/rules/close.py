"""The close-window configuration, blackout parsing and fiscal-calendar arithmetic.

Pure values and functions: no I/O, no clock, no holidays (those live in ``business``).

Exports: CloseWindowConfig, parse_blackout, FiscalMonth, fiscal_month, FISCAL_YEAR_DAYS,
FISCAL_PATTERNS, and the Literal types CloseRule, FiscalPattern, ClosePolicy.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Literal

__all__ = [
    "FISCAL_PATTERNS",
    "FISCAL_YEAR_DAYS",
    "ClosePolicy",
    "CloseRule",
    "CloseWindowConfig",
    "FiscalMonth",
    "FiscalPattern",
    "fiscal_month",
    "parse_blackout",
]

CloseRule = Literal["last_week", "last_business_days", "fiscal"]
FiscalPattern = Literal["4-4-5", "4-5-4", "5-4-4"]
ClosePolicy = Literal["skip", "shift"]

_RULES: tuple[CloseRule, ...] = ("last_week", "last_business_days", "fiscal")
_POLICIES: tuple[ClosePolicy, ...] = ("skip", "shift")

#: Weeks per fiscal month within one quarter, by pattern; every quarter repeats it.
FISCAL_PATTERNS: dict[str, tuple[int, int, int]] = {
    "4-4-5": (4, 4, 5),
    "4-5-4": (4, 5, 4),
    "5-4-4": (5, 4, 4),
}

#: The spec's fiscal years are always 52 whole weeks (no 53-week catch-up years), so they
#: repeat every 364 days from ``year_start`` in both directions.
FISCAL_YEAR_DAYS = 364

# For each pattern, the week (counted from the fiscal year start) after which each of the 12
# fiscal months ends: 4-4-5 gives 4, 8, 13, 17, ... 52. Bisecting it finds a week's month.
_MONTH_END_WEEKS: dict[str, tuple[int, ...]] = {
    name: tuple(accumulate(weeks * 4)) for name, weeks in FISCAL_PATTERNS.items()
}


@dataclass(frozen=True, slots=True)
class CloseWindowConfig:
    """The ``[close_window]`` section, validated: which dates count as the sales close.

    ``days`` matters only for ``last_business_days``; ``pattern`` and ``year_start`` only for
    ``fiscal`` (where ``year_start`` is required). ``blackout`` holds inclusive date ranges
    (see ``parse_blackout``). ``policy`` is carried here for the planner; the rules ignore it.
    """

    rule: CloseRule = "last_week"
    days: int = 3
    pattern: FiscalPattern = "4-4-5"
    year_start: date | None = None
    quarter_end_only: bool = False
    blackout: tuple[tuple[date, date], ...] = ()
    policy: ClosePolicy = "skip"

    def __post_init__(self) -> None:
        # Literal types are not enforced at runtime and the values come from a TOML file, so
        # every field is checked here, with messages that name the key the user must fix.
        if self.rule not in _RULES:
            raise ValueError(
                f"close_window.rule must be one of {_choices(_RULES)}, not {self.rule!r}"
            )
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise ValueError(f"close_window.days must be a whole number, not {self.days!r}")
        if self.days < 1:
            raise ValueError("close_window.days must be at least 1")
        if self.pattern not in FISCAL_PATTERNS:
            raise ValueError(
                f"close_window.pattern must be one of {_choices(tuple(FISCAL_PATTERNS))}, "
                f"not {self.pattern!r}"
            )
        if self.year_start is not None and (
            isinstance(self.year_start, datetime) or not isinstance(self.year_start, date)
        ):
            raise ValueError(
                f"close_window.year_start must be a date (YYYY-MM-DD), not {self.year_start!r}"
            )
        if self.rule == "fiscal" and self.year_start is None:
            raise ValueError(
                'close_window.year_start is required when close_window.rule is "fiscal" '
                "(the first day of a fiscal year, YYYY-MM-DD)"
            )
        if not isinstance(self.quarter_end_only, bool):
            raise ValueError(
                "close_window.quarter_end_only must be true or false, "
                f"not {self.quarter_end_only!r}"
            )
        for start, end in self.blackout:
            if end < start:
                raise ValueError(
                    f"close_window.blackout range {start.isoformat()}..{end.isoformat()} "
                    "ends before it starts"
                )
        if self.policy not in _POLICIES:
            raise ValueError(
                f"close_window.policy must be one of {_choices(_POLICIES)}, not {self.policy!r}"
            )


def _choices(values: Sequence[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BLACKOUT_FORM = "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"


def parse_blackout(items: Sequence[str]) -> tuple[tuple[date, date], ...]:
    """Parse ``blackout`` entries into inclusive ``(start, end)`` ranges, in the given order.

    Each item is one date ``"2026-12-24"`` (a one-day range) or a range
    ``"2026-12-24..2027-01-01"``. A bad item raises ValueError naming it and the expected form.
    """
    # A bare string is itself a Sequence[str]; without this check "2026-12-24" would be read
    # character by character and fail with a baffling message about "2".
    if isinstance(items, str):
        raise ValueError(f"close_window.blackout must be a list of dates ({_BLACKOUT_FORM})")
    ranges: list[tuple[date, date]] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(
                f"close_window.blackout item {item!r} must be a quoted string; {_BLACKOUT_FORM}"
            )
        first, sep, second = item.strip().partition("..")
        start = _blackout_date(item, first)
        end = _blackout_date(item, second) if sep else start
        if end < start:
            raise ValueError(f"close_window.blackout item {item!r} ends before it starts")
        ranges.append((start, end))
    return tuple(ranges)


def _blackout_date(item: str, text: str) -> date:
    # date.fromisoformat alone would also accept "20261224" and "2026-W52-4"; the config
    # documents only YYYY-MM-DD, so anything else is refused rather than guessed at.
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"close_window.blackout item {item!r} is not valid; {_BLACKOUT_FORM}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"close_window.blackout item {item!r} has an impossible date {text!r}; {_BLACKOUT_FORM}"
        ) from None


# --------------------------------------------------------------------------- fiscal months


@dataclass(frozen=True, slots=True)
class FiscalMonth:
    """One fiscal month: its number in the fiscal year (1..12) and its inclusive dates."""

    year_start: date
    number: int
    start: date
    end: date

    @property
    def ends_quarter(self) -> bool:
        return self.number % 3 == 0

    @property
    def close_start(self) -> date:
        """The first day of the close window: the month's last 7 days."""
        return self.end - timedelta(days=6)


def fiscal_month(day: date, pattern: str, year_start: date) -> FiscalMonth:
    """The fiscal month containing ``day``, for fiscal years of 52 weeks from ``year_start``.

    Works before ``year_start`` too: the fiscal years repeat every 364 days in both directions.
    """
    ends = _MONTH_END_WEEKS[pattern]
    offset = (day - year_start).days
    # Floor division keeps this right for days before year_start (negative offsets).
    cycles = offset // FISCAL_YEAR_DAYS
    fiscal_start = year_start + timedelta(days=cycles * FISCAL_YEAR_DAYS)
    week = (offset - cycles * FISCAL_YEAR_DAYS) // 7
    index = bisect.bisect_right(ends, week)
    first_week = ends[index - 1] if index else 0
    return FiscalMonth(
        year_start=fiscal_start,
        number=index + 1,
        start=fiscal_start + timedelta(weeks=first_week),
        end=fiscal_start + timedelta(weeks=ends[index], days=-1),
    )
