"""One reconcile pass: observe, record, plan, apply. The only module that wires I/O to the core.

I/O: reads every person's calendar through its provider, reads and writes the ledger, writes
product-owned calendar objects. Order of durable effects, so a pass killed anywhere leaves
calendars and ledger consistent and the next pass finishes the job:

1. everything is decided in memory from one read of calendars and ledger;
2. the ledger is committed in one transaction, each changed series marked ``pending``;
3. calendar objects are written, each atomically and idempotently;
4. ``pending`` is cleared. A rerun after a kill between 2 and 4 sees ``pending`` and knows a
   copy still holding the previous fingerprint is the product's own, not a person's edit.

Agenda documents are read back and written in a step of their own before 2 (``_agendas``, see
``scheduler.agenda.publish``), each recorded before it is written, so the series written in 3
link the documents written in the same pass.

Exports: run_pass, PassResult, Change, make_provider.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.agenda.plan import MAKEUP, SERIES, AgendaLink, attach_series, attach_single
from scheduler.agenda.publish import PairAgendas, publish_agendas
from scheduler.domain import (
    WEEKDAY_LABELS,
    BusyCalendar,
    Interval,
    Pair,
    Person,
    PlanStatus,
    Slot,
    iso_week,
    makeup_uid,
    week_after,
    week_monday,
)
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec, utc
from scheduler.errors import CalendarError, UserError
from scheduler.escalation import Decision, decide_digest, decide_pair
from scheduler.notices import claim, deliver, draft
from scheduler.notify import mailer_for, slack_for
from scheduler.orgfile import CalendarConfig, Org
from scheduler.planner import (
    Known,
    PlannedOccurrence,
    PlannerSettings,
    away_all_week,
    describe_slot,
    find_makeup,
    plan,
    weeks_from,
)
from scheduler.providers.base import CalendarProvider, unfinished
from scheduler.providers.vdir import VdirProvider
from scheduler.reconcile import (
    MAKEUP_HAPPENS,
    SlotChoice,
    adoptable,
    adopted_history,
    effective_pair,
    expected_instance,
    known_weeks,
    mark_missing,
    merge_plan,
    observe_pair,
    org_slot_signature,
    record_observations,
    rule_instance,
    series_edit,
    series_spec,
    settle,
)
from scheduler.store.files import remove_stale_temp_files
from scheduler.store.ledger import Ledger, MakeupRecord, OccurrenceRecord, SeriesRecord

if TYPE_CHECKING:
    from scheduler.providers.google.provider import GoogleSession

__all__ = ["Change", "PassResult", "google_session", "make_provider", "run_pass"]

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
    #: the notices this pass's ledger calls for (each is sent once, whatever the passes)
    notices: list[Decision] = field(default_factory=list)
    notices_decided: int = 0
    notices_sent: int = 0
    #: agenda documents due this pass, written (new or recovered) and read back
    agendas_due: int = 0
    agendas_written: int = 0
    agendas_read: int = 0


def make_provider(
    config: CalendarConfig, person: Person, google: GoogleSession | None = None
) -> CalendarProvider:
    """The provider for one person's calendar configuration, its calls counted in metrics.

    ``google`` is the org's Google session (``google_session``), needed for Google calendars.
    """
    # Imported here, not at the top: this function is the only place that needs them.
    from scheduler.metrics import instrumented
    from scheduler.providers.ics import IcsProvider

    if config.provider == "vdir" and config.path is not None:
        # The embedded default needs no set-up: a missing folder is created (a folder that
        # vanished and comes back empty is caught by the "suddenly empty" safety stop).
        try:
            config.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CalendarError(
                f"{person.email}: cannot create the vdir folder {config.path}: {error.strerror}"
            ) from error
        return instrumented(VdirProvider(config.path, person.zone))
    if config.provider == "ics" and (config.url or config.path):
        # Read-only busy time from a published feed; the last good copy is kept under the
        # data folder (orgfile sets cache_dir) so a feed that is down costs no busy time.
        source = config.url or config.path
        assert source is not None
        return instrumented(IcsProvider(source, config.cache_dir, person.zone))
    if config.provider == "google" and google is not None:
        from scheduler.providers.google.provider import GoogleProvider

        return instrumented(GoogleProvider(google, person.email))
    raise CalendarError(
        f"{person.email}: the {config.provider!r} calendar provider is not available in this "
        f'version of oneonone; use provider = "vdir", "ics" or "google"'
    )


def google_session(
    org: Org, ledger: Ledger | None, now: datetime, *, persist: bool
) -> GoogleSession | None:
    """The org's Google session for a pass (``None`` when nobody is on Google); its sync
    tokens and caches are kept in the ledger's state when ``persist``."""
    if not any(config.provider == "google" for config in org.calendars.values()):
        return None
    from scheduler.providers.google import session_for
    from scheduler.providers.google.provider import StateStore

    store = StateStore(ledger.get_state, ledger.set_state) if ledger is not None else None
    session = session_for(org, store)
    session.begin(now, persist=persist and store is not None, store=store)
    return session


@dataclass
class _PairWork:
    pair: Pair
    anchor: SeriesRecord
    records: dict[str, OccurrenceRecord]
    spec: SeriesSpec
    writes: list[tuple[Person, str]]  # (owner, copy) to write


@dataclass
class _MakeupWork:
    pair: Pair
    record: MakeupRecord
    spec: SeriesSpec
    writes: list[tuple[Person, str]]


@dataclass
class _PairState:
    """What the observation step learnt of one pair, before planning."""

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
    #: (week, "series" | "makeup") -> the agenda to attach (set by ``_agendas``)
    agendas: dict[tuple[str, str], AgendaLink] = field(default_factory=dict)


def run_pass(
    org: Org,
    ledger: Ledger,
    now: datetime,
    *,
    apply: bool,
    force: bool = False,
    horizon_weeks: int | None = None,
    env: Mapping[str, str] | None = None,
) -> PassResult:
    """One pass. With ``apply=False`` it is the dry run behind ``oneonone plan``.

    ``env`` holds the secrets the notice channels need (default: the process environment).
    """
    result = PassResult(now=now)
    if apply:
        # Temp files of writes a killed pass left behind (see scheduler.store.files).
        remove_stale_temp_files(
            org.data_dir,
            *(c.path for c in org.calendars.values() if c.provider == "vdir" and c.path),
        )
    weeks = weeks_from(now, org.zone, horizon_weeks or org.schedule.horizon_weeks)
    current = weeks[0]
    # Last week is read too: time off entered after the fact still settles it.
    window_start = datetime.combine(
        week_monday(week_after(current, -1)), datetime.min.time(), org.zone
    )
    window_end = datetime.combine(
        week_monday(weeks[-1]) + timedelta(days=7), datetime.min.time(), org.zone
    ) + timedelta(days=1)

    providers: dict[str, CalendarProvider] = {}
    reads: dict[str, CalendarRead] = {}
    google = google_session(org, ledger, now, persist=apply)
    for email, person in org.people.items():
        try:
            provider = make_provider(org.calendars[email], person, google)
            providers[email] = provider
            reads[email] = provider.read(person, window_start - timedelta(days=1), window_end)
        except CalendarError as error:
            result.problems.append(str(error))
            continue
        result.problems.extend(reads[email].problems)

    series = ledger.all_series()
    ledger_weeks = ledger.occurrences()
    ledger_makeups = ledger.makeups()
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
    writable = {email: providers[email].writable for email in providers}

    # 1-2. observe people's changes and record them.
    previous = ledger.get_state("last_pass")
    last_pass = datetime.fromisoformat(previous) if previous else None
    decisions: list[Decision] = []
    states: dict[str, _PairState] = {}
    for pair in pairs:
        state = _observe(pair, series.get(pair.key), ledger_weeks, ledger_makeups, reads, now)
        states[pair.key] = state
        if state.anchor is not None:
            result.observed_changes += _observe_changes(
                state, reads, writable, names, now, last_pass, decisions
            )
        result.observed_changes += _observe_makeups(state, reads, writable, names)

    # 3. plan, on everyone's own busy time (an adopted event is the 1:1, not busy time).
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
    planned_by_pair: dict[str, list[PlannedOccurrence]] = {}
    for occurrence in planned:
        planned_by_pair.setdefault(occurrence.pair_key, []).append(occurrence)

    # 4. the ledger's new weeks: the plan merged in, time off, make-ups, settled statuses.
    for state in states.values():
        for record in merge_plan(state.records, planned_by_pair.get(state.pair.key, []), now):
            state.records[record.week] = record
        for week in [week_after(current, -1), *weeks]:
            found = state.records.get(week)
            if found is None:
                continue
            away = away_all_week(state.effective, week, org.calendar, busy) is not None
            if found.away != away:
                state.records[week] = replace(found, away=away)
    if org.schedule.makeup:
        _book_makeups(org, states, reads, busy, weeks, now)
    for state in states.values():
        for record in settle(state.records, now, state.makeups):
            state.records[record.week] = record
    _agendas(org, ledger, states, now, apply=apply, result=result, decisions=decisions)

    # 5. the series each pair's ledger describes, and what must be written.
    work: list[_PairWork] = []
    makeup_work: list[_MakeupWork] = []
    for pair in pairs:
        state = states[pair.key]
        if not state.records:
            continue
        anchor = _anchor(state, now)
        item = _series_work(org, state, anchor, now, weeks, writable)
        work.append(item)
        for owner, copy in item.writes:
            copy_now = state.copies.get(owner.email)
            if state.adopting is not None:
                action, reason = "adopt_series", _adopt_reason(state, names)
            elif state.anchor is None:
                action, reason = "create_series", "the series is not on this calendar yet"
            else:
                action = "update_series"
                reason = (
                    "the series is not on this calendar"
                    if copy_now is None
                    else ("the plan changed")
                )
            result.changes.append(
                Change(action, pair.manager.email, pair.rep.email, owner.email, copy, reason)
            )
        for makeup in state.makeups.values():
            job = _makeup_work(org, state, makeup, reads, writable)
            if job is None:
                continue
            makeup_work.append(job)
            for owner, copy in job.writes:
                result.changes.append(
                    Change(
                        "write_makeup",
                        pair.manager.email,
                        pair.rep.email,
                        owner.email,
                        copy,
                        makeup.reason,
                    )
                )

    result.planned = [
        replace(item, status=PlanStatus.ADOPT)
        if states[item.pair_key].adopting is not None and item.status is PlanStatus.PLANNED
        else item
        for item in planned
    ]

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
        for w in (
            _end_work(org, s, ledger_weeks.get(s.pair_key, {}), reads, writable, now)
            for s in ending
        )
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

    # 6. who must hear about it.
    all_weeks = {key: dict(records) for key, records in ledger_weeks.items()}
    all_makeups = {key: dict(records) for key, records in ledger_makeups.items()}
    for key, state in states.items():
        all_weeks[key] = state.records
        all_makeups[key] = state.makeups
    for pair in pairs:
        decisions.extend(
            decide_pair(
                pair.key,
                pair.manager.email,
                pair.rep.email,
                pair.skip_level,
                all_weeks.get(pair.key, {}),
                org.escalation,
                current,
            )
        )
    by_manager: dict[str, dict[str, dict[str, OccurrenceRecord]]] = {}
    for key, records in all_weeks.items():
        by_manager.setdefault(key.partition("/")[0], {})[key] = records
    for manager in dict.fromkeys(pair.manager.email for pair in org.pairs):
        their_weeks = by_manager.get(manager, {})
        digest = decide_digest(manager, org.people[manager].manager, their_weeks, current)
        if digest is not None:
            decisions.append(digest)
    result.notices = decisions

    if not apply:
        return result

    # 7. commit the ledger first (pending marks what may lag behind on calendars), the
    #    notices decided with it ...
    try:
        slack = slack_for(org, os.environ if env is None else env)
    except UserError as error:
        # A broken Slack setting must not stop the calendars: said, and mail still goes.
        result.problems.extend(error.problems)
        slack = None
    known_pairs = {record.key: record for record in ledger.pairs()}
    with ledger.transaction():
        for pair in pairs:
            kept = known_pairs.get(pair.key)
            if kept is None or not kept.active or kept.skip_level != pair.skip_level:
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
            if _changed(series.get(item.pair.key), item.anchor):
                ledger.save_series(item.anchor)
        ledger.mark_seen([key for key, state in states.items() if state.organizer_seen], now)
        for state in states.values():
            before_makeups = ledger_makeups.get(state.pair.key, {})
            for week, makeup in state.makeups.items():
                if before_makeups.get(week) != makeup:
                    ledger.save_makeup(makeup)
        for item in end_work:
            ledger.end_pair(item.pair.key, now)
        decided = ledger.notice_keys()
        for decision in decisions:
            if (decision.kind, decision.pair_key, decision.week) in decided:
                continue  # recorded before (the unique key would refuse it anyway): no words
            notice = draft(decision, org, all_weeks, all_makeups, now)
            if claim(ledger, notice, org, now, slack=slack is not None):
                result.notices_decided += 1
        ledger.set_state("last_pass", now.isoformat())

    # 8. ... then the calendars, then clear pending ...
    done: list[str] = []
    seen: list[str] = []
    series_written = iter(
        _write_all(
            providers,
            [
                (owner, item.spec, item.anchor.dtstamp)
                for item in [*work, *end_work]
                for owner, _ in item.writes
            ],
        )
    )
    for item in [*work, *end_work]:
        ok = True
        for _owner, copy_name in item.writes:
            outcome = next(series_written)
            if isinstance(outcome, CalendarError):
                ok = False
                result.problems.append(f"could not write the {copy_name} copy: {outcome}")
                continue
            result.written += outcome
            if copy_name == "organizer":
                seen.append(item.pair.key)
        if ok and item.anchor.pending:
            done.append(item.pair.key)
    makeups_done: list[tuple[str, str]] = []
    makeups_written = iter(
        _write_all(
            providers, [(owner, job.spec, now) for job in makeup_work for owner, _ in job.writes]
        )
    )
    for job in makeup_work:
        ok = True
        for _owner, copy_name in job.writes:
            outcome = next(makeups_written)
            if isinstance(outcome, CalendarError):
                ok = False
                result.problems.append(f"could not write the make-up's {copy_name} copy: {outcome}")
                continue
            result.written += outcome
        if ok and job.record.pending:
            makeups_done.append((job.record.pair_key, job.record.week))
    if done or seen or makeups_done:
        with ledger.transaction():
            ledger.clear_pending(done)
            ledger.mark_seen(seen, now)
            ledger.clear_makeup_pending(makeups_done)

    # 9. ... and last the notices recorded (by this pass or by one that did not finish).
    try:
        mailer = mailer_for(org, os.environ if env is None else env)
    except UserError as error:
        result.problems.extend(error.problems)
    else:
        sent, problems = deliver(ledger, mailer, slack, org.email.sender, now)
        result.notices_sent += sent
        result.problems.extend(problems)
    return result


def _write_all(
    providers: Mapping[str, CalendarProvider],
    jobs: list[tuple[Person, SeriesSpec, datetime]],
) -> list[bool | CalendarError]:
    """Write each (owner, spec, dtstamp); each one's outcome in order: whether it changed
    anything, or the error that stopped it. A provider that can send many writes at once
    (``write_many``: Google's batches) gets all of its own in one call."""
    outcomes: list[bool | CalendarError] = [False] * len(jobs)
    grouped: dict[str, list[int]] = {}
    for index, (owner, _spec, _stamp) in enumerate(jobs):
        grouped.setdefault(owner.email, []).append(index)
    for email, indexes in grouped.items():
        provider = providers[email]
        many = getattr(provider, "write_many", None)
        if many is not None:
            try:
                answers = many([jobs[i][1] for i in indexes])
            except CalendarError as error:
                answers = [error] * len(indexes)
            for index, outcome in zip(indexes, answers, strict=True):
                outcomes[index] = outcome
            continue
        for index in indexes:
            owner, spec, stamp = jobs[index]
            try:
                outcomes[index] = provider.write(spec, owner, dtstamp=stamp)
            except CalendarError as error:
                outcomes[index] = error
    return outcomes


# --------------------------------------------------------------------------- agendas


def _agendas(
    org: Org,
    ledger: Ledger,
    states: Mapping[str, _PairState],
    now: datetime,
    *,
    apply: bool,
    result: PassResult,
    decisions: list[Decision],
) -> None:
    """Issue 5: read back the agendas whose 1:1 ended, write the ones due (each once, recorded
    before it is written) and note what each pair's series and make-ups must link to; the
    weeks show their agenda's address and the reps get a ``prep`` notice. The logic is
    ``scheduler.agenda.plan``'s, the I/O ``scheduler.agenda.publish``'s; with ``apply=False``
    only what exists is linked."""
    outcome = publish_agendas(
        org,
        ledger,
        [PairAgendas(s.pair, s.records, s.makeups) for s in states.values()],
        now,
        apply=apply,
    )
    for key, state in states.items():
        state.agendas = outcome.links.get(key, {})
        for week, url in outcome.urls.get(key, {}).items():
            record = state.records.get(week)
            if record is not None and record.agenda != url:
                state.records[week] = replace(record, agenda=url)
    decisions.extend(outcome.decisions)
    result.problems.extend(outcome.problems)
    for warning in outcome.warnings:
        log.warning("%s", warning)
    result.agendas_due += outcome.due
    result.agendas_written += outcome.written
    result.agendas_read += outcome.read


# --------------------------------------------------------------------------- observing


def _observe(
    pair: Pair,
    anchor: SeriesRecord | None,
    ledger_weeks: Mapping[str, Mapping[str, OccurrenceRecord]],
    ledger_makeups: Mapping[str, Mapping[str, MakeupRecord]],
    reads: Mapping[str, CalendarRead],
    now: datetime,
) -> _PairState:
    """The pair's series as the ledger and the calendars know it, and its slot."""
    records = dict(ledger_weeks.get(pair.key, {}))
    makeups = dict(ledger_makeups.get(pair.key, {}))
    choice = SlotChoice.from_json(anchor.person_slot) if anchor is not None else None
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
    copies = {
        owner: reads[owner].owned.get(uid) if adopting is None else None
        for owner in (pair.manager.email, pair.rep.email)
    }
    return _PairState(
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
    )


def _observe_changes(
    state: _PairState,
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
    names: Mapping[str, str],
    now: datetime,
    last_pass: datetime | None,
    decisions: list[Decision],
) -> int:
    """Fold what people did to the series into ``state``; returns how many weeks changed."""
    anchor = state.anchor
    assert anchor is not None
    pair = state.pair
    manager, rep = pair.manager.email, pair.rep.email
    # While the product's last write is unfinished, only copies it finished writing tell what
    # people did: an older version (or one a provider had not finished, e.g. a Google master
    # whose instances were still to come) is rewritten, not read as people's edits.
    trusted = {
        owner: copy
        for owner, copy in state.copies.items()
        if copy is not None
        and not (
            anchor.pending
            and (copy.fingerprint in _lagging(anchor) or unfinished(copy.fingerprint))
        )
    }
    changed = 0

    # The whole series deleted: the weeks due while it was gone are missed; it comes back.
    gone = [
        owner
        for owner in (manager, rep)
        if state.copies.get(owner) is None
        and writable.get(owner, False)
        and (owner == manager or not anchor.pending)
    ]
    if manager in gone:
        # Since it was last seen; a ledger from before ``seen_at`` was kept has the last pass
        # (which wrote or saw every series it did not report as a problem).
        since = anchor.seen_at or last_pass or anchor.created_at
        for record in mark_missing(state.records, since, now):
            state.records[record.week] = record
            changed += 1
    if gone and anchor.seen_at is not None:
        who = ", ".join(names.get(owner, owner) for owner in gone)
        decisions.append(
            Decision(
                "series_recreated",
                pair.key,
                iso_week(now.astimezone(pair.manager.zone).date()),
                (manager,),
                why=who,
            )
        )

    # The whole series moved to another weekday or time: that is the pair's slot from now on.
    organizer_copy = trusted.get(manager)
    edit = series_edit(anchor, organizer_copy) if organizer_copy is not None else None
    if edit is not None:
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
        for week, record in list(state.records.items()):
            start = state.effective.regular_start(week)
            if record.people_changed or record.planned_start <= now or start <= now:
                continue
            state.records[week] = replace(
                record,
                regular_start=start,
                planned_start=start,
                planned_end=start + duration,
                reason=note,
            )
            changed += 1
        trusted.pop(manager)

    for record in record_observations(
        state.records, observe_pair(pair, anchor, state.records, trusted, names)
    ):
        state.records[record.week] = record
        changed += 1
    return changed


def _observe_makeups(
    state: _PairState,
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
    names: Mapping[str, str],
) -> int:
    """What people did to the pair's make-ups: a deleted or cancelled one is cancelled, a
    declined one declined, a moved one kept where they put it. Never undone."""
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
                if makeup.pending:
                    continue  # not written yet: the pass writes it
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


# --------------------------------------------------------------------------- make-ups


def _book_makeups(
    org: Org,
    states: Mapping[str, _PairState],
    reads: Mapping[str, CalendarRead],
    busy: Mapping[str, BusyCalendar],
    weeks: list[str],
    now: datetime,
) -> None:
    """A make-up later in the same week for each upcoming week people cancelled or declined
    (spec "Detecting what people did"); never two for one week, none in the close window,
    none when people already met on another day of that week."""
    horizon = set(weeks)
    taken: dict[str, dict[str, list[tuple[datetime, datetime]]]] = {}
    for state in states.values():
        for week, record in state.records.items():
            if week not in horizon:
                continue
            start, end, cancelled = expected_instance(record)
            if not cancelled:
                for email in (state.pair.manager.email, state.pair.rep.email):
                    taken.setdefault(week, {}).setdefault(email, []).append((start, end))
        for week, makeup in state.makeups.items():
            if makeup.state in MAKEUP_HAPPENS:
                for email in (state.pair.manager.email, state.pair.rep.email):
                    taken.setdefault(week, {}).setdefault(email, []).append(
                        (makeup.start, makeup.end)
                    )
    notice = timedelta(hours=org.schedule.makeup_notice_hours)
    for state in states.values():
        pair = state.effective
        for week, record in sorted(state.records.items()):
            if (
                week not in horizon
                or week in state.makeups
                or record.change not in ("cancelled", "declined")
                or record.away
                or _declined_whole_series(state)
            ):
                continue
            day = record.planned_start.astimezone(org.zone).date()
            if org.calendar.close_reason(day) is not None:
                continue
            own = _people_makeup(state, reads, week, org)
            if own is not None:
                state.makeups[week] = MakeupRecord(
                    pair_key=pair.key,
                    week=week,
                    uid=own.uid,
                    start=own.dtstart,
                    end=own.dtstart + own.duration,
                    state="people",
                    reason="people met on another day of the week",
                    pending=False,
                    fingerprint="",
                    created_at=now,
                    updated_at=now,
                )
                continue
            # Later than the 1:1 it makes up for, and with notice.
            earliest = max(now + notice, record.planned_end)
            found = find_makeup(
                pair, week, org.calendar, org.zone, busy, taken.get(week, {}), earliest
            )
            if found is None:
                continue
            end = found + pair.duration
            was = describe_slot(record.planned_start, pair.manager.zone)
            state.makeups[week] = MakeupRecord(
                pair_key=pair.key,
                week=week,
                uid=makeup_uid(pair.manager.email, pair.rep.email, week),
                start=found.astimezone(pair.manager.zone),
                end=end.astimezone(pair.manager.zone),
                state="booked",
                reason=f"make-up for the 1:1 of {was}: {record.reason}",
                pending=True,
                fingerprint="",
                created_at=now,
                updated_at=now,
            )
            for email in (pair.manager.email, pair.rep.email):
                taken.setdefault(week, {}).setdefault(email, []).append((found, end))


def _declined_whole_series(state: _PairState) -> bool:
    """Someone declined the series itself (not one week): a make-up would be declined too."""
    for owner, copy in state.copies.items():
        if copy is not None and copy.partstats.get(owner, "").upper() == "DECLINED":
            return True
    return False


def _people_makeup(
    state: _PairState, reads: Mapping[str, CalendarRead], week: str, org: Org
) -> ObservedSeries | None:
    """A one-off meeting of exactly the pair that people put in ``week`` themselves."""
    people = {state.pair.manager.email, state.pair.rep.email}
    for meeting in reads[state.pair.manager.email].single_meetings:
        who = set(meeting.attendees) | ({meeting.organizer} if meeting.organizer else set())
        if who == people and iso_week(meeting.dtstart.astimezone(org.zone).date()) == week:
            return meeting
    return None


def _makeup_work(
    org: Org,
    state: _PairState,
    makeup: MakeupRecord,
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
) -> _MakeupWork | None:
    """The make-up's event and the copies that need writing; None when it is not ours to
    write (booked by people, or cancelled or declined by them)."""
    if makeup.state != "booked":
        return None
    pair = state.pair
    spec = SeriesSpec(
        uid=makeup.uid,
        pair_key=pair.key,
        summary=f"{org.title(pair)} (make-up)",
        description=f"{makeup.reason}\n\nBooked by oneonone in place of the week's 1:1.",
        organizer_email=pair.manager.email,
        organizer_name=pair.manager.name,
        attendee_email=pair.rep.email,
        attendee_name=pair.rep.name,
        dtstart=makeup.start.astimezone(pair.manager.zone),
        duration=makeup.end - makeup.start,
        makeup_week=makeup.week,
    )
    spec = attach_single(spec, state.agendas.get((makeup.week, MAKEUP)))
    fingerprint = ical.fingerprint(spec)
    writes: list[tuple[Person, str]] = []
    for owner, copy_name in ((pair.manager, "organizer"), (pair.rep, "attendee")):
        if not writable.get(owner.email, False):
            continue
        copy = reads[owner.email].owned.get(makeup.uid)
        if copy is None or copy.fingerprint != fingerprint:
            writes.append((owner, copy_name))
    if makeup.fingerprint != fingerprint:
        state.makeups[makeup.week] = replace(makeup, fingerprint=fingerprint, pending=True)
        makeup = state.makeups[makeup.week]
    return _MakeupWork(pair, makeup, spec, writes) if writes or makeup.pending else None


# --------------------------------------------------------------------------- helpers


def _anchor(state: _PairState, now: datetime) -> SeriesRecord:
    """The series' rule: kept, or moved to the pair's (possibly edited) slot and duration."""
    pair, existing, records = state.effective, state.anchor, state.records
    first_week = min(records)
    person_slot = state.choice.to_json() if state.choice is not None else None
    seen_at = now if state.organizer_seen else (existing.seen_at if existing else None)
    if existing is None:
        template = SeriesRecord(
            pair_key=pair.key,
            uid=state.uid,
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
            seen_at=seen_at,
            person_slot=person_slot,
        )
        since = first_week
        if state.adopting is not None:
            since = min(
                since, iso_week(state.adopting.dtstart.astimezone(pair.manager.zone).date())
            )
        return replace(template, dtstart=rule_instance(template, since))
    reshaped = replace(
        existing,
        weekday=pair.slot.weekday,
        at_time=pair.slot.at,
        timezone=pair.manager.timezone,
        duration=pair.duration,
        until=None,
        seen_at=seen_at,
        person_slot=person_slot,
    )
    return replace(reshaped, dtstart=rule_instance(reshaped, min(first_week, _week_of(existing))))


def _changed(before: SeriesRecord | None, after: SeriesRecord) -> bool:
    """Whether saving ``after`` changes the ledger (``seen_at`` is saved on its own)."""
    if before is None:
        return True
    return replace(before, seen_at=None, updated_at=after.updated_at) != replace(
        after, seen_at=None
    )


def _week_of(anchor: SeriesRecord) -> str:
    return iso_week(anchor.dtstart.astimezone(ZoneInfo(anchor.timezone)).date())


def _adopt_reason(state: _PairState, names: Mapping[str, str]) -> str:
    assert state.adopting is not None
    start = state.adopting.dtstart.astimezone(state.pair.manager.zone)
    owner = state.adopting.organizer or state.pair.manager.email
    return (
        f"adopts {names.get(owner, owner)}'s existing weekly 1:1 "
        f"({describe_slot(start, state.pair.manager.zone)}) instead of adding a second one"
    )


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


def _description(state: _PairState, weeks: list[str]) -> str:
    pair, records = state.effective, state.records
    lines = [
        f"Weekly 1:1 of {pair.manager.name} and {pair.rep.name}, kept on the calendar by "
        "oneonone. Move, cancel or decline a single week as you need: the product never undoes "
        "what a person did.",
    ]
    if state.choice is not None and state.choice.note and state.effective is not state.pair:
        lines += ["", state.choice.note]
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
    state: _PairState,
    anchor: SeriesRecord,
    now: datetime,
    weeks: list[str],
    writable: Mapping[str, bool],
) -> _PairWork:
    pair, copies = state.effective, state.copies
    # An adopted event keeps the answers people gave it.
    answers = copies if state.adopting is None else {pair.manager.email: state.adopting}
    master, per_instance = _partstats(pair, answers)
    spec = series_spec(
        pair,
        anchor,
        state.records,
        summary=org.title(pair),
        description=_description(state, weeks),
        partstats=master,
        override_partstats=per_instance,
        choice=state.choice,
    )
    spec = attach_series(
        spec,
        {
            rule_instance(anchor, week): link
            for (week, kind), link in state.agendas.items()
            if kind == SERIES
        },
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
        if not writable.get(owner.email, False):
            continue  # a read-only calendar (a published feed): the person gets the ICS feed
        copy = copies.get(owner.email)
        if copy is None or copy.fingerprint != fingerprint or copy.sequence != anchor.sequence:
            writes.append((owner, copy_name))
    return _PairWork(pair, anchor, state.records, replace(spec, sequence=anchor.sequence), writes)


def _end_work(
    org: Org,
    anchor: SeriesRecord,
    records: Mapping[str, OccurrenceRecord],
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
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
        if person.email in reads and writable.get(person.email, False)
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
