"""One reconcile pass: read, decide, then apply. The only module that wires the engine's I/O.

How a pass reads (``run_pass``, one screen):

1. a ledger that belongs to another org file is refused before anything is touched;
2. ``read_snapshot``: every person's calendar and the ledger, once;
3. ``decide_weeks``: safety checks, what people did, the plan, make-ups, settled weeks;
4. agendas: documents read back and the due ones written (only when the pass applies and is
   not stopped), so the series written in this pass link them;
5. ``decide_writes``: the frozen ``PassPlan``, every write (conditional on the version read),
   ledger record and notice the pass intends;
6. ``apply_plan``: ledger, calendars, notices; skipped by ``oneonone plan`` and by a stopped
   pass, which writes nothing at all.

Exports: run_pass, PassResult, Change, make_provider, google_session.
"""

from __future__ import annotations

import ctypes
import gc
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from scheduler.agenda.publish import PairAgendas, publish_agendas, settled_links
from scheduler.engine.apply import apply_plan
from scheduler.engine.decide import (
    Change,
    PassPlan,
    PlannedWeeks,
    decide_weeks,
    decide_writes,
    settled_needed,
    with_history,
)
from scheduler.engine.series import series_anchor, shown_weeks
from scheduler.engine.snapshot import (
    FULL_DAY,
    FULL_ROUND,
    Snapshot,
    foreign_ledger,
    google_session,
    make_provider,
    read_snapshot,
)
from scheduler.errors import UserError
from scheduler.escalation import Decision
from scheduler.orgfile import Org
from scheduler.planner import PlannedOccurrence
from scheduler.providers import microsoft365
from scheduler.store.files import remove_stale_temp_files
from scheduler.store.ledger import Ledger, _safe_url

__all__ = ["Change", "PassResult", "google_session", "make_provider", "run_pass"]

log = logging.getLogger(__name__)

#: data folder -> the day this process last swept its temp files (``_run_pass``)
_SWEPT: dict[str, str] = {}


@dataclass
class PassResult:
    now: datetime
    planned: list[PlannedOccurrence] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: why the pass stopped (it then wrote nothing); empty when it did not
    safety: list[str] = field(default_factory=list)
    #: writes refused because a person changed the object since it was read (read next pass)
    conflicts: list[str] = field(default_factory=list)
    written: int = 0
    observed_changes: int = 0
    #: the notices this pass's ledger calls for (each is sent once, whatever the passes)
    notices: list[Decision] = field(default_factory=list)
    notices_decided: int = 0
    notices_sent: int = 0
    #: agenda documents due this pass, written (new or recovered) and read back
    agendas_due: int = 0
    #: a dry run's documents due, as (pair key, week, day): what a pass would write
    agendas_planned: list[tuple[str, str, str]] = field(default_factory=list)
    agendas_written: int = 0
    agendas_read: int = 0
    #: the plan the pass decided (``None`` only for a pass refused before deciding)
    plan: PassPlan | None = None


def run_pass(
    org: Org,
    ledger: Ledger,
    now: datetime,
    *,
    apply: bool,
    force: bool = False,
    horizon_weeks: int | None = None,
    env: Mapping[str, str] | None = None,
    full_slice: int | None = None,
) -> PassResult:
    """One pass. With ``apply=False`` it is the dry run behind ``oneonone plan``: the same
    decisions, safety stop included, and nothing written.

    The day's first pass reads every pair whole (the daily full reconciliation); with
    ``full_slice`` (the daemon's) the day's first passes read that many pairs whole each,
    until every pair was (``scheduler.engine.snapshot.full_slice_of``).

    ``env`` holds the secrets the notice channels need (default: the process environment).
    Raises ``UserError`` for a ledger that belongs to another org file.
    """
    with _pass_heap():
        return _run_pass(org, ledger, now, apply, force, horizon_weeks, env, full_slice)


@contextmanager
def _pass_heap() -> Iterator[None]:
    """The objects alive when the pass begins (the read memos, caches, the org) kept out of
    Python's cycle collections during the pass (``gc.freeze``), and given back after it: a
    pass allocates hundreds of thousands of objects beside a memo of as many, and each
    collection they set off walked the memo too, an eighth of a steady pass (issue 17).
    What the pass leaves behind is collected before they are given back, and the heap it
    freed returned to the system."""
    gc.freeze()
    try:
        yield
    finally:
        # The pass's own cycles (parse trees, tracebacks), collected while the older objects
        # are still frozen, so the collection walks only what the pass made. Left to the
        # oldest generation, they waited for a full collection, which a heap of long-lived
        # memo entries makes rare: the daemon carried 16 MB of them at 90 pairs (issue 17).
        gc.collect()
        gc.unfreeze()
        _trim_heap()


def _load_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` on a C library without it (musl, macOS). Looked
    up among the symbols the process already has (``ctypes.util.find_library`` runs
    ``ldconfig``: 15 ms for every command that imports this module)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


_MALLOC_TRIM = _load_trim()


def _trim_heap() -> None:
    """Give the heap a pass freed back to the system: a pass's objects come and go by the
    hundred thousand, and glibc keeps what they freed in the middle of its heap for reuse.
    ``malloc_trim`` returns those free pages (4 of a year-old 90-pair daemon's 146 MB; the
    rest of its growth was the cycles ``_pass_heap`` now collects); it costs about a
    millisecond."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _run_pass(
    org: Org,
    ledger: Ledger,
    now: datetime,
    apply: bool,
    force: bool,
    horizon_weeks: int | None,
    env: Mapping[str, str] | None,
    full_slice: int | None,
) -> PassResult:
    # Before anything is read (reading a vdir calendar creates its folder): another org's
    # ledger is refused with nothing written.
    refused = foreign_ledger(
        org, {record.key: record for record in ledger.pairs()}, _safe_url(ledger.url)
    )
    if refused is not None:
        raise UserError(refused)
    if apply and _SWEPT.get(str(org.data_dir)) != now.date().isoformat():
        # Temp files of writes a killed pass left behind (see scheduler.store.files): by the
        # first pass of a process and of each day (a write sweeps its own folder too); every
        # pass walking every calendar's folder was a thirtieth of a steady pass.
        remove_stale_temp_files(
            org.data_dir,
            *(c.path for c in org.calendars.values() if c.provider == "vdir" and c.path),
        )
        _SWEPT[str(org.data_dir)] = now.date().isoformat()
    # People on Microsoft 365 whose entry sets no zone or hours: their mailbox settings.
    org = microsoft365.with_mailbox_settings(org, ledger, now, persist=apply)
    snapshot = read_snapshot(
        org, ledger, now, horizon_weeks=horizon_weeks, persist=apply, full_slice=full_slice
    )
    weeks = decide_weeks(org, snapshot, force=force)
    result = PassResult(now=now, problems=[*snapshot.problems, *weeks.problems])
    writing = apply and not weeks.safety
    _agendas(org, ledger, weeks, now, apply=writing, result=result)
    _settled_history(org, ledger, snapshot, weeks)
    plan = decide_writes(org, snapshot, weeks)
    # The decided weeks hold the settled records the series were written from (a year-old
    # 2,000-pair org: 44,000 records, 14 MB at the start of the writes); the writes need
    # the plan alone (issue 17).
    del weeks
    result.plan = plan
    result.planned = list(plan.planned)
    result.changes = list(plan.changes)
    result.safety = list(plan.safety_stop)
    result.observed_changes = plan.observed_changes
    result.notices = list(plan.decisions)
    if not writing:
        return result
    applied = apply_plan(org, ledger, snapshot, plan, env)
    result.written = applied.written
    result.notices_decided = applied.notices_decided
    result.notices_sent = applied.notices_sent
    result.problems.extend(applied.problems)
    result.conflicts = applied.conflicts
    if snapshot.full_day is not None:
        ledger.set_state(FULL_DAY, snapshot.full_day)
    elif snapshot.full_round is not None:
        ledger.set_state(FULL_ROUND, " ".join(snapshot.full_round))
    return result


def _settled_history(org: Org, ledger: Ledger, snapshot: Snapshot, weeks: PlannedWeeks) -> None:
    """The settled weeks (those before the record line) and their agenda links, of the
    windowed pairs that need them after all (``settled_needed``: the pass writes their
    series, or their notices reach back), read in one go for all of them: every week, or,
    for a pair whose series alone needs them, the weeks its series shows (``shown_weeks``)."""
    needed = settled_needed(org, snapshot, weeks)
    if not needed:
        return
    line = snapshot.record_line
    states = weeks.states
    shown: dict[str, set[str]] = {}
    for key, whole in needed.items():
        if not whole:
            state = states[key]
            found = shown_weeks(state, series_anchor(state, snapshot.now), line, weeks.writable)
            if found is not None:
                shown[key] = found
    every = [key for key in needed if key not in shown]
    settled = ledger.occurrences(every, before=line) if every else {}
    if shown:
        settled.update(ledger.occurrences_of(shown))
    pairs = [PairAgendas(states[key].pair, settled.get(key, {}), {}) for key in needed]
    # Only the series' links: the make-ups before the window are not the pass's.
    links = settled_links(org, ledger, pairs, snapshot.now, shown=shown.keys())
    with_history(
        weeks,
        {key: settled.get(key, {}) for key in needed},
        links,
        snapshot.now,
        snapshot.history_line,
        shown_only=shown.keys(),
    )


def _agendas(
    org: Org,
    ledger: Ledger,
    weeks: PlannedWeeks,
    now: datetime,
    *,
    apply: bool,
    result: PassResult,
) -> None:
    """Read back the agendas whose 1:1 ended, write the ones due (each once, recorded before
    it is written) and note what each pair's series and make-ups must link to; the weeks
    show their agenda's address and the reps get a ``prep`` notice. The logic is
    ``scheduler.agenda.plan``'s, the I/O ``scheduler.agenda.publish``'s; with ``apply=False``
    only what exists is linked."""
    states = weeks.states
    outcome = publish_agendas(
        org,
        ledger,
        [
            PairAgendas(s.pair, s.records, s.makeups, s.history_from, weeks.history_line)
            for s in states.values()
        ],
        now,
        apply=apply,
    )
    for key, state in states.items():
        state.agendas = outcome.links.get(key, {})
        for week, url in outcome.urls.get(key, {}).items():
            record = state.records.get(week)
            if record is not None and record.agenda != url:
                state.records[week] = replace(record, agenda=url)
    weeks.decisions.extend(outcome.decisions)
    result.problems.extend(outcome.problems)
    for warning in outcome.warnings:
        log.warning("%s", warning)
    result.agendas_due += outcome.due
    result.agendas_planned.extend((s.pair_key, s.week, s.day) for s in outcome.planned)
    result.agendas_written += outcome.written
    result.agendas_read += outcome.read
