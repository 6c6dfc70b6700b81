"""Benchmark: does a pass cost more as the org's history grows? Weekly passes over a year.

Builds the org of ``bench/sync.py`` (one VP, M managers with R reps each, vdir + SQLite), then
runs one pass every Monday morning for ``--weeks`` simulated weeks, with 2% of the next week's
occurrences declined by reps before each pass (so the ledger gains moves, declines and make-ups,
as a real org's does), a quiet pass an hour after each weekly one (it reads back the files the
weekly pass wrote) and a steady pass an hour later (what the daemon runs every few minutes, all
week: nothing new to read), and then the day's full reconciliation (the daemon's first passes of
each day read every pair's whole history, ``FULL_SLICE`` pairs a pass, so edits to long-settled
weeks are still seen; it is measured on its own, as the CPU of all its passes, the weekly pass
being an ordinary one). Prints, for every week, the CPU time of the four passes (and how many
passes the full check took), the objects the weekly pass wrote, the peak memory and the memory
held after the week's passes; then the ratio of the last week to week 4 (the goal of "cost that
grows with neither history nor time": at most 1.2), and the last week of each kind (close weeks,
weeks with agendas due) beside the first of the same kind from week 4 on that wrote as much.
From 4 January 2027, weeks 4 and 52 are both month-end close weeks (no agendas are due) and
both write few objects: a series' description lists the whole year of close weeks it skips,
so a close week entering the horizon changes no series (until ``2e401ac`` it listed only the
horizon's, and weeks 8, 21, 30, 43 and 52 rewrote every series); a "close" mark shows every
such week, whose passes are cheaper than the others.
With ``--meetings N`` every person also books N meetings of their own each week (in the week
after the pass's), each a file of its own that stays in their calendar when it is over, as a
real calendar's past meetings do: what a pass costs as calendars grow. By default people have
only the few meetings of the first two weeks (``bench/sync.py``), as in earlier figures.
Not a test: ``python bench/history.py [--managers M] [--reps R] [--weeks W] [--meetings N]``.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path

from sync import NOW, NY, write_busy, write_org  # bench/sync.py: the same org

from scheduler.clientedits import decline_instance, week_instance, write_event
from scheduler.domain import PlanStatus, iso_week, series_uid
from scheduler.engine.snapshot import FULL_DAY, FULL_SLICE
from scheduler.orgfile import load_org
from scheduler.providers.vdir import RACY_SECONDS
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass


def resident_mb() -> float:
    """The process's resident memory now (``VmRSS``; the peak where Linux's ``/proc`` is
    missing): what the daemon holds between passes, beside the peak of its passes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=25)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--meetings", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(5)
    booking = random.Random(7)  # its own: the declines are those of a run without meetings
    weekly: dict[int, float] = {}
    quiet: dict[int, float] = {}
    steady: dict[int, float] = {}
    full: dict[int, float] = {}
    slices: dict[int, int] = {}
    rss: dict[int, float] = {}
    resident: dict[int, float] = {}
    written: dict[int, int] = {}
    close: set[int] = set()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_org(root, args.managers, args.reps)
        org = load_org(root / "oneonone.toml", env={})
        for config in org.calendars.values():
            assert config.path is not None
            config.path.mkdir(parents=True, exist_ok=True)
        write_busy(root, rng)
        ledger = Ledger(org.database_url)
        for week in range(1, args.weeks + 1):
            now = NOW + timedelta(weeks=week - 1)
            if week > 1:
                for pair in org.pairs:
                    if rng.random() < 0.02:
                        folder_path = org.calendars[pair.rep.email].path
                        assert folder_path is not None
                        path = folder_path / f"{series_uid(pair.manager.email, pair.rep.email)}.ics"
                        if path.exists():
                            rid = week_instance(path, now.date() + timedelta(days=7))
                            decline_instance(path, rid, pair.rep.email)
                for person in sorted((root / "cal").iterdir()):
                    for index in range(args.meetings):
                        day = now.date() + timedelta(days=7 + booking.randint(0, 4))
                        start = datetime.combine(day, time(booking.randint(9, 16)), NY)
                        uid = f"meeting-{week}-{index}"
                        write_event(person, uid, start, start + timedelta(hours=1), "Meeting")
            # The day's full check ran at midnight on last week's world (as the daemon's first
            # pass of the day does): the weekly pass is an ordinary one, as in the daemon.
            ledger.set_state(FULL_DAY, now.astimezone(org.zone).date().isoformat())
            began = clock.process_time()
            result = run_pass(org, ledger, now, apply=True, env={})
            weekly[week] = clock.process_time() - began
            written[week] = result.written
            this_week = iso_week(now.astimezone(org.zone).date())
            if any(
                p.status is PlanStatus.CLOSE_WEEK for p in result.planned if p.week == this_week
            ):
                close.add(week)
            del result  # the daemon keeps nothing of a pass; neither does the bench
            # An hour later, as the file system sees it too: the files the weekly pass wrote
            # are no longer too fresh to be known by their status (vdir.RACY_SECONDS).
            clock.sleep(RACY_SECONDS)
            began = clock.process_time()
            run_pass(org, ledger, now + timedelta(hours=1), apply=True, env={})
            quiet[week] = clock.process_time() - began
            began = clock.process_time()
            run_pass(org, ledger, now + timedelta(hours=2), apply=True, env={})
            steady[week] = clock.process_time() - began
            # The day's full reconciliation (every pair read whole, as the daemon's first
            # passes of each day do, FULL_SLICE pairs a pass), measured on its own: forgotten,
            # so the next passes do it, five minutes apart until it is done.
            ledger.set_state(FULL_DAY, "")
            began = clock.process_time()
            at = now + timedelta(hours=3)
            slices[week] = 0
            while ledger.get_state(FULL_DAY) == "" and slices[week] <= len(org.pairs):
                run_pass(org, ledger, at, apply=True, env={}, full_slice=FULL_SLICE)
                at += timedelta(minutes=5)
                slices[week] += 1
            full[week] = clock.process_time() - began
            rss[week] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            resident[week] = resident_mb()
            if week == 1:
                print(
                    f"org: {len(org.pairs)} pairs, vdir + SQLite, {args.weeks} weekly passes, "
                    f"{args.meetings} meetings booked by each person a week"
                )
                print(
                    "week  weekly pass CPU  quiet pass CPU  steady pass CPU  full check CPU  "
                    "written  peak RSS  RSS after"
                )
            # Each week as it is measured: a large org's year takes hours.
            print(
                f"{week:4d}  {weekly[week]:13.2f} s  {quiet[week]:12.2f} s  "
                f"{steady[week]:13.2f} s  {full[week]:7.2f} s ({slices[week]:2d})  "
                f"{written[week]:7d}  {rss[week]:6.0f} MB  {resident[week]:6.0f} MB"
                f"{'  close' if week in close else ''}",
                flush=True,
            )
        ledger.close()
    last = max(weekly)
    if 4 in weekly and last > 4:
        print(
            f"week {last} / week 4: weekly {weekly[last] / weekly[4]:.2f}, "
            f"quiet {quiet[last] / quiet[4]:.2f}, steady {steady[last] / steady[4]:.2f} "
            f"(goal: at most 1.2); the daily full check {full[last] / full[4]:.2f}; "
            f"peak RSS {rss[last] / rss[4]:.2f}; RSS after the week's passes "
            f"{resident[last] / resident[4]:.2f}"
        )
        # A weekly pass costs what it writes: week 4 writes only the series people changed,
        # while a close week entering the horizon (weeks 8 and 52 of this calendar) or an
        # agenda due rewrites every series. So the last week of each kind (close weeks, and
        # the others, which send the week's prep notices) is also set beside the first week
        # from 4 of the same kind that wrote as much, with less history.
        for kind in (True, False):
            latest = max((week for week in weekly if (week in close) == kind), default=None)
            if latest is None:
                continue
            alike = next(
                (
                    week
                    for week in sorted(weekly)
                    if 4 <= week < latest
                    and (week in close) == kind
                    and abs(written[week] - written[latest]) <= 0.1 * written[latest]
                ),
                None,
            )
            if alike is not None:
                named = "close weeks" if kind else "weeks with agendas due"
                print(
                    f"week {latest} / week {alike} ({named}, {written[alike]} and "
                    f"{written[latest]} objects written): weekly "
                    f"{weekly[latest] / weekly[alike]:.2f}"
                )


if __name__ == "__main__":
    main()
