"""What people did to each pair's series and make-ups, read against what the product wrote.

Pure: no I/O, no clock (``now`` is an argument). Works on one ``Snapshot``.

- ``observe_state``: a pair's series as the ledger and the calendars know it; when the ledger
  has lost the pair (an emptied or new ledger) but the organizer's calendar holds the pair's
  tagged series, the series and its weeks are rebuilt from that copy (people's moves and
  cancels as such, earlier history kept as it is on the calendar, SEQUENCE going on).
- ``observe_changes``: moves, cancels, declines, a deleted or moved series. Each copy is read
  against what the product last wrote *to that copy*: a copy at the version the product wrote
  holds nothing of people's; any other is compared with the write its stamp names (the current
  plan, or an earlier write a failed or killed pass left there), so a person's edit is never
  mistaken for the product's, even after a failed write.
- ``observe_makeups``: deleted, cancelled, declined and moved make-ups.

Exports: PairState, observe_state, observe_changes, observe_makeups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.agenda.plan import AgendaLink
from scheduler.domain import (
    WEEKDAY_LABELS,
    LedgerStatus,
    Pair,
    PlanStatus,
    iso_week,
    week_after,
    week_monday,
    week_shift,
)
from scheduler.domain.records import CopyRecord, MakeupRecord, OccurrenceRecord, SeriesRecord
from scheduler.domain.series import ObservedSeries, utc
from scheduler.domain.settings import Org
from scheduler.escalation import Decision
from scheduler.planner import describe_slot
from scheduler.providers.base import unfinished
from scheduler.reconcile import (
    Baseline,
    SlotChoice,
    WeekChange,
    adoptable,
    adopted_history,
    effective_pair,
    expected_instance,
    instance_week,
    mark_missing,
    observe_pair,
    org_slot_signature,
    record_observations,
    rule_instance,
    series_edit,
)

if TYPE_CHECKING:
    from scheduler.engine.snapshot import Snapshot

#: how far ahead people's edits of weeks the ledger has no record of yet are recorded
AHEAD = timedelta(weeks=53)

__all__ = ["PairState", "observe_changes", "observe_makeups", "observe_state"]


@dataclass
class PairState:
    """What the observation step learnt of one pair, before planning (changed in place by
    the steps of ``scheduler.engine.decide`` until the pass's plan is made)."""

    pair: Pair  # as in the org file
    effective: Pair  # with the slot people gave the series, if any
    anchor: SeriesRecord | None
    choice: SlotChoice | None
    uid: str
    copies: dict[str, ObservedSeries | None]
    records: dict[str, OccurrenceRecord]
    makeups: dict[str, MakeupRecord]
    adopting: ObservedSeries | None = None
    organizer_seen: bool = False
    #: the series rebuilt from the calendar (the ledger had lost it)
    rebuilt: bool = False
    #: owner -> the version of an unreadable object under the series' UID (a truncated file)
    damaged: dict[str, str] = field(default_factory=dict)
    #: owner -> the version of the event being adopted, in that person's calendar
    adopted_versions: dict[str, str | None] = field(default_factory=dict)
    #: (week, "series" | "makeup") -> the agenda to attach (set by the agenda step)
    agendas: dict[tuple[str, str], AgendaLink] = field(default_factory=dict)
    #: the first week of ``records`` when the pass read the pair over a window (its settled
    #: weeks before it were not read); ``None`` when ``records`` is the pair's whole history
    history_from: str | None = None
    #: a windowed pair's settled weeks before ``history_from`` whose status alone was read
    #: (``Snapshot.ledger_statuses``): what its notices count
    statuses: dict[str, str] = field(default_factory=dict)
    #: a windowed pair's series record after this pass when its digest held (``window_holds``):
    #: unchanged but for its ``window``, nothing to write
    unchanged: SeriesRecord | None = None
    #: the weeks before ``history_from`` when the pass needs them after all (it writes the
    #: series whole, or its notices reach back): read late, as the ledger has them, and never
    #: changed by the pass (``with_history``)
    settled: dict[str, OccurrenceRecord] = field(default_factory=dict)
    #: when ``settled`` holds, before this week, only the weeks the series shows (a write
    #: that needs no more, ``scheduler.engine.series.shown_weeks``): the first week whose
    #: status counts in the notices
    statuses_from: str | None = None

    def history(self) -> dict[str, OccurrenceRecord]:
        """Every week the pass knows of the pair: ``records`` and the ``settled`` before."""
        return {**self.settled, **self.records} if self.settled else self.records

    def all_statuses(self) -> dict[str, str]:
        """{week: status} of every week the pass knows of the pair: those read as
        ``statuses`` alone and those of ``history()`` (in no set order); from
        ``statuses_from`` on, when set."""
        found = dict(self.statuses)
        since = self.statuses_from
        found.update(
            (week, record.status)
            for week, record in self.history().items()
            if since is None or week >= since
        )
        return found


def observe_state(
    org: Org, pair: Pair, snapshot: Snapshot, now: datetime, problems: list[str]
) -> PairState:
    """The pair's series as the ledger and the calendars know it, and its slot."""
    reads = snapshot.reads
    anchor = snapshot.series.get(pair.key)
    records = dict(snapshot.ledger_weeks.get(pair.key, {}))
    makeups = dict(snapshot.ledger_makeups.get(pair.key, {}))
    choice = SlotChoice.from_json(anchor.person_slot) if anchor is not None else None
    rebuilt = False
    if anchor is None:
        found = _tagged_series(pair, reads[pair.manager.email].owned.values())
        if found is not None:
            anchor, choice, records = _rebuild(org, pair, found, snapshot.weeks, now)
            makeups = _rebuilt_makeups(pair, reads[pair.manager.email].owned.values(), now)
            rebuilt = True
    adopting: ObservedSeries | None = None
    if anchor is None:
        adopting = adoptable(pair, reads[pair.manager.email].weekly_candidates, now)
    if adopting is not None:
        start = adopting.dtstart.astimezone(pair.manager.zone)
        first = min(records, default=None)
        before = pair.regular_start(first) if first else now
        exdates, overrides = adopted_history(adopting, min(before, now))
        choice = SlotChoice(
            weekday=start.weekday(),
            at=start.time().replace(second=0, microsecond=0),
            duration=adopting.duration,
            by=adopting.organizer or pair.manager.email,
            org_slot=org_slot_signature(pair),
            note="",
            prior_exdates=exdates,
            prior_overrides=overrides,
        )
    uid = anchor.uid if anchor is not None else adopting.uid if adopting is not None else pair.uid
    copies: dict[str, ObservedSeries | None] = {}
    damaged: dict[str, str] = {}
    adopted_versions: dict[str, str | None] = {}
    for owner in (pair.manager.email, pair.rep.email):
        copy = reads[owner].owned.get(uid) if adopting is None else None
        if copy is not None and copy.pair_key not in (None, pair.key):
            # Another pair's tag under this pair's UID: a stray copy, never read as this
            # pair's series (and never allowed to move it).
            problems.append(
                f"{copy.href}: holds the UID of {pair.key}'s 1:1 but is tagged for "
                f"{copy.pair_key}; it was left alone and not read as either series."
            )
            copy = None
        copies[owner] = copy
        if copy is None and uid in reads[owner].damaged:
            damaged[owner] = reads[owner].damaged[uid]
        if adopting is not None:
            adopted_versions[owner] = next(
                (c.version for c in reads[owner].weekly_candidates if c.uid == uid), None
            )
    return PairState(
        pair=pair,
        effective=effective_pair(pair, choice),
        anchor=anchor,
        choice=choice,
        uid=uid,
        copies=copies,
        records=records,
        makeups=makeups,
        adopting=adopting,
        organizer_seen=copies[pair.manager.email] is not None,
        rebuilt=rebuilt,
        damaged=damaged,
        adopted_versions=adopted_versions,
        history_from=snapshot.record_line if pair.key in snapshot.windowed else None,
        statuses=dict(snapshot.ledger_statuses.get(pair.key, {})),
    )


def _tagged_series(pair: Pair, owned: Iterable[ObservedSeries]) -> ObservedSeries | None:
    """The pair's own tagged weekly series on the organizer's calendar (a lost ledger's)."""
    found = [
        copy
        for copy in owned
        if copy.pair_key == pair.key and copy.weekly and copy.makeup_week is None
    ]
    if not found:
        return None
    # The product's UID first (a stray copy under another UID never wins), then the oldest.
    found.sort(key=lambda copy: (copy.uid != pair.uid, utc(copy.dtstart), copy.uid))
    return found[0]


def _rebuild(
    org: Org, pair: Pair, copy: ObservedSeries, weeks: Sequence[str], now: datetime
) -> tuple[SeriesRecord, SlotChoice, dict[str, OccurrenceRecord]]:
    """A lost ledger's series and weeks, from the organizer's tagged copy.

    The rule's slot is the copy's; every EXDATE and override before last week stays on the
    calendar as it is (kept like an adopted event's history); from last week on, an override
    at another time is a person's move and an EXDATE or cancelled instance outside the close
    window a person's cancel, both kept ("people win"). Declines are read by the observation
    that follows, as on any pass. SEQUENCE goes on from the copy's, never back to 0.
    """
    zone = pair.manager.zone
    local = copy.dtstart.astimezone(zone)
    first_week = week_after(weeks[0], -1)
    since = datetime.combine(week_monday(first_week), datetime.min.time(), org.zone)
    exdates, overrides = adopted_history(copy, since)
    choice = SlotChoice(
        weekday=local.weekday(),
        at=local.time().replace(second=0, microsecond=0),
        duration=copy.duration,
        by=pair.manager.email,
        org_slot=org_slot_signature(pair),
        note="",
        prior_exdates=exdates,
        prior_overrides=overrides,
    )
    anchor = SeriesRecord(
        pair_key=pair.key,
        uid=copy.uid,
        organizer=pair.manager.email,
        dtstart=local,
        weekday=local.weekday(),
        at_time=choice.at,
        timezone=pair.manager.timezone,
        duration=copy.duration,
        until=None,
        sequence=copy.sequence,
        fingerprint=copy.fingerprint or "",
        dtstamp=now,
        created_at=now,
        updated_at=now,
        seen_at=now,
        person_slot=choice.to_json(),
        week_shift=week_shift(choice.weekday, choice.at, pair.manager.timezone, pair.org_timezone),
    )
    records: dict[str, OccurrenceRecord] = {}
    for week in [first_week, *weeks]:
        rid = rule_instance(anchor, week)
        if rid < anchor.dtstart:
            continue
        instance = copy.overrides.get(utc(rid))
        cancelled = utc(rid) in copy.exdates or (instance is not None and instance.cancelled)
        if cancelled:
            if org.calendar.close_reason(rid.astimezone(org.zone).date()) is not None:
                continue  # the product's own close-week EXDATE: the planner says it again
            records[week] = _recovered(pair, week, rid, anchor.duration, "cancelled", None, None)
        elif instance is not None and (
            utc(instance.start) != utc(rid) or instance.end - instance.start != anchor.duration
        ):
            records[week] = _recovered(
                pair, week, rid, anchor.duration, "moved", instance.start, instance.end
            )
    return anchor, choice, records


def _recovered(
    pair: Pair,
    week: str,
    rid: datetime,
    duration: timedelta,
    change: str,
    start: datetime | None,
    end: datetime | None,
) -> OccurrenceRecord:
    what = (
        f"moved to {describe_slot(start, pair.manager.zone)}" if start is not None else "cancelled"
    )
    return OccurrenceRecord(
        pair_key=pair.key,
        week=week,
        regular_start=rid,
        planned_start=rid,
        planned_end=rid + duration,
        plan_status=PlanStatus.PEOPLE_CHANGED.value,
        status="upcoming",
        reason=f"{what} on the calendar (recovered when the ledger was rebuilt)",
        people_changed=True,
        change=change,
        actual_start=start,
        actual_end=end,
    )


def _rebuilt_makeups(
    pair: Pair, owned: Iterable[ObservedSeries], now: datetime
) -> dict[str, MakeupRecord]:
    """The pair's tagged make-ups on the organizer's calendar, as booked by the product."""
    found: dict[str, MakeupRecord] = {}
    for copy in owned:
        if copy.pair_key != pair.key or copy.makeup_week is None:
            continue
        found[copy.makeup_week] = MakeupRecord(
            pair_key=pair.key,
            week=copy.makeup_week,
            uid=copy.uid,
            start=copy.dtstart,
            end=copy.dtstart + copy.duration,
            state="cancelled" if copy.cancelled else "booked",
            reason="make-up found on the calendar when the ledger was rebuilt",
            pending=False,
            fingerprint=copy.fingerprint or "",
            created_at=now,
            updated_at=now,
        )
    return found


def lagging(anchor: SeriesRecord) -> set[str]:
    """Fingerprints the product wrote (or meant to) before the current one, whose files may
    still be on calendars because a pass was killed before writing them."""
    return set((anchor.previous_fingerprint or "").split())


def untouched(copy: ObservedSeries, written: CopyRecord | None) -> bool:
    """Whether ``copy`` is exactly the product's last confirmed write to its calendar (same
    version): then it holds nothing of people's."""
    return written is not None and written.version is not None and written.version == copy.version


def written_alternatives(
    state: PairState, snapshot: Snapshot
) -> dict[str, Sequence[Baseline | None]]:
    """For each copy holding people's edits, what it held from the product (see
    ``reconcile.observe_pair``); a copy exactly as the product wrote it is left out."""
    anchor = state.anchor
    assert anchor is not None
    found: dict[str, Sequence[Baseline | None]] = {}
    for owner, copy in state.copies.items():
        if copy is None:
            continue
        written = snapshot.copies.get((state.uid, owner))
        if untouched(copy, written):
            continue  # the product's own write, untouched since: nothing of people's in it
        earlier = Baseline.from_json(written.baseline) if written is not None else None
        if state.rebuilt and written is None:
            # A lost ledger kept no record of what was written to this copy: it holds either
            # what the rebuilt weeks say (people's edits copied there) or the plain rule; a
            # week is people's only when it differs from both. Compared with the rebuilt
            # weeks alone, a rep's untouched copy of a week the organizer moved read as the
            # rep moving it back.
            found[owner] = (None, Baseline.of(anchor, {}))
            continue
        if unfinished(copy.fingerprint):
            # A write that stopped halfway (a Google master whose instances did not all go):
            # each week holds either write's version, or people's.
            found[owner] = (None, earlier) if earlier is not None else (None,)
        elif copy.fingerprint == anchor.fingerprint or earlier is None:
            if written is None and anchor.pending and copy.fingerprint in lagging(anchor):
                continue  # a ledger from before copies were recorded: the old rule holds
            found[owner] = (None,)
        elif written is not None and copy.fingerprint == written.fingerprint:
            found[owner] = (earlier,)
        else:
            found[owner] = (None, earlier)
    return found


def observe_changes(
    state: PairState,
    snapshot: Snapshot,
    writable: Mapping[str, bool],
    names: Mapping[str, str],
    now: datetime,
    decisions: list[Decision],
    skipped: Callable[[datetime, datetime], bool] = lambda _start, _end: False,
) -> int:
    """Fold what people did to the series into ``state``; returns how many weeks changed.

    ``skipped(start, end)``: whether the product leaves a 1:1 at that time off the calendar
    whatever else happens (a close week under policy ``skip``); used for the weeks entering the
    horizon, whose instance the product wrote at the rule's time or skipped."""
    anchor = state.anchor
    assert anchor is not None
    pair = state.pair
    manager, rep = pair.manager.email, pair.rep.email
    written = written_alternatives(state, snapshot)
    copies = {owner: state.copies[owner] for owner in written}
    changed = 0

    # The whole series deleted: the weeks due while it was gone are missed; it comes back.
    # A copy that is there but unreadable (a truncated file) is named as a problem, not gone.
    gone = [
        owner
        for owner in (manager, rep)
        if state.copies.get(owner) is None
        and owner not in state.damaged
        and writable.get(owner, False)
        and ((state.uid, owner) in snapshot.copies or owner == manager or not anchor.pending)
    ]
    if manager in gone:
        # Since it was last seen; a ledger from before ``seen_at`` was kept has the last pass
        # (which wrote or saw every series it did not report as a problem).
        since = anchor.seen_at or snapshot.last_pass or anchor.created_at
        for record in mark_missing(state.records, since, now):
            state.records[record.week] = record
            changed += 1
    if gone and anchor.seen_at is not None:
        who = ", ".join(names.get(owner, owner) for owner in gone)
        decisions.append(
            Decision(
                "series_recreated",
                pair.key,
                iso_week(now.astimezone(pair.org_zone).date()),
                (manager,),
                why=who,
            )
        )

    # The whole series moved to another weekday or time: that is the pair's slot from now on.
    # Each copy's weeks are compared with what the product last wrote there (``written``, the
    # weeks as they were before this edit), the edited organizer's copy with the new slot.
    before = dict(state.records)
    organizer_copy = copies.get(manager)
    edit = (
        series_edit(anchor, organizer_copy, written[manager])
        if organizer_copy is not None
        else None
    )
    organizer_changes: dict[str, WeekChange] = {}
    reslotted: set[str] = set()
    if edit is not None:
        assert organizer_copy is not None
        weekday, at, duration = edit
        label = f"{WEEKDAY_LABELS[weekday]} {at:%H:%M}"
        note = (
            f"{names.get(manager, manager)} moved this 1:1 series to {label} on "
            f"{now.astimezone(pair.manager.zone):%d %b %Y}; oneonone keeps it there."
        )
        previous = state.choice
        state.choice = SlotChoice(
            weekday=weekday,
            at=at,
            duration=duration,
            by=manager,
            org_slot=org_slot_signature(pair),
            note=note,
            prior_exdates=previous.prior_exdates if previous else (),
            prior_overrides=previous.prior_overrides if previous else (),
        )
        state.effective = effective_pair(pair, state.choice)
        # Weeks too close to move are where the person put them; later ones are planned
        # afresh on the new slot.
        ahead: dict[str, OccurrenceRecord] = {}
        for week, record in list(state.records.items()):
            start = state.effective.regular_start(week)
            if record.people_changed:
                if expected_instance(record)[1] > now:
                    ahead[week] = record
                continue
            if record.planned_start <= now or start <= now:
                continue
            state.records[week] = ahead[week] = replace(
                record,
                regular_start=start,
                planned_start=start,
                planned_end=start + duration,
                reason=note,
            )
            reslotted.add(week)
            changed += 1
        # A client moving a whole series moves its exceptions along (Thunderbird does): the
        # weeks ahead that the organizer cancelled, moved or declined are read at the new slot.
        new_slot = Baseline(
            weekday,
            at,
            anchor.timezone,
            duration,
            {week: expected_instance(record) for week, record in ahead.items()},
            state.effective.week_shift,
        )
        organizer_changes = observe_pair(
            pair, anchor, ahead, {manager: organizer_copy}, names, {manager: (new_slot,)}
        )
        copies.pop(manager)

    # Weeks ahead with no record yet (entering the horizon, or beyond it) that people edited
    # already: compared with what the product wrote there (the rule's instance), so an edit
    # made weeks ahead is recorded, and kept, from the pass that first sees it.
    named = {
        instance_week(anchor, rid)
        for copy in copies.values()
        if copy is not None
        for rid in (*copy.overrides, *copy.exdates)
        if utc(rid) <= utc(now) + AHEAD
    }
    entering: dict[str, OccurrenceRecord] = {}
    for week in sorted({*snapshot.weeks, *named} - before.keys()):
        start = rule_instance(anchor, week)
        if start <= now or start < anchor.dtstart or skipped(start, start + anchor.duration):
            continue
        entering[week] = OccurrenceRecord(
            pair_key=pair.key,
            week=week,
            regular_start=start,
            planned_start=start,
            planned_end=start + anchor.duration,
            plan_status=PlanStatus.PLANNED.value,
            status=LedgerStatus.UPCOMING.value,
            reason="",
        )
    observed = observe_pair(pair, anchor, {**before, **entering}, copies, names, written)
    for week in observed.keys() & entering.keys():
        state.records[week] = entering[week]
    for week, change in observed.items():
        if week in reslotted and change.change == "declined":
            # The answer was given to the old time; the week goes to the new slot, declined.
            record = state.records[week]
            observed[week] = replace(change, start=record.planned_start, end=record.planned_end)
    observed.update(organizer_changes)  # the organizer's copy rules
    for record in record_observations(state.records, observed):
        state.records[record.week] = record
        changed += 1
    return changed


def observe_makeups(
    state: PairState,
    snapshot: Snapshot,
    writable: Mapping[str, bool],
    names: Mapping[str, str],
) -> int:
    """What people did to the pair's make-ups: a deleted or cancelled one is cancelled, a
    declined one declined, a moved one kept where they put it. Never undone."""
    reads = snapshot.reads
    changed = 0
    manager, rep = state.pair.manager.email, state.pair.rep.email
    for week, makeup in list(state.makeups.items()):
        if makeup.state == "people":
            meetings = reads[manager].single_meetings if manager in reads else []
            if not any(m.uid == makeup.uid and not m.cancelled for m in meetings):
                state.makeups[week] = replace(makeup, state="cancelled")
                changed += 1
            continue
        if makeup.state != "booked":
            continue
        new = makeup
        for owner in (manager, rep):
            if not writable.get(owner, False):
                continue
            copy = reads[owner].owned.get(makeup.uid)
            who = names.get(owner, owner)
            if copy is None:
                if makeup.pending and (makeup.uid, owner) not in snapshot.copies:
                    continue  # not written yet: the pass writes it
                if makeup.uid in reads[owner].damaged:
                    continue  # there but unreadable: named as a problem, rewritten
                state_word = "cancelled" if owner == manager else "declined"
                new = replace(new, state=state_word, reason=f"{who} deleted the make-up")
                break
            if copy.cancelled:
                new = replace(new, state="cancelled", reason=f"{who} cancelled the make-up")
                break
            if copy.partstats.get(owner, "").upper() == "DECLINED":
                new = replace(new, state="declined", reason=f"{who} declined the make-up")
                break
            if owner == manager and (
                utc(copy.dtstart) != utc(makeup.start)
                or utc(copy.dtstart) + copy.duration != utc(makeup.end)
            ):
                new = replace(
                    new,
                    start=copy.dtstart,
                    end=copy.dtstart + copy.duration,
                    reason=f"{makeup.reason}; {who} moved it",
                )
        if new != makeup:
            state.makeups[week] = new
            changed += 1
    return changed
