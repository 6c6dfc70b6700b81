"""People win even when things fail, on CalDAV (Radicale): a person's edit that lands between a
pass's read and its write (the write's ``If-Match`` fails with 412) is kept and recorded, an
emptied ledger is rebuilt from the server keeping history, and a safety stop writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import clientedits
from scheduler.domain import series_uid
from scheduler.domain.series import utc
from scheduler.providers.caldav.client import DavCalendar
from scheduler.sync import run_pass
from tests.caldav.harness import DavPeople
from tests.system.caldav_world import CaldavWorld

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 5, 8, 0, tzinfo=NY)  # Tuesday of W01; W04 is January's close week
MARCO, ANA = "marco@acme.example", "ana@acme.example"

pytestmark = [
    pytest.mark.parametrize("make_world", ["caldav"], indirect=True),
    pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed"),
]


@pytest.fixture
def world(make_world: Callable[..., Any], tmp_path: Path) -> CaldavWorld:
    made: CaldavWorld = make_world(tmp_path / "org")
    return made


def regular(week: int) -> datetime:
    return datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)


def plan_of(world: CaldavWorld, now: datetime) -> dict[str, str]:
    return {o.week: o.status.value for o in world.plan(now).planned if o.rep == ANA}


def test_an_edit_between_the_read_and_the_write_wins(
    world: CaldavWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sync(NOW)
    # Ana declines W03: the next pass rewrites Marco's copy of the series ...
    world.decline_instance("ana", "marco", "ana", regular(3))
    uid = series_uid(MARCO, ANA)
    marco = DavPeople(world.server, "marco", world.urls["marco"], world.root / "marco-phone")
    moved = regular(2) + timedelta(hours=1)
    put = DavCalendar.put
    raced: list[str] = []

    def racing_put(self: DavCalendar, href: str, data: bytes, expect: str | None) -> Any:
        # ... and Marco moves W02 on his phone just before that write goes out.
        if href.endswith(f"{uid}.ics") and "/marco/" in href and not raced:
            raced.append(href)
            marco.edit(uid, lambda path: clientedits.move_instance(path, regular(2), moved))
        return put(self, href, data, expect)

    monkeypatch.setattr(DavCalendar, "put", racing_put)
    result = world.sync(NOW + timedelta(minutes=35))
    monkeypatch.setattr(DavCalendar, "put", put)
    assert raced, "the pass never rewrote Marco's copy"
    assert any("left as it is" in conflict for conflict in result.conflicts), result.conflicts

    view = world.series_view("marco", "marco", "ana")
    assert view is not None and utc(moved) in {utc(s) for s in view.moved_starts}
    world.sync(NOW + timedelta(minutes=40))
    view = world.series_view("marco", "marco", "ana")
    assert view is not None and utc(moved) in {utc(s) for s in view.moved_starts}
    assert plan_of(world, NOW + timedelta(minutes=45))["2027-W02"] == "people_changed"
    again = world.sync(NOW + timedelta(minutes=50))
    assert again.written == 0 and again.changes == []


def test_an_emptied_ledger_is_rebuilt_from_caldav_keeping_history(world: CaldavWorld) -> None:
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
    assert len(world.makeup_uids("marco")) == 1
    again = world.sync(later + timedelta(minutes=10))
    assert again.written == 0 and again.changes == []


def test_a_safety_stop_writes_nothing_on_caldav_and_plan_shows_it(world: CaldavWorld) -> None:
    world.sync(NOW)
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
