"""Calendar rules: business days, public holidays and the sales close window.

Pure: no I/O and no clock. ``OrgCalendar`` answers, for any date, whether it is a business day
(org workdays minus the public holidays of the org's country and subdivision) and whether it
lies in the close window (rule ``last_week``, ``last_business_days`` or ``fiscal``, optionally
quarter ends only, plus blackout dates), and why, for event descriptions. Answers are cached
per year and per month, so the planner can ask about the same dates over and over.

Exports: WEEKDAY_NAMES, OrgCalendar, CloseWindowConfig, parse_blackout, FiscalMonth,
fiscal_month, and the Literal types CloseRule, FiscalPattern, ClosePolicy of the config values.
"""

from __future__ import annotations

from scheduler.rules.business import WEEKDAY_NAMES, OrgCalendar
from scheduler.rules.close import (
    ClosePolicy,
    CloseRule,
    CloseWindowConfig,
    FiscalMonth,
    FiscalPattern,
    fiscal_month,
    parse_blackout,
)

__all__ = [
    "WEEKDAY_NAMES",
    "ClosePolicy",
    "CloseRule",
    "CloseWindowConfig",
    "FiscalMonth",
    "FiscalPattern",
    "OrgCalendar",
    "fiscal_month",
    "parse_blackout",
]
