"""Decide a pass: from one ``Snapshot`` to a frozen ``PassPlan`` of everything it intends.

Pure: no I/O, no clock. Two steps, because agenda documents are written between them (a
document written in a pass is linked by that pass's series):

1. ``decide_weeks``: the safety checks, what people did, the plan, make-ups, settled weeks.
   When a safety check fails the pass is *stopped*: ``scheduler.sync`` writes nothing at all,
   and ``oneonone plan`` shows the same stop.
2. ``decide_writes``: the series and make-ups to write (each conditional on the version read),
   the series to end, the ledger records that change, and the notices the weeks call for.

Exports: PassPlan, PlannedWeeks, CopyWrite, Change, decide_weeks, decide_writes,
MASS_END_SHARE.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from scheduler.agenda.plan import AgendaLink
from scheduler.domain import (
    ABSENT_STATUSES,
    MISSED_STATUSES,
    BusyCalendar,
    Interval,
    LedgerStatus,
    Pair,
    PlanStatus,
    week_after,
)
from scheduler.domain.records import CopyRecord, MakeupRecord, OccurrenceRecord, SeriesRecord
from scheduler.domain.settings import Org
from scheduler.engine.makeups import book_makeups, makeup_work
from scheduler.engine.observe import (
    PairState,
    observe_changes,
    observe_makeups,
    observe_state,
)
from scheduler.engine.series import (
    adopt_reason,
    confirmed_copies,
    end_work,
    series_anchor,
    series_changed,
    series_work,
    window_holds,
)
from scheduler.engine.snapshot import Snapshot
from scheduler.escalation import Decision, decide_digest, decide_pair, settled_weeks
from scheduler.notices import Draft, draft
from scheduler.planner import (
    Known,
    PlannedOccurrence,
    PlannerSettings,
    away_all_week,
    plan,
)
from scheduler.providers.base import WriteJob
from scheduler.reconcile import Baseline, instance_week, known_weeks, merge_plan, settle

__all__ = [
    "MASS_END_SHARE",
    "Change",
    "CopyWrite",
    "PassPlan",
    "PlannedWeeks",
    "decide_weeks",
    "decide_writes",
    "settled_needed",
    "with_history",
]

#: A pass that would end more than this share of the product's series stops (spec).
MASS_END_SHARE = 0.2
UPCOMING = LedgerStatus.UPCOMING.value


@dataclass(frozen=True, slots=True)
class Change:
    """One write a pass makes (or would make) to one calendar."""

    action: str  # "create_series", "update_series", "adopt_series", "end_series", ...
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


@dataclass(frozen=True, slots=True)
class CopyWrite:
    """One object to write to one calendar, conditional on the version the pass read."""

    pair_key: str
    kind: str  # "series", "makeup" or "end"
    copy: str  # "organizer" or "attendee"
    job: WriteJob
    #: the ``X-ONEONONE-HASH`` the write stamps (the spec's fingerprint)
    fingerprint: str
    #: a make-up's week
    week: str | None = None
    #: what the write puts in the copy (``reconcile.Baseline`` as JSON; "" for a make-up), so
    #: people's later edits are read against what that copy really holds
    baseline: str = ""


@dataclass
class PlannedWeeks:
    """Step 1's result: each pair's weeks decided (``states`` are still filled in by the agenda
    step, which links documents to weeks)."""

    pairs: list[Pair]
    states: dict[str, PairState]
    planned: list[PlannedOccurrence]
    decisions: list[Decision]
    observed_changes: int
    writable: dict[str, bool]
    names: dict[str, str]
    problems: list[str] = field(default_factory=list)
    #: why the pass must stop (a calendar suddenly empty, a mass end); empty: it goes on
    safety: list[str] = field(default_factory=list)
    #: the series of pairs no longer in the org file, to end (RRULE UNTIL)
    ending: list[SeriesRecord] = field(default_factory=list)
    #: the first week read of the pairs read over a window (``Snapshot.history_line``)
    history_line: str | None = None


@dataclass(frozen=True)
class PassPlan:
    """Everything a pass intends, decided before anything is written."""

    now: datetime
    planned: tuple[PlannedOccurrence, ...]
    changes: tuple[Change, ...]
    #: the reasons the pass stopped; when any, ``apply`` writes nothing at all
    safety_stop: tuple[str, ...]
    problems: tuple[str, ...]
    observed_changes: int
    #: ledger: pairs to record, changed weeks, series and make-ups, pairs seen and ended
    pairs: tuple[Pair, ...]
    occurrences: tuple[OccurrenceRecord, ...]
    series: tuple[SeriesRecord, ...]
    #: every series and booked make-up the pass wrote or checked (changed or not): those still
    #: ``pending`` are cleared once all their writes succeed
    anchors: tuple[SeriesRecord, ...]
    makeup_records: tuple[MakeupRecord, ...]
    seen: tuple[str, ...]
    makeups: tuple[MakeupRecord, ...]
    ended: tuple[str, ...]
    #: calendars: every conditional write, in order
    writes: tuple[CopyWrite, ...]
    #: every notice the weeks call for, and the words of those not recorded before
    decisions: tuple[Decision, ...]
    notices: tuple[Draft, ...]
    #: copy records whose version the write could not tell, with the version a later pass
    #: read of the copy as written (``confirmed_copies``)
    confirmed: tuple[CopyRecord, ...] = ()

    @property
    def stopped(self) -> bool:
        return bool(self.safety_stop)


# --------------------------------------------------------------------------- step 1


def decide_weeks(org: Org, snapshot: Snapshot, *, force: bool = False) -> PlannedWeeks:
    """Safety checks, observations, the plan, make-ups and settled statuses of every pair."""
    reads, now, weeks = snapshot.reads, snapshot.now, list(snapshot.weeks)
    series = snapshot.series
    names = {email: person.first_name for email, person in org.people.items()}
    safety: list[str] = []
    problems: list[str] = []

    # A calendar that holds our series but suddenly reads empty is not believed. It holds
    # those the product saw there or confirmed writing there: a pass killed after the ledger
    # took a new series and before its first write left nothing on the calendar to miss.
    untouchable: set[str] = set()
    held: dict[str, list[SeriesRecord]] = {}  # by organizer: one look at each series
    for one in series.values():
        if one.until is None and (
            one.seen_at is not None or (one.uid, one.organizer) in snapshot.copies
        ):
            held.setdefault(one.organizer, []).append(one)
    for email, read in reads.items():
        holds = held.get(email, [])
        if holds and read.object_count == 0 and not force:
            untouchable.add(email)
            safety.append(
                f"{email}'s calendar ({snapshot.providers[email].where}) reads as empty but "
                f"should hold {len(holds)} 1:1 series; nothing was changed (if it was really "
                "emptied, run `oneonone sync --force`)"
            )
    # Pairs that left the org file: their series end (UNTIL), never deleted.
    in_org = {pair.key for pair in org.pairs}
    ending = [s for key, s in series.items() if key not in in_org and s.until is None]
    active_series = sum(1 for s in series.values() if s.until is None)
    if ending and len(ending) > MASS_END_SHARE * active_series and not force:
        safety.append(
            f"this pass would end {len(ending)} of {active_series} 1:1 series (pairs no longer "
            "in the org file); nothing was changed. If that is intended, run "
            "`oneonone sync --force`"
        )

    pairs = [
        pair
        for pair in org.pairs
        if pair.manager.email in reads
        and pair.rep.email in reads
        and pair.manager.email not in untouchable
        and pair.rep.email not in untouchable
    ]
    writable = {
        email: provider.capabilities.writable for email, provider in snapshot.providers.items()
    }

    # What people did, recorded.
    decisions: list[Decision] = []
    states: dict[str, PairState] = {}
    observed = 0

    def skipped(start: datetime, end: datetime) -> bool:
        """A close week under policy ``skip``: the product keeps no 1:1 in it."""
        if org.calendar.close_window.policy != "skip":
            return False
        first, last = start.astimezone(org.zone).date(), end.astimezone(org.zone).date()
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return any(org.calendar.close_reason(day) for day in days)

    for pair in pairs:
        state = observe_state(org, pair, snapshot, now, problems)
        states[pair.key] = state
        if state.anchor is not None:
            observed += observe_changes(state, snapshot, writable, names, now, decisions, skipped)
        observed += observe_makeups(state, snapshot, writable, names)

    # The plan, on everyone's own busy time (an adopted event is the 1:1, not busy time).
    adopted = {state.uid for state in states.values() if state.adopting is not None}
    busy = {
        email: BusyCalendar(
            (
                Interval(s, e)
                for s, e in [
                    *read.busy,
                    *(
                        span
                        for uid, spans in read.candidate_busy.items()
                        if uid not in adopted
                        for span in spans
                    ),
                ]
            ),
            read.out_days,
        )
        for email, read in reads.items()
    }
    effective = [states[pair.key].effective for pair in pairs]
    known: dict[str, Mapping[str, Known]] = {
        key: known_weeks(state.records) for key, state in states.items()
    }
    settings = PlannerSettings(
        horizon_weeks=len(weeks),
        freeze=timedelta(hours=org.schedule.freeze_hours),
        policy=org.calendar.close_window.policy,
    )
    planned = plan(effective, org.calendar, org.zone, busy, known, now, settings, weeks)
    by_pair: dict[str, list[PlannedOccurrence]] = {}
    for occurrence in planned:
        by_pair.setdefault(occurrence.pair_key, []).append(occurrence)

    # The ledger's new weeks: the plan merged in, time off, make-ups, settled statuses.
    for state in states.values():
        for record in merge_plan(state.records, by_pair.get(state.pair.key, []), now):
            state.records[record.week] = record
        for week in [week_after(weeks[0], -1), *weeks]:
            found = state.records.get(week)
            if found is None:
                continue
            away = away_all_week(state.effective, week, org.calendar, busy) is not None
            if found.away != away:
                state.records[week] = replace(found, away=away)
    if org.schedule.makeup:
        book_makeups(org, states, reads, busy, weeks, now)
    for state in states.values():
        for record in settle(state.records, now, state.makeups):
            state.records[record.week] = record

    return PlannedWeeks(
        pairs=pairs,
        states=states,
        planned=[
            replace(item, status=PlanStatus.ADOPT)
            if states[item.pair_key].adopting is not None and item.status is PlanStatus.PLANNED
            else item
            for item in planned
        ],
        decisions=decisions,
        observed_changes=observed,
        writable=writable,
        names=names,
        problems=problems,
        safety=safety,
        ending=[] if safety else ending,
        history_line=snapshot.history_line or None,
    )


# --------------------------------------------------------------------------- step 1b


def settled_needed(org: Org, snapshot: Snapshot, decided: PlannedWeeks) -> dict[str, bool]:
    """The pairs read over a window whose settled weeks the pass needs after all (issue 17),
    each with whether it needs every one (``True``) or only those its series shows
    (``False``, ``scheduler.engine.series.shown_weeks``):

    - their series changed (the digest of their weeks since ``SeriesRecord.window``'s line
      did not hold, see ``window_holds``): the pass writes it, and a series is written whole,
      with every week it shows;
    - every week: a week read as a status alone may change: it is not settled yet, or people
      changed its make-up (``_past_may_change``);
    - every week: they have news not told yet (a nudge or an escalation): its words show
      whole records;
    - every week: their escalation could reach back past the window: fewer settled weeks
      that count in it than the escalation window, or a missed streak that runs through all
      of them (the one count of a digest that can reach back further than its 12 weeks, too).

    ``scheduler.sync`` reads those weeks and hands them to ``with_history``. Every other
    windowed pair gets its new ``window`` and is decided on its window alone."""
    weeks = list(snapshot.weeks)
    current = weeks[0]
    needed: dict[str, bool] = {}
    for key, state in decided.states.items():
        if state.history_from is None:
            continue
        if _past_may_change(snapshot, state):
            needed[key] = True
            continue
        anchor = series_anchor(state, snapshot.now)
        holds = window_holds(org, state, anchor, weeks)
        statuses = state.all_statuses()
        if _untold(org, snapshot, state, statuses, current) or _reaches_back(
            org, state, anchor, statuses, snapshot.history_line, current
        ):
            needed[key] = True
        elif not holds:
            needed[key] = False
    return needed


def _past_may_change(snapshot: Snapshot, state: PairState) -> bool:
    """Whether this pass may change a week of the pair read as a status alone: one still
    ``upcoming`` (``reconcile.settle`` would settle it), or one whose make-up people changed
    (``observe_makeups``; its status follows the make-up's)."""
    line = state.history_from
    assert line is not None
    if any(status == UPCOMING for status in state.statuses.values()):
        return True
    before = snapshot.ledger_makeups.get(state.pair.key, {})
    return any(week < line and before.get(week) != makeup for week, makeup in state.makeups.items())


def _untold(
    org: Org, snapshot: Snapshot, state: PairState, statuses: Mapping[str, str], current: str
) -> bool:
    """Whether the pair's weeks (``statuses``) call for a nudge or an escalation not
    recorded yet."""
    pair = state.pair
    return any(
        (decision.kind, decision.pair_key, decision.week) not in snapshot.notices_recorded
        for decision in decide_pair(
            pair.key,
            pair.manager.email,
            pair.rep.email,
            pair.skip_level,
            statuses,
            org.escalation,
            current,
        )
    )


def _reaches_back(
    org: Org,
    state: PairState,
    anchor: SeriesRecord,
    statuses: Mapping[str, str],
    line: str,
    current: str,
) -> bool:
    """Whether the pair's escalation may depend on weeks before ``line`` (not read)."""
    if state.pair.skip_level is None or instance_week(anchor, anchor.dtstart) >= line:
        return False  # nudges are about recent weeks only; or there is nothing before
    counted = [
        status for _, status in settled_weeks(statuses, current) if status not in ABSENT_STATUSES
    ]
    return len(counted) < org.escalation.window_weeks or all(
        status in MISSED_STATUSES for status in counted
    )


def with_history(
    decided: PlannedWeeks,
    settled: Mapping[str, Mapping[str, OccurrenceRecord]],
    links: Mapping[str, Mapping[tuple[str, str], AgendaLink]],
    now: datetime,
    history_line: str,
    shown_only: Collection[str] = (),
) -> None:
    """Give the pairs of ``settled_needed`` their settled weeks (those before the pair's
    records, as the ledger has them) and those weeks' agenda links; they are then decided
    whole, like any pair read whole. A week from ``history_line`` on whose status moves on
    (``settle``, with this pass's make-ups, read from that line) joins the records the pass
    saves; the weeks before it are kept as they are.

    The pairs ``shown_only`` were given only the settled weeks their series shows
    (``shown_weeks``): nothing of theirs may settle (``_past_may_change``), and their
    notices count the statuses read from ``history_line`` on, as a windowed pair's do."""
    for key, weeks in settled.items():
        state = decided.states[key]
        for session, link in links.get(key, {}).items():
            state.agendas.setdefault(session, link)
        state.history_from = None
        state.unchanged = None
        if key in shown_only:
            state.settled = dict(weeks)
            state.statuses_from = history_line
            continue
        recent = {week: record for week, record in weeks.items() if week >= history_line}
        moved = {record.week: record for record in settle(recent, now, state.makeups)}
        state.settled = {week: record for week, record in weeks.items() if week not in moved}
        if moved:
            state.records = {**moved, **state.records}
        state.statuses = {}


# --------------------------------------------------------------------------- step 2


def decide_writes(org: Org, snapshot: Snapshot, decided: PlannedWeeks) -> PassPlan:
    """The writes, ledger records and notices of a pass whose weeks are decided."""
    now, weeks, reads = snapshot.now, list(snapshot.weeks), snapshot.reads
    states, writable, names = decided.states, decided.writable, decided.names
    changes: list[Change] = []
    writes: list[CopyWrite] = []
    anchors: dict[str, SeriesRecord] = {}
    makeups: dict[tuple[str, str], MakeupRecord] = {}
    worked_makeups: list[MakeupRecord] = []
    confirmed: list[CopyRecord] = []

    for pair in decided.pairs:
        state = states[pair.key]
        if not state.records:
            continue
        if state.unchanged is not None:
            anchors[pair.key] = state.unchanged  # read over a window, its digest held
        else:
            anchor, spec, targets = series_work(
                org, state, series_anchor(state, now), now, weeks, writable
            )
            anchors[pair.key] = anchor
            if not targets:
                confirmed.extend(confirmed_copies(state, anchor, snapshot.copies))
            baseline = Baseline.of(anchor, state.history()).to_json() if targets else ""
            for owner, copy, expect in targets:
                action, reason = _series_change(state, owner.email, names)
                changes.append(
                    Change(action, pair.manager.email, pair.rep.email, owner.email, copy, reason)
                )
                writes.append(
                    CopyWrite(
                        pair.key,
                        "series",
                        copy,
                        WriteJob(spec, owner, anchor.dtstamp, expect, anchor.fingerprint),
                        anchor.fingerprint,
                        baseline=baseline,
                    )
                )
        for week, makeup in list(state.makeups.items()):
            job = makeup_work(org, state, makeup, reads, writable)
            if job is None:
                continue
            record, makeup_spec, makeup_targets = job
            worked_makeups.append(record)
            for owner, copy, expect in makeup_targets:
                changes.append(
                    Change(
                        "write_makeup",
                        pair.manager.email,
                        pair.rep.email,
                        owner.email,
                        copy,
                        record.reason,
                    )
                )
                writes.append(
                    CopyWrite(
                        pair.key,
                        "makeup",
                        copy,
                        WriteJob(makeup_spec, owner, now, expect, record.fingerprint),
                        record.fingerprint,
                        week,
                    )
                )

    ended: list[str] = []
    for anchor in decided.ending:
        pair, ended_anchor, spec, end_targets = end_work(
            org, anchor, snapshot.ledger_weeks.get(anchor.pair_key, {}), reads, writable, now
        )
        anchors[anchor.pair_key] = ended_anchor
        ended.append(anchor.pair_key)
        for owner, copy, expect in end_targets:
            changes.append(
                Change(
                    "end_series",
                    pair.manager.email,
                    pair.rep.email,
                    owner.email,
                    copy,
                    "the pair is no longer in the org file",
                )
            )
            writes.append(
                CopyWrite(
                    anchor.pair_key,
                    "end",
                    copy,
                    WriteJob(spec, owner, ended_anchor.dtstamp, expect, ended_anchor.fingerprint),
                    ended_anchor.fingerprint,
                    baseline=Baseline.of(
                        ended_anchor, snapshot.ledger_weeks.get(anchor.pair_key, {})
                    ).to_json(),
                )
            )

    # The ledger: only what this pass changed (its history grows every week, a pass's
    # changes do not).
    occurrences: list[OccurrenceRecord] = []
    for key, state in states.items():
        before = snapshot.ledger_weeks.get(key, {})
        occurrences.extend(
            record
            for week, record in state.records.items()
            if week not in before or not before[week].same_facts(record)
        )
        for week, makeup in state.makeups.items():
            if snapshot.ledger_makeups.get(key, {}).get(week) != makeup:
                makeups[(key, week)] = makeup
    series = tuple(
        anchor
        for key, anchor in anchors.items()
        if series_changed(snapshot.series.get(key), anchor)
    )
    recorded_pairs = tuple(
        pair
        for pair in decided.pairs
        if (kept := snapshot.ledger_pairs.get(pair.key)) is None
        or not kept.active
        or kept.skip_level != pair.skip_level
    )

    # Who must hear about it: decided on statuses, which reach further back than the records
    # of a pair read over a window; told in words from the records (``settled_needed`` read
    # whole any pair with news to tell).
    current = weeks[0]
    all_weeks: dict[str, Mapping[str, OccurrenceRecord]] = dict(snapshot.ledger_weeks)
    all_makeups: dict[str, Mapping[str, MakeupRecord]] = dict(snapshot.ledger_makeups)
    statuses: dict[str, Mapping[str, str]] = {}
    for key in [*snapshot.ledger_statuses, *snapshot.ledger_weeks]:
        if key not in states and key not in statuses:  # not decided: as the ledger has it
            statuses[key] = {
                **snapshot.ledger_statuses.get(key, {}),
                **{week: one.status for week, one in snapshot.ledger_weeks.get(key, {}).items()},
            }
    for key, state in states.items():
        all_weeks[key] = state.history()
        all_makeups[key] = state.makeups
        statuses[key] = state.all_statuses()
    decisions = list(decided.decisions)
    for pair in decided.pairs:
        decisions.extend(
            decide_pair(
                pair.key,
                pair.manager.email,
                pair.rep.email,
                pair.skip_level,
                statuses.get(pair.key, {}),
                org.escalation,
                current,
            )
        )
    by_manager: dict[str, dict[str, Mapping[str, str]]] = {}
    for key, found in statuses.items():
        by_manager.setdefault(key.partition("/")[0], {})[key] = found
    for manager in dict.fromkeys(pair.manager.email for pair in org.pairs):
        digest = decide_digest(
            manager, org.people[manager].manager, by_manager.get(manager, {}), current
        )
        if digest is not None:
            decisions.append(digest)
    notices = tuple(
        draft(decision, org, all_weeks, all_makeups, now, statuses)
        for decision in dict.fromkeys(decisions)
        if (decision.kind, decision.pair_key, decision.week) not in snapshot.notices_recorded
    )

    return PassPlan(
        now=now,
        planned=tuple(decided.planned),
        changes=tuple(changes),
        safety_stop=tuple(decided.safety),
        problems=tuple(decided.problems),
        observed_changes=decided.observed_changes,
        pairs=recorded_pairs,
        occurrences=tuple(occurrences),
        series=series,
        anchors=tuple(anchors.values()),
        makeup_records=tuple(worked_makeups),
        seen=tuple(key for key, state in states.items() if state.organizer_seen),
        makeups=tuple(makeups.values()),
        ended=tuple(ended),
        writes=tuple(writes),
        decisions=tuple(decisions),
        notices=notices,
        confirmed=tuple(confirmed),
    )


def _series_change(state: PairState, owner: str, names: Mapping[str, str]) -> tuple[str, str]:
    """The action and reason shown for writing ``owner``'s copy of the pair's series."""
    if state.adopting is not None:
        return "adopt_series", adopt_reason(state, names)
    if state.anchor is None:
        return "create_series", "the series is not on this calendar yet"
    if state.rebuilt:
        return "update_series", "the ledger was rebuilt from this calendar"
    if state.copies.get(owner) is None:
        return "update_series", "the series is not on this calendar"
    return "update_series", "the plan changed"
