"""Replay: a scripted quarter of people's edits gives the same report whether the daemon ran
every 5 minutes or once a day.

The org: Vera (VP), Marco (her manager, New York) and his reps Ana and Sam. People edit their
calendar files at fixed times, the way calendar clients do; the passes run in-process at the
cadence under test. Edits are made before the day's 08:00 pass, as people's edits mostly are
between two passes: what the cadence changes is only how soon the product sees them.

The fine cadence is the daemon's 5-minute poll wherever the clock can change what a pass
decides: around each edit, each session and make-up (its start and end, its freeze and agenda
lead times, from the org file) and each week's start (when weeks settle and notices are
decided); in between, where the next pass has nothing new to see, it polls every 3 hours.
Polling every 5 minutes through the whole quarter would add 24,000 passes (ten minutes of CPU),
each between the same two moments as a pass that is made.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
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
POLL = timedelta(minutes=5)
QUARTER = timedelta(minutes=15)
#: the fine run's longest wait between passes, away from the moments the clock matters at
IDLE_HOURS = 3

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


class _Run:
    """One replay: the report it ends with and the moments the clock mattered at in it."""

    def __init__(self, root: Path, times: Iterable[datetime]) -> None:
        root.mkdir(parents=True)
        (root / "oneonone.toml").write_text(SMALL_ORG)
        world = VdirWorld.from_file(root / "oneonone.toml")
        try:
            script = _script(world)
            #: when people edited their calendars
            self.edits = [when for when, _ in script]
            for now in times:
                while script and script[0][0] <= now:
                    script.pop(0)[1]()
                world.sync(now)
            assert not script
            report = world.report(END, weeks=14)
            self.moments = _moments(world)
        finally:
            world.close()
        self.summary: dict[str, Any] = {
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


def _moments(world: VdirWorld) -> list[datetime]:
    """Each session's and make-up's start and end (where planned and where people put it),
    the freeze and agenda lead times before each start, and the start of each week."""
    schedule = world.org.schedule
    leads = [timedelta(hours=schedule.freeze_hours), timedelta(hours=schedule.agenda_lead_hours)]
    sessions = [
        span
        for weeks in world.ledger.occurrences().values()
        for r in weeks.values()
        for span in ((r.planned_start, r.planned_end), (r.actual_start, r.actual_end))
    ]
    sessions += [(m.start, m.end) for ms in world.ledger.makeups().values() for m in ms.values()]
    moments = [START.replace(hour=0) + timedelta(weeks=week) for week in range(14)]
    for start, end in sessions:
        if start is not None and end is not None:
            moments += [start, end, *(start - lead for lead in leads)]
    return moments


def _fine(edits: Iterable[datetime], moments: Iterable[datetime]) -> list[datetime]:
    """The 5-minute poll from an hour before ``START`` to ``END``, where it is within a quarter
    of an hour of a moment (or from a quarter of an hour before an edit to an hour after it);
    elsewhere on every ``IDLE_HOURS``-th hour of the day."""
    spans = [(edit - QUARTER, edit + timedelta(hours=1)) for edit in edits]
    spans += [(moment - QUARTER, moment + QUARTER) for moment in moments]
    merged: list[tuple[datetime, datetime]] = []
    for low, high in sorted((low.astimezone(UTC), high.astimezone(UTC)) for low, high in spans):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    lows = [low for low, _ in merged]
    times = []
    first = now = START - timedelta(hours=1)
    while now <= END:
        instant = now.astimezone(UTC)
        index = bisect_right(lows, instant) - 1
        idle = now.minute == 0 and now.hour % IDLE_HOURS == 0
        if idle or now in (first, END) or (index >= 0 and instant <= merged[index][1]):
            times.append(now)
        now += POLL
    return times


@pytest.mark.slow
def test_a_scripted_quarter_reports_the_same_at_any_cadence(tmp_path: Path) -> None:
    daily = _Run(tmp_path / "daily", (START + timedelta(days=n) for n in range(92)))
    fine = _fine(daily.edits, daily.moments)
    every_5_minutes = _Run(tmp_path / "5min", fine)
    assert every_5_minutes.summary == daily.summary
    # The fine cadence: from START - 1 h to END, never IDLE_HOURS without a pass, and a pass
    # within one poll after each moment (both runs put the sessions at the same times).
    assert fine[0] == START - timedelta(hours=1) and fine[-1] == END
    instants = sorted(now.astimezone(UTC) for now in fine)
    assert max(b - a for a, b in pairwise(instants)) <= timedelta(hours=IDLE_HOURS)
    assert sorted(set(every_5_minutes.moments)) == sorted(set(daily.moments))
    for moment in [*daily.edits, *daily.moments]:
        if fine[0] <= moment <= END:
            assert instants[bisect_left(instants, moment)] - moment < POLL, moment
    weeks = dict(
        next(p for p in daily.summary["pairs"] if p["pair"][1] == "ana@acme.example")["weeks"]
    )
    # The script did what it says, so the comparison compares something.
    assert weeks["2027-W02"] == "moved"
    assert weeks["2027-W03"] == "made_up"
    assert weeks["2027-W06"] == "declined" and weeks["2027-W07"] == "declined"
    assert weeks["2027-W10"] == "time_off"
    assert weeks["2027-W04"] == "close_week"
    kinds = {n[0] for n in daily.summary["notices"]}
    assert {"nudge", "escalation", "digest", "series_recreated"} <= kinds
