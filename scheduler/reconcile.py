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

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.domain import (
    LedgerStatus,
    Pair,
    Person,
    PlanStatus,
    Slot,
    slot_day,
    slot_week,
    wall_clock,
    week_after,
)
from scheduler.domain.records import MakeupRecord, OccurrenceRecord, SeriesRecord
from scheduler.domain.series import (
    Attachment,
    InstanceOverride,
    ObservedInstance,
    ObservedSeries,
    SeriesSpec,
    utc,
)
from scheduler.domain.settings import Org
from scheduler.planner import Known, PlannedOccurrence, describe_slot
from scheduler.rules import OrgCalendar

__all__ = [
    "Baseline",
    "SlotChoice",
    "WeekChange",
    "adoptable",
    "adopted_history",
    "anchor_pair",
    "at_rule",
    "close_reasons_ahead",
    "close_weeks_ahead",
    "effective_pair",
    "expected_instance",
    "instance_week",
    "known_weeks",
    "mark_missing",
    "merge_plan",
    "observe_pair",
    "org_slot_signature",
    "record_observations",
    "rule_instance",
    "series_edit",
    "series_spec",
    "settle",
    "status_of",
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
    """Where the series' rule puts the instance of org week ``week`` (its RECURRENCE-ID)."""
    return _rule_instance(anchor.weekday, anchor.week_shift, anchor.at_time, anchor.timezone, week)


# A pass asks for each week of each series several times (its spec, links, baseline, the
# weeks a copy shows), and most series share a slot; the answers are immutable.
@lru_cache(maxsize=1 << 15)
def _rule_instance(weekday: int, week_shift: int, at: time, timezone: str, week: str) -> datetime:
    return wall_clock(slot_day(week, weekday, week_shift), at, ZoneInfo(timezone))


def anchor_pair(org: Org, anchor: SeriesRecord) -> Pair:
    """The pair of a series record: its people from the org file, or (a pair that left it)
    bare ones named by the ledger, on the series' slot, in the org's weeks."""
    manager_email, _, rep_email = anchor.pair_key.partition("/")
    manager = org.people.get(manager_email) or Person(manager_email, manager_email, anchor.timezone)
    rep = org.people.get(rep_email) or Person(rep_email, rep_email, anchor.timezone)
    return Pair(
        manager,
        rep,
        Slot(anchor.weekday, anchor.at_time),
        anchor.duration,
        org_timezone=org.timezone,
    )


def instance_week(anchor: SeriesRecord, rid: datetime) -> str:
    """The org week of the series' instance whose RECURRENCE-ID is ``rid``."""
    return slot_week(rid.astimezone(ZoneInfo(anchor.timezone)).date(), anchor.week_shift)


# --------------------------------------------------------------------------- 0. the series itself


@dataclass(frozen=True, slots=True)
class SlotChoice:
    """The slot people gave a pair's whole series, and an adopted event's earlier history.

    Stored as JSON in the ledger (``SeriesRecord.person_slot``). ``org_slot`` is the org
    file's slot for the pair when people chose theirs: while the org file still says that, the
    people's slot wins; once an admin edits the pair's slot in the org file, the newer word
    (the admin's) wins. ``prior_*`` are an adopted event's (or a lost ledger's series') EXDATEs
    and overrides from before the product's first week, kept so adopting or rebuilding loses
    no history on the calendar: each override as it was, people's answers, its description
    and its agenda included.
    """

    weekday: int
    at: time
    duration: timedelta
    by: str
    org_slot: str
    note: str
    prior_exdates: tuple[datetime, ...] = ()
    prior_overrides: tuple[InstanceOverride, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "weekday": self.weekday,
                "at": self.at.strftime("%H:%M"),
                "minutes": int(self.duration.total_seconds() // 60),
                "by": self.by,
                "org_slot": self.org_slot,
                "note": self.note,
                "prior_exdates": [utc(m).isoformat() for m in self.prior_exdates],
                "prior_overrides": [_override_json(o) for o in self.prior_overrides],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> SlotChoice | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(
            weekday=int(data["weekday"]),
            at=time.fromisoformat(data["at"]),
            duration=timedelta(minutes=int(data["minutes"])),
            by=str(data["by"]),
            org_slot=str(data["org_slot"]),
            note=str(data.get("note", "")),
            prior_exdates=tuple(datetime.fromisoformat(m) for m in data.get("prior_exdates", [])),
            prior_overrides=tuple(_override_of(o) for o in data.get("prior_overrides", [])),
        )


def _override_json(override: InstanceOverride) -> list[object]:
    """``[rid, start, end]`` (UTC), then what else the instance held, only when it held any
    (so a ledger written before these were kept reads and writes the same JSON)."""
    found: list[object] = [
        utc(m).isoformat() for m in (override.recurrence_id, override.start, override.end)
    ]
    extra: dict[str, object] = {}
    if override.description:
        extra["description"] = override.description
    if override.partstats:
        extra["partstats"] = [list(answer) for answer in override.partstats]
    if override.attachment is not None:
        extra["attachment"] = [override.attachment.url, override.attachment.title]
    if extra:
        found.append(extra)
    return found


def _override_of(item: Sequence[object]) -> InstanceOverride:
    rid, start, end = (datetime.fromisoformat(str(m)) for m in item[:3])
    extra = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
    attachment = extra.get("attachment")
    return InstanceOverride(
        recurrence_id=rid,
        start=start,
        end=end,
        description=str(extra.get("description", "")),
        partstats=tuple((str(who), str(answer)) for who, answer in extra.get("partstats", [])),
        attachment=Attachment(str(attachment[0]), str(attachment[1])) if attachment else None,
    )


def org_slot_signature(pair: Pair) -> str:
    """The org file's slot of ``pair`` as a short stable text (weekday, time, minutes)."""
    minutes = int(pair.duration.total_seconds() // 60)
    return f"{pair.slot.weekday} {pair.slot.at:%H:%M} {minutes}"


def effective_pair(pair: Pair, choice: SlotChoice | None) -> Pair:
    """``pair`` with the slot people chose, while the org file still says what it said then."""
    if choice is None or choice.org_slot != org_slot_signature(pair):
        return pair
    return replace(pair, slot=Slot(choice.weekday, choice.at), duration=choice.duration)


def series_edit(
    anchor: SeriesRecord, copy: ObservedSeries, written: Sequence[Baseline | None] = (None,)
) -> tuple[int, time, timedelta] | None:
    """The (weekday, time, duration) a person gave the whole series in ``copy``, when it
    differs from what the product wrote (the master's DTSTART or length was edited).

    ``written``: what the copy may hold from the product (see ``observe_pair``)."""
    if not copy.weekly:
        return None
    found: tuple[int, time, timedelta] | None = None
    for baseline in written:
        slot = (
            (anchor.weekday, anchor.at_time, anchor.duration, anchor.timezone)
            if baseline is None
            else (baseline.weekday, baseline.at_time, baseline.duration, baseline.timezone)
        )
        local = copy.dtstart.astimezone(ZoneInfo(slot[3]))
        seen = (local.weekday(), local.time().replace(second=0, microsecond=0), copy.duration)
        if seen == slot[:3]:
            return None
        found = found or seen
    return found


def adoptable(
    pair: Pair, candidates: Iterable[ObservedSeries], now: datetime
) -> ObservedSeries | None:
    """The weekly event on the organizer's calendar whose people are exactly the pair."""
    people = {pair.manager.email.lower(), pair.rep.email.lower()}
    for candidate in sorted(candidates, key=lambda c: (utc(c.dtstart), c.uid)):
        who = set(candidate.attendees) | ({candidate.organizer} if candidate.organizer else set())
        if who == people and (candidate.until is None or candidate.until > now):
            return candidate
    return None


def adopted_history(
    candidate: ObservedSeries, before: datetime
) -> tuple[tuple[datetime, ...], tuple[InstanceOverride, ...]]:
    """An adopted event's (or a lost ledger's series') EXDATEs and overrides from before
    ``before``, each override as it was: a week a person declined stays declined, a week's
    agenda stays linked."""
    exdates = tuple(sorted(m for m in candidate.exdates if m < utc(before)))
    overrides = tuple(
        _kept(rid, item)
        for rid, item in sorted(candidate.overrides.items())
        if rid < utc(before) and not item.cancelled
    )
    cancelled = tuple(
        rid for rid, item in candidate.overrides.items() if rid < utc(before) and item.cancelled
    )
    return tuple(sorted({*exdates, *cancelled})), overrides


def _kept(rid: datetime, item: ObservedInstance) -> InstanceOverride:
    attachment: Attachment | None = None
    if item.attachments:
        try:
            attachment = Attachment(item.attachments[0])
        except ValueError:
            attachment = None  # not an address the product could write back: left out
    return InstanceOverride(
        recurrence_id=rid,
        start=utc(item.start),
        end=utc(item.end),
        description=item.description,
        partstats=tuple(sorted(item.partstats.items())),
        attachment=attachment,
    )


# --------------------------------------------------------------------------- 1. observe


@dataclass(frozen=True, slots=True)
class Baseline:
    """What one copy of a series held when the product last wrote it there: the rule's slot
    and each week's instance as (start, end, cancelled).

    Kept per copy in the ledger (``CopyRecord.baseline``), so a copy that a failed or
    unfinished write left at an older version is compared with what it really holds, not with
    a plan that never reached it: whatever differs from it is people's doing.
    """

    weekday: int
    at_time: time
    timezone: str
    duration: timedelta
    weeks: Mapping[str, tuple[datetime, datetime, bool]]
    week_shift: int = 0

    @classmethod
    def of(cls, anchor: SeriesRecord, weeks: Mapping[str, OccurrenceRecord]) -> Baseline:
        """The baseline of writing ``anchor`` with ``weeks`` (what ``series_spec`` writes):
        the weeks not at the rule (``at_rule``); ``instance`` gives the others as the rule
        does. The same whether a pass read the pair's settled weeks whole or only those its
        series shows (``scheduler.engine.series.shown_weeks``), and it no longer grows by a week a
        week (issue 17)."""
        return cls(
            anchor.weekday,
            anchor.at_time,
            anchor.timezone,
            anchor.duration,
            {
                week: _expected(record)
                for week, record in weeks.items()
                if not at_rule(anchor, week, record)
            },
            anchor.week_shift,
        )

    def instance(self, week: str) -> tuple[datetime, datetime, bool]:
        """The week as this copy held it; a week it did not list is at the rule's time."""
        found = self.weeks.get(week)
        if found is not None:
            return found
        start = self.rule_instance(week)
        return start, start + self.duration, False

    def rule_instance(self, week: str) -> datetime:
        day = slot_day(week, self.weekday, self.week_shift)
        return wall_clock(day, self.at_time, ZoneInfo(self.timezone))

    def to_json(self) -> str:
        # ``week_shift`` only when there is one: the baselines of every other series keep
        # the text they were stored with.
        shift = {"week_shift": self.week_shift} if self.week_shift else {}
        return json.dumps(
            {
                **shift,
                "weekday": self.weekday,
                "at": self.at_time.strftime("%H:%M"),
                "timezone": self.timezone,
                "minutes": int(self.duration.total_seconds() // 60),
                "weeks": {
                    week: [start.isoformat(), end.isoformat(), cancelled]
                    for week, (start, end, cancelled) in sorted(self.weeks.items())
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Baseline:
        data = json.loads(text)
        return cls(
            weekday=int(data["weekday"]),
            at_time=time.fromisoformat(data["at"]),
            timezone=str(data["timezone"]),
            duration=timedelta(minutes=int(data["minutes"])),
            weeks={
                week: (datetime.fromisoformat(start), datetime.fromisoformat(end), bool(gone))
                for week, (start, end, gone) in data["weeks"].items()
            },
            week_shift=int(data.get("week_shift", 0)),
        )


def observe_pair(
    pair: Pair,
    anchor: SeriesRecord,
    weeks: Mapping[str, OccurrenceRecord],
    copies: Mapping[str, ObservedSeries | None],
    names: Mapping[str, str],
    written: Mapping[str, Sequence[Baseline | None]] | None = None,
) -> dict[str, WeekChange]:
    """People's changes per week, comparing each copy with what the product wrote there.

    ``copies`` maps the owner's email (manager, rep) to their copy, or None when missing (a
    missing copy is not a change here: deleted series are the next issue's business). The
    organizer's copy rules time and cancellation, but a move or cancel in either copy counts;
    each copy rules only its owner's PARTSTAT. When both copies say something, the
    organizer's copy wins.

    ``written`` maps an owner to what their copy may hold from the product: ``None`` for what
    the ledger's weeks describe (the product's last write reached the copy), a ``Baseline`` for
    an earlier write that is still there; with several (a write that stopped halfway), a week
    is people's doing only when it differs from all of them. Default: the ledger's weeks.
    """
    changes: dict[str, WeekChange] = {}
    # Organizer last, so its word overwrites the attendee's.
    for owner in (pair.rep.email, pair.manager.email):
        copy = copies.get(owner)
        if copy is None or not copy.weekly:
            continue
        alternatives = (written or {}).get(owner, (None,))
        for week, record in weeks.items():
            seen: WeekChange | None = None
            for baseline in alternatives:
                seen = _observe_week(copy, anchor, week, record, owner, names, baseline)
                if seen is None:
                    break
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
    baseline: Baseline | None = None,
) -> WeekChange | None:
    who = names.get(owner, owner)
    if baseline is None:
        rid = utc(rule_instance(anchor, week))
        expected_start, expected_end, expected_cancelled = _expected(record)
    else:
        rid = utc(baseline.rule_instance(week))
        expected_start, expected_end, expected_cancelled = baseline.instance(week)
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


def expected_instance(record: OccurrenceRecord) -> tuple[datetime, datetime, bool]:
    """(start, end, cancelled) of the week as the product last wrote it (or will write it)."""
    return _expected(record)


def at_rule(anchor: SeriesRecord, week: str, record: OccurrenceRecord) -> bool:
    """Whether the series holds ``week`` as its rule makes it: not skipped or cancelled, at
    the rule's start, as long as the rule's meeting (``series_spec`` writes no override or
    EXDATE for it, and ``Baseline.instance`` gives it without listing it). Such a week adds
    nothing to a series but its agenda link and people's answers."""
    start, end, cancelled = _expected(record)
    if cancelled:
        return False
    rid = rule_instance(anchor, week)
    return (
        utc(start) == utc(rid)
        and end - start == anchor.duration
        and utc(end) == utc(rid + anchor.duration)
    )


def _expected(record: OccurrenceRecord) -> tuple[datetime, datetime, bool]:
    """(start, end, cancelled) of the week as the product last wrote it."""
    if record.change == "missing":
        return record.planned_start, record.planned_end, True
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
            changed_by=change.who,
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
                status=(
                    LedgerStatus.CLOSE_WEEK.value
                    if item.status is PlanStatus.CLOSE_WEEK
                    else LedgerStatus.TIME_OFF.value
                    if item.status is PlanStatus.TIME_OFF
                    else LedgerStatus.UPCOMING.value
                ),
                reason=item.reason,
                agenda=before.agenda if before is not None else None,
            )
        )
    return result


def settle(
    weeks: Mapping[str, OccurrenceRecord],
    now: datetime,
    makeups: Mapping[str, MakeupRecord] | None = None,
) -> list[OccurrenceRecord]:
    """Records whose report status changes because time passed (upcoming → held, …)."""
    result = []
    for record in weeks.values():
        status = status_of(record, now, (makeups or {}).get(record.week))
        if status != record.status:
            result.append(replace(record, status=status))
    return result


#: Make-up states under which the make-up takes place (booked by the product or by people).
MAKEUP_HAPPENS = frozenset({"booked", "people"})


def status_of(record: OccurrenceRecord, now: datetime, makeup: MakeupRecord | None = None) -> str:
    """The report status of one week (spec "Detecting what people did")."""
    if record.away or record.plan_status == PlanStatus.TIME_OFF.value:
        return LedgerStatus.TIME_OFF.value
    if record.plan_status == PlanStatus.CLOSE_WEEK.value:
        return LedgerStatus.CLOSE_WEEK.value
    if (
        record.change in ("cancelled", "declined")
        and makeup is not None
        and makeup.state in MAKEUP_HAPPENS
    ):
        return LedgerStatus.UPCOMING.value if makeup.end > now else LedgerStatus.MADE_UP.value
    end = record.actual_end or record.planned_end
    if record.change == "missing":
        # The series was gone when this week's 1:1 was due: it cannot have taken place.
        return LedgerStatus.MISSED.value if end <= now else LedgerStatus.UPCOMING.value
    if end > now:
        return LedgerStatus.UPCOMING.value
    if record.change == "moved":
        return LedgerStatus.MOVED.value
    if record.change == "cancelled":
        return LedgerStatus.CANCELLED.value
    if record.change == "declined":
        return LedgerStatus.DECLINED.value
    return LedgerStatus.HELD.value


def mark_missing(
    weeks: Mapping[str, OccurrenceRecord], since: datetime, now: datetime
) -> list[OccurrenceRecord]:
    """Weeks whose 1:1 fell due in (since, now] while the series was not on the calendar.

    Skipped and cancelled weeks are left alone: nothing was due. Each becomes ``missing``:
    written as an EXDATE when the series is recreated (no meeting is claimed for a time the
    calendar did not hold one) and settled as ``missed``.
    """
    result = []
    for record in weeks.values():
        start = record.actual_start or record.planned_start
        _, _, cancelled = _expected(record)
        if cancelled or record.change == "missing" or not since < start <= now:
            continue
        result.append(
            replace(
                record,
                change="missing",
                reason="the series was not on the calendar when this 1:1 was due",
            )
        )
    return result


# --------------------------------------------------------------------------- 5. series

#: How far past the ledger's last week close weeks are written as EXDATEs: with the horizon
#: before it, at least the next 12 months.
CLOSE_WEEKS_AHEAD = 53


def close_weeks_ahead(
    anchor: SeriesRecord,
    weeks: Iterable[str],
    calendar: OrgCalendar,
    org_zone: ZoneInfo,
    policy: str,
) -> tuple[datetime, ...]:
    """The rule instances (RECURRENCE-IDs) of the ``CLOSE_WEEKS_AHEAD`` weeks after the last
    of ``weeks`` (the ledger's) that fall in the close window or a blackout, under policy
    ``skip``: written as EXDATEs, so no calendar or feed shows a 1:1 in a future close week.

    Counted from the ledger's last week, not from a clock, so the same ledger gives the same
    series (and the feed, built without a pass, the same EXDATEs as the calendars). Under
    ``shift`` a close week's 1:1 moves within its week once it is in the horizon: nothing is
    written ahead.
    """
    return tuple(rid for rid, _ in close_reasons_ahead(anchor, weeks, calendar, org_zone, policy))


def close_reasons_ahead(
    anchor: SeriesRecord,
    weeks: Iterable[str],
    calendar: OrgCalendar,
    org_zone: ZoneInfo,
    policy: str,
) -> tuple[tuple[datetime, str], ...]:
    """``close_weeks_ahead``, each with why its week has no 1:1, in the planner's words
    ("no 1:1 this week: month-end close"): what the series' description says of it."""
    last_known = max(weeks, default=None)
    if policy != "skip" or last_known is None:
        return ()
    # The same for every series on one slot after the same week: worked out once per org
    # calendar (a pass asked for it again for each pair).
    slot = (anchor.weekday, anchor.at_time, anchor.timezone, anchor.duration, anchor.week_shift)
    closed = calendar.derived(
        ("close_weeks_ahead", last_known, slot, org_zone.key),
        lambda: _close_rule_instances(anchor, last_known, calendar, org_zone),
    )
    return tuple(
        (rid, why)
        for rid, why in closed
        if rid >= anchor.dtstart and (anchor.until is None or rid <= anchor.until)
    )


def _close_rule_instances(
    anchor: SeriesRecord, last_known: str, calendar: OrgCalendar, org_zone: ZoneInfo
) -> tuple[tuple[datetime, str], ...]:
    """The rule instances of the ``CLOSE_WEEKS_AHEAD`` weeks after ``last_known`` that touch
    a close or blackout day (whatever the series' start and end), each with the reason of
    its first such day (as the planner gives it for a week in the horizon)."""
    found: list[tuple[datetime, str]] = []
    week = week_after(last_known)
    for _ in range(CLOSE_WEEKS_AHEAD):
        rid = rule_instance(anchor, week)
        first = utc(rid).astimezone(org_zone).date()
        last = (utc(rid) + anchor.duration - timedelta(microseconds=1)).astimezone(org_zone)
        days = [first + timedelta(days=n) for n in range((last.date() - first).days + 1)]
        close = next((why for day in days if (why := calendar.close_reason(day))), None)
        if close is not None:
            found.append((rid, f"no 1:1 this week: {close}"))
        week = week_after(week)
    return tuple(found)


def series_spec(
    pair: Pair,
    anchor: SeriesRecord,
    weeks: Mapping[str, OccurrenceRecord],
    *,
    summary: str,
    description: str,
    partstats: Mapping[str, str],
    override_partstats: Mapping[datetime, Mapping[str, str]],
    choice: SlotChoice | None = None,
    ahead: Sequence[datetime] = (),
) -> SeriesSpec:
    """The series the ledger describes: the rule, EXDATEs for skipped or cancelled weeks and
    an override for every week not at the rule's time. ``override_partstats`` (by UTC
    recurrence id) carries people's per-instance answers into the rewritten file. ``ahead``
    (``close_weeks_ahead``) are the close weeks past the ledger's, excluded too.
    """
    zone = ZoneInfo(anchor.timezone)
    exdates: list[datetime] = [utc(moment).astimezone(zone) for moment in ahead]
    overrides: list[InstanceOverride] = []
    if choice is not None:
        # An adopted event's own history before the product's first week, as it was, with
        # each person's answer as their own copy gives it (a rebuilt ledger's history: a rep's
        # decline lives in the rep's copy only).
        first = min((rule_instance(anchor, week) for week in weeks), default=None)

        def earlier(moment: datetime) -> bool:
            return first is None or utc(moment) < utc(first)

        skipped = {utc(moment) for moment in choice.prior_exdates if earlier(moment)}
        exdates.extend(moment.astimezone(zone) for moment in sorted(skipped))
        kept_at: set[datetime] = set()
        for kept in choice.prior_overrides:
            if earlier(kept.recurrence_id):
                key = utc(kept.recurrence_id)
                kept_at.add(key)
                merged = {**dict(kept.partstats), **override_partstats.get(key, {})}
                overrides.append(
                    replace(
                        kept,
                        recurrence_id=key.astimezone(zone),
                        start=kept.start.astimezone(zone),
                        end=kept.end.astimezone(zone),
                        partstats=tuple(sorted(merged.items())),
                    )
                )
        for key, given in sorted(override_partstats.items()):
            if key in kept_at or key in skipped or not earlier(key) or key < utc(anchor.dtstart):
                continue
            overrides.append(
                InstanceOverride(
                    recurrence_id=key.astimezone(zone),
                    start=key.astimezone(zone),
                    end=(key + anchor.duration).astimezone(zone),
                    partstats=tuple(sorted(given.items())),
                )
            )
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
