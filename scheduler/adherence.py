"""Streaks and adherence of a pair's weeks: pure, shared by the report and escalation.

Exports: missed_streak, adherence, KEPT_STATUSES.
"""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.domain import ABSENT_STATUSES, MISSED_STATUSES, LedgerStatus

__all__ = ["KEPT_STATUSES", "adherence", "missed_streak"]

#: Statuses that count as a 1:1 that took place.
KEPT_STATUSES = frozenset({LedgerStatus.HELD, LedgerStatus.MOVED, LedgerStatus.MADE_UP})


def missed_streak(statuses: Sequence[str]) -> int:
    """Consecutive missed weeks at the end of ``statuses`` (oldest first).

    ``close_week`` and ``time_off`` weeks are skipped over: they neither count nor break a
    streak; ``upcoming`` weeks are not settled yet and are ignored too.
    """
    streak = 0
    for status in reversed(statuses):
        if status in ABSENT_STATUSES or status == LedgerStatus.UPCOMING:
            continue
        if status in MISSED_STATUSES:
            streak += 1
        else:
            break
    return streak


def adherence(statuses: Sequence[str]) -> float | None:
    """Share of settled, non-absent weeks whose 1:1 took place; None when there are none."""
    kept = sum(1 for s in statuses if s in KEPT_STATUSES)
    missed = sum(1 for s in statuses if s in MISSED_STATUSES)
    if kept + missed == 0:
        return None
    return round(kept / (kept + missed), 3)
