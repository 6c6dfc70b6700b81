"""Make-ups: a later slot in the same week for each week people cancelled or declined.

Pure: no I/O, no clock. Books into the pass's ``PairState``s; ``makeup_work`` says what each
booked make-up needs written, each write conditional on the version read.

Exports: book_makeups, makeup_work, Target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from scheduler import ical
from scheduler.agenda.plan import MAKEUP, attach_single
from scheduler.domain import BusyCalendar, Person, iso_week, makeup_uid
from scheduler.domain.records import MakeupRecord
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec
from scheduler.domain.settings import Org
from scheduler.engine.observe import PairState
from scheduler.planner import describe_slot, find_makeup
from scheduler.reconcile import MAKEUP_HAPPENS, expected_instance

__all__ = ["Target", "book_makeups", "declined_whole_series", "makeup_work"]

#: One copy to write: its owner, "organizer" or "attendee", and the version it must replace
#: (``None``: it must not exist yet).
Target = tuple[Person, str, str | None]


def book_makeups(
    org: Org,
    states: Mapping[str, PairState],
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
                or declined_whole_series(state)
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


def declined_whole_series(state: PairState) -> bool:
    """Someone declined the series itself (not one week): a make-up would be declined too."""
    for owner, copy in state.copies.items():
        if copy is not None and copy.partstats.get(owner, "").upper() == "DECLINED":
            return True
    return False


def _people_makeup(
    state: PairState, reads: Mapping[str, CalendarRead], week: str, org: Org
) -> ObservedSeries | None:
    """A one-off meeting of exactly the pair that people put in ``week`` themselves."""
    people = {state.pair.manager.email, state.pair.rep.email}
    for meeting in reads[state.pair.manager.email].single_meetings:
        who = set(meeting.attendees) | ({meeting.organizer} if meeting.organizer else set())
        if who == people and iso_week(meeting.dtstart.astimezone(org.zone).date()) == week:
            return meeting
    return None


def makeup_work(
    org: Org,
    state: PairState,
    makeup: MakeupRecord,
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
) -> tuple[MakeupRecord, SeriesSpec, list[Target]] | None:
    """The make-up's event and the copies that need writing, each with the version it must
    replace; None when it is not ours to write (booked by people, or cancelled or declined by
    them) or nothing needs writing."""
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
    targets: list[Target] = []
    for owner, copy_name in ((pair.manager, "organizer"), (pair.rep, "attendee")):
        if not writable.get(owner.email, False):
            continue
        copy = reads[owner.email].owned.get(makeup.uid)
        if copy is None or copy.fingerprint != fingerprint:
            expect = (
                copy.version if copy is not None else reads[owner.email].damaged.get(makeup.uid)
            )
            targets.append((owner, copy_name, expect))
    if makeup.fingerprint != fingerprint:
        makeup = replace(makeup, fingerprint=fingerprint, pending=True)
        state.makeups[makeup.week] = makeup
    return (makeup, spec, targets) if targets or makeup.pending else None
