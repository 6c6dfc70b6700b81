"""Carry out a ``PassPlan``: the ledger first, then the calendars, then the notices.

I/O: the ledger, the calendars (through the snapshot's providers), the notice channels. The
order makes a pass killed anywhere harmless, and the next pass finishes the job:

1. the ledger's records and the notices they call for are committed in one transaction, each
   changed series and make-up marked ``pending`` (what may still need writing);
2. each calendar's series go in one ``write_many``, then its make-ups in another, each write
   conditional on the version the pass read: a person's edit that landed since the read wins
   (``ConflictError``; it is read next pass), a failed write leaves the copy as it was, and a
   make-up waits while its series there could not be written;
3. for every write that succeeded, the copy's new version and what it holds are recorded (an
   attendee copy the server keeps follows its organizer's write), and ``pending`` cleared
   where every copy was written;
4. the notices recorded (by this pass or by one that did not finish) are sent.

A stopped plan (a safety stop) is never given here.

Exports: Applied, apply_plan.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.engine.decide import CopyWrite, PassPlan
from scheduler.engine.snapshot import Snapshot
from scheduler.errors import CalendarError, ConflictError, UserError
from scheduler.notices import claim, deliver
from scheduler.notify import mailer_for, slack_for
from scheduler.orgfile import Org
from scheduler.providers.base import CalendarProvider, Written
from scheduler.store.ledger import CopyRecord, Ledger

__all__ = ["Applied", "apply_plan"]

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What applying a plan did."""

    written: int = 0
    notices_decided: int = 0
    notices_sent: int = 0
    problems: list[str] = field(default_factory=list)
    #: writes refused because a person changed the object since the pass read it
    conflicts: list[str] = field(default_factory=list)


def apply_plan(
    org: Org,
    ledger: Ledger,
    snapshot: Snapshot,
    plan: PassPlan,
    env: Mapping[str, str] | None = None,
) -> Applied:
    assert not plan.stopped, "a stopped pass writes nothing"
    applied = Applied()
    environment = os.environ if env is None else env
    now = plan.now
    try:
        slack = slack_for(org, environment)
    except UserError as error:
        # A broken Slack setting must not stop the calendars: said, and mail still goes.
        applied.problems.extend(error.problems)
        slack = None

    # 1. the ledger, and the notices decided with it.
    with ledger.transaction():
        for pair in plan.pairs:
            ledger.upsert_pair(pair.manager.email, pair.rep.email, pair.skip_level, now)
        ledger.save_occurrences(plan.occurrences, now)
        ledger.save_series_many(plan.series)
        ledger.mark_seen(plan.seen, now)
        for makeup in plan.makeups:
            ledger.save_makeup(makeup)
        for key in plan.ended:
            ledger.end_pair(key, now)
        decided = claim(ledger, plan.notices, org, now, slack=slack is not None)
        applied.notices_decided += sum(decided)
        ledger.set_state("last_pass", now.isoformat())

    # 2. the calendars, series then make-ups; a replica that lost the pass lease
    # since the ledger commit writes none (``scheduler.store.lease``).
    if plan.writes:
        ledger.check_fence()
    outcomes = _write(snapshot, plan.writes)
    mirrors = _mirrors(snapshot, plan.writes)

    # 3. what reached the calendars.
    failed: set[tuple[str, str, str | None]] = set()
    seen: list[str] = []
    copies: list[CopyRecord] = []
    for index, (item, outcome) in enumerate(zip(plan.writes, outcomes, strict=True)):
        organizer = mirrors.get(index)
        if organizer is not None:
            kept = outcomes[organizer]
            if isinstance(kept, CalendarError):
                # The server keeps this copy in step with the organizer's, whose write failed
                # (its problem is told once, there): the copy holds what the organizer's does,
                # not this write, so no record says it does.
                failed.add((item.pair_key, item.kind, item.week))
                continue
            if isinstance(outcome, Written):
                # The copy is the organizer's object, read at its version: the record says so,
                # so that it is "untouched" exactly when the organizer's is.
                outcome = Written(outcome.changed, kept.version)
        what = "the make-up's " if item.kind == "makeup" else "the "
        if isinstance(outcome, ConflictError):
            failed.add((item.pair_key, item.kind, item.week))
            applied.conflicts.append(f"{what}{item.copy} copy of {item.pair_key}: {outcome}")
            continue
        if isinstance(outcome, CalendarError):
            failed.add((item.pair_key, item.kind, item.week))
            applied.problems.append(
                f"could not write {what}{item.copy} copy of {item.pair_key}: {outcome}"
            )
            continue
        applied.written += outcome.changed
        if item.kind != "makeup" and item.copy == "organizer":
            seen.append(item.pair_key)
        copies.append(_copy_record(item, outcome, now))
    done = [
        anchor.pair_key
        for anchor in plan.anchors
        if anchor.pending
        and (anchor.pair_key, "series", None) not in failed
        and (anchor.pair_key, "end", None) not in failed
    ]
    makeups_done = [
        (makeup.pair_key, makeup.week)
        for makeup in plan.makeup_records
        if makeup.pending and (makeup.pair_key, "makeup", makeup.week) not in failed
    ]
    copies.extend(plan.confirmed)
    if done or seen or makeups_done or copies:
        with ledger.transaction():
            ledger.clear_pending(dict.fromkeys(done))
            ledger.mark_seen(seen, now)
            ledger.clear_makeup_pending(makeups_done)
            ledger.save_copies(copies)
    for conflict in applied.conflicts:
        log.info("%s", conflict)

    # 4. the notices recorded, by this pass or by one that did not finish.
    try:
        mailer = mailer_for(org, environment)
    except UserError as error:
        applied.problems.extend(error.problems)
    else:
        sent, problems = deliver(ledger, mailer, slack, org.email.sender, now)
        applied.notices_sent += sent
        applied.problems.extend(problems)
    return applied


def _write(snapshot: Snapshot, writes: tuple[CopyWrite, ...]) -> list[Written | CalendarError]:
    """Each write's outcome, in order; each calendar's series in one ``write_many``, then its
    make-ups in another.

    A make-up waits while its pair's series on the same calendar could not be written (a
    person's edit raced the write, or it failed): the series there still shows the week the
    make-up replaces, and the two would read as two 1:1s in one week. It is written by the
    next pass, after the series."""
    outcomes: list[Written | CalendarError] = [Written(False, None)] * len(writes)
    grouped: dict[str, list[int]] = {}
    for index, item in enumerate(writes):
        grouped.setdefault(item.job.owner.email, []).append(index)
    for email, indexes in grouped.items():
        provider = snapshot.providers[email]
        series = [i for i in indexes if writes[i].kind != "makeup"]
        _write_many(provider, writes, series, outcomes)
        unwritten = {writes[i].pair_key for i in series if isinstance(outcomes[i], CalendarError)}
        makeups: list[int] = []
        for i in indexes:
            if writes[i].kind != "makeup":
                continue
            if writes[i].pair_key in unwritten:
                outcomes[i] = ConflictError(
                    "held back until the series on this calendar is written (next pass)"
                )
            else:
                makeups.append(i)
        _write_many(provider, writes, makeups, outcomes)
    return outcomes


def _mirrors(snapshot: Snapshot, writes: tuple[CopyWrite, ...]) -> dict[int, int]:
    """Each attendee copy's write that the server makes by itself from the organizer's
    (``Capabilities.keeps_attendee_copies``: Google, Microsoft 365), by index, with the index
    of the organizer's write of the same object."""
    organizers = {
        (item.job.spec.uid, item.job.owner.email.lower()): index
        for index, item in enumerate(writes)
    }
    found: dict[int, int] = {}
    for index, item in enumerate(writes):
        organizer = item.job.spec.organizer_email.lower()
        if organizer == item.job.owner.email.lower():
            continue
        if not snapshot.providers[item.job.owner.email].capabilities.keeps_attendee_copies:
            continue
        match = organizers.get((item.job.spec.uid, organizer))
        if match is not None:
            found[index] = match
    return found


def _write_many(
    provider: CalendarProvider,
    writes: tuple[CopyWrite, ...],
    indexes: list[int],
    outcomes: list[Written | CalendarError],
) -> None:
    if not indexes:
        return
    try:
        answers = provider.write_many([writes[i].job for i in indexes])
    except CalendarError as error:
        answers = [error] * len(indexes)
    for index, answer in zip(indexes, answers, strict=True):
        outcomes[index] = answer


def _copy_record(item: CopyWrite, outcome: Written, now: datetime) -> CopyRecord:
    return CopyRecord(
        uid=item.job.spec.uid,
        owner=item.job.owner.email,
        pair_key=item.pair_key,
        version=outcome.version,
        fingerprint=item.fingerprint,
        baseline=item.baseline or "{}",
        written_at=now,
    )
