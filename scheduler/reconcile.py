"""Reconcile: from (what the ledger says, what the calendars show, the plan) to actions.

Pure: no I/O and no clock. The pass in ``scheduler.sync`` reads calendars and the ledger, calls
these functions, and only then writes. The steps, each a function here:

1. ``observe_pair``: compare each copy of a pair's series with what the ledger says the
   product wrote, week by week, and report what people did (moved, cancelled, declined).
2. ``record_observations``: fold those into the ledger's occurrences (people win).
3. ``known_weeks``: what the planner must keep.
4. ``merge_plan``: the planner's result into ledger records, past weeks settled to a status.
5. ``series_spec``: the series a pair's ledger describes, ready for a provider to write.

Exports: the functions above, WeekChange, rule_instance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import (
    LedgerStatus,
    Pair,
    PlanStatus,
    wall_clock,
    week_monday,
)
from scheduler.domain.series import InstanceOverride, ObservedSeries, SeriesSpec, utc
from scheduler.planner import Known, PlannedOccurrence, describe_slot
from scheduler.store.ledger import OccurrenceRecord, SeriesRecord

__all__ = [
    "WeekChange",
    "known_weeks",
    "merge_plan",
    "observe_pair",
    "record_observations",
    "rule_instance",
    "series_spec",
    "settle",
]

SKIPPED = frozenset({PlanStatus.CLOSE_WEEK.value, PlanStatus.TIME_OFF.value})


@dataclass(frozen=True, slots=True)
class WeekChange:
    """What a person did to one week's instance, as seen in one copy of the series."""

    week: str
    change: str  # "moved", "cancelled", "declined"
    start: datetime
    end: datetime
    who: str  # email of the copy's owner whose edit this is
    reason: str


def rule_instance(anchor: SeriesRecord, week: str) -> datetime:
    """Where the series' rule puts the instance of ``week`` (its RECURRENCE-ID)."""
    day = week_monday(week) + timedelta(days=anchor.weekday)
    return wall_clock(day, anchor.at_time, ZoneInfo(anchor.timezone))


# --------------------------------------------------------------------------- 1. observe


def observe_pair(
    pair: Pair,
    anchor: SeriesRecord,
    weeks: Mapping[str, OccurrenceRecord],
    copies: Mapping[str, ObservedSeries | None],
    names: Mapping[str, str],
) -> dict[str, WeekChange]:
    """People's changes per week, comparing each copy with what the ledger expects.

    ``copies`` maps the owner's email (manager, rep) to their copy, or None when missing (a
    missing copy is not a change here: deleted series are the next issue's business). The
    organizer's copy rules time and cancellation, but a move or cancel in either copy counts;
    each copy rules only its owner's PARTSTAT. When both copies say something, the
    organizer's copy wins.
    """
    changes: dict[str, WeekChange] = {}
    # Organizer last, so its word overwrites the attendee's.
    for owner in (pair.rep.email, pair.manager.email):
        copy = copies.get(owner)
        if copy is None or not copy.weekly:
            continue
        for week, record in weeks.items():
            seen = _observe_week(copy, anchor, week, record, owner, names)
            if seen is not None:
                previous = changes.get(week)
                if (
                    previous is None
                    or previous.change != "cancelled"
                    or owner == pair.manager.email
                ):
                    changes[week] = seen
    return changes


def _observe_week(
    copy: ObservedSeries,
    anchor: SeriesRecord,
    week: str,
    record: OccurrenceRecord,
    owner: str,
    names: Mapping[str, str],
) -> WeekChange | None:
    rid = utc(rule_instance(anchor, week))
    who = names.get(owner, owner)
    expected_start, expected_end, expected_cancelled = _expected(record)
    if expected_cancelled:
        return None  # a week already skipped or cancelled cannot be cancelled again
    instance = copy.overrides.get(rid)
    duration = copy.duration
    if (
        rid in copy.exdates
        or (instance is not None and instance.cancelled)
        or not _in_rule(copy, rid)
    ):
        return WeekChange(
            week, "cancelled", expected_start, expected_end, owner, f"{who} cancelled it"
        )
    if instance is not None:
        start, end, partstats = instance.start, instance.end, instance.partstats or copy.partstats
    else:
        start, end, partstats = rid, rid + duration, copy.partstats
    if utc(start) != utc(expected_start) or utc(end) != utc(expected_end):
        zone = expected_start.tzinfo if isinstance(expected_start.tzinfo, ZoneInfo) else None
        label = describe_slot(start, zone or ZoneInfo(anchor.timezone))
        return WeekChange(week, "moved", start, end, owner, f"{who} moved it to {label}")
    if partstats.get(owner, "").upper() == "DECLINED":
        return WeekChange(week, "declined", start, end, owner, f"{who} declined it")
    return None


def _in_rule(copy: ObservedSeries, rid: datetime) -> bool:
    return utc(copy.dtstart) <= rid and (copy.until is None or rid <= utc(copy.until))


def _expected(record: OccurrenceRecord) -> tuple[datetime, datetime, bool]:
    """(start, end, cancelled) of the week as the product last wrote it."""
    if record.people_changed:
        if record.change == "cancelled":
            return record.planned_start, record.planned_end, True
        start = record.actual_start or record.planned_start
        end = record.actual_end or record.planned_end
        return start, end, False
    return record.planned_start, record.planned_end, record.plan_status in SKIPPED


# --------------------------------------------------------------------------- 2. record


def record_observations(
    weeks: Mapping[str, OccurrenceRecord], changes: Mapping[str, WeekChange]
) -> list[OccurrenceRecord]:
    """Ledger records updated with people's changes (only those that changed)."""
    updated: list[OccurrenceRecord] = []
    for week, change in changes.items():
        record = weeks[week]
        new = replace(
            record,
            people_changed=True,
            change=change.change,
            actual_start=change.start if change.change != "cancelled" else None,
            actual_end=change.end if change.change != "cancelled" else None,
            plan_status=PlanStatus.PEOPLE_CHANGED.value,
            reason=change.reason,
        )
        if not new.same_facts(record):
            updated.append(new)
    return updated


# --------------------------------------------------------------------------- 3. known


def known_weeks(weeks: Mapping[str, OccurrenceRecord]) -> dict[str, Known]:
    """What the planner must respect, per week, from the ledger."""
    result: dict[str, Known] = {}
    for week, record in weeks.items():
        start = record.actual_start or record.planned_start
        end = record.actual_end or record.planned_end
        result[week] = Known(
            start=start,
            end=end,
            status=PlanStatus(record.plan_status),
            reason=record.reason,
            people_changed=record.people_changed,
            happens=not (record.people_changed and record.change == "cancelled"),
        )
    return result


# --------------------------------------------------------------------------- 4. merge


def merge_plan(
    weeks: Mapping[str, OccurrenceRecord], planned: Iterable[PlannedOccurrence], now: datetime
) -> list[OccurrenceRecord]:
    """Ledger records for the planned weeks; people's changes are kept as they are."""
    result: list[OccurrenceRecord] = []
    for item in planned:
        before = weeks.get(item.week)
        if before is not None and (
            before.people_changed or item.status in (PlanStatus.FROZEN, PlanStatus.PEOPLE_CHANGED)
        ):
            continue  # kept exactly as recorded
        result.append(
            OccurrenceRecord(
                pair_key=item.pair_key,
                week=item.week,
                regular_start=item.regular_start,
                planned_start=item.start,
                planned_end=item.end,
                plan_status=item.status.value,
                status=_status(item.status.value, "", item.end, now),
                reason=item.reason,
                agenda=before.agenda if before is not None else None,
            )
        )
    return result


def settle(weeks: Mapping[str, OccurrenceRecord], now: datetime) -> list[OccurrenceRecord]:
    """Records whose report status changes because time passed (upcoming → held, …)."""
    result = []
    for record in weeks.values():
        end = record.actual_end or record.planned_end
        status = _status(record.plan_status, record.change, end, now)
        if status != record.status:
            result.append(replace(record, status=status))
    return result


def _status(plan_status: str, change: str, end: datetime, now: datetime) -> str:
    if plan_status == PlanStatus.CLOSE_WEEK.value:
        return LedgerStatus.CLOSE_WEEK.value
    if plan_status == PlanStatus.TIME_OFF.value:
        return LedgerStatus.TIME_OFF.value
    if end > now:
        return LedgerStatus.UPCOMING.value
    if change == "moved":
        return LedgerStatus.MOVED.value
    if change == "cancelled":
        return LedgerStatus.CANCELLED.value
    if change == "declined":
        return LedgerStatus.DECLINED.value
    return LedgerStatus.HELD.value


# --------------------------------------------------------------------------- 5. series


def series_spec(
    pair: Pair,
    anchor: SeriesRecord,
    weeks: Mapping[str, OccurrenceRecord],
    *,
    summary: str,
    description: str,
    partstats: Mapping[str, str],
    override_partstats: Mapping[datetime, Mapping[str, str]],
) -> SeriesSpec:
    """The series the ledger describes: the rule, EXDATEs for skipped or cancelled weeks and
    an override for every week not at the rule's time. ``override_partstats`` (by UTC
    recurrence id) carries people's per-instance answers into the rewritten file.
    """
    zone = ZoneInfo(anchor.timezone)
    exdates: list[datetime] = []
    overrides: list[InstanceOverride] = []
    for week, record in sorted(weeks.items()):
        rid = rule_instance(anchor, week)
        if rid < anchor.dtstart or (anchor.until is not None and rid > anchor.until):
            continue
        start, end, cancelled = _expected(record)
        if cancelled:
            exdates.append(rid)
            continue
        answers = override_partstats.get(utc(rid), {})
        if utc(start) == utc(rid) and end - start == anchor.duration and not answers:
            continue
        overrides.append(
            InstanceOverride(
                recurrence_id=rid,
                start=start.astimezone(zone),
                end=end.astimezone(zone),
                description=record.reason,
                partstats=tuple(sorted(answers.items())),
            )
        )
    return SeriesSpec(
        uid=anchor.uid,
        pair_key=pair.key,
        summary=summary,
        description=description,
        organizer_email=pair.manager.email,
        organizer_name=pair.manager.name,
        attendee_email=pair.rep.email,
        attendee_name=pair.rep.name,
        dtstart=anchor.dtstart.astimezone(zone),
        duration=anchor.duration,
        until=anchor.until,
        exdates=tuple(exdates),
        overrides=tuple(overrides),
        partstats=tuple(sorted(partstats.items())),
        sequence=anchor.sequence,
    )
