"""People win even when things fail, on Google (the emulator fails writes on demand).

The same four failures as ``test_people_win_failures`` (vdir): a failed write followed by a
person's edit, an emptied ledger, another org's ledger (refused with exit 1 before Google is
asked anything), a safety stop that ``plan`` shows and ``sync`` honours by writing nothing.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import cli
from scheduler.domain.series import utc
from scheduler.errors import UserError
from scheduler.sync import run_pass
from tests.system.google_world import GoogleWorld
from tests.system.helpers import REPO
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 5, 8, 0, tzinfo=NY)  # Tuesday of W01; W04 is January's close week
ANA = "ana@acme.example"


def regular(week: int) -> datetime:
    return datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)


# The provider-neutral world of tests/conftest.py, on Google only (the emulator fails writes).
pytestmark = pytest.mark.parametrize("make_world", ["google"], indirect=True)


def plan_of(world: GoogleWorld, now: datetime) -> dict[str, str]:
    return {o.week: o.status.value for o in world.plan(now).planned if o.rep == ANA}


def test_an_edit_after_a_failed_write_is_kept_and_recorded(world: GoogleWorld) -> None:
    world.sync(NOW)
    # Ana declines W03: the next pass books a make-up and rewrites the series ...
    world.decline_instance("ana", "marco", "ana", regular(3))
    # Google refuses every write of the next pass (the day's quota is used up).
    world.emulator.faults.fail_next_writes(500, "quotaExceeded")
    failed = world.sync(NOW + timedelta(minutes=35))
    assert failed.problems
    world.emulator.faults.clear()
    # Marco moves W02 in Google Calendar before the next pass.
    world.move_instance("marco", "marco", "ana", regular(2), regular(2) + timedelta(hours=1))

    world.sync(NOW + timedelta(minutes=40))

    view = world.series_view("marco", "marco", "ana")
    assert view is not None
    assert utc(regular(2) + timedelta(hours=1)) in {utc(s) for s in view.moved_starts}
    assert plan_of(world, NOW + timedelta(minutes=45))["2027-W02"] == "people_changed"
    again = world.sync(NOW + timedelta(minutes=50))
    assert again.written == 0 and again.changes == []


def test_a_write_google_made_but_answered_as_failed_is_not_read_as_a_reps_move(
    world: GoogleWorld,
) -> None:
    """Google carries out each master update of a pass but answers 500 (the retry meets the
    product's own new etag: 412); the write stops before the instances are patched. Liam's
    copy, which Google makes from Marco's, was recorded as written all the same, and the
    next pass read his W07 (Presidents' Day, moved by the product to Tuesday, a move his copy
    never got) as Liam moving it back onto the holiday. Found by the fault test at fault seed
    base 4."""
    world.sync(NOW)
    # Monday 11 January: W07 enters the horizon; its Monday is a holiday, so Marco and Liam's
    # Monday 1:1 goes to Tuesday 16 February.
    entering = datetime(2027, 1, 11, 8, 0, tzinfo=NY)
    world.emulator.faults.fail_method("calendar.events.update", 1000, "500", applied=True)
    failed = world.sync(entering)
    assert any("marco@acme.example/liam@acme.example" in c for c in failed.conflicts), failed

    world.emulator.faults.clear()

    world.sync(entering + timedelta(minutes=5))

    liam = world.pair(entering + timedelta(minutes=10), "marco", "liam")
    [w07] = [week for week in liam["weeks"] if week["week"] == "2027-W07"]
    assert w07["status"] == "upcoming", w07
    assert datetime.fromisoformat(w07["start"]) == datetime(2027, 2, 16, 9, 0, tzinfo=NY), w07
    assert not world.sync(entering + timedelta(minutes=15)).written


def test_an_emptied_ledger_is_rebuilt_from_google_keeping_history(world: GoogleWorld) -> None:
    world.sync(NOW)
    world.move_instance("marco", "marco", "ana", regular(1), regular(1) + timedelta(hours=1))
    world.move_instance("marco", "marco", "ana", regular(3), regular(3) + timedelta(hours=2))
    world.cancel_instance("marco", "marco", "ana", regular(5))
    world.sync(NOW + timedelta(minutes=5))

    later = NOW + timedelta(days=14)
    database = world.org.data_dir / "state.db"
    world.ledger.close()
    for leftover in database.parent.glob("state.db-*"):
        leftover.unlink()
    database.write_bytes(b"")
    world.restart()
    world.sync(later)

    view = world.series_view("marco", "marco", "ana")
    assert view is not None
    moved = {utc(s) for s in view.moved_starts}
    assert utc(regular(1) + timedelta(hours=1)) in moved
    assert utc(regular(3) + timedelta(hours=2)) in moved
    plan = plan_of(world, later + timedelta(minutes=5))
    assert plan["2027-W03"] == "people_changed"
    assert plan["2027-W05"] == "people_changed"
    assert len([u for u in world.makeup_uids("marco")]) == 1
    again = world.sync(later + timedelta(minutes=10))
    assert again.written == 0 and again.changes == []


def test_another_orgs_ledger_is_refused_on_google_and_nothing_is_written(
    world: GoogleWorld, tmp_path: Path
) -> None:
    world.sync(NOW)  # this org's series are on Google
    # Another org (no person in common, on vdir) ran on its own ledger ...
    theirs_root = tmp_path / "theirs"
    theirs_root.mkdir()
    text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
    (theirs_root / "oneonone.toml").write_text(text.replace("acme.example", "other.example"))
    theirs = VdirWorld(theirs_root)
    assert theirs.sync(NOW).written
    theirs.close()
    # ... and its state.db is copied over this org's.
    database = world.org.data_dir / "state.db"
    world.ledger.close()
    for leftover in database.parent.glob("state.db-*"):
        leftover.unlink()
    shutil.copy(theirs.org.data_dir / "state.db", database)
    world.restart()
    before = world.snapshot()
    world.emulator.reset_counts()
    later = (NOW + timedelta(minutes=5)).isoformat()

    for command in ("plan", "sync"):
        assert cli.main([command, "--config", str(world.config), "--now", later]) == 1, command
    with pytest.raises(UserError, match="belongs to another org"):
        world.sync(NOW + timedelta(minutes=5))

    assert world.snapshot() == before
    # Refused before the pass read anything: not one request reached Google.
    assert not +world.emulator.counts, world.emulator.counts


def test_a_safety_stop_writes_nothing_on_google_and_plan_shows_it(world: GoogleWorld) -> None:
    world.sync(NOW)
    # Most pairs leave the org file at once (a bad edit): ending them is a mass end.
    text = world.config.read_text()
    for manager in ("marco", "dana"):
        text = text.replace(f'manager = "{manager}@acme.example"', "")
    world.config.write_text(text)
    world.restart()
    before = world.snapshot()
    shown = run_pass(world.org, world.ledger, NOW + timedelta(minutes=5), apply=False)
    assert shown.safety
    stopped = run_pass(
        world.org, world.ledger, NOW + timedelta(minutes=5), apply=True, env=world.env
    )
    assert stopped.safety and stopped.written == 0
    assert world.snapshot() == before
