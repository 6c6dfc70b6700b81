"""Who must hear about a pair's weeks: nudges, escalations, digests. Pure decisions.

No I/O and no clock. Each decision is keyed by (kind, pair, week, recipient); the ledger's
unique constraint on that key is what makes every notice go out once, across restarts, re-runs
and replicas, so deciding the same thing again on every pass is harmless and intended.

- **nudge**: a settled week that counts as missed (``cancelled``, ``declined``, ``missed``),
  to the manager and the rep. Only weeks of the last ``window_weeks``: a ledger that comes back
  after a long outage does not flood people with news of old weeks.
- **escalation**: ``escalate_after`` missed weeks in a row, or ``window_misses`` missed among
  the last ``window_weeks`` settled weeks that are not ``close_week``/``time_off`` (those are
  skipped over: they neither count nor break a streak), to the skip-level, copying the manager.
  Keyed by the first week of the current streak, so one streak escalates once and a new streak
  after a 1:1 that took place may escalate again.
- **digest**: once a week, to each manager who has a skip-level, about the week just ended.
- **prep**: the rep is asked to prepare the agenda of a session, with its link, once per pair
  and week (``decide_prep``; the pass decides it when the agenda is written). A make-up's
  agenda in a week whose prep notice went out already gets none: the key is (kind, pair, week),
  and the make-up's own invitation carries its link.

Exports: Decision, decide_pair, decide_digest, decide_prep, streak_start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.adherence import missed_streak
from scheduler.domain import ABSENT_STATUSES, MISSED_STATUSES, LedgerStatus, week_after
from scheduler.domain.settings import Escalation

__all__ = [
    "Decision",
    "decide_digest",
    "decide_pair",
    "decide_prep",
    "settled_weeks",
    "streak_start",
]


@dataclass(frozen=True, slots=True)
class Decision:
    """One notice to send: the ledger key (kind, pair, week) and who gets it."""

    kind: str  # "nudge", "escalation", "digest", "prep", "series_recreated"
    pair_key: str  # "<manager>/<rep>"; a digest is about all of a manager's pairs: "<manager>/"
    week: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    why: str = ""
    #: prep: the agenda's address, the open items it lists and when the session starts
    link: str = ""
    items: tuple[str, ...] = ()
    at: datetime | None = None


def settled_weeks(statuses: Mapping[str, str], current: str) -> list[tuple[str, str]]:
    """(week, status) of the weeks up to ``current`` whose status is settled, oldest first;
    ``statuses`` is {week: status}."""
    return [
        (week, status)
        for week, status in sorted(statuses.items())
        if week <= current and status != LedgerStatus.UPCOMING.value
    ]


def streak_start(settled: Sequence[tuple[str, str]]) -> str | None:
    """The first week of the missed streak that ``settled`` ends with, or None when the last
    settled week that counts was not missed. Absent weeks are skipped over."""
    start: str | None = None
    for week, status in reversed(settled):
        if status in ABSENT_STATUSES:
            continue
        if status in MISSED_STATUSES:
            start = week
            continue
        break
    return start


def decide_pair(
    pair_key: str,
    manager: str,
    rep: str,
    skip_level: str | None,
    statuses: Mapping[str, str],
    rules: Escalation,
    current: str,
) -> list[Decision]:
    """Nudges and the escalation a pair's weeks call for, as of ``current`` (an ISO week);
    ``statuses`` is the pair's {week: status}."""
    settled = settled_weeks(statuses, current)
    decisions: list[Decision] = []
    oldest_news = week_after(current, -rules.window_weeks)
    for week, status in settled:
        if status in MISSED_STATUSES and week >= oldest_news:
            decisions.append(Decision("nudge", pair_key, week, (manager, rep), why=status))
    if skip_level is None:
        return decisions
    ordered = [status for _, status in settled]
    streak = missed_streak(ordered)
    counted = [status for status in ordered if status not in ABSENT_STATUSES]
    misses = sum(1 for status in counted[-rules.window_weeks :] if status in MISSED_STATUSES)
    start = streak_start(settled)
    if start is None:
        return decisions
    if streak >= rules.escalate_after:
        why = f"{streak} missed 1:1s in a row"
    elif misses >= rules.window_misses:
        why = f"{misses} of the last {min(len(counted), rules.window_weeks)} 1:1s missed"
    else:
        return decisions
    if start >= oldest_news:
        decisions.append(Decision("escalation", pair_key, start, (skip_level,), (manager,), why))
    return decisions


def decide_digest(
    manager: str,
    skip_level: str | None,
    pairs: Mapping[str, Mapping[str, str]],
    current: str,
) -> Decision | None:
    """The weekly digest for ``manager`` about the week before ``current``, if they have a
    skip-level and any of their pairs (``pairs``: {pair: {week: status}}) has a settled week
    in the last 12 weeks."""
    if skip_level is None:
        return None
    last_week = week_after(current, -1)
    since = week_after(current, -12)
    for statuses in pairs.values():
        if any(since <= week <= last_week for week, _ in settled_weeks(statuses, last_week)):
            return Decision("digest", f"{manager}/", last_week, (manager,), why="weekly digest")
    return None


def decide_prep(
    pair_key: str, rep: str, week: str, link: str, start: datetime, items: Sequence[str]
) -> Decision:
    """Ask ``rep`` to prepare the agenda at ``link`` of the session starting at ``start``."""
    return Decision(
        "prep",
        pair_key,
        week,
        (rep,),
        why="agenda written",
        link=link,
        items=tuple(items),
        at=start,
    )
