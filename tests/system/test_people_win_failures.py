"""People win even when things fail (issue "People win, even when things fail"), on vdir.

The four failures the issue reproduced, each a regression test:
- a failed write followed by a person's edit, and an edit landing between a pass's read and its
  write: the person's edit stays, and is recorded;
- an emptied ledger: rebuilt from the calendars, keeping every override and EXDATE, SEQUENCE
  going on;
- another org's ledger: refused with exit 1, nothing written;
- a safety stop: ``plan`` shows it (exit 3, ``safety_stop`` in JSON) and ``sync`` writes nothing.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler import cli, clientedits, ical
from scheduler.domain.series import ObservedInstance, SeriesSpec, utc
from scheduler.errors import ConflictError, UserError
from scheduler.providers import vdir
from scheduler.providers.base import WriteJob
from scheduler.providers.vdir import VdirProvider
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 5, 8, 0, tzinfo=NY)  # Tuesday of W01; W04 is January's close week
MARCO, ANA = "marco@acme.example", "ana@acme.example"


def regular(week: int) -> datetime:
    """Marco and Ana's regular slot (Tuesday 10:00 New York) in 2027-W<week>."""
    return datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)


def instance_starts(path: Path, week: int) -> list[datetime]:
    """Where ``path``'s copy puts the 1:1 of 2027-W<week>, as an RFC 5545 reader expands it."""
    import recurring_ical_events

    monday = datetime(2027, 1, 4, tzinfo=NY) + timedelta(weeks=week - 1)
    found = recurring_ical_events.of(Calendar.from_ical(path.read_bytes())).between(
        monday, monday + timedelta(days=7)
    )
    return [utc(event.decoded("dtstart")) for event in found]


def observe_series(path: Path) -> dict[datetime, ObservedInstance]:
    """The overrides of the series in ``path``, by original start (UTC)."""
    observed = ical.observe(path.read_bytes(), str(path))
    assert observed is not None
    return dict(observed.overrides)


def sequence_of(path: Path) -> int:
    observed = ical.observe(path.read_bytes(), str(path))
    assert observed is not None
    return observed.sequence


@pytest.fixture
def world(tmp_path: Path) -> VdirWorld:
    made = VdirWorld(tmp_path / "org")
    yield made  # type: ignore[misc]
    made.close()


# --------------------------------------------------------------------------- failed writes


def test_an_edit_after_a_failed_write_is_kept_and_recorded(
    world: VdirWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sync(NOW)
    # Marco gets busy at W03's slot: the next pass moves W03 (a change to write) ...
    world.add_event("marco", "dentist", regular(3), regular(3) + timedelta(hours=1), "Dentist")

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    # ... but its writes fail: the disk is full.
    with monkeypatch.context() as patch:
        patch.setattr(vdir, "write_atomically", full_disk)
        failed = world.sync(NOW + timedelta(minutes=5))
    assert any("no space left" in problem for problem in failed.problems)
    # Before the next pass Marco moves W02 in his own client: one hour later.
    world.move_instance("marco", "marco", "ana", regular(2), regular(2) + timedelta(hours=1))

    world.sync(NOW + timedelta(minutes=10))

    for owner in ("marco", "ana"):
        path = world.series(owner, "marco", "ana")
        assert instance_starts(path, 2) == [utc(regular(2) + timedelta(hours=1))], owner
        assert instance_starts(path, 3) != [utc(regular(3))], owner  # the product's move went
    plan = {o.week: o for o in world.plan(NOW + timedelta(minutes=15)).planned if o.rep == ANA}
    assert plan["2027-W02"].status.value == "people_changed"
    again = world.sync(NOW + timedelta(minutes=20))
    assert again.written == 0 and again.changes == []


class Killed(BaseException):
    """The process dies here (a SIGKILL): nothing after this line of the pass runs."""


def test_a_first_pass_killed_before_any_write_is_finished_by_the_next(
    world: VdirWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger takes the new series before the calendars are written; killed in between,
    a manager's folder with no events of their own is empty. That is not "a calendar that
    suddenly reads empty" (nothing was ever written there): the next pass writes the series
    instead of stopping for safety (issue 12's replica kill test found this)."""

    def killed(*_args: object, **_kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(vdir, "write_atomically", killed)
        with pytest.raises(Killed):
            world.sync(NOW)
    world.restart()
    marco = world.folder("marco")
    assert not list(marco.glob("*.ics"))
    done = world.sync(NOW + timedelta(minutes=5))
    assert done.safety == [] and done.problems == []
    assert len(list(marco.glob("*.ics"))) == 4
    assert world.sync(NOW + timedelta(minutes=10)).written == 0


def test_an_edit_landing_between_the_read_and_the_write_wins(
    world: VdirWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sync(NOW)
    world.add_event("marco", "dentist", regular(3), regular(3) + timedelta(hours=1), "Dentist")
    real = VdirProvider.write_many

    def person_edits_first(self: VdirProvider, jobs: Sequence[WriteJob]) -> list[object]:
        # Marco's client saves his move of W05 just after the pass read his calendar.
        if self.path == world.folder("marco"):
            world.move_instance(
                "marco", "marco", "ana", regular(5), regular(5) + timedelta(hours=2)
            )
        return list(real(self, jobs))

    with monkeypatch.context() as patch:
        patch.setattr(VdirProvider, "write_many", person_edits_first)
        raced = world.sync(NOW + timedelta(minutes=5))
    assert raced.conflicts and "marco" in raced.conflicts[0]
    moved = utc(regular(5) + timedelta(hours=2))
    assert instance_starts(world.series("marco", "marco", "ana"), 5) == [moved]

    world.sync(NOW + timedelta(minutes=10))
    for owner in ("marco", "ana"):
        assert instance_starts(world.series(owner, "marco", "ana"), 5) == [moved], owner
    plan = {o.week: o for o in world.plan(NOW + timedelta(minutes=15)).planned if o.rep == ANA}
    assert plan["2027-W05"].status.value == "people_changed"


def test_a_conditional_write_never_replaces_a_changed_file(tmp_path: Path) -> None:
    world = VdirWorld(tmp_path / "org")
    try:
        world.sync(NOW)
        provider = VdirProvider(world.folder("marco"), NY)
        read = provider.read(world.org.people[MARCO], NOW, NOW + timedelta(days=7))
        [series] = [o for o in read.owned.values() if o.pair_key == f"{MARCO}/{ANA}"]
        world.move_instance("marco", "marco", "ana", regular(2), regular(2) + timedelta(hours=1))
        edited = world.series("marco", "marco", "ana").read_bytes()
        assert series.version is not None
        outcome = provider.write_many(
            [WriteJob(_spec_of(world, "marco"), world.org.people[MARCO], NOW, series.version)]
        )
        assert isinstance(outcome[0], ConflictError)
        assert world.series("marco", "marco", "ana").read_bytes() == edited
    finally:
        world.close()


def _spec_of(world: VdirWorld, owner: str) -> SeriesSpec:
    observed = ical.observe(world.series(owner, "marco", "ana").read_bytes(), "x")
    assert observed is not None
    return SeriesSpec(
        uid=observed.uid,
        pair_key=f"{MARCO}/{ANA}",
        summary="1:1",
        description="rewritten",
        organizer_email=MARCO,
        organizer_name="Marco",
        attendee_email=ANA,
        attendee_name="Ana",
        dtstart=observed.dtstart,
        duration=observed.duration,
    )


# --------------------------------------------------------------------------- a lost ledger


def test_an_emptied_ledger_is_rebuilt_from_the_calendars_keeping_history(
    world: VdirWorld,
) -> None:
    world.sync(NOW)
    world.move_instance("marco", "marco", "ana", regular(1), regular(1) + timedelta(hours=1))
    world.move_instance("ana", "marco", "ana", regular(3), regular(3) + timedelta(hours=2))
    world.cancel_instance("marco", "marco", "ana", regular(5))
    world.sync(NOW + timedelta(minutes=5))
    path = world.series("marco", "marco", "ana")
    sequence = sequence_of(path)
    makeups = world.makeup_uids("marco")
    assert makeups  # W05's make-up

    # Two weeks later the ledger is emptied (``: > data/state.db``) and the daemon restarts.
    later = NOW + timedelta(days=14)
    database = world.org.data_dir / "state.db"
    world.ledger.close()
    for leftover in database.parent.glob("state.db-*"):
        leftover.unlink()
    database.write_bytes(b"")
    world.restart()
    world.sync(later)

    for owner in ("marco", "ana"):
        copy = world.series(owner, "marco", "ana")
        # W01's move is history before the rebuilt weeks: still on the calendar as it was.
        assert instance_starts(copy, 1) == [utc(regular(1) + timedelta(hours=1))], owner
        assert instance_starts(copy, 3) == [utc(regular(3) + timedelta(hours=2))], owner
        assert instance_starts(copy, 4) == [], owner  # close week
        assert instance_starts(copy, 5) == [], owner  # Marco's cancel
    assert sequence_of(path) >= sequence
    assert world.makeup_uids("marco") == makeups  # no second make-up for W05
    statuses = world.statuses(later, "marco", "ana")
    assert statuses["2027-W03"] in ("upcoming", "moved")
    plan = {o.week: o for o in world.plan(later + timedelta(minutes=5)).planned if o.rep == ANA}
    assert plan["2027-W03"].status.value == "people_changed"
    assert plan["2027-W05"].status.value == "people_changed"
    again = world.sync(later + timedelta(minutes=10))
    assert again.written == 0 and again.changes == []


def test_an_emptied_ledger_keeps_past_weeks_as_people_left_them(world: VdirWorld) -> None:
    """The weeks before the rebuilt ones are rewritten as they were on the calendar: a week a
    person declined stays declined, and each week keeps its description and its agenda link
    (the rewrite put back only their times, so Ana's decline of W02 was undone)."""
    world.sync(NOW)  # W01's agenda is written and linked
    world.decline_instance("ana", "marco", "ana", regular(2))
    world.sync(NOW + timedelta(minutes=5))
    later = NOW + timedelta(days=28)
    world.sync(later)
    past = utc(later - timedelta(days=7))  # the rebuilt weeks start last week
    kept = {
        owner: {
            rid: (instance.start, instance.partstats, instance.description, instance.attachments)
            for rid, instance in observe_series(world.series(owner, "marco", "ana")).items()
            if rid < past
        }
        for owner in ("marco", "ana")
    }
    assert kept["ana"][utc(regular(2))][1][ANA] == "DECLINED"
    assert kept["marco"][utc(regular(1))][3]  # W01's agenda link

    database = world.org.data_dir / "state.db"
    world.ledger.close()
    for leftover in database.parent.glob("state.db-*"):
        leftover.unlink()
    database.write_bytes(b"")
    world.restart()
    assert world.sync(later + timedelta(minutes=5)).written  # rebuilt and rewritten

    for owner in ("marco", "ana"):
        now_shown = {
            rid: (instance.start, instance.partstats, instance.description, instance.attachments)
            for rid, instance in observe_series(world.series(owner, "marco", "ana")).items()
            if rid < past
        }
        assert now_shown == kept[owner], owner
    again = world.sync(later + timedelta(minutes=10))
    assert again.written == 0 and again.changes == []


def test_a_truncated_series_file_is_a_problem_not_a_deleted_series(world: VdirWorld) -> None:
    world.sync(NOW)
    path = world.series("marco", "marco", "ana")
    path.write_bytes(path.read_bytes()[:200])  # a sync tool died mid-copy
    result = world.sync(NOW + timedelta(minutes=5))
    assert any(path.name in problem for problem in result.problems)
    assert world.notices("series_recreated") == []
    assert "missed" not in world.statuses(NOW + timedelta(minutes=5), "marco", "ana").values()
    assert ical.observe(path.read_bytes(), str(path)) is not None  # the product's file wins


def test_a_stray_copy_under_another_name_never_moves_the_series(world: VdirWorld) -> None:
    world.sync(NOW)
    path = world.series("marco", "marco", "ana")
    stray = path.with_name("zz-stray-copy.ics")
    shutil.copy(path, stray)
    clientedits.move_instance(stray, regular(2), regular(2) + timedelta(hours=3))
    result = world.sync(NOW + timedelta(minutes=5))
    assert any(stray.name in problem for problem in result.problems)
    assert instance_starts(path, 2) == [utc(regular(2))]
    plan = {o.week: o for o in world.plan(NOW + timedelta(minutes=10)).planned if o.rep == ANA}
    assert plan["2027-W02"].status.value != "people_changed"


# --------------------------------------------------------------------------- another org's ledger


def test_another_orgs_ledger_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    theirs = VdirWorld(tmp_path / "theirs")
    theirs.sync(NOW)
    theirs.close()
    ours = tmp_path / "ours"
    ours.mkdir()
    text = (theirs.config).read_text().replace("acme.example", "other.example")
    (ours / "oneonone.toml").write_text(text)
    (ours / "data").mkdir()
    shutil.copy(theirs.org.data_dir / "state.db", ours / "data" / "state.db")

    code = cli.main(["sync", "--config", str(ours / "oneonone.toml"), "--now", NOW.isoformat()])
    assert code == 1
    assert sorted(p.name for p in (ours / "data").iterdir()) == ["oneonone.lock", "state.db"]
    world = VdirWorld(ours)
    try:
        with pytest.raises(UserError, match="belongs to another org"):
            world.sync(NOW)
        assert list((ours / "data").rglob("*.ics")) == []
    finally:
        world.close()


# --------------------------------------------------------------------------- safety stops


def test_plan_shows_a_safety_stop_and_sync_then_writes_nothing_at_all(
    world: VdirWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.sync(NOW)
    for file in world.folder("marco").glob("*.ics"):
        file.unlink()  # Marco's calendar suddenly reads empty
    world.add_event("dana", "offsite", regular(2), regular(2) + timedelta(hours=8), "Offsite")
    before = world.snapshot()
    rows_before = world.ledger.occurrences()
    args = ["--config", str(world.config), "--now", (NOW + timedelta(minutes=5)).isoformat()]

    assert cli.main(["plan", "--json", *args]) == 3
    shown = json.loads(capsys.readouterr().out)
    assert shown["safety_stop"] and "marco@acme.example" in shown["safety_stop"]

    assert cli.main(["sync", *args]) == 3
    assert world.snapshot() == before  # no calendar of anyone was written, Dana's included
    assert world.ledger.occurrences() == rows_before


# --------------------------------------------------------------------------- a whole series moved


def test_weeks_edited_before_a_series_move_keep_their_edits(world: VdirWorld) -> None:
    """Found by tests/state_machine: Marco cancels W03, Ana declines W06, then Marco moves the
    whole series a day later, all before the next pass. Marco's client moves his exceptions
    along; Ana's copy still answers the old Tuesday instance. Nobody moved any week, so no week
    is recorded as moved; W03 stays cancelled and W06 declined, at the new Wednesday slot."""
    world.sync(NOW)
    world.cancel_instance("marco", "marco", "ana", regular(3))
    world.decline_instance("ana", "marco", "ana", regular(6))
    world.move_series("marco", "marco", "ana", regular(1) + timedelta(days=1))
    world.sync(NOW + timedelta(minutes=5))

    wednesday = timedelta(days=1)
    for owner in ("marco", "ana"):
        path = world.series(owner, "marco", "ana")
        assert instance_starts(path, 3) == [], owner
        assert instance_starts(path, 5) == [utc(regular(5) + wednesday)], owner
    answers = ical.observe(world.series("ana", "marco", "ana").read_bytes(), "ana")
    assert answers is not None
    declined = [rid for rid, i in answers.overrides.items() if i.partstats.get(ANA) == "DECLINED"]
    assert declined == [utc(regular(6) + wednesday)]
    plan = {o.week: o for o in world.plan(NOW + timedelta(minutes=10)).planned if o.rep == ANA}
    assert [w for w, o in plan.items() if o.status.value == "people_changed"] == [
        "2027-W03",
        "2027-W06",
    ]
    assert "moved" not in (plan["2027-W06"].reason or "")
    again = world.sync(NOW + timedelta(minutes=15))
    assert again.written == 0 and again.changes == []


def test_a_week_cancelled_before_it_enters_the_horizon_stays_cancelled(
    world: VdirWorld,
) -> None:
    """Found by tests/state_machine: Marco cancels W07 when the horizon ends at W06, and a
    call then lands on W07's slot. The week used to enter the horizon unobserved and be
    planned afresh (moved around the call): Marco's cancel was written away."""
    world.sync(NOW)
    world.cancel_instance("marco", "marco", "ana", regular(7), "status-cancelled")
    world.add_event("marco", "call", regular(7), regular(7) + timedelta(hours=1), "Call")
    for days in (0, 7, 14):
        world.sync(NOW + timedelta(days=days, minutes=5))
        for owner in ("marco", "ana"):
            path = world.series(owner, "marco", "ana")
            observed = ical.observe(path.read_bytes(), str(path))
            assert observed is not None
            rid = utc(regular(7))
            override = observed.overrides.get(rid)
            assert rid in observed.exdates or (override and override.cancelled), (owner, days)
    later = NOW + timedelta(days=14, minutes=10)
    plan = {o.week: o for o in world.plan(later).planned if o.rep == ANA}
    assert plan["2027-W07"].status.value == "people_changed"
    assert world.makeup_view("marco", "marco", "ana", "2027-W07") is not None
