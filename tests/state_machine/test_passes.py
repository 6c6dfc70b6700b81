"""Whole passes under random people, failures and kills (issue "People win, even when things
fail"): a hypothesis ``RuleBasedStateMachine`` over the example org on vdir.

People edit their own copies the way calendar clients do (move, cancel, decline a week; delete
or move a whole series; a busy meeting that makes the product move a week); passes run at
random times, some with every write failing (a full disk), some with a person's edit landing
between the pass's read and its write, some killed part-way (after some calendar writes, or
while the ledger records them), after which the process restarts. After every pass:

- **no person's edit is undone**: each copy a person edited still shows their latest edit of
  that week (a moved week where they put it, a cancelled week gone, a declined week declined);
- **no duplicates**: one object per UID per calendar, one series per pair per calendar, and no
  week of a pair with two live sessions (a make-up only beside a cancelled or declined week);

and after every pass that finished without failures:

- **the ledger matches the calendars**: an ``upcoming`` week is on the organizer's calendar at
  the ledger's start, a ``close_week`` or ``cancelled`` week is not there live, a ``made_up``
  week has its make-up;
- **a second pass writes nothing**.

``HYPOTHESIS_PROFILE=long`` (tests/conftest.py) runs many more and longer sequences.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
)
from icalendar import Calendar, Component

from scheduler.domain.series import utc
from scheduler.providers import vdir
from scheduler.providers.base import WriteJob
from scheduler.providers.vdir import VdirProvider
from scheduler.store.ledger import Ledger
from scheduler.sync import PassResult
from tests.system.world import VdirWorld

pytestmark = pytest.mark.slow

NY = ZoneInfo("America/New_York")  # the example org's zone: weeks are counted in it
START = datetime(2027, 1, 4, 7, 0, tzinfo=NY)  # Monday of 2027-W01; W04 is a close week
#: the pairs people edit (all eight are planned): same zone, London rep, Chicago manager
PAIRS = [("marco", "ana"), ("marco", "liam"), ("vera", "dana")]
ADVANCES = [timedelta(hours=h) for h in (1, 5, 26, 72, 168)]


class Killed(BaseException):
    """The process dies here (not an ``Exception``: nothing in the product may catch it)."""


@dataclass(frozen=True)
class Edit:
    """A person's latest edit of one week, in their own copy."""

    kind: str  # "moved" | "cancelled" | "declined"
    start: datetime | None = None  # where a moved week now starts (UTC)


def _live(event: Component) -> bool:
    return str(event.get("STATUS", "")).upper() != "CANCELLED"


def _declined_by(event: Component) -> set[str]:
    attendees = event.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    return {
        str(a).lower().removeprefix("mailto:")
        for a in attendees
        if str(a.params.get("PARTSTAT", "")).upper() == "DECLINED"
    }


def _rid(event: Component) -> datetime:
    """The instance's original start (what RECURRENCE-ID names), UTC."""
    if "RECURRENCE-ID" in event:
        return utc(event.decoded("RECURRENCE-ID"))
    return utc(event.decoded("DTSTART"))


def _week_of(moment: datetime) -> str:
    year, week, _ = moment.astimezone(NY).isocalendar()
    return f"{year}-W{week:02d}"


def _week_span(week: str) -> tuple[datetime, datetime]:
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    start = datetime.combine(monday, datetime.min.time(), NY)
    return start, start + timedelta(days=7)


def _instances(path: Path, first: datetime, last: datetime) -> list[Component]:
    """Every instance of the series in ``path`` that an RFC 5545 reader puts between ``first``
    and ``last``, cancelled overrides included (``STATUS:CANCELLED``)."""
    if not path.exists():
        return []
    calendar = Calendar.from_ical(path.read_bytes())
    return list(recurring_ical_events.of(calendar).between(first, last))


def _instance_by_rid(path: Path, rid: datetime) -> Component | None:
    """The instance whose original start is ``rid`` (moved anywhere within a day of it)."""
    for event in _instances(path, rid - timedelta(days=2), rid + timedelta(days=2)):
        if _rid(event) == rid:
            return event
    return None


class PassesMachine(RuleBasedStateMachine):
    """The example org on vdir, driven by random people, failures and kills."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="oneonone-machine-"))
        self.world = VdirWorld(self.tmp / "org")
        self.now = START
        #: (pair index, week, owner) -> that person's latest edit of that week
        self.edits: dict[tuple[int, str, str], Edit] = {}
        #: (pair index, week, owner) -> what that person did to their copy of the make-up
        self.makeup_edits: dict[tuple[int, str, str], Edit] = {}
        #: pair index -> (weekday, time) a manager moved the whole series to
        self.series_moves: dict[int, tuple[int, str]] = {}
        #: what the next pass meets: None, "full_disk", "race", ("kill", n), "kill_record"
        self.trouble: Any = None
        #: edits no pass has read yet, as (pair index, week, owner)
        self.unseen: set[tuple[int, str, str]] = set()
        self.busy = 0

    def teardown(self) -> None:
        self.world.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ the world's names

    def _emails(self, index: int) -> tuple[str, str]:
        manager, rep = PAIRS[index]
        return self.world.email(manager), self.world.email(rep)

    def _owner(self, index: int, who: int) -> str:
        return PAIRS[index][who]

    def _copy(self, index: int, owner: str) -> Path:
        manager, rep = PAIRS[index]
        return self.world.series(owner, manager, rep)

    def _future_instances(self, index: int, owner: str) -> list[Component]:
        """Live instances of ``owner``'s copy from an hour from now to the horizon."""
        first = self.now + timedelta(hours=1)
        found = _instances(self._copy(index, owner), first, first + timedelta(weeks=6))
        return [e for e in found if _live(e) and utc(e.decoded("DTSTART")) > utc(first)]

    def _pick(self, index: int, owner: str, choice: int) -> Component | None:
        found = self._future_instances(index, owner)
        return found[choice % len(found)] if found else None

    def _record(self, index: int, rid: datetime, owner: str, edit: Edit) -> None:
        week = _week_of(rid)
        manager = PAIRS[index][0]
        if owner != manager and (index, week, manager) in self.unseen:
            # Both copies edited the week since a pass last read them: the organizer's copy
            # rules (spec), whichever edit came first.
            return
        self.unseen.add((index, week, owner))
        # The latest edit of a week wins: the other copy's earlier edit may be replaced by it.
        for key in [k for k in self.edits if k[0] == index and k[1] == week]:
            del self.edits[key]
        self.edits[(index, week, owner)] = edit

    # ------------------------------------------------------------------ setup

    @initialize()
    def first_pass(self) -> None:
        self._pass()

    # ------------------------------------------------------------------ people

    @rule(
        index=st.integers(0, len(PAIRS) - 1),
        who=st.integers(0, 1),
        choice=st.integers(0, 10),
        hours=st.sampled_from([-1, 1, 2, 3]),
    )
    def person_moves_a_week(self, index: int, who: int, choice: int, hours: int) -> None:
        owner = self._owner(index, who)
        event = self._pick(index, owner, choice)
        if event is None:
            return
        rid = _rid(event)
        new_start = utc(event.decoded("DTSTART")) + timedelta(hours=hours)
        if _week_of(new_start) != _week_of(rid) or new_start <= utc(self.now):
            return  # people move a week within its day here
        manager, rep = PAIRS[index]
        self.world.move_instance(owner, manager, rep, rid, new_start)
        self._record(index, rid, owner, Edit("moved", new_start))

    @rule(
        index=st.integers(0, len(PAIRS) - 1),
        who=st.integers(0, 1),
        choice=st.integers(0, 10),
        how=st.sampled_from(["exdate", "status-cancelled"]),
    )
    def person_cancels_a_week(self, index: int, who: int, choice: int, how: str) -> None:
        owner = self._owner(index, who)
        event = self._pick(index, owner, choice)
        if event is None:
            return
        rid = _rid(event)
        manager, rep = PAIRS[index]
        self.world.cancel_instance(owner, manager, rep, rid, how)
        self._record(index, rid, owner, Edit("cancelled"))

    @rule(index=st.integers(0, len(PAIRS) - 1), who=st.integers(0, 1), choice=st.integers(0, 10))
    def person_declines_a_week(self, index: int, who: int, choice: int) -> None:
        owner = self._owner(index, who)
        event = self._pick(index, owner, choice)
        if event is None:
            return
        rid = _rid(event)
        manager, rep = PAIRS[index]
        self.world.decline_instance(owner, manager, rep, rid)
        self._record(index, rid, owner, Edit("declined"))

    @rule(index=st.integers(0, len(PAIRS) - 1), who=st.integers(0, 1))
    def person_deletes_the_series(self, index: int, who: int) -> None:
        owner = self._owner(index, who)
        path = self._copy(index, owner)
        if not path.exists():
            return
        path.unlink()
        # The series comes back (the spec) as the ledger knows it: the weeks people moved or
        # cancelled stay so; a week's answer (a decline) lived in the deleted copy only.
        # Edits no pass read yet went with the deleted copy (the person's own doing).
        for key in [k for k in self.edits if k[0] == index and k[2] == owner]:
            if self.edits[key].kind == "declined" or who == 1 or key in self.unseen:
                del self.edits[key]
        if who == 0:
            self.series_moves.pop(index, None)

    @rule(index=st.integers(0, len(PAIRS) - 1), days=st.sampled_from([1, 2]))
    def manager_moves_the_series(self, index: int, days: int) -> None:
        manager, rep = PAIRS[index]
        path = self._copy(index, manager)
        if not path.exists():
            return
        master = next(
            e for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT") if "RRULE" in e
        )
        start: datetime = master.decoded("DTSTART")
        new_start = start + timedelta(days=days)
        if new_start.weekday() > 4:
            return
        self.world.move_series(manager, manager, rep, new_start)
        self.series_moves[index] = (new_start.weekday(), f"{new_start:%H:%M}")
        # The manager's client moved the weeks ahead that were moved along (their own moves
        # and the rep's, which the product had copied there): the organizer's word is latest.
        shift = new_start - start
        for (pair, week, owner), edit in list(self.edits.items()):
            if pair != index or edit.kind != "moved" or edit.start is None:
                continue
            if edit.start <= utc(self.now):
                continue  # a week that is history stays as it was
            del self.edits[(pair, week, owner)]
            if owner == manager:
                self.edits[(pair, week, owner)] = Edit("moved", edit.start + shift)

    @rule(
        index=st.integers(0, len(PAIRS) - 1),
        who=st.integers(0, 1),
        how=st.sampled_from(["decline", "delete", "move"]),
    )
    def person_edits_a_makeup(self, index: int, who: int, how: str) -> None:
        """A make-up ahead, declined, deleted or (by the manager) moved an hour later."""
        manager, rep = PAIRS[index]
        owner = PAIRS[index][who]
        for week in self._weeks_around()[3:]:
            path = self.world.makeup(owner, manager, rep, week)
            if not path.exists() or (index, week, owner) in self.makeup_edits:
                continue
            [event] = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
            start = utc(event.decoded("DTSTART"))
            if start <= utc(self.now) + timedelta(hours=1) or not _live(event):
                continue
            if how == "decline":
                self.world.decline_makeup(owner, manager, rep, week)
                self.makeup_edits[(index, week, owner)] = Edit("declined")
            elif how == "delete":
                path.unlink()
                self.makeup_edits[(index, week, owner)] = Edit("cancelled")
            elif owner == manager:
                moved = start + timedelta(hours=1)
                _move_event(path, moved)
                self.makeup_edits[(index, week, owner)] = Edit("moved", moved)
            return

    @rule(index=st.integers(0, len(PAIRS) - 1), choice=st.integers(0, 10))
    def manager_gets_busy(self, index: int, choice: int) -> None:
        """A customer call on top of a week: the product may move that week."""
        manager, _rep = PAIRS[index]
        event = self._pick(index, manager, choice)
        if event is None:
            return
        start = event.decoded("DTSTART")
        self.busy += 1
        self.world.add_event(
            manager, f"busy-{self.busy}", start, start + timedelta(hours=1), "Call"
        )

    # ------------------------------------------------------------------ trouble and time

    @rule(
        trouble=st.one_of(
            st.sampled_from(["full_disk", "race", "kill_record"]),
            st.tuples(st.just("kill"), st.integers(0, 6)),
        )
    )
    def trouble_ahead(self, trouble: Any) -> None:
        self.trouble = trouble

    @rule(advance=st.sampled_from(ADVANCES))
    def time_passes(self, advance: timedelta) -> None:
        self.now += advance
        self._pass()

    @rule()
    def a_pass_now(self) -> None:
        self.now += timedelta(minutes=5)
        self._pass()

    # ------------------------------------------------------------------ a pass and its checks

    def _pass(self) -> None:
        trouble, self.trouble = self.trouble, None
        self.unseen.clear()  # every pass reads the calendars before anything can fail
        result: PassResult | None = None
        with _Trouble(self, trouble) as troubled:
            try:
                result = self.world.sync(self.now)
            except Killed:
                result = None
        self._check_edits_kept()
        self._check_makeup_edits_kept()
        self._check_series_moves_kept()
        self._check_no_duplicates()
        if result is None:
            self.world.restart()  # the process died: a new one reads everything afresh
            return
        if troubled or result.problems or result.conflicts:
            return
        self._check_ledger_matches_calendars()
        again = self.world.sync(self.now)
        assert again.written == 0, ("a second pass wrote", again.changes, again.problems)
        assert again.changes == [], again.changes
        assert not again.conflicts, again.conflicts

    def _check_edits_kept(self) -> None:
        for (index, week, owner), edit in self.edits.items():
            path = self._copy(index, owner)
            if not path.exists():
                continue  # deleted by a person since: recreated by the next clean pass
            first, last = _week_span(week)
            found = [e for e in _instances(path, first, last) if _week_of(_rid(e)) == week]
            live = [e for e in found if _live(e)]
            where = f"{owner}'s copy of {PAIRS[index]} in {week}"
            if edit.kind == "moved":
                starts = [utc(e.decoded("DTSTART")) for e in live]
                assert starts == [edit.start], f"{where}: moved to {edit.start}, shows {starts}"
            elif edit.kind == "cancelled":
                assert not live, f"{where}: cancelled, shows {live}"
            else:
                email = self.world.email(owner)
                assert all(email in _declined_by(e) for e in live), f"{where}: declined, not now"

    def _check_makeup_edits_kept(self) -> None:
        for (index, week, owner), edit in self.makeup_edits.items():
            manager, rep = PAIRS[index]
            path = self.world.makeup(owner, manager, rep, week)
            where = f"{owner}'s copy of the make-up of {PAIRS[index]} in {week}"
            if edit.kind == "cancelled":
                assert not path.exists(), f"{where}: deleted, is back"
                continue
            assert path.exists(), f"{where}: gone"
            [event] = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
            if edit.kind == "declined":
                assert self.world.email(owner) in _declined_by(event), f"{where}: not declined"
            else:
                assert utc(event.decoded("DTSTART")) == edit.start, f"{where}: not moved"

    def _check_series_moves_kept(self) -> None:
        for index, (weekday, at) in self.series_moves.items():
            path = self._copy(index, PAIRS[index][0])
            if not path.exists():
                continue
            master = next(
                e for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT") if "RRULE" in e
            )
            start: datetime = master.decoded("DTSTART")
            assert (start.weekday(), f"{start:%H:%M}") == (weekday, at), (
                f"{PAIRS[index]}: the manager moved the series to {weekday} {at}, it is {start}"
            )

    def _check_no_duplicates(self) -> None:
        for person in self.world.org.people:
            folder = self.world.folder(person)
            uids: dict[str, str] = {}
            series_of: dict[str, str] = {}
            for path in sorted(folder.glob("*.ics")):
                calendar = Calendar.from_ical(path.read_bytes())
                events = list(calendar.walk("VEVENT"))
                uid = str(events[0]["UID"])
                assert uid not in uids, f"{person}: {uid} in {uids.get(uid)} and {path.name}"
                uids[uid] = path.name
                master = next((e for e in events if "RECURRENCE-ID" not in e), events[0])
                pair = master.get("X-ONEONONE-PAIR")
                if pair is not None and "RRULE" in master:
                    assert str(pair) not in series_of, f"{person}: two series of {pair}"
                    series_of[str(pair)] = path.name
        for index in range(len(PAIRS)):
            for week in self._weeks_around():
                sessions = self._live_sessions(index, week)
                assert len(sessions) <= 1, f"{PAIRS[index]} {week}: {sessions}"

    def _weeks_around(self) -> list[str]:
        return [_week_of(self.now + timedelta(weeks=n)) for n in range(-3, 7)]

    def _live_sessions(self, index: int, week: str) -> list[str]:
        """The pair's sessions in ``week`` nobody cancelled or declined, as the organizer's
        calendar and the rep's copy show them."""
        manager, rep = PAIRS[index]
        manager_email, rep_email = self._emails(index)
        first, last = _week_span(week)
        # The organizer's copy says which instances there are (a copy not yet rewritten after
        # a whole-series move still shows the old ones); either copy can decline one.
        answers: dict[datetime, set[str]] = {}
        for owner in (manager, rep):
            for event in _instances(self._copy(index, owner), first, last):
                if _week_of(_rid(event)) != week:
                    continue
                if owner == manager:
                    answers.setdefault(_rid(event), set()).update(
                        {"x"} if not _live(event) else set()
                    )
                declined = _declined_by(event) & {manager_email, rep_email}
                if declined and _rid(event) in answers:
                    answers[_rid(event)].update(declined)
        sessions = [f"series {rid:%a %H:%M}" for rid, no in answers.items() if not no]
        makeup = self.world.makeup(manager, manager, rep, week)
        if makeup.exists():
            [event] = [e for e in Calendar.from_ical(makeup.read_bytes()).walk("VEVENT")]
            rep_copy = self.world.makeup(rep, manager, rep, week)
            rep_declined = rep_copy.exists() and any(
                rep_email in _declined_by(e)
                for e in Calendar.from_ical(rep_copy.read_bytes()).walk("VEVENT")
            )
            if _live(event) and not _declined_by(event) and not rep_declined:
                sessions.append(f"make-up {event.decoded('DTSTART'):%a %H:%M}")
        return sessions

    def _check_ledger_matches_calendars(self) -> None:
        """Each week the ledger holds (from three weeks back) is what both copies show."""
        occurrences = self.world.ledger.occurrences()
        makeups = self.world.ledger.makeups()
        for key, weeks in occurrences.items():
            manager_email, rep_email = key.split("/")
            manager, rep = manager_email.split("@")[0], rep_email.split("@")[0]
            copies = {who: self.world.series(who, manager, rep) for who in (manager, rep)}
            for week, record in weeks.items():
                first, last = _week_span(week)
                if last <= self.now - timedelta(weeks=3) or record.away:
                    continue
                where = f"{key} {week} ({record.plan_status}, {record.change or 'untouched'})"
                for who, path in copies.items():
                    found = [e for e in _instances(path, first, last) if _week_of(_rid(e)) == week]
                    live = [e for e in found if _live(e)]
                    starts = [utc(e.decoded("DTSTART")) for e in live]
                    if record.change == "cancelled" or (
                        record.plan_status == "close_week" and not record.change
                    ):
                        assert not live, f"{where}: {who}'s copy shows {starts}"
                    elif record.change == "moved":
                        assert record.actual_start is not None
                        assert starts == [utc(record.actual_start)], f"{where}: {who}: {starts}"
                    elif record.change == "declined":
                        declined = set().union(*(_declined_by(e) for e in found))
                        assert {manager_email, rep_email} & declined or not live, (
                            f"{where}: {who}'s copy shows nobody declined"
                        )
                    elif not record.change and record.plan_status != "time_off":
                        planned = utc(record.planned_start)
                        assert starts == [planned], f"{where}: {who}: {starts} not {planned}"
            for week, makeup in makeups.get(key, {}).items():
                if makeup.state != "booked":
                    continue
                path = self.world.makeup(manager, manager, rep, week)
                assert path.exists(), f"{key} {week}: a booked make-up is not on the calendar"
                [event] = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
                assert utc(event.decoded("DTSTART")) == utc(makeup.start), f"{key} {week}"


def _move_event(path: Path, new_start: datetime) -> None:
    """Move a single event, keeping its length (a person dragging it in their client)."""
    calendar = Calendar.from_ical(path.read_bytes())
    [event] = list(calendar.walk("VEVENT"))
    length = event.decoded("DTEND") - event.decoded("DTSTART")
    for key, value in (("DTSTART", new_start), ("DTEND", new_start + length)):
        del event[key]
        event.add(key, value)
    path.write_bytes(calendar.to_ical())


class _Trouble:
    """Patches the product for one pass: failing, raced or killed writes."""

    def __init__(self, machine: PassesMachine, trouble: Any) -> None:
        self.machine = machine
        self.trouble = trouble
        self.patch = pytest.MonkeyPatch()

    def __enter__(self) -> bool:
        trouble, patch, world = self.trouble, self.patch, self.machine.world
        if trouble == "full_disk":

            def full_disk(*_args: object, **_kwargs: object) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            patch.setattr(vdir, "write_atomically", full_disk)
        elif trouble == "race":
            real_many = VdirProvider.write_many
            machine = self.machine

            def person_edits_first(self: VdirProvider, jobs: Sequence[WriteJob]) -> list[object]:
                # A person's client saves an edit just after the pass read the calendars.
                for index, (manager, _rep) in enumerate(PAIRS):
                    if self.path == world.folder(manager):
                        machine.person_moves_a_week(index, 0, 1, 1)
                        break
                return list(real_many(self, jobs))

            patch.setattr(VdirProvider, "write_many", person_edits_first)
        elif trouble == "kill_record":
            real_save = Ledger.save_copy

            def killed_while_recording(self: Ledger, record: Any) -> None:
                real_save(self, record)
                raise Killed

            patch.setattr(Ledger, "save_copy", killed_while_recording)
        elif isinstance(trouble, tuple):
            real_write = vdir.write_atomically
            left = [trouble[1]]

            def killed_after_some(*args: Any, **kwargs: Any) -> Any:
                if left[0] == 0:
                    raise Killed
                left[0] -= 1
                return real_write(*args, **kwargs)

            patch.setattr(vdir, "write_atomically", killed_after_some)
        return trouble is not None

    def __exit__(self, *_exc: object) -> None:
        self.patch.undo()


TestPasses = PassesMachine.TestCase
#: CI and dev: about half a minute on one core. ``HYPOTHESIS_PROFILE=long``: many more and
#: longer sequences (the figures can be raised further with MACHINE_EXAMPLES / MACHINE_STEPS).
_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
TestPasses.settings = settings(
    settings(),
    max_examples=int(os.environ.get("MACHINE_EXAMPLES", 150 if _LONG else 6)),
    stateful_step_count=int(os.environ.get("MACHINE_STEPS", 40 if _LONG else 18)),
)


def test_a_decline_outlives_both_copies_deleted() -> None:
    """Found by the machine (seed 7): Marco declines a week of marco/liam and gets a make-up;
    then both copies of the series are deleted. The recreated series must still say Marco
    declined that week (the ledger keeps who declined), or the calendars show the week's
    instance and its make-up as two live sessions."""
    machine = PassesMachine()
    try:
        machine.first_pass()
        machine.manager_gets_busy(choice=6, index=1)
        machine.manager_moves_the_series(days=1, index=1)
        machine.person_declines_a_week(choice=7, index=2, who=0)
        machine.a_pass_now()
        machine.manager_moves_the_series(days=2, index=1)
        machine.person_declines_a_week(choice=5, index=1, who=0)
        machine.manager_moves_the_series(days=2, index=0)
        machine.manager_moves_the_series(days=1, index=0)
        machine.a_pass_now()
        machine.person_deletes_the_series(index=1, who=0)
        machine.manager_moves_the_series(days=2, index=0)
        machine.person_deletes_the_series(index=1, who=1)
        machine.a_pass_now()
    finally:
        machine.teardown()
