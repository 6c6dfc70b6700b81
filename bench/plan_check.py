"""Equivalence check for planner optimisations: dump the plans of many varied orgs to a file.

Not a test: run ``python bench/plan_check.py OUT`` before and after changing the planner and
compare the two files byte for byte (``cmp``). Each case builds an org with ``bench/plan.py``'s
``build`` (its own seed, size and clock, some near DST changes and month ends), then varies it:
organizers far from the org's zone (a week shift, half-hour offsets), working hours of their own
zone and days, slots in DST gaps and folds or near midnight, odd durations, ledger entries that
are kept (frozen, changed by people, kept conflicts, cancelled) or matched, both close policies
and every close rule. The dump holds every field of every ``PlannedOccurrence`` (instants with
their zone, so a change of tzinfo shows too), plus ``find_makeup`` and ``away_all_week`` answers.

``--quick`` runs the small cases only.
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan import build

from scheduler.domain import BusyCalendar, Pair, Person, PlanStatus, Slot, WorkingHours
from scheduler.planner import (
    Known,
    PlannedOccurrence,
    PlannerSettings,
    away_all_week,
    find_makeup,
    plan,
    weeks_from,
)
from scheduler.rules import CloseWindowConfig, OrgCalendar

FAR_ZONES = ["Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland", "UTC"]

# (seed, pairs, weeks, org zone, now, close config, policy)
CASES: list[tuple[int, int, int, str, datetime, CloseWindowConfig, str]] = [
    (1, 300, 6, "America/New_York", datetime(2027, 1, 4, 8, 0), CloseWindowConfig(), "skip"),
    (2, 300, 8, "America/New_York", datetime(2027, 3, 10, 9, 7, 13), CloseWindowConfig(), "shift"),
    (
        3,
        400,
        6,
        "Europe/Berlin",
        datetime(2027, 3, 24, 23, 59),
        CloseWindowConfig(rule="last_business_days", days=3),
        "shift",
    ),
    (
        4,
        400,
        6,
        "Europe/London",
        datetime(2027, 10, 28, 12, 0),
        CloseWindowConfig(rule="last_business_days", days=2, quarter_end_only=True),
        "skip",
    ),
    (
        5,
        500,
        6,
        "America/Los_Angeles",
        datetime(2027, 11, 3, 16, 45),
        CloseWindowConfig(rule="fiscal", year_start=date(2027, 1, 4), pattern="4-4-5"),
        "shift",
    ),
    (
        6,
        500,
        7,
        "America/New_York",
        datetime(2026, 12, 28, 0, 0),
        CloseWindowConfig(blackout=((date(2027, 1, 6), date(2027, 1, 8)),)),
        "shift",
    ),
    (
        7,
        600,
        6,
        "Asia/Tokyo",
        datetime(2027, 4, 29, 10, 30),
        CloseWindowConfig(),
        "shift",
    ),
    (8, 1000, 13, "America/New_York", datetime(2027, 1, 4, 8, 0), CloseWindowConfig(), "skip"),
    (
        9,
        2000,
        8,
        "America/Chicago",
        datetime(2027, 5, 28, 17, 15),
        CloseWindowConfig(),
        "shift",
    ),
    (
        10,
        1500,
        6,
        "Europe/Berlin",
        datetime(2027, 3, 1, 6, 0),
        CloseWindowConfig(rule="last_business_days", days=4),
        "skip",
    ),
]


def vary(
    pairs: list[Pair], busy: dict[str, BusyCalendar], rng: random.Random
) -> tuple[list[Pair], dict[str, BusyCalendar]]:
    """Far zones, own working hours, odd slots and durations for some of the pairs."""
    people: dict[str, Person] = {}

    def changed(person: Person) -> Person:
        if person.email in people:
            return people[person.email]
        roll = rng.random()
        if roll < 0.08:
            person = replace(person, timezone=rng.choice(FAR_ZONES))
        elif roll < 0.14:
            hours = WorkingHours(
                time(rng.choice((6, 7, 8)), rng.choice((0, 30))),
                time(rng.choice((15, 16, 18, 20)), rng.choice((0, 45))),
                frozenset(rng.sample(range(7), rng.randint(3, 6))),
                rng.choice((None, "UTC", "Asia/Kolkata", "America/Denver")),
            )
            person = replace(person, working_hours=hours)
        elif roll < 0.17:
            person = replace(person, working_hours=WorkingHours(time(0), time(23, 59)))
        people[person.email] = person
        return person

    result = []
    for pair in pairs:
        manager, rep = changed(pair.manager), changed(pair.rep)
        slot, duration = pair.slot, pair.duration
        roll = rng.random()
        if roll < 0.05:
            slot = Slot(rng.randint(0, 6), time(rng.choice((0, 1, 2, 3, 23)), rng.choice((0, 30))))
        elif roll < 0.10:
            duration = timedelta(minutes=rng.choice((15, 25, 45, 50, 60, 90)))
        elif roll < 0.12:
            slot = Slot(slot.weekday, time(slot.at.hour, 10))
        result.append(replace(pair, manager=manager, rep=rep, slot=slot, duration=duration))
    return result, busy


def known_for(
    pairs: list[Pair], weeks: list[str], now: datetime, rng: random.Random
) -> dict[str, dict[str, Known]]:
    """Ledger entries for some weeks of some pairs: kept ones and ones the plan may match."""
    known: dict[str, dict[str, Known]] = {}
    for pair in pairs:
        if rng.random() > 0.3:
            continue
        for week in weeks[: rng.randint(1, 3)]:
            regular = pair.regular_start(week)
            roll = rng.random()
            start = regular + timedelta(minutes=15 * rng.randint(-8, 8))
            if roll < 0.2:
                status = PlanStatus.CONFLICT
            elif roll < 0.3:
                status = PlanStatus.CLOSE_WEEK
            elif roll < 0.35:
                status = PlanStatus.TIME_OFF
            else:
                status = PlanStatus.PLANNED
            if rng.random() < 0.3:
                start = regular
            known.setdefault(pair.key, {})[week] = Known(
                start,
                start + pair.duration,
                status,
                f"ledger reason {rng.randint(0, 9)}",
                people_changed=rng.random() < 0.1,
                happens=rng.random() < 0.9,
            )
        if rng.random() < 0.2:  # a week in the past with something recorded
            start = now - timedelta(days=rng.randint(1, 6))
            known.setdefault(pair.key, {})[weeks[0]] = Known(
                start, start + pair.duration, PlanStatus.PLANNED, "past"
            )
    return known


def stamp(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return f"{moment.isoformat()}[{moment.tzinfo!r}|fold={moment.fold}]"


def line(item: PlannedOccurrence) -> str:
    return "\t".join(
        (
            item.pair_key,
            item.manager,
            item.rep,
            item.week,
            stamp(item.start),
            stamp(item.end),
            stamp(item.regular_start),
            item.status.value,
            item.reason,
        )
    )


def run_case(
    case: tuple[int, int, int, str, datetime, CloseWindowConfig, str], out: list[str]
) -> None:
    seed, count, horizon, zone_name, naive_now, close, policy = case
    org_zone = ZoneInfo(zone_name)
    now = naive_now.replace(tzinfo=org_zone)
    rng = random.Random(seed * 7919)
    pairs, busy = build(count, horizon + 1, now, seed)
    if seed % 3 != 1:  # every third case keeps the benchmark's org untouched
        pairs, busy = vary(pairs, busy, rng)
    rules = OrgCalendar(country="US" if seed % 2 else "DE", close_window=close)
    weeks = weeks_from(now, org_zone, horizon)
    known = known_for(pairs, weeks, now, rng) if seed % 4 != 0 else {}
    freeze = timedelta(hours=rng.choice((0, 24, 48)))
    settings = PlannerSettings(horizon_weeks=horizon, freeze=freeze, policy=policy)
    explicit = None if seed % 5 else weeks_from(now - timedelta(weeks=1), org_zone, horizon)
    out.append(f"# case {case!r} pairs={len(pairs)}")
    result = plan(pairs, rules, org_zone, busy, known, now, settings, explicit)
    out.extend(line(item) for item in result)
    # find_makeup and away_all_week on a sample of pairs, with 1:1s taken from the plan
    taken: dict[str, list[tuple[datetime, datetime]]] = {}
    for item in result:
        if item.week == weeks[1] and not item.skipped:
            taken.setdefault(item.manager, []).append((item.start, item.end))
            taken.setdefault(item.rep, []).append((item.start, item.end))
    for pair in rng.sample(pairs, min(60, len(pairs))):
        for week in weeks[:3]:
            earliest = now + timedelta(hours=rng.randint(0, 120), minutes=rng.randint(0, 59))
            found = find_makeup(pair, week, rules, org_zone, busy, taken, earliest)
            away = away_all_week(pair, week, rules, busy)
            out.append(f"makeup\t{pair.key}\t{week}\t{stamp(earliest)}\t{stamp(found)}\t{away}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--quick", action="store_true", help="only the cases up to 600 pairs")
    args = parser.parse_args()
    out: list[str] = []
    started = clock.process_time()
    for case in CASES:
        if args.quick and case[1] > 600:
            continue
        run_case(case, out)
    args.out.write_text("\n".join(out) + "\n")
    print(f"{len(out):,} lines, {clock.process_time() - started:.1f} s CPU")


if __name__ == "__main__":
    main()
