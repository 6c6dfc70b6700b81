"""Every status of "Detecting what people did", each built by people's edits the way their
calendar clients make them (khal, Thunderbird, Apple Calendar on vdir; Google Calendar through
the emulator), passes run in-process. Each scenario runs on every provider (``make_world``).

The example org, Marco (New York) and Ana: weekly on Tuesday 10:00; Sam follows at 10:30.
January 2027's close window is the week of Mon 25 Jan (last business day Fri 29 Jan).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.series import utc

NY = ZoneInfo("America/New_York")
MON_W01 = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
TUE_W01 = datetime(2027, 1, 5, 8, 0, tzinfo=NY)
RID_W02 = datetime(2027, 1, 12, 10, 0, tzinfo=NY)  # Ana's W02 instance
THU_W02 = datetime(2027, 1, 14, 8, 0, tzinfo=NY)
MON_W03 = datetime(2027, 1, 18, 8, 0, tzinfo=NY)
PAIR = "marco@acme.example/ana@acme.example"


def test_held_and_upcoming(world: Any) -> None:
    world.sync(TUE_W01)
    world.sync(THU_W02)
    weeks = world.statuses(THU_W02, "marco", "ana")
    assert weeks["2027-W01"] == "held" and weeks["2027-W02"] == "held"
    assert weeks["2027-W03"] == "upcoming"


@pytest.mark.parametrize("owner", ["marco", "ana"])
def test_a_moved_week_in_either_copy_is_moved_and_kept(world: Any, owner: str) -> None:
    if owner == "ana" and not world.attendee_edits:
        pytest.skip("Google lets only the organizer move an instance (forbiddenForNonOrganizer)")
    world.sync(TUE_W01)
    moved_to = RID_W02 + timedelta(days=1, hours=4)
    world.move_instance(owner, "marco", "ana", RID_W02, moved_to)
    world.sync(TUE_W01 + timedelta(hours=1))
    for copy in ("marco", "ana"):
        view = world.series_view(copy, "marco", "ana")
        assert view is not None and utc(moved_to) in [utc(s) for s in view.moved_starts], copy
    world.sync(THU_W02 + timedelta(days=1))
    assert world.statuses(THU_W02 + timedelta(days=1), "marco", "ana")["2027-W02"] == "moved"
    assert world.makeup_view("marco", "marco", "ana", "2027-W02") is None
    assert world.pair(THU_W02 + timedelta(days=1), "marco", "ana")["missed_streak"] == 0


@pytest.mark.parametrize("how", ["exdate", "status-cancelled"])
@pytest.mark.parametrize("owner", ["marco", "ana"])
def test_a_cancelled_week_gets_a_make_up_later_that_week(world: Any, owner: str, how: str) -> None:
    world.sync(TUE_W01)
    world.cancel_instance(owner, "marco", "ana", RID_W02, how)
    world.sync(TUE_W01 + timedelta(hours=1))
    for copy in ("marco", "ana"):
        makeup = world.makeup_view(copy, "marco", "ana", "2027-W02")
        assert makeup is not None, copy
        assert makeup.week == "2027-W02"
        assert makeup.pair == PAIR
        # Later that week, after the cancelled 1:1 and clear of Sam's at 10:30.
        start = makeup.start
        assert RID_W02 + timedelta(minutes=30) <= start < datetime(2027, 1, 18, tzinfo=NY)
        assert start != RID_W02 + timedelta(minutes=30)
        assert "make-up for the 1:1 of Tue 10:00" in makeup.description
    again = world.sync(TUE_W01 + timedelta(hours=2))
    assert again.written == 0 and again.changes == []
    assert world.statuses(THU_W02, "marco", "ana")["2027-W02"] in ("upcoming", "made_up")
    world.sync(MON_W03)
    pair = world.pair(MON_W03, "marco", "ana")
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "made_up"
    assert pair["missed_streak"] == 0


def test_a_decline_on_the_reps_copy_gets_a_make_up_and_a_declined_make_up_stays_declined(
    world: Any,
) -> None:
    world.sync(TUE_W01)
    world.decline_instance("ana", "marco", "ana", RID_W02)
    world.sync(TUE_W01 + timedelta(hours=1))
    assert world.makeup_view("ana", "marco", "ana", "2027-W02") is not None
    world.decline_makeup("ana", "marco", "ana", "2027-W02")
    world.sync(TUE_W01 + timedelta(hours=2))
    # People win: the declined make-up is left as it is, and no second one is booked.
    makeup = world.makeup_view("ana", "marco", "ana", "2027-W02")
    assert makeup is not None and "ana@acme.example" in makeup.declined_by
    assert len(world.makeup_uids("marco")) == 1
    world.sync(MON_W03)
    pair = world.pair(MON_W03, "marco", "ana")
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "declined"
    assert pair["missed_streak"] == 1
    nudges = world.notices("nudge")
    assert {(n["week"], n["to"]) for n in nudges} == {
        ("2027-W02", "marco@acme.example"),
        ("2027-W02", "ana@acme.example"),
    }


def test_a_decline_on_the_managers_copy_is_declined_without_free_slot(world: Any) -> None:
    world.sync(TUE_W01)
    # Ana is busy for the rest of the week after the 1:1: no make-up can be found.
    for day in range(5):
        start = datetime(2027, 1, 12 + day, 9, 0, tzinfo=NY)
        world.add_event("ana", f"busy{day}x", start, start + timedelta(hours=9), "x")
    world.decline_instance("marco", "marco", "ana", RID_W02)
    world.sync(TUE_W01 + timedelta(hours=1))
    assert world.makeup_view("marco", "marco", "ana", "2027-W02") is None
    world.sync(MON_W03)
    assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "declined"


def test_a_deleted_series_is_missed_while_gone_recreated_and_the_manager_told(
    world: Any,
) -> None:
    world.sync(TUE_W01)
    world.delete_series("marco", "marco", "ana")
    result = world.sync(THU_W02)
    view = world.series_view("marco", "marco", "ana")
    assert view is not None
    weeks = world.statuses(THU_W02, "marco", "ana")
    assert weeks["2027-W01"] == "missed" and weeks["2027-W02"] == "missed"
    assert weeks["2027-W03"] == "upcoming"
    # The recreated series claims no meeting for the weeks it was gone.
    assert utc(RID_W02) in view.exdates
    told = [n for n in world.notices("series_recreated")]
    assert [(n["to"], n["rep"]) for n in told] == [("marco@acme.example", "ana@acme.example")]
    assert result.notices_sent >= 1
    subjects = [m["Subject"] for m in world.outbox()]
    assert any("deleted" in s for s in subjects)
    # History stays: a second pass changes nothing and tells nobody again.
    again = world.sync(THU_W02 + timedelta(minutes=5))
    assert again.written == 0 and again.notices_decided == 0


def test_close_and_time_off_weeks(world: Any) -> None:
    for day in range(5):
        start = date(2027, 1, 18) + timedelta(days=day)
        world.add_event("ana", f"vacation{day}x", start, start + timedelta(days=1), "PTO")
    world.sync(TUE_W01)
    world.sync(datetime(2027, 2, 2, 8, 0, tzinfo=NY))
    weeks = world.statuses(datetime(2027, 2, 2, 8, 0, tzinfo=NY), "marco", "ana")
    assert weeks["2027-W03"] == "time_off"
    assert weeks["2027-W04"] == "close_week"
    assert world.pair(datetime(2027, 2, 2, 8, 0, tzinfo=NY), "marco", "ana")["missed_streak"] == 0


def test_time_off_entered_inside_the_freeze_turns_a_declined_week_into_time_off(
    world: Any,
) -> None:
    world.sync(datetime(2027, 1, 11, 8, 0, tzinfo=NY))  # Monday of W02: Tuesday is frozen
    world.decline_instance("ana", "marco", "ana", RID_W02)
    for day in range(5):
        start = date(2027, 1, 11) + timedelta(days=day)
        world.add_event("ana", f"sick{day}x", start, start + timedelta(days=1), "Sick")
    world.sync(datetime(2027, 1, 11, 9, 0, tzinfo=NY))
    assert world.makeup_view("marco", "marco", "ana", "2027-W02") is None
    world.sync(MON_W03)
    assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "time_off"
    assert world.notices("nudge") == []


def test_a_series_moved_as_a_whole_becomes_the_pairs_slot(world: Any) -> None:
    world.sync(TUE_W01)
    view = world.series_view("marco", "marco", "ana")
    assert view is not None
    world.move_series("marco", "marco", "ana", view.start + timedelta(days=1, hours=1))  # Wed 11:00
    world.sync(TUE_W01 + timedelta(hours=1))
    view = world.series_view("marco", "marco", "ana")
    assert view.start.astimezone(NY).strftime("%a %H:%M") == "Wed 11:00"
    assert "moved this 1:1 series to Wed 11:00" in view.description
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
    rep_view = world.series_view("ana", "marco", "ana")
    assert rep_view.start.astimezone(NY).strftime("%a %H:%M") == "Wed 11:00"


def test_an_existing_weekly_1_1_is_adopted_not_duplicated(world: Any) -> None:
    start = datetime(2026, 11, 5, 15, 0, tzinfo=NY)  # Thursdays 15:00 since November
    world.add_meeting(
        "marcoanaweekly",
        start,
        start + timedelta(minutes=30),
        "Ana / Marco weekly",
        "marco",
        ["ana"],
        weekly=True,
    )
    world.cancel_meeting_instance(
        "marco", "marcoanaweekly", datetime(2026, 12, 24, 15, 0, tzinfo=NY)
    )
    plan = world.plan(TUE_W01)
    ana = [o for o in plan.planned if o.rep == "ana@acme.example"]
    assert ana and {o.status.value for o in ana} <= {"adopt", "close_week", "time_off"}
    assert "adopt" in {o.status.value for o in ana}
    assert {c.action for c in plan.changes if c.rep == "ana@acme.example"} == {"adopt_series"}
    world.sync(TUE_W01)
    for owner in ("marco", "ana"):
        assert world.event_view(owner, "marcoanaweekly") is not None
        assert world.series_view(owner, "marco", "ana") is None
    adopted = world.event_view("marco", "marcoanaweekly")
    assert adopted.pair == PAIR
    assert adopted.start == start  # history stays on the calendar
    cancelled = utc(datetime(2026, 12, 24, 15, 0, tzinfo=NY))
    assert cancelled in adopted.exdates or cancelled not in [utc(s) for s in adopted.moved_starts]
    thursday = [o for o in world.plan(TUE_W01).planned if o.rep == "ana@acme.example"]
    assert all(
        o.start.astimezone(NY).strftime("%a %H:%M") == "Thu 15:00"
        for o in thursday
        if o.status.value in ("planned", "frozen")
    )
    assert world.sync(TUE_W01 + timedelta(minutes=5)).written == 0


def test_people_who_meet_on_another_day_get_no_second_make_up(world: Any) -> None:
    world.sync(TUE_W01)
    world.cancel_instance("marco", "marco", "ana", RID_W02)
    thursday = datetime(2027, 1, 14, 15, 0, tzinfo=NY)
    world.add_meeting(
        "catchup1", thursday, thursday + timedelta(minutes=30), "Catch-up", "marco", ["ana"]
    )
    world.sync(TUE_W01 + timedelta(hours=1))
    assert world.makeup_view("marco", "marco", "ana", "2027-W02") is None
    world.sync(MON_W03)
    assert world.statuses(MON_W03, "marco", "ana")["2027-W02"] == "made_up"


def test_a_moved_week_earns_no_make_up_and_never_two_per_week(world: Any) -> None:
    world.sync(TUE_W01)
    world.cancel_instance("marco", "marco", "ana", RID_W02)
    world.sync(TUE_W01 + timedelta(hours=1))
    first = world.makeup_uids("marco")
    world.sync(TUE_W01 + timedelta(hours=2))
    world.sync(TUE_W01 + timedelta(days=1))
    assert world.makeup_uids("marco") == first
    assert len(first) == 1


@pytest.mark.slow
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
