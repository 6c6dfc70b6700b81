"""The planner's value objects: its settings, what the ledger already decided, what it plans.

Pure values, no I/O; re-exported by ``scheduler.planner`` (import them from there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.domain import PlanStatus

__all__ = ["Known", "PlannedOccurrence", "PlannerSettings"]

#: (a tuple, as it was: ``in`` compares with ``==``; enum members are slow to look up)
_SKIPPED = (PlanStatus.CLOSE_WEEK, PlanStatus.TIME_OFF)


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    horizon_weeks: int = 6
    freeze: timedelta = timedelta(hours=48)
    policy: str = "skip"  # close-window policy: "skip" or "shift"


@dataclass(frozen=True, slots=True)
class Known:
    """What is already decided for one week of one pair (from the ledger and observation)."""

    start: datetime
    end: datetime
    status: PlanStatus
    reason: str
    people_changed: bool = False
    #: False when no meeting takes place (a person cancelled it): it blocks no one's time.
    happens: bool = True


@dataclass(frozen=True, slots=True)
class PlannedOccurrence:
    pair_key: str
    manager: str
    rep: str
    week: str
    start: datetime
    end: datetime
    regular_start: datetime
    status: PlanStatus
    reason: str

    @property
    def skipped(self) -> bool:
        """No meeting takes place this week (the series gets an EXDATE)."""
        return self.status in _SKIPPED
