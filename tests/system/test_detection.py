"""Every status of "Detecting what people did", each built by editing the vdir files the way
calendar clients do (khal, Thunderbird, Apple Calendar), passes run in-process.

The example org, Marco (New York) and Ana: weekly on Tuesday 10:00; Sam follows at 10:30.
January 2027's close window is the week of Mon 25 Jan (last business day Fri 29 Jan).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.clientedits import (
    cancel_instance,
    decline_event,
    decline_instance,
    exdate_instance,
    move_instance,
    move_series,
    write_event,
    write_meeting,
)
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
MON_W01 = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
TUE_W01 = datetime(2027, 1, 5, 8, 0, tzinfo=NY)
RID_W02 = datetime(2027, 1, 12, 10, 0, tzinfo=NY)  # Ana's W02 instance
THU_W02 = datetime(2027, 1, 14, 8, 0, tzinfo=NY)
MON_W03 = datetime(2027, 1, 18, 8, 0, tzinfo=NY)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[VdirWorld]:
    made = VdirWorld(tmp_path / "org")
    try:
        yield made
    finally:
        made.close()


def _events(path: Path) -> list[object]:
    return list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def test_held_and_upcoming(world: VdirWorld) -> None:
    world.sync(TUE_W01)
    world.sync(THU_W02)
    weeks = world.statuses(THU_W02, "marco", "ana")
    assert weeks["2027-W01"] == "held" and weeks["2027-W02"] == "held"
    assert weeks["2027-W03"] == "upcoming"


@pytest.mark.parametrize("owner", ["marco", "ana"])
def test_a_moved_week_in_either_copy_is_moved_and_kept(world: VdirWorld, owner: str) -> None:
    world.sync(TUE_W01)
    moved_to = RID_W02 + timedelta(days=1, hours=4)
    move_instance(world.series(owner, "marco", "ana"), RID_W02, moved_to)
    world.sync(TUE_W01 + timedelta(hours=1))
    for copy in ("marco", "ana"):
        starts = [
            e.decoded("dtstart")
            for e in _events(world.series(copy, "marco", "ana"))
            if "RECURRENCE-ID" in e
        ]
        assert moved_to in starts, copy
    world.sync(THU_W02 + timedelta(days=1))
    assert world.statuses(THU_W02 + timedelta(days=1), "marco", "ana")["2027-W02"] == "moved"
    assert not world.makeup("marco", "marco", "ana", "2027-W02").exists()
    assert world.pair(THU_W02 + timedelta(days=1), "marco", "ana")["missed_streak"] == 0


@pytest.mark.parametrize("how", ["exdate", "status-cancelled"])
@pytest.mark.parametrize("owner", ["marco", "ana"])
def test_a_cancelled_week_gets_a_make_up_later_that_week(
    world: VdirWorld, owner: str, how: str
) -> None:
    world.sync(TUE_W01)
    path = world.series(owner, "marco", "ana")
    (exdate_instance if how == "exdate" else cancel_instance)(path, RID_W02)
    world.sync(TUE_W01 + timedelta(hours=1))
    for copy in ("marco", "ana"):
        makeup = world.makeup(copy, "marco", "ana", "2027-W02")
        assert makeup.exists(), copy
        event = _events(makeup)[0]
        assert str(event["X-ONEONONE-WEEK"]) == "2027-W02"
        assert str(event["X-ONEONONE-PAIR"]) == "marco@acme.example/ana@acme.example"
        start = event.decoded("dtstart")
        # Later that week, after the cancelled 1:1 and clear of Sam's at 10:30.
        assert RID_W02 + timedelta(minutes=30) <= start < datetime(2027, 1, 18, tzinfo=NY)
        assert start != RID_W02 + timedelta(minutes=30)
        assert "make-up for the 1:1 of Tue 10:00" in str(event["DESCRIPTION"])
    again = world.sync(TUE_W01 + timedelta(hours=2))
    assert again.written == 0 and again.changes == []
    assert world.statuses(THU_W02, "marco", "ana")["2027-W02"] in ("upcoming", "made_up")
    world.sync(MON_W03)
    pair = world.pair(MON_W03, "marco", "ana")
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "made_up"
    assert pair["missed_streak"] == 0


def test_a_decline_on_the_reps_copy_gets_a_make_up_and_a_declined_make_up_stays_declined(
    world: VdirWorld,
) -> None:
    world.sync(TUE_W01)
    decline_instance(world.series("ana", "marco", "ana"), RID_W02, "ana@acme.example")
    world.sync(TUE_W01 + timedelta(hours=1))
    makeup = world.makeup("ana", "marco", "ana", "2027-W02")
    assert makeup.exists()
    decline_event(makeup, "ana@acme.example")
    world.sync(TUE_W01 + timedelta(hours=2))
    # People win: the declined make-up is left as it is, and no second one is booked.
    assert "PARTSTAT=DECLINED" in makeup.read_text()
    assert sorted(p.name for p in world.folder("marco").glob("oneonone-makeup-*")) == [
        world.makeup("marco", "marco", "ana", "2027-W02").name
    ]
    world.sync(MON_W03)
    pair = world.pair(MON_W03, "marco", "ana")
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "declined"
    assert pair["missed_streak"] == 1
    nudges = world.notices("nudge")
    assert {(n["week"], n["to"]) for n in nudges} == {
        ("2027-W02", "marco@acme.example"),
        ("2027-W02", "ana@acme.example"),
    }


def test_a_decline_on_the_managers_copy_is_declined_without_free_slot(tmp_path: Path) -> None:
    world = VdirWorld(tmp_path / "org")
    try:
        world.sync(TUE_W01)
        # Ana is busy for the rest of the week after the 1:1: no make-up can be found.
        for day in range(5):
            start = datetime(2027, 1, 12 + day, 9, 0, tzinfo=NY)
            write_event(world.folder("ana"), f"busy-{day}", start, start + timedelta(hours=9), "x")
        decline_instance(world.series("marco", "marco", "ana"), RID_W02, "marco@acme.example")
        world.sync(TUE_W01 + timedelta(hours=1))
        assert not world.makeup("marco", "marco", "ana", "2027-W02").exists()
        world.sync(MON_W03)
        assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "declined"
    finally:
        world.close()


def test_a_deleted_series_is_missed_while_gone_recreated_and_the_manager_told(
    world: VdirWorld,
) -> None:
    world.sync(TUE_W01)
    world.series("marco", "marco", "ana").unlink()
    result = world.sync(THU_W02)
    assert world.series("marco", "marco", "ana").exists()
    weeks = world.statuses(THU_W02, "marco", "ana")
    assert weeks["2027-W01"] == "missed" and weeks["2027-W02"] == "missed"
    assert weeks["2027-W03"] == "upcoming"
    # The recreated series claims no meeting for the weeks it was gone.
    master = next(
        e for e in _events(world.series("marco", "marco", "ana")) if "RECURRENCE-ID" not in e
    )
    exdates = {d.dt for prop in _as_list(master.get("EXDATE")) for d in prop.dts}
    assert RID_W02 in exdates
    told = [n for n in world.notices("series_recreated")]
    assert [(n["to"], n["rep"]) for n in told] == [("marco@acme.example", "ana@acme.example")]
    assert result.notices_sent >= 1
    subjects = [m["Subject"] for m in world.outbox()]
    assert any("deleted" in s for s in subjects)
    # History stays: a second pass changes nothing and tells nobody again.
    again = world.sync(THU_W02 + timedelta(minutes=5))
    assert again.written == 0 and again.notices_decided == 0


def test_close_and_time_off_weeks(world: VdirWorld) -> None:
    for day in range(5):
        start = date(2027, 1, 18) + timedelta(days=day)
        write_event(world.folder("ana"), f"vacation-{day}", start, start + timedelta(days=1), "PTO")
    world.sync(TUE_W01)
    world.sync(datetime(2027, 2, 2, 8, 0, tzinfo=NY))
    weeks = world.statuses(datetime(2027, 2, 2, 8, 0, tzinfo=NY), "marco", "ana")
    assert weeks["2027-W03"] == "time_off"
    assert weeks["2027-W04"] == "close_week"
    assert world.pair(datetime(2027, 2, 2, 8, 0, tzinfo=NY), "marco", "ana")["missed_streak"] == 0


def test_time_off_entered_inside_the_freeze_turns_a_declined_week_into_time_off(
    world: VdirWorld,
) -> None:
    world.sync(datetime(2027, 1, 11, 8, 0, tzinfo=NY))  # Monday of W02: Tuesday is frozen
    decline_instance(world.series("ana", "marco", "ana"), RID_W02, "ana@acme.example")
    for day in range(5):
        start = date(2027, 1, 11) + timedelta(days=day)
        write_event(world.folder("ana"), f"sick-{day}", start, start + timedelta(days=1), "Sick")
    world.sync(datetime(2027, 1, 11, 9, 0, tzinfo=NY))
    assert not world.makeup("marco", "marco", "ana", "2027-W02").exists()
    world.sync(MON_W03)
    assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "time_off"
    assert world.notices("nudge") == []


def test_a_series_moved_as_a_whole_becomes_the_pairs_slot(world: VdirWorld) -> None:
    world.sync(TUE_W01)
    path = world.series("marco", "marco", "ana")
    master = next(e for e in _events(path) if "RECURRENCE-ID" not in e)
    first = master.decoded("dtstart")
    move_series(path, first + timedelta(days=1, hours=1))  # Wednesday 11:00
    world.sync(TUE_W01 + timedelta(hours=1))
    master = next(e for e in _events(path) if "RECURRENCE-ID" not in e)
    assert master.decoded("dtstart").astimezone(NY).strftime("%a %H:%M") == "Wed 11:00"
    assert "moved this 1:1 series to Wed 11:00" in str(master["DESCRIPTION"])
    plan = world.plan(TUE_W01 + timedelta(hours=2))
    ana = [o for o in plan.planned if o.rep == "ana@acme.example" and o.week >= "2027-W02"]
    assert ana and all(
        o.start.astimezone(NY).strftime("%a %H:%M") == "Wed 11:00"
        for o in ana
        if o.status.value == "planned"
    )
    again = world.sync(TUE_W01 + timedelta(hours=2))
    assert again.changes == []
    # The rep's copy follows the organizer's.
    rep_master = next(
        e for e in _events(world.series("ana", "marco", "ana")) if "RECURRENCE-ID" not in e
    )
    assert rep_master.decoded("dtstart").astimezone(NY).strftime("%a %H:%M") == "Wed 11:00"


def test_an_existing_weekly_1_1_is_adopted_not_duplicated(world: VdirWorld) -> None:
    start = datetime(2026, 11, 5, 15, 0, tzinfo=NY)  # Thursdays 15:00 since November
    for owner in ("marco", "ana"):
        write_meeting(
            world.folder(owner),
            "marco-ana-weekly",
            start,
            start + timedelta(minutes=30),
            "Ana / Marco weekly",
            "marco@acme.example",
            ["ana@acme.example"],
            weekly=True,
        )
    exdate_instance(
        world.folder("marco") / "marco-ana-weekly.ics", datetime(2026, 12, 24, 15, 0, tzinfo=NY)
    )
    plan = world.plan(TUE_W01)
    ana = [o for o in plan.planned if o.rep == "ana@acme.example"]
    assert ana and {o.status.value for o in ana} <= {"adopt", "close_week", "time_off"}
    assert "adopt" in {o.status.value for o in ana}
    assert {c.action for c in plan.changes if c.rep == "ana@acme.example"} == {"adopt_series"}
    world.sync(TUE_W01)
    for owner in ("marco", "ana"):
        files = sorted(p.name for p in world.folder(owner).glob("*.ics"))
        assert "marco-ana-weekly.ics" in files
        assert not world.series(owner, "marco", "ana").exists()
    adopted = (world.folder("marco") / "marco-ana-weekly.ics").read_text()
    assert "X-ONEONONE-PAIR:marco@acme.example/ana@acme.example" in adopted
    events = _events(world.folder("marco") / "marco-ana-weekly.ics")
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    assert master.decoded("dtstart") == start  # history stays on the calendar
    exdates = {d.dt for prop in _as_list(master.get("EXDATE")) for d in prop.dts}
    assert datetime(2026, 12, 24, 15, 0, tzinfo=NY) in exdates
    thursday = [o for o in world.plan(TUE_W01).planned if o.rep == "ana@acme.example"]
    assert all(
        o.start.astimezone(NY).strftime("%a %H:%M") == "Thu 15:00"
        for o in thursday
        if o.status.value in ("planned", "frozen")
    )
    assert world.sync(TUE_W01 + timedelta(minutes=5)).written == 0


def test_people_who_meet_on_another_day_get_no_second_make_up(world: VdirWorld) -> None:
    world.sync(TUE_W01)
    exdate_instance(world.series("marco", "marco", "ana"), RID_W02)
    thursday = datetime(2027, 1, 14, 15, 0, tzinfo=NY)
    write_meeting(
        world.folder("marco"),
        "catch-up",
        thursday,
        thursday + timedelta(minutes=30),
        "Catch-up",
        "marco@acme.example",
        ["ana@acme.example"],
    )
    world.sync(TUE_W01 + timedelta(hours=1))
    assert not world.makeup("marco", "marco", "ana", "2027-W02").exists()
    world.sync(MON_W03)
    assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "made_up"


def test_a_moved_week_earns_no_make_up_and_never_two_per_week(world: VdirWorld) -> None:
    world.sync(TUE_W01)
    exdate_instance(world.series("marco", "marco", "ana"), RID_W02)
    world.sync(TUE_W01 + timedelta(hours=1))
    first = sorted(world.folder("marco").glob("oneonone-makeup-*"))
    world.sync(TUE_W01 + timedelta(hours=2))
    world.sync(TUE_W01 + timedelta(days=1))
    assert sorted(world.folder("marco").glob("oneonone-makeup-*")) == first
    assert len(first) == 1


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_the_demo_quarter_shows_moves_make_ups_nudges_and_an_escalation(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "demo", "--dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "MOVED" in out and "MADE UP" in out and "DECLINED" in out
    assert " nudge " in out and " escalation " in out
    assert "Make-ups booked by oneonone:" in out and "booked: make-up for the 1:1" in out
    outbox = list((folder / "data" / "outbox").glob("*.eml"))
    assert any("in a row" in p.read_text() for p in outbox)
