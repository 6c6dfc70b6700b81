"""Fuzzing the readers: no input takes more than a second of reading time, none crashes.

Inputs are mutants of real-world calendars (the corpus under ``../shared/data/ics-corpus``
when it is there, a few generated calendars otherwise): lines dropped, repeated or swapped,
bytes flipped, and hostile lines spliced into events (sub-daily and many-valued rules, ends
in year 1, long RDATE lists, huge durations). Each mutant is read by the vdir provider (one
file) and the ``ics`` provider (as a feed). A read may report problems; it may not raise
anything but a ``CalendarError`` naming the feed, and it may not take more than a second of
CPU time.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain import Person
from scheduler.errors import CalendarError
from scheduler.providers.ics import IcsProvider
from scheduler.providers.vdir import VdirProvider

CORPUS = Path(__file__).parents[2].parent / "shared" / "data" / "ics-corpus"
NY = ZoneInfo("America/New_York")
ANA = Person("ana@acme.example", "Ana Alvarez", "America/New_York")
START = datetime(2027, 1, 4, tzinfo=NY)
END = START + timedelta(weeks=7)
BUDGET = 1.0

GENERATED = [
    (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        b"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=America/New_York:20260105T100000\r\n"
        b"DTEND;TZID=America/New_York:20260105T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n"
        b"EXDATE;TZID=America/New_York:20260107T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
    (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:b\r\n"
        b"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20270105\r\n"
        b"DTEND;VALUE=DATE:20270107\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
]
HOSTILE_LINES = [
    b"RRULE:FREQ=SECONDLY",
    b"RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"
    b";BYMINUTE=" + b",".join(str(m).encode() for m in range(60)),
    b"RRULE:FREQ=HOURLY",
    b"RRULE:FREQ=DAILY;INTERVAL=0",
    b"RRULE:FREQ=YEARLY;BYYEARDAY=" + b",".join(str(d).encode() for d in range(1, 366)),
    b"DTEND:00010101T000000Z",
    b"DTSTART;VALUE=DATE:00010101",
    b"DTSTART:19000101T000000Z",
    b"DURATION:P99999W",
    b"DURATION:-P1D",
    b"RDATE:" + b",".join(b"2027%02d%02dT090000Z" % (1 + i % 12, 1 + i % 28) for i in range(3000)),
    b"EXDATE:" + b",".join(b"2027%02d%02dT090000Z" % (1 + i % 12, 1 + i % 28) for i in range(500)),
    b"RECURRENCE-ID:20270105T100000Z",
    b"BEGIN:VEVENT",
    b"END:VCALENDAR",
]


def seeds() -> list[bytes]:
    found = sorted(CORPUS.rglob("*.ics")) if CORPUS.is_dir() else []
    return [path.read_bytes() for path in found if path.stat().st_size < 200_000] or GENERATED


SEEDS = seeds()


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [b"BEGIN:VCALENDAR"]
        where = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["hostile", "hostile", "drop", "repeat", "flip", "swap"]))
        if how == "hostile":
            # After a line that opens an event, or anywhere.
            starts = [i for i, line in enumerate(lines) if line.upper().startswith(b"BEGIN:VEV")]
            if starts and draw(st.booleans()):
                where = draw(st.sampled_from(starts))
            lines.insert(where + 1, draw(st.sampled_from(HOSTILE_LINES)))
        elif how == "drop":
            del lines[where]
        elif how == "repeat":
            lines[where:where] = [lines[where]] * draw(st.integers(1, 50))
        elif how == "flip" and lines[where]:
            line = bytearray(lines[where])
            at = draw(st.integers(0, len(line) - 1))
            line[at] = draw(st.integers(0, 255))
            lines[where] = bytes(line)
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[where], lines[other] = lines[other], lines[where]
    return b"\r\n".join(lines) + b"\r\n"


def cpu(action: object) -> float:
    began = time.process_time()
    assert callable(action)
    action()
    return time.process_time() - began


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_no_mutant_takes_over_a_second_or_crashes_a_reader(data: bytes) -> None:
    with TemporaryDirectory() as folder:
        root = Path(folder)
        vdir = root / "vdir"
        vdir.mkdir()
        (vdir / "object.ics").write_bytes(data)
        spent = cpu(lambda: VdirProvider(vdir, NY).read(ANA, START, END))
        assert spent < BUDGET, spent
        feed = root / "feed.ics"
        feed.write_bytes(data)
        provider = IcsProvider(feed, None, NY)

        def read_feed() -> None:
            try:
                read = provider.read(ANA, START, END)
            except CalendarError as error:
                assert str(feed) in str(error)
                return
            for problem in read.problems:
                assert "\n" not in problem and problem.startswith(ANA.email)

        spent = cpu(read_feed)
        assert spent < BUDGET, spent
