"""Benchmark: whole passes on the embedded default (vdir folders, SQLite, outbox).

Prints the first pass's time, a steady-state pass's time (nothing changed: what the daemon does
every ``poll_minutes``), a pass after 2% of the next week's occurrences were declined by people
(observation, make-ups, notices), and peak memory. Not a test: run it with
``python bench/sync.py [--managers M] [--reps R]``.

The org: one VP, M managers in New York with R reps each, every person with a few meetings of
their own a week.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time as clock
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.clientedits import decline_instance, week_instance, write_event
from scheduler.domain import series_uid
from scheduler.orgfile import load_org
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=NY)


def write_org(root: Path, managers: int, reps: int) -> None:
    lines = [
        "[org]",
        'name = "Bench"',
        'timezone = "America/New_York"',
        'country = "US"',
        'data_dir = "data"',
        "",
        "[[person]]",
        'email = "vp@bench.example"',
        'name = "Val Presley"',
        'calendar = { provider = "vdir", path = "cal/vp" }',
    ]
    for m in range(managers):
        lines += [
            "",
            "[[person]]",
            f'email = "m{m}@bench.example"',
            f'name = "Manager {m}"',
            'manager = "vp@bench.example"',
            f'calendar = {{ provider = "vdir", path = "cal/m{m}" }}',
            'weekday = "tue"',
            'time = "09:00"',
            "duration_minutes = 30",
        ]
        for r in range(reps):
            lines += [
                "",
                "[[person]]",
                f'email = "r{m}-{r}@bench.example"',
                f'name = "Rep {m}-{r}"',
                f'manager = "m{m}@bench.example"',
                f'calendar = {{ provider = "vdir", path = "cal/r{m}-{r}" }}',
            ]
    (root / "oneonone.toml").write_text("\n".join(lines) + "\n")


def write_busy(root: Path, rng: random.Random) -> None:
    for folder in sorted((root / "cal").iterdir()):
        for index in range(rng.randint(3, 6)):
            day = NOW.date() + timedelta(days=rng.randint(0, 13))
            start = datetime(day.year, day.month, day.day, rng.randint(9, 15), 0, tzinfo=NY)
            write_event(folder, f"busy-{index}", start, start + timedelta(hours=1), "Call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=25)
    parser.add_argument("--reps", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_org(root, args.managers, args.reps)
        org = load_org(root / "oneonone.toml", env={})
        for config in org.calendars.values():
            assert config.path is not None
            config.path.mkdir(parents=True, exist_ok=True)
        write_busy(root, rng)
        ledger = Ledger(org.database_url)
        pairs = len(org.pairs)

        # Only the figures of each pass are kept, as the daemon keeps nothing of a pass (its
        # result, with the whole plan, is dropped when the pass ends): holding the first
        # pass's plan, every object it wrote, through the later passes measured the bench.
        started = clock.perf_counter()
        first_written = run_pass(org, ledger, NOW, apply=True, env={}).written
        first_seconds = clock.perf_counter() - started

        steady: list[float] = []
        for step in range(1, 6):
            started = clock.perf_counter()
            written = run_pass(org, ledger, NOW + timedelta(minutes=5 * step), apply=True, env={})
            steady.append(clock.perf_counter() - started)
            assert written.written == 0, "a steady-state pass wrote to a calendar"
            del written

        edited = 0
        for pair in org.pairs:
            if rng.random() < 0.02:
                copy = org.calendars[pair.rep.email].path
                assert copy is not None
                path = copy / f"{series_uid(pair.manager.email, pair.rep.email)}.ics"
                rid = week_instance(path, NOW.date() + timedelta(days=7))
                decline_instance(path, rid, pair.rep.email)
                edited += 1
        started = clock.perf_counter()
        after = run_pass(org, ledger, NOW + timedelta(minutes=30), apply=True, env={})
        edit_seconds = clock.perf_counter() - started
        changes, after_written, sent = after.observed_changes, after.written, after.notices_sent
        del after
        ledger.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steady_s = sorted(steady)[len(steady) // 2]
    print(f"org: {pairs} pairs, {len(org.people)} people, vdir + SQLite")
    print(f"first pass: {first_seconds:.2f} s ({first_written} objects written)")
    print(
        f"steady-state pass (nothing changed): {steady_s * 1000:.0f} ms median, "
        f"{pairs / steady_s:.0f} pairs/s"
    )
    print(
        f"pass after {edited} declines (2% of next week): {edit_seconds * 1000:.0f} ms, "
        f"{changes} changes recorded, {after_written} objects written, {sent} notices sent"
    )
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
