"""Time and memory of reading hostile calendars, through the vdir and the ``ics`` providers.

Usage: ``python bench/hostile.py [--limit SECONDS] [CASE ...]``. Each case is read in a
child process (killed after ``--limit`` seconds, so a reader that hangs is measured as
"over the limit", not waited for): one vdir folder holding the hostile file and a good one,
and the same bytes as an ``ics`` feed file. Prints, per case and reader, the wall time, the
peak memory of the child (max RSS), and how many problems the read reported and whether the
good event's busy time was still there.

Cases (the issue's measurements):
- ``year-one``: 197 bytes, an all-day DTSTART, a DTEND in year 1, ``RRULE:FREQ=DAILY``;
- ``by-everything``: a daily rule with every BYHOUR, BYMINUTE and BYSECOND;
- ``rdates``: 100,000 RDATE and 100,000 EXDATE values;
- ``big-feed``: a 12 MB feed of ordinary one-off events.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, tzinfo=NY)
END = START + timedelta(weeks=7)
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
TAIL = "END:VCALENDAR\r\n"
GOOD = (
    "BEGIN:VEVENT\r\nUID:good\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART:20270105T150000Z\r\nDTEND:20270105T160000Z\r\nEND:VEVENT\r\n"
)


def year_one() -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        "BEGIN:VEVENT\r\nUID:h1\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;VALUE=DATE:20260105\r\nDTEND:00010101T000000Z\r\n"
        "RRULE:FREQ=DAILY\r\nSUMMARY:x\r\nEND:VEVENT\r\n" + TAIL
    ).encode()


def by_everything() -> bytes:
    hours = ",".join(str(h) for h in range(24))
    sixty = ",".join(str(m) for m in range(60))
    return (
        HEAD + "BEGIN:VEVENT\r\nUID:h2\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260105T000000Z\r\nDTEND:20260105T000001Z\r\n"
        f"RRULE:FREQ=DAILY;BYHOUR={hours};BYMINUTE={sixty};BYSECOND={sixty}\r\n"
        "END:VEVENT\r\n" + TAIL
    ).encode()


def rdates() -> bytes:
    base = datetime(2020, 1, 1, 9, tzinfo=UTC)
    values = [(base + timedelta(hours=i)).strftime("%Y%m%dT%H%M%SZ") for i in range(100_000)]
    lines = [f"RDATE:{','.join(values[i : i + 50])}" for i in range(0, len(values), 50)]
    lines += [f"EXDATE:{','.join(values[i : i + 50])}" for i in range(0, len(values), 50)]
    return (
        HEAD + "BEGIN:VEVENT\r\nUID:h3\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20200101T090000Z\r\nDTEND:20200101T093000Z\r\n"
        + "".join(line + "\r\n" for line in lines)
        + "END:VEVENT\r\n"
        + TAIL
    ).encode()


def big_feed() -> bytes:
    events: list[str] = []
    size = 0
    n = 0
    while size < 12 * 1024 * 1024:
        day = datetime(2015, 1, 1, 9, tzinfo=UTC) + timedelta(hours=7 * n)
        text = (
            f"BEGIN:VEVENT\r\nUID:big-{n}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:{day:%Y%m%dT%H%M%SZ}\r\nDTEND:{day + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
            f"SUMMARY:Meeting number {n} about an account\r\n"
            "DESCRIPTION:Some notes that a real calendar keeps with each event\\, as most do.\r\n"
            "END:VEVENT\r\n"
        )
        events.append(text)
        size += len(text)
        n += 1
    return (HEAD + "".join(events) + TAIL).encode()


CASES = {
    "year-one": year_one,
    "by-everything": by_everything,
    "rdates": rdates,
    "big-feed": big_feed,
}


def _child(case: str, reader: str, queue: multiprocessing.Queue[str]) -> None:
    from scheduler.domain import Person
    from scheduler.providers.ics import IcsProvider
    from scheduler.providers.vdir import VdirProvider

    person = Person("ana@acme.example", "Ana", "America/New_York")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = CASES[case]()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        began = time.perf_counter()
        cpu = time.process_time()
        if reader == "vdir":
            (root / "hostile.ics").write_bytes(data)
            (root / "good.ics").write_bytes((HEAD + GOOD + TAIL).encode())
            read = VdirProvider(root, NY).read(person, START, END)
        else:
            feed = root / "feed.ics"
            feed.write_bytes(data.replace(TAIL.encode(), (GOOD + TAIL).encode()))
            read = IcsProvider(feed, root / "cache", NY).read(person, START, END)
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
    good = any(start.astimezone(UTC).hour == 15 for start, _ in read.busy)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "max_rss_mb": round(peak),
                "baseline_rss_mb": round(baseline),
                "problems": len(read.problems),
                "good_busy_kept": good,
                "first_problem": (read.problems or [""])[0][:160],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--limit", type=float, default=60.0)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for case in args.cases:
        for reader in ("vdir", "ics"):
            queue: multiprocessing.Queue[str] = context.Queue()
            child = context.Process(target=_child, args=(case, reader, queue))
            began = time.perf_counter()
            child.start()
            child.join(args.limit)
            if child.is_alive():
                child.kill()
                child.join()
                result = f"over the {args.limit:g} s limit (killed)"
            else:
                result = queue.get() if not queue.empty() else f"exit {child.exitcode}"
            print(f"{case:14} {reader:5} {time.perf_counter() - began:7.1f}s  {result}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
