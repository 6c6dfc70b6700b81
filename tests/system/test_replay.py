"""Replay: a scripted quarter of people's edits gives the same report whether the daemon ran
every 5 minutes or once a day.

The org: Vera (VP), Marco (her manager, New York) and his reps Ana and Sam. People edit their
calendar files at fixed times, the way calendar clients do; the passes run in-process at the
cadence under test. Edits are made before the day's 08:00 pass, as people's edits mostly are
between two passes: what the cadence changes is only how soon the product sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.clientedits import (
    decline_event,
    decline_instance,
    exdate_instance,
    move_instance,
    write_event,
)
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # Monday of 2027-W01
END = START + timedelta(weeks=13)

SMALL_ORG = """\
[org]
name = "Replay"
timezone = "America/New_York"
country = "US"
data_dir = "data"

[schedule]
poll_minutes = 5

[[person]]
email = "vera@acme.example"
name = "Vera Vance"
calendar = { provider = "vdir", path = "data/calendars/vera" }
weekday = "thu"
time = "14:00"

[[person]]
email = "marco@acme.example"
name = "Marco Rossi"
manager = "vera@acme.example"
calendar = { provider = "vdir", path = "data/calendars/marco" }
weekday = "tue"
time = "10:00"

[[person]]
email = "ana@acme.example"
name = "Ana Alvarez"
manager = "marco@acme.example"
calendar = { provider = "vdir", path = "data/calendars/ana" }

[[person]]
email = "sam@acme.example"
name = "Sam Okafor"
manager = "marco@acme.example"
calendar = { provider = "vdir", path = "data/calendars/sam" }
"""


def _at(week: int, weekday: int, hour: int, minute: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute) + timedelta(weeks=week - 1, days=weekday)


def _script(world: VdirWorld) -> list[tuple[datetime, Callable[[], None]]]:
    """(when, edit) in time order: a move, declines, a cancel, a declined make-up, a week of
    vacation and a deleted series."""

    def instance(rep: str, week: int) -> datetime:
        offset = 0 if rep == "ana" else 30
        return _at(week, 1, 10, offset)

    def ana(week: int) -> Path:
        return world.series("ana", "marco", "ana")

    def decline_makeup(week: int) -> None:
        path = world.makeup("ana", "marco", "ana", f"2027-W{week:02d}")
        assert path.exists(), f"no make-up for W{week:02d} yet"
        decline_event(path, "ana@acme.example")

    def vacation() -> None:
        for day in range(5):
            when = date(2027, 3, 8) + timedelta(days=day)
            write_event(world.folder("ana"), f"pto-{day}", when, when + timedelta(days=1), "PTO")

    marco_ana = world.series("marco", "marco", "ana")
    return [
        (_at(2, 0, 7), lambda: move_instance(marco_ana, instance("ana", 2), _at(2, 2, 14))),
        (_at(3, 0, 7), lambda: decline_instance(ana(3), instance("ana", 3), "ana@acme.example")),
        (
            _at(5, 0, 7),
            lambda: exdate_instance(world.series("sam", "marco", "sam"), instance("sam", 5)),
        ),
        (_at(6, 0, 7), lambda: decline_instance(ana(6), instance("ana", 6), "ana@acme.example")),
        (_at(6, 0, 9), lambda: decline_makeup(6)),
        (_at(7, 0, 7), lambda: decline_instance(ana(7), instance("ana", 7), "ana@acme.example")),
        (_at(7, 0, 9), lambda: decline_makeup(7)),
        (_at(9, 0, 7), vacation),
        (_at(11, 0, 7), lambda: world.series("marco", "marco", "sam").unlink()),
    ]


def _replay(root: Path, step: timedelta, first: datetime) -> dict[str, Any]:
    root.mkdir(parents=True)
    (root / "oneonone.toml").write_text(SMALL_ORG)
    world = VdirWorld.from_file(root / "oneonone.toml")
    try:
        script = _script(world)
        now = first
        while now <= END:
            while script and script[0][0] <= now:
                script.pop(0)[1]()
            world.sync(now)
            now += step
        assert not script
        report = world.report(END, weeks=14)
    finally:
        world.close()
    return {
        "pairs": [
            {
                "pair": (p["manager"], p["rep"]),
                "weeks": [(w["week"], w["status"]) for w in p["weeks"]],
                "streak": p["missed_streak"],
                "adherence": (p["adherence_4w"], p["adherence_12w"]),
            }
            for p in report["pairs"]
        ],
        "notices": sorted(
            (n["kind"], n["manager"], n["rep"] or "-", n["week"], n["to"], bool(n["sent_at"]))
            for n in report["notices"]
        ),
    }


@pytest.mark.slow
def test_a_scripted_quarter_reports_the_same_at_any_cadence(tmp_path: Path) -> None:
    daily = _replay(tmp_path / "daily", timedelta(days=1), START)
    every_5_minutes = _replay(tmp_path / "5min", timedelta(minutes=5), START - timedelta(hours=1))
    assert every_5_minutes == daily
    weeks = dict(next(p for p in daily["pairs"] if p["pair"][1] == "ana@acme.example")["weeks"])
    # The script did what it says, so the comparison compares something.
    assert weeks["2027-W02"] == "moved"
    assert weeks["2027-W03"] == "made_up"
    assert weeks["2027-W06"] == "declined" and weeks["2027-W07"] == "declined"
    assert weeks["2027-W10"] == "time_off"
    assert weeks["2027-W04"] == "close_week"
    kinds = {n[0] for n in daily["notices"]}
    assert {"nudge", "escalation", "digest", "series_recreated"} <= kinds
