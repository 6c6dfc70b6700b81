"""One reconcile pass: observe, record, plan, apply. The only module that wires I/O to the core.

I/O: reads every person's calendar through its provider, reads and writes the ledger, writes
product-owned calendar objects. Order of durable effects, so a pass killed anywhere leaves
calendars and ledger consistent and the next pass finishes the job:

1. everything is decided in memory from one read of calendars and ledger;
2. the ledger is committed in one transaction, each changed series marked ``pending``;
3. calendar objects are written, each atomically and idempotently;
4. ``pending`` is cleared. A rerun after a kill between 2 and 4 sees ``pending`` and knows a
   copy still holding the previous fingerprint is the product's own, not a person's edit.

Exports: run_pass, PassResult, Change, make_provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.domain import (
    BusyCalendar,
    Interval,
    Pair,
    Person,
    PlanStatus,
    Slot,
    iso_week,
    week_monday,
)
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec, utc
from scheduler.errors import CalendarError
from scheduler.orgfile import CalendarConfig, Org
from scheduler.planner import Known, PlannedOccurrence, PlannerSettings, plan, weeks_from
from scheduler.providers.base import CalendarProvider
from scheduler.providers.vdir import VdirProvider
from scheduler.reconcile import (
    known_weeks,
    merge_plan,
    observe_pair,
    record_observations,
    rule_instance,
    series_spec,
    settle,
)
from scheduler.store.ledger import Ledger, OccurrenceRecord, SeriesRecord

__all__ = ["Change", "PassResult", "make_provider", "run_pass"]

log = logging.getLogger(__name__)

#: A pass that would end more than this share of the product's series stops (spec).
MASS_END_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Change:
    """One write a pass makes (or would make) to one calendar."""

    action: str  # "create_series", "update_series", "end_series"
    manager: str
    rep: str
    calendar: str  # the email of the calendar's owner
    copy: str  # "organizer" or "attendee"
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "action": self.action,
            "manager": self.manager,
            "rep": self.rep,
            "calendar": self.calendar,
            "copy": self.copy,
            "reason": self.reason,
        }


@dataclass
class PassResult:
    now: datetime
    planned: list[PlannedOccurrence] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)
    written: int = 0
    observed_changes: int = 0


def make_provider(config: CalendarConfig, person: Person) -> CalendarProvider:
    """The provider for one person's calendar configuration."""
    if config.provider == "vdir" and config.path is not None:
        # The embedded default needs no set-up: a missing folder is created (a folder that
        # vanished and comes back empty is caught by the "suddenly empty" safety stop).
        try:
            config.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CalendarError(
                f"{person.email}: cannot create the vdir folder {config.path}: {error.strerror}"
            ) from error
        return VdirProvider(config.path, person.zone)
    raise CalendarError(
        f"{person.email}: the {config.provider!r} calendar provider is not available in this "
        f'version of oneonone; use provider = "vdir"'
    )


@dataclass
class _PairWork:
    pair: Pair
    anchor: SeriesRecord
    records: dict[str, OccurrenceRecord]
    spec: SeriesSpec
    writes: list[tuple[Person, str]]  # (owner, copy) to write


def run_pass(
    org: Org,
    ledger: Ledger,
    now: datetime,
    *,
    apply: bool,
    force: bool = False,
    horizon_weeks: int | None = None,
) -> PassResult:
    """One pass. With ``apply=False`` it is the dry run behind ``oneonone plan``."""
    result = PassResult(now=now)
    weeks = weeks_from(now, org.zone, horizon_weeks or org.schedule.horizon_weeks)
    window_start = datetime.combine(week_monday(weeks[0]), datetime.min.time(), org.zone)
    window_end = datetime.combine(
        week_monday(weeks[-1]) + timedelta(days=7), datetime.min.time(), org.zone
    ) + timedelta(days=1)

    providers: dict[str, CalendarProvider] = {}
    reads: dict[str, CalendarRead] = {}
    for email, person in org.people.items():
        try:
            provider = make_provider(org.calendars[email], person)
            providers[email] = provider
            reads[email] = provider.read(person, window_start - timedelta(days=1), window_end)
        except CalendarError as error:
            result.problems.append(str(error))
            continue
        result.problems.extend(reads[email].problems)

    series = ledger.all_series()
    ledger_weeks = ledger.occurrences()
    names = {email: person.first_name for email, person in org.people.items()}

    # Safety: a calendar that holds our series but suddenly reads empty is not believed.
    untouchable: set[str] = set()
    for email, read in reads.items():
        holds = [s for s in series.values() if s.organizer == email and s.until is None]
        if holds and read.object_count == 0 and not force:
            untouchable.add(email)
            result.safety.append(
                f"{email}'s calendar ({providers[email].where}) reads as empty but should hold "
                f"{len(holds)} 1:1 series; nothing was changed on it (if it was really emptied, "
                "run `oneonone sync --force`)"
            )

    pairs = [
        pair
        for pair in org.pairs
        if pair.manager.email in reads
        and pair.rep.email in reads
        and pair.manager.email not in untouchable
        and pair.rep.email not in untouchable
    ]

    # 1-2. observe people's changes and record them.
    copies_by_pair: dict[str, dict[str, ObservedSeries | None]] = {}
    updated_weeks: dict[str, dict[str, OccurrenceRecord]] = {}
    for pair in pairs:
        records = dict(ledger_weeks.get(pair.key, {}))
        copies = {
            owner: reads[owner].owned.get(pair.uid)
            for owner in (pair.manager.email, pair.rep.email)
        }
        copies_by_pair[pair.key] = copies
        anchor = series.get(pair.key)
        if anchor is not None:
            trusted = {
                owner: copy
                for owner, copy in copies.items()
                if copy is not None
                and not (anchor.pending and copy.fingerprint in _lagging(anchor))
            }
            changes = observe_pair(pair, anchor, records, trusted, names)
            for record in record_observations(records, changes):
                records[record.week] = record
                result.observed_changes += 1
        updated_weeks[pair.key] = records

    # 3. plan.
    busy = {
        email: BusyCalendar((Interval(s, e) for s, e in read.busy), read.out_days)
        for email, read in reads.items()
    }
    known: dict[str, Mapping[str, Known]] = {
        key: known_weeks(records) for key, records in updated_weeks.items()
    }
    settings = PlannerSettings(
        horizon_weeks=len(weeks),
        freeze=timedelta(hours=org.schedule.freeze_hours),
        policy=org.calendar.close_window.policy,
    )
    result.planned = plan(pairs, org.calendar, org.zone, busy, known, now, settings, weeks)
    planned_by_pair: dict[str, list[PlannedOccurrence]] = {}
    for occurrence in result.planned:
        planned_by_pair.setdefault(occurrence.pair_key, []).append(occurrence)

    # 4-5. the ledger's new state and the series it describes.
    work: list[_PairWork] = []
    for pair in pairs:
        records = updated_weeks[pair.key]
        for record in merge_plan(records, planned_by_pair.get(pair.key, []), now):
            records[record.week] = record
        for record in settle(records, now):
            records[record.week] = record
        if not records:
            continue
        anchor = _anchor(pair, series.get(pair.key), records, now)
        item = _series_work(org, pair, anchor, records, copies_by_pair[pair.key], now, weeks)
        work.append(item)
        for owner, copy in item.writes:
            action = "create_series" if series.get(pair.key) is None else "update_series"
            result.changes.append(
                Change(
                    action,
                    pair.manager.email,
                    pair.rep.email,
                    owner.email,
                    copy,
                    _describe_write(copies_by_pair[pair.key].get(owner.email)),
                )
            )

    # Pairs that left the org file: their series end (UNTIL), never deleted.
    in_org = {pair.key for pair in org.pairs}
    ending = [s for key, s in series.items() if key not in in_org and s.until is None]
    active_series = sum(1 for s in series.values() if s.until is None)
    if ending and len(ending) > MASS_END_SHARE * active_series and not force:
        result.safety.append(
            f"this pass would end {len(ending)} of {active_series} 1:1 series (pairs no longer in "
            "the org file); nothing was ended. If that is intended, run `oneonone sync --force`"
        )
        ending = []
    end_work = [
        w
        for w in (_end_work(org, s, ledger_weeks.get(s.pair_key, {}), reads, now) for s in ending)
        if w is not None
    ]
    for item in end_work:
        for owner, copy in item.writes:
            result.changes.append(
                Change(
                    "end_series",
                    item.pair.manager.email,
                    item.pair.rep.email,
                    owner.email,
                    copy,
                    "the pair is no longer in the org file",
                )
            )

    if not apply:
        return result

    # 6. commit the ledger first (pending marks the series whose files may lag behind) ...
    with ledger.transaction():
        for pair in pairs:
            ledger.upsert_pair(pair.manager.email, pair.rep.email, pair.skip_level, now)
        for item in [*work, *end_work]:
            # Only what this pass changed: the ledger's history grows every week, a pass's
            # changes do not.
            before = ledger_weeks.get(item.pair.key, {})
            ledger.save_occurrences(
                (
                    record
                    for week, record in item.records.items()
                    if week not in before or not before[week].same_facts(record)
                ),
                now,
            )
            ledger.save_series(item.anchor)
        for item in end_work:
            ledger.end_pair(item.pair.key, now)
        ledger.set_state("last_pass", now.isoformat())

    # 7. ... then the calendars, then clear pending.
    done: list[str] = []
    for item in [*work, *end_work]:
        ok = True
        for owner, copy_name in item.writes:
            try:
                if providers[owner.email].write(item.spec, owner, dtstamp=item.anchor.dtstamp):
                    result.written += 1
            except CalendarError as error:
                ok = False
                result.problems.append(f"could not write the {copy_name} copy: {error}")
        if ok and item.anchor.pending:
            done.append(item.pair.key)
    if done:
        ledger.clear_pending(done)
    return result


# --------------------------------------------------------------------------- helpers


def _anchor(
    pair: Pair,
    existing: SeriesRecord | None,
    records: Mapping[str, OccurrenceRecord],
    now: datetime,
) -> SeriesRecord:
    """The series' rule: kept, or moved to the pair's (possibly edited) slot and duration."""
    first_week = min(records)
    template = SeriesRecord(
        pair_key=pair.key,
        uid=pair.uid,
        organizer=pair.manager.email,
        dtstart=now,  # replaced below
        weekday=pair.slot.weekday,
        at_time=pair.slot.at,
        timezone=pair.manager.timezone,
        duration=pair.duration,
        until=None,
        sequence=0,
        fingerprint="",
        dtstamp=now,
        created_at=now,
        updated_at=now,
    )
    if existing is None:
        return replace(template, dtstart=rule_instance(template, first_week))
    reshaped = replace(
        existing,
        weekday=pair.slot.weekday,
        at_time=pair.slot.at,
        timezone=pair.manager.timezone,
        duration=pair.duration,
        until=None,
    )
    return replace(reshaped, dtstart=rule_instance(reshaped, min(first_week, _week_of(existing))))


def _week_of(anchor: SeriesRecord) -> str:
    return iso_week(anchor.dtstart.astimezone(ZoneInfo(anchor.timezone)).date())


def _partstats(
    pair: Pair, copies: Mapping[str, ObservedSeries | None]
) -> tuple[dict[str, str], dict[datetime, dict[str, str]]]:
    """Each person's answers, each read from their own copy (spec: each copy rules its owner's
    PARTSTAT), falling back to the other copy, then to the defaults."""
    master = {pair.manager.email: "ACCEPTED", pair.rep.email: "NEEDS-ACTION"}
    per_instance: dict[datetime, dict[str, str]] = {}
    for owner in (pair.manager.email, pair.rep.email):
        other = pair.rep.email if owner == pair.manager.email else pair.manager.email
        for source in (copies.get(other), copies.get(owner)):  # own copy last: it wins
            if source is None:
                continue
            if owner in source.partstats:
                master[owner] = source.partstats[owner].upper()
            for rid, instance in source.overrides.items():
                if owner in instance.partstats and not instance.cancelled:
                    per_instance.setdefault(utc(rid), {})[owner] = instance.partstats[owner].upper()
    # An instance answer equal to the master's says nothing: drop it so files stay canonical.
    for rid, answers in list(per_instance.items()):
        kept = {who: what for who, what in answers.items() if master.get(who) != what}
        if kept:
            per_instance[rid] = kept
        else:
            del per_instance[rid]
    return master, per_instance


def _description(pair: Pair, records: Mapping[str, OccurrenceRecord], weeks: list[str]) -> str:
    lines = [
        f"Weekly 1:1 of {pair.manager.name} and {pair.rep.name}, kept on the calendar by "
        "oneonone. Move, cancel or decline a single week as you need: the product never undoes "
        "what a person did.",
    ]
    upcoming = set(weeks)
    skipped = [
        r
        for week, r in sorted(records.items())
        if week in upcoming
        and r.plan_status in (PlanStatus.CLOSE_WEEK.value, PlanStatus.TIME_OFF.value)
    ]
    if skipped:
        lines.append("")
        for record in skipped:
            day = record.regular_start.astimezone(pair.manager.zone)
            lines.append(f"{day:%a %d %b}: {record.reason}")
    return "\n".join(lines)


def _series_work(
    org: Org,
    pair: Pair,
    anchor: SeriesRecord,
    records: dict[str, OccurrenceRecord],
    copies: Mapping[str, ObservedSeries | None],
    now: datetime,
    weeks: list[str],
) -> _PairWork:
    master, per_instance = _partstats(pair, copies)
    spec = series_spec(
        pair,
        anchor,
        records,
        summary=org.title(pair),
        description=_description(pair, records, weeks),
        partstats=master,
        override_partstats=per_instance,
    )
    fingerprint = ical.fingerprint(spec)
    if fingerprint != anchor.fingerprint:
        anchor = replace(
            anchor,
            sequence=anchor.sequence + 1 if anchor.fingerprint else 0,
            previous_fingerprint=_superseded(anchor),
            fingerprint=fingerprint,
            pending=True,
            dtstamp=now,
            updated_at=now,
        )
    writes: list[tuple[Person, str]] = []
    for owner, copy_name in ((pair.manager, "organizer"), (pair.rep, "attendee")):
        copy = copies.get(owner.email)
        if copy is None or copy.fingerprint != fingerprint or copy.sequence != anchor.sequence:
            writes.append((owner, copy_name))
    return _PairWork(pair, anchor, records, replace(spec, sequence=anchor.sequence), writes)


def _end_work(
    org: Org,
    anchor: SeriesRecord,
    records: Mapping[str, OccurrenceRecord],
    reads: Mapping[str, CalendarRead],
    now: datetime,
) -> _PairWork | None:
    """End a removed pair's series at ``now`` on whichever copies are still reachable."""
    manager_email, _, rep_email = anchor.pair_key.partition("/")
    manager = org.people.get(manager_email) or Person(manager_email, manager_email, anchor.timezone)
    rep = org.people.get(rep_email) or Person(rep_email, rep_email, anchor.timezone)
    pair = Pair(manager, rep, Slot(anchor.weekday, anchor.at_time), anchor.duration)
    copies = {
        email: reads[email].owned.get(anchor.uid) if email in reads else None
        for email in (manager_email, rep_email)
    }
    ended = replace(anchor, until=now)
    kept = {week: r for week, r in records.items() if rule_instance(anchor, week) <= now}
    master, per_instance = _partstats(pair, copies)
    spec = series_spec(
        pair,
        ended,
        kept,
        summary=org.title(pair)
        if manager_email in org.people and rep_email in org.people
        else f"1:1 {manager.first_name} / {rep.first_name}",
        description="This 1:1 series has ended: the pair is no longer in the org file.",
        partstats=master,
        override_partstats=per_instance,
    )
    fingerprint = ical.fingerprint(spec)
    ended = replace(
        ended,
        sequence=anchor.sequence + 1,
        previous_fingerprint=_superseded(anchor),
        fingerprint=fingerprint,
        pending=True,
        dtstamp=now,
        updated_at=now,
    )
    writes = [
        (person, name)
        for person, name in ((manager, "organizer"), (rep, "attendee"))
        if person.email in reads
    ]
    return _PairWork(pair, ended, dict(records), replace(spec, sequence=ended.sequence), writes)


def _lagging(anchor: SeriesRecord) -> set[str]:
    """Fingerprints the product wrote (or meant to) before the current one, whose files may
    still be on calendars because a pass was killed before writing them."""
    return set((anchor.previous_fingerprint or "").split())


def _superseded(anchor: SeriesRecord) -> str | None:
    """``previous_fingerprint`` for the next version: the current one, plus the ones still
    lagging when the last version never reached every calendar (several killed passes)."""
    lagging = _lagging(anchor) if anchor.pending else set()
    if anchor.fingerprint:
        lagging.add(anchor.fingerprint)
    return " ".join(sorted(lagging)) or None


def _describe_write(copy: ObservedSeries | None) -> str:
    if copy is None:
        return "the series is not on this calendar yet"
    return "the plan changed"
