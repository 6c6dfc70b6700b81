"""Busy time on Microsoft 365 for quiet passes: organizers' from their own delta-read calendar
(never getSchedule), reps' from getSchedule every 30 minutes while one of their 1:1s nears its
freeze, every 3 hours otherwise; a conflict is always seen before its week freezes (the example
org on the Graph emulator on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.planner import PlannedOccurrence
from scheduler.providers.microsoft365.provider import BUSY_REFRESH_FAR
from scheduler.sync import PassResult
from tests.graph_emulator import GraphEmulator
from tests.system.m365_world import M365World, start_emulator

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # Monday of 2027-W01
PAIR = "marco@acme.example/ana@acme.example"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[M365World]:
    emulator = start_emulator()
    made = M365World(tmp_path / "org", emulator)
    try:
        yield made
    finally:
        made.close()
        made.forget_passwords()
        emulator.stop()


def _week(result: PassResult, week: str) -> PlannedOccurrence:
    [found] = [p for p in result.planned if p.pair_key == PAIR and p.week == week]
    return found


def test_a_quiet_pass_asks_getschedule_about_no_organizer_and_mostly_nothing(
    world: M365World,
) -> None:
    emu: GraphEmulator = world.emulator
    world.sync(START)
    organizers = {pair.manager.email for pair in world.org.pairs}
    reps = {pair.rep.email for pair in world.org.pairs} - organizers
    assert set(emu.schedules_asked) == reps  # the first pass: every rep, no organizer
    emu.reset_counts()
    now = START
    for _ in range(12):  # an hour of quiet passes
        now += timedelta(minutes=5)
        assert world.sync(now).written == 0
    kinds = [kind for _, _, kind in emu.requests_log]
    assert "getSchedule" not in kinds
    assert kinds.count("delta") == 12 * len(organizers)


def test_a_conflict_far_out_is_seen_within_hours_and_one_near_its_freeze_within_30_minutes(
    world: M365World,
) -> None:
    emu: GraphEmulator = world.emulator
    first = world.sync(START)
    far = _week(first, "2027-W03")
    assert far.start == far.regular_start
    # The next pass reads the first one's writes back: every series changed, busy time fresh.
    world.sync(START + timedelta(minutes=5))
    # Ana books the time of her 1:1 two weeks out: seen at the next far refresh.
    world.add_event("ana", "far-conflict", far.start, far.start + timedelta(hours=1), "Demo")
    emu.reset_counts()
    soon = world.sync(START + timedelta(minutes=35))
    assert "ana@acme.example" not in emu.schedules_asked
    assert _week(soon, "2027-W03").start == far.regular_start  # not read yet: no hurry
    later = world.sync(START + BUSY_REFRESH_FAR + timedelta(minutes=5))
    moved = _week(later, "2027-W03")
    assert moved.start != moved.regular_start and moved.start.date() == far.start.date()
    # Next week's 1:1, read with busy time three hours old, then about to freeze: Ana's new
    # meeting on it is seen within 30 minutes (the freeze is 48 hours before it).
    near = _week(later, "2027-W02")
    before_freeze = near.start - timedelta(hours=48) - timedelta(hours=3)
    world.sync(before_freeze)  # a pass that reads her busy time (far refresh)
    world.add_event("ana", "near-conflict", near.start, near.start + timedelta(hours=1), "Call")
    emu.reset_counts()
    result = world.sync(before_freeze + timedelta(minutes=35))
    assert "ana@acme.example" in emu.schedules_asked
    assert _week(result, "2027-W02").start != near.regular_start
