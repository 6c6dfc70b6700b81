"""Benchmark: plan 10,000 pairs over 13 weeks with realistic busy calendars.

Prints pairs planned per second, occurrences per second and peak memory. Not a test: run it
with ``python bench/plan.py [--pairs N] [--weeks W]``.

The org: managers with 8 reps each (so 1,250 managers for 10,000 pairs), people spread over
four US and two European zones, every person with 8-15 meetings a week in working hours, one
rep in twenty out for a week, last_week close rule with US holidays.
"""

from __future__ import annotations

import argparse
import random
import resource
import time as clock
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import BusyCalendar, Interval, Pair, Person, Slot, WorkingHours, week_monday
from scheduler.planner import PlannerSettings, plan, weeks_from
from scheduler.rules import CloseWindowConfig, OrgCalendar

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
]


def build(
    pairs: int, weeks: int, now: datetime, seed: int = 1
) -> tuple[list[Pair], dict[str, BusyCalendar]]:
    rng = random.Random(seed)
    people: list[Person] = []
    result: list[Pair] = []
    hours = WorkingHours(time(9), time(17))
    managers = (pairs + 7) // 8
    for m in range(managers):
        manager = Person(f"m{m}@org.example", f"Manager {m}", rng.choice(ZONES), hours)
        people.append(manager)
        for r in range(min(8, pairs - m * 8)):
            rep = Person(
                f"r{m}-{r}@org.example", f"Rep {m}-{r}", rng.choice(ZONES), hours, manager.email
            )
            people.append(rep)
            minutes = 9 * 60 + 30 * r
            result.append(
                Pair(
                    manager,
                    rep,
                    Slot(rng.randint(0, 3), time(minutes // 60, minutes % 60)),
                    timedelta(minutes=30),
                    None,
                )
            )
    monday = week_monday(weeks_from(now, ZoneInfo(ZONES[0]), 1)[0])
    busy: dict[str, BusyCalendar] = {}
    for person in people:
        zone = person.zone
        intervals = []
        out = set()
        for week in range(weeks):
            start = monday + timedelta(weeks=week)
            for _ in range(rng.randint(8, 15)):
                day = start + timedelta(days=rng.randint(0, 4))
                begin = datetime.combine(
                    day, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))), zone
                )
                intervals.append(
                    Interval(begin, begin + timedelta(minutes=rng.choice((30, 60, 90))))
                )
            if rng.random() < 0.05 / weeks:  # one person in twenty is out one week
                out.update(start + timedelta(days=d) for d in range(5))
        busy[person.email] = BusyCalendar(intervals, out)
    return result, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=13)
    args = parser.parse_args()
    org_zone = ZoneInfo("America/New_York")
    now = datetime(2027, 1, 4, 8, 0, tzinfo=org_zone)
    pairs, busy = build(args.pairs, args.weeks, now)
    rules = OrgCalendar(country="US", close_window=CloseWindowConfig(rule="last_week"))
    settings = PlannerSettings(horizon_weeks=args.weeks, freeze=timedelta(hours=48))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = clock.perf_counter()
    result = plan(pairs, rules, org_zone, busy, {}, now, settings)
    elapsed = clock.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    statuses: dict[str, int] = {}
    for item in result:
        statuses[item.status.value] = statuses.get(item.status.value, 0) + 1
    moved = sum(1 for item in result if item.reason.startswith("moved"))
    print(
        f"pairs planned:          {len(pairs):,} over {args.weeks} weeks "
        f"({len(result):,} occurrences)"
    )
    print(f"planning time:          {elapsed:.2f} s")
    print(f"pairs per second:       {len(pairs) / elapsed:,.0f}")
    print(f"occurrences per second: {len(result) / elapsed:,.0f}")
    print(f"moved around busy time: {moved:,}; by status: {statuses}")
    print(f"peak memory (max RSS):  {peak_mb:.0f} MB (before planning: {rss_before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
