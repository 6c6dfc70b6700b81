"""Bounded passes (issue 17): a pass that reads pairs over a window decides exactly what the
same pass reading every pair's whole history decides; a pair whose copy people touched, even
in a week settled long ago, is read whole; the first pass of a day reads everything.

In-process, on the example org's vdir folders, over half a year of weekly passes with
people's edits drawn from a seeded random source.
"""

from __future__ import annotations

import gc
import json
import random
import sqlite3
import subprocess
import sys
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler import clientedits, sync
from scheduler.domain import iso_week
from scheduler.engine.decide import PlannedWeeks
from scheduler.engine.snapshot import FULL_DAY, pass_weeks, read_snapshot, record_line
from scheduler.sync import PassResult, run_pass
from tests.system.helpers import REPO
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, tzinfo=NY)  # a Monday
PAIRS = [("vera", "marco"), ("vera", "dana"), ("marco", "ana"), ("marco", "liam")]


def _plan_both_ways(world: VdirWorld, now: datetime) -> tuple[PassResult, PassResult]:
    """The dry run at ``now`` as the daemon makes it (pairs over windows), and the same dry
    run made as the day's full reconciliation (every pair whole)."""
    day = world.ledger.get_state(FULL_DAY)
    windowed = world.plan(now)
    world.ledger.set_state(FULL_DAY, "")
    try:
        whole = world.plan(now)
    finally:
        world.ledger.set_state(FULL_DAY, day or "")
    return windowed, whole


def _same_decisions(windowed: PassResult, whole: PassResult) -> None:
    assert windowed.plan is not None and whole.plan is not None
    for item in fields(whole.plan):
        if item.name == "confirmed":
            continue  # versions a whole read learnt of copies it read, not a decision
        assert getattr(windowed.plan, item.name) == getattr(whole.plan, item.name), item.name
    assert windowed.problems == whole.problems


def _edit(world: VdirWorld, rng: random.Random, now: datetime, week_number: int) -> None:
    """One person's edit of a pair's series: of next week's 1:1 mostly, sometimes of a week
    settled months ago (a late decline or move)."""
    manager, rep = rng.choice(PAIRS)
    owner = rng.choice([manager, rep])
    path = world.series(owner, manager, rep)
    back = rng.random() < 0.3 and week_number > 8
    day = (now - timedelta(weeks=rng.randint(6, week_number - 1))) if back else now
    rid = clientedits.week_instance(path, (day + timedelta(days=7)).date())
    action = rng.choice(["decline", "move", "cancel"] if owner == manager else ["decline"])
    if action == "decline":
        clientedits.decline_instance(path, rid, world.email(owner))
    elif action == "move":
        clientedits.move_instance(path, rid, rid + timedelta(days=1, hours=1))
    else:
        clientedits.exdate_instance(path, rid)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_windowed_pass_decides_what_a_whole_pass_decides(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    world = VdirWorld(tmp_path / "org")
    try:
        windowed_pairs = 0
        for week_number in range(26):
            monday = START + timedelta(weeks=week_number)
            if week_number:
                # The week's first pass as the daemon makes it after the day's full check:
                # agendas due, last week's digest to write, all on pairs read over windows.
                world.ledger.set_state(FULL_DAY, monday.date().isoformat())
                _same_decisions(*_plan_both_ways(world, monday))
                world.ledger.set_state(FULL_DAY, "")
            world.sync(monday)  # the day's first pass: every pair read whole
            for _ in range(rng.randint(0, 2)):
                _edit(world, rng, monday, week_number)
            later = monday + timedelta(hours=2)
            windowed, whole = _plan_both_ways(world, later)
            _same_decisions(windowed, whole)
            snapshot = read_snapshot(world.org, world.ledger, later)
            windowed_pairs += len(snapshot.windowed)
            line = record_line(pass_weeks(world.org, later, None))
            for key in snapshot.windowed:
                assert min(snapshot.ledger_weeks[key]) >= line
            world.sync(later)
            # Nothing left to do: the next pass over windows writes and observes nothing.
            quiet = world.sync(later + timedelta(minutes=5))
            assert quiet.written == 0 and quiet.observed_changes == 0, quiet.changes
        # Most pairs, most of the time, are read over a window (untouched since written).
        assert windowed_pairs > 26 * len(world.org.pairs) // 2
    finally:
        world.close()


@pytest.mark.parametrize(
    "make_world", ["google", pytest.param("microsoft365", marks=pytest.mark.slow)], indirect=True
)
def test_pairs_on_servers_that_keep_attendee_copies_are_read_over_windows(world: Any) -> None:
    """On Google and Microsoft 365 the rep's copy of a series is read from the manager's
    calendar, at its version, so its record says that version (the write was the
    organizer's): the pair is read over a window (with no version in the rep's record, no
    pair there ever was). A rep's answer on the server changes the organizer's copy, so the
    pair is read whole and the answer taken in."""
    key = "marco@acme.example/ana@acme.example"
    for week_number in range(3):
        monday = START + timedelta(weeks=week_number)
        world.sync(monday)  # the day's first pass: every pair read whole
        # The next poll: it confirms a version the write could not tell (a series' words
        # changed, which Google carries to its exceptions; see the next test).
        world.sync(monday + timedelta(hours=1))
        later = monday + timedelta(hours=2)
        snapshot = read_snapshot(world.org, world.ledger, later)
        assert key in snapshot.windowed
        assert len(snapshot.windowed) > len(world.org.pairs) // 2
        _same_decisions(*_plan_both_ways(world, later))
    # Ana declines this week's 1:1 (Tuesday 19 January) on the server, as its attendee.
    week = datetime(2027, 1, 19, 10, tzinfo=NY)
    world.decline_instance("ana", "marco", "ana", week)
    snapshot = read_snapshot(world.org, world.ledger, later + timedelta(minutes=5))
    assert key not in snapshot.windowed
    result = world.sync(later + timedelta(minutes=5))
    assert result.observed_changes >= 1
    record = world.ledger.occurrences([key])[key][iso_week(week.date())]
    assert record.change == "declined" and record.changed_by == "ana@acme.example"


@pytest.mark.parametrize("make_world", ["google"], indirect=True)
def test_a_write_whose_version_google_did_not_tell_is_confirmed_by_the_next_read(
    world: Any,
) -> None:
    """When a series' words change, Google carries them to the weeks the write did not patch
    (those whose links the series let go), so the write cannot tell the version it left. The
    next pass, which reads the pair whole and finds it as written, records the version it read
    (``confirmed_copies``); the pass after it reads every pair over a window again. Without
    it, those pairs were read whole until their next write."""
    for week_number in range(10):
        monday = START + timedelta(weeks=week_number)
        for hours in (0, 24, 48):  # Monday, and the days the week's agendas are due
            world.sync(monday + timedelta(hours=hours))
        # An hour after the day's full check (the first pass of the day, read whole).
        later = monday + timedelta(hours=49)
        assert read_snapshot(world.org, world.ledger, later).windowed == {
            pair.key for pair in world.org.pairs
        }, week_number


def test_an_edit_of_a_week_settled_months_ago_is_seen_by_the_next_pass(tmp_path: Path) -> None:
    world = VdirWorld(tmp_path / "org")
    try:
        for week_number in range(20):
            world.sync(START + timedelta(weeks=week_number))
        now = START + timedelta(weeks=19, hours=2)
        assert world.sync(now).written == 0
        snapshot = read_snapshot(world.org, world.ledger, now)
        key = f"{world.email('marco')}/{world.email('ana')}"
        assert key in snapshot.windowed  # untouched: read over a window
        # Ana's manager moves a 1:1 of 15 weeks ago, after the fact (the day it really was).
        path = world.series("marco", "marco", "ana")
        long_ago = START + timedelta(weeks=4)
        rid = clientedits.week_instance(path, long_ago.date())
        clientedits.move_instance(path, rid, rid + timedelta(days=1))
        snapshot = read_snapshot(world.org, world.ledger, now + timedelta(minutes=5))
        assert key not in snapshot.windowed  # touched: read whole
        result = world.sync(now + timedelta(minutes=5))
        assert result.observed_changes == 1
        week = iso_week(rid.astimezone(world.org.zone).date())
        record = world.ledger.occurrences([key])[key][week]
        assert record.change == "moved" and record.actual_start == rid + timedelta(days=1)
    finally:
        world.close()


def test_a_close_week_entering_the_horizon_changes_no_series(tmp_path: Path) -> None:
    """Writes only when something changed for people (issue 17). A series lists every week
    without a 1:1 it carries, with why: the horizon's skipped weeks and the year of close
    weeks written ahead as EXDATEs. Its words change only with those weeks, so a close week
    that enters the horizon changes no series, and a close week's Monday (no agenda due)
    writes nothing. Before, every series was rewritten whenever a close week entered the
    horizon, twice a month."""
    world = VdirWorld(tmp_path / "org")
    try:
        horizon = world.org.schedule.horizon_weeks
        close = world.org.calendar.in_close_window
        before: dict[str, tuple[set[str], str]] = {}
        entered = quiet = linked = 0
        for week_number in range(13):
            monday = START + timedelta(weeks=week_number)
            result = world.sync(monday)
            tuesday = (monday + timedelta(days=1)).date()
            entering = week_number > 0 and close(tuesday + timedelta(weeks=horizon - 1))
            for pair in world.org.pairs:
                manager, rep = pair.manager.email, pair.rep.email
                view = world.series_view(manager, manager, rep)
                assert view is not None
                days = {line.split(": ")[0] for line in view.description.splitlines()[2:]}
                ahead = {
                    f"{moment.astimezone(pair.manager.zone):%a %d %b %Y}"
                    for moment in view.exdates
                    if moment >= monday
                }
                assert days == ahead, (pair.key, week_number)  # each skip says why, only they
                assert len(ahead) >= 12  # a year of close weeks
                words = view.description.split("\n\n")[0]
                for instance in _linked_instances(world.series(manager, manager, rep)):
                    # A week's agenda says what concerns that week, not the year's skips:
                    # the series' words (or why it moved), then the agenda.
                    assert "no 1:1 this week" not in instance, instance
                    linked += instance.startswith(words + "\n\nAgenda: ")
                if pair.key in before and before[pair.key][0] == ahead:
                    assert before[pair.key][1] == view.description, (pair.key, week_number)
                    entered += entering
                before[pair.key] = (ahead, view.description)
            if close(tuesday):
                quiet += 1
                assert result.written == 0, week_number
        assert entered >= 2 * len(world.org.pairs)  # weeks 8 and 12
        assert quiet >= 3  # weeks 4, 8 and 13
        assert linked > 0
    finally:
        world.close()


def _linked_instances(path: Path) -> list[str]:
    """The descriptions of a series file's instances that carry an agenda (``ATTACH``)."""
    events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    return [str(e.get("DESCRIPTION")) for e in events if "RECURRENCE-ID" in e and "ATTACH" in e]


def test_the_daemons_full_check_reads_every_pair_whole_once_a_day_in_slices(
    tmp_path: Path,
) -> None:
    """With ``full_slice`` (the daemon's passes) the day's first passes read that many pairs
    whole each, in the order of their keys, on top of those that need it, until every pair
    was: a large org's whole history is never held at once. Each slice's pass decides what
    a whole pass decides; the day is done after the last slice, and the next day begins
    again from the first pair."""
    world = VdirWorld(tmp_path / "org")
    try:
        for week_number in range(3):
            world.sync(START + timedelta(weeks=week_number))
        keys = sorted(pair.key for pair in world.org.pairs)
        assert len(keys) > 4
        for days in (0, 1):  # the round of one day, and the next day's from the start
            at = START + timedelta(weeks=3, days=days, hours=1)
            day = at.date().isoformat()
            read: list[str] = []
            for first in range(0, len(keys), 2):
                assert world.ledger.get_state(FULL_DAY) != day
                snapshot = read_snapshot(world.org, world.ledger, at, full_slice=2)
                whole = set(keys) - snapshot.windowed
                assert set(keys[first : first + 2]) <= whole
                last = first + 2 >= len(keys)
                assert (snapshot.full_day == day) == last
                assert snapshot.full_round == (None if last else (day, keys[first + 1]))
                read += keys[first : first + 2]
                sliced = run_pass(
                    world.org, world.ledger, at, apply=False, env=world.env, full_slice=2
                )
                _same_decisions(sliced, world.plan(at))  # the dry run reads every pair whole
                world.sync(at, full_slice=2)
                at += timedelta(minutes=5)
            assert read == keys
            assert world.ledger.get_state(FULL_DAY) == day
            after = read_snapshot(world.org, world.ledger, at, full_slice=2)
            assert after.full_day is None and after.full_round is None
            assert len(after.windowed) > len(keys) // 2
    finally:
        world.close()


def test_a_series_written_after_its_slot_changed_keeps_its_settled_weeks_where_they_were(
    tmp_path: Path,
) -> None:
    """A windowed pair whose series the pass writes reads only the settled weeks its series
    shows (``shown_weeks``); when the admin moved the pair's slot, every earlier week is
    off the new rule, and all of them are read and written where they were."""
    world = VdirWorld(tmp_path / "org")
    try:
        for week_number in range(13):
            world.sync(START + timedelta(weeks=week_number))  # each day's full check
        key = f"{world.email('marco')}/{world.email('liam')}"
        monday = START + timedelta(weeks=12, hours=2)
        assert key in read_snapshot(world.org, world.ledger, monday).windowed
        # The admin moves Liam's 1:1 from Monday 09:00 to Monday 11:00.
        text = world.config.read_text()
        world.config.write_text(text.replace('time = "09:00"', 'time = "11:00"', 1))
        world.restart()
        windowed, whole = _plan_both_ways(world, monday)
        _same_decisions(windowed, whole)
        assert any(change.rep == world.email("liam") for change in windowed.changes)
        world.sync(monday)
        view = world.series_view("marco", "marco", "liam")
        assert view is not None
        assert view.start.astimezone(NY).hour == 11
        earlier = [start for start in view.moved_starts if start.astimezone(NY).hour == 9]
        assert len(earlier) >= 10  # every earlier week (but close weeks), where it was
    finally:
        world.close()


def test_a_linked_week_moved_by_the_planner_brings_back_a_link_the_series_had_let_go(
    tmp_path: Path,
) -> None:
    """A series keeps the links of its latest four linked weeks. When the planner moves a
    week whose agenda is already on it (a meeting booked over it), that week no longer
    carries only its link, and the fifth latest link comes back: a windowed pass reads every
    settled week then (``shown_weeks``) and writes what a whole read writes."""
    world = VdirWorld(tmp_path / "org")
    try:
        # Vera's 1:1 with Marco is on Thursdays at 14:00: its agenda is made 72 hours before
        # (by a pass on Monday afternoon), and the planner may move it until 48 hours before.
        for week_number in range(9):
            monday = START + timedelta(weeks=week_number)
            world.sync(monday)  # each day's full check
            world.sync(monday + timedelta(hours=7))  # Thursday's agenda, on its week
        thursday = monday + timedelta(days=3, hours=6)
        before = world.series_attachments("vera", "vera", "marco")
        assert thursday in before and len(before) == 4
        world.add_event("vera", "board", thursday, thursday + timedelta(hours=1), "Board")
        later = monday + timedelta(hours=8)
        key = f"{world.email('vera')}/{world.email('marco')}"
        assert key in read_snapshot(world.org, world.ledger, later).windowed
        windowed, whole = _plan_both_ways(world, later)
        _same_decisions(windowed, whole)
        assert any(change.rep == world.email("marco") for change in windowed.changes)
        world.sync(later)
        after = world.series_attachments("vera", "vera", "marco")
        view = world.series_view("vera", "vera", "marco")
        assert view is not None and any(
            start.date() == thursday.date() for start in view.moved_starts
        )
        # The moved week keeps its link, and the week before the four kept ones gets its back.
        assert set(before) < set(after) and len(after) == 5
        assert min(after) < min(before)  # (the week before it was a close week)
    finally:
        world.close()


def test_a_weekly_digest_written_by_a_windowed_pass_shows_whole_histories(
    tmp_path: Path,
) -> None:
    """The digest shows every week of each pair (marks, the streak): the pass that writes it
    reads the manager's pairs whole, even when nothing else needs their history."""
    # No make-ups: a week Marco cancels stays missed, so the weeks differ in the digest.
    world = VdirWorld(tmp_path / "org", edit={"makeup = true": "makeup = false"})
    try:
        for week_number in range(18):
            monday = START + timedelta(weeks=week_number)
            world.sync(monday)
            if week_number % 3 == 1:
                path = world.series("marco", "marco", "ana")
                rid = clientedits.week_instance(path, (monday + timedelta(days=7)).date())
                clientedits.exdate_instance(path, rid)
        monday = START + timedelta(weeks=18)
        world.sync(monday)  # the day's full check: writes the week's changes and the digest
        # ... which a pass that stopped before its notices (a killed one) would not have.
        database = world.org.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(database) as db:
            assert db.execute("DELETE FROM notices WHERE kind = 'digest'").rowcount
        later = monday + timedelta(minutes=30)
        snapshot = read_snapshot(world.org, world.ledger, later)
        marcos = {key for key in snapshot.windowed if key.startswith("marco@")}
        assert len(marcos) == 3  # Marco's pairs, untouched, read over windows
        # The digests (Marco's and Dana's, to Vera) are written from whole histories.
        windowed, whole = _plan_both_ways(world, later)
        _same_decisions(windowed, whole)
        assert windowed.plan is not None
        digests = [n for n in windowed.plan.notices if n.decision.kind == "digest"]
        assert digests and all(n.decision.week == "2027-W18" for n in digests)
    finally:
        world.close()


def test_a_window_no_pass_wrote_gets_the_pair_read_whole_and_written_afresh(
    tmp_path: Path,
) -> None:
    """A ledger edited by hand (or by a bug) with a window of no known shape: no traceback,
    the pair is read whole and its window written again."""
    world = VdirWorld(tmp_path / "org")
    try:
        world.sync(START)
        database = world.org.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(database) as db:
            db.execute("UPDATE series SET \"window\" = 'garbage'")
        later = START + timedelta(hours=1)
        assert read_snapshot(world.org, world.ledger, later).windowed == frozenset()
        assert world.sync(later).written == 0
        assert all(s.window_week() for s in world.ledger.all_series().values())
        assert read_snapshot(world.org, world.ledger, later).windowed
    finally:
        world.close()


def test_a_make_up_declined_weeks_later_settles_its_week_again_in_a_windowed_pass(
    tmp_path: Path,
) -> None:
    """A week read as its status alone changes when people decline its make-up after the
    fact: the pass reads that pair whole and saves the week as a whole pass would."""
    world = VdirWorld(tmp_path / "org")
    try:
        for week_number in range(8):
            monday = START + timedelta(weeks=week_number)
            world.sync(monday)
            if week_number == 0:  # Ana declines next week's 1:1: a make-up is booked
                path = world.series("ana", "marco", "ana")
                rid = clientedits.week_instance(path, (monday + timedelta(days=7)).date())
                clientedits.decline_instance(path, rid, world.email("ana"))
        key = f"{world.email('marco')}/{world.email('ana')}"
        week = iso_week((START + timedelta(weeks=1)).date())
        assert world.statuses(START + timedelta(weeks=7), "marco", "ana")[week] == "made_up"
        world.decline_makeup("ana", "marco", "ana", week)
        later = START + timedelta(weeks=7, hours=2)
        world.ledger.set_state(FULL_DAY, later.date().isoformat())
        snapshot = read_snapshot(world.org, world.ledger, later)
        assert key in snapshot.windowed and week < snapshot.record_line
        assert week in snapshot.ledger_statuses[key]  # read as a status alone
        windowed, whole = _plan_both_ways(world, later)
        _same_decisions(windowed, whole)
        assert windowed.plan is not None
        saved = [r for r in windowed.plan.occurrences if (r.pair_key, r.week) == (key, week)]
        assert [r.status for r in saved] == ["declined"]
    finally:
        world.close()


def test_an_escalation_told_by_a_windowed_pass_shows_the_pairs_recent_weeks(
    tmp_path: Path,
) -> None:
    """Its words list the pair's last eight weeks, further back than a windowed pair's
    records: a pair with news to tell is read whole."""
    world = VdirWorld(tmp_path / "org", edit={"makeup = true": "makeup = false"})
    try:
        for week_number in range(10):
            monday = START + timedelta(weeks=week_number)
            world.sync(monday)
            if week_number == 7:  # Ana declines the 1:1s of 2027-W09 and 2027-W10
                path = world.series("ana", "marco", "ana")
                for ahead in (7, 14):
                    day = (monday + timedelta(days=ahead)).date()
                    rid = clientedits.week_instance(path, day)
                    clientedits.decline_instance(path, rid, world.email("ana"))
        friday = START + timedelta(weeks=9, days=4, hours=10)  # both declined weeks are over
        world.ledger.set_state(FULL_DAY, friday.date().isoformat())
        key = f"{world.email('marco')}/{world.email('ana')}"
        assert key in read_snapshot(world.org, world.ledger, friday).windowed
        windowed, whole = _plan_both_ways(world, friday)
        _same_decisions(windowed, whole)
        assert windowed.plan is not None
        told = [n for n in windowed.plan.notices if n.decision.kind == "escalation"]
        assert [n.decision.pair_key for n in told] == [key]
        assert "2027-W03" in told[0].text and "2027-W02" not in told[0].text  # 8 weeks back
    finally:
        world.close()


_CYCLES_LEFT = """
import gc, json, sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo
from tests.system.world import VdirWorld

start = datetime(2027, 1, 4, 8, tzinfo=ZoneInfo("America/New_York"))
world = VdirWorld(Path(sys.argv[1]))
try:
    world.sync(start)  # the first pass of a process sets up what lives on
    gc.collect()
    gc.disable()  # no collection but the pass's own
    world.sync(start + timedelta(weeks=1))
    gc.set_debug(gc.DEBUG_SAVEALL)
    left = gc.collect()
finally:
    world.close()
kinds = Counter(type(o).__qualname__ for o in gc.garbage)
print(json.dumps({"left": left, "kinds": kinds.most_common(12)}))
"""


def test_the_writes_begin_with_the_decided_weeks_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decided weeks hold the settled records every written series was made from (a
    year-old 2,000-pair org: 14 MB when the writes began); the writes need only the plan, so
    none is alive while they run (issue 17)."""
    world = VdirWorld(tmp_path / "org")
    alive: list[int] = []
    apply = sync.apply_plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive.append(sum(isinstance(one, PlannedWeeks) for one in gc.get_objects()))
        return apply(*args, **kwargs)

    monkeypatch.setattr(sync, "apply_plan", counting)
    try:
        assert run_pass(world.org, world.ledger, START, apply=True).written
    finally:
        world.close()
    assert alive == [0]


def test_a_pass_leaves_none_of_its_cycles_behind(tmp_path: Path) -> None:
    """The cycles a pass makes (parse trees, tracebacks) are collected by the pass itself,
    not left in the oldest generation for a full collection that a heap of long-lived memo
    entries makes rare: a year-old daemon carried them by the megabyte (issue 17).

    In a process of its own: with collection off, whatever other tests left running in this
    one (a server's thread) would add its own garbage to the count."""
    done = subprocess.run(
        [sys.executable, "-c", _CYCLES_LEFT, str(tmp_path / "org")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["left"] < 50, found
