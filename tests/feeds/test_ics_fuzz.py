"""Hostile and broken feeds for the ``ics`` provider: never a crash, bounded time and memory.

Each case is read twice: with a good copy cached (the read must keep that copy's busy time and
say what is wrong in one sentence) and with no copy (a ``CalendarError`` with a sentence, or a
read that reports the bad events). Nothing else may escape, no read may take long, and the
memory a read allocates stays bounded (measured with tracemalloc).

"Long" is CPU time, the work a read does: wall-clock time also counts the other processes of a
busy machine (the test workers running beside this one, for a start).
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain import Person
from scheduler.domain.series import CalendarRead
from scheduler.errors import CalendarError
from scheduler.providers.ics import MAX_FEED_BYTES, IcsProvider
from tests.feeds.conftest import ANA, NY, START
from tests.ics_text import calendar, vevent

ANA_PERSON = Person(ANA, "Ana Alvarez", "America/New_York")
WINDOW = (START, START + timedelta(weeks=7))
GOOD = calendar(vevent("good", ":20270105T150000Z", ":20270105T160000Z"))
SECONDS = 15.0
MEGABYTES = 400


def event(*lines: str, start: str = ":20270105T150000Z") -> str:
    return vevent("hostile", start, ":20270105T160000Z", *lines)


def many(count: int, *, day: str = "2020") -> bytes:
    """``count`` one-hour meetings on 5 January of year ``day``, and one in the window."""
    events = [
        vevent(f"e{i}", f":{day}0105T{i % 24:02d}0000Z", f":{day}0105T{i % 24:02d}3000Z")
        for i in range(count)
    ]
    return calendar(*events, vevent("now", ":20270105T150000Z", ":20270105T160000Z"))


CASES: dict[str, bytes] = {
    # size
    "years of history (about 1 MB)": many(4_000),
    "many events in the window": many(1_000, day="2027"),
    "over the size limit": b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * MAX_FEED_BYTES,
    "one endless line": calendar(event("DESCRIPTION:" + "x" * 1_000_000)),
    "ten thousand RDATEs": calendar(
        event(*(f"RDATE:2027{1 + i % 12:02d}{1 + i % 28:02d}T090000Z" for i in range(10_000)))
    ),
    # nesting
    "deep nesting": b"BEGIN:VCALENDAR\r\n"
    + b"BEGIN:VEVENT\r\n" * 20_000
    + b"END:VEVENT\r\n" * 20_000
    + b"END:VCALENDAR\r\n",
    "alarm in alarm in event": calendar(
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270105T150000Z\r\n"
        + "BEGIN:VALARM\r\n" * 50
        + "END:VALARM\r\n" * 50
        + "END:VEVENT\r\n"
    ),
    # dates
    "month 13": calendar(vevent("x", ":20271345T250000", ":20271346T250000")),
    "year zero": calendar(vevent("x", ":00000101T000000Z", ":00000101T010000Z")),
    "year 9999 rule": calendar(event("RRULE:FREQ=DAILY", start=":99991231T230000Z")),
    "end before start": calendar(vevent("x", ":20270105T160000Z", ":20270105T150000Z")),
    "date without digits": calendar(vevent("x", ";VALUE=DATE:2027", ";VALUE=DATE:")),
    "unknown zone": calendar(vevent("x", ";TZID=Mars/Olympus:20270105T100000", ":20270105")),
    "garbage UNTIL": calendar(event("RRULE:FREQ=DAILY;UNTIL=tomorrow")),
    "garbage EXDATE": calendar(event("RRULE:FREQ=DAILY", "EXDATE:whenever")),
    "negative duration": calendar(
        "BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20270105T150000Z\r\nDURATION:-P9999999D\r\nEND:VEVENT\r\n"
    ),
    # rules that never end
    "secondly": calendar(event("RRULE:FREQ=SECONDLY")),
    "minutely": calendar(event("RRULE:FREQ=MINUTELY;INTERVAL=1")),
    "hourly every second": calendar(
        event(
            "RRULE:FREQ=HOURLY;BYMINUTE="
            + ",".join(map(str, range(60)))
            + ";BYSECOND="
            + ",".join(map(str, range(60)))
        )
    ),
    "yearly every minute": calendar(
        event(
            "RRULE:FREQ=YEARLY;BYMONTH="
            + ",".join(map(str, range(1, 13)))
            + ";BYMONTHDAY="
            + ",".join(map(str, range(1, 32)))
            + ";BYHOUR="
            + ",".join(map(str, range(24)))
        )
    ),
    "daily since year one": calendar(event("RRULE:FREQ=DAILY", start=":00010101T090000Z")),
    "hourly since 1900": calendar(event("RRULE:FREQ=HOURLY", start=":19000101T090000Z")),
    "count of a billion": calendar(event("RRULE:FREQ=DAILY;COUNT=1000000000")),
    "interval zero": calendar(event("RRULE:FREQ=DAILY;INTERVAL=0")),
    "no frequency": calendar(event("RRULE:COUNT=5")),
    "impossible rule": calendar(event("RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")),
    "a thousand rules": calendar(event(*(["RRULE:FREQ=DAILY;BYHOUR=9"] * 1000))),
    # encodings
    "UTF-16 with BOM": "\ufeff".encode("utf-16-le") + GOOD.decode().encode("utf-16-le"),
    "UTF-16 without BOM": GOOD.decode().encode("utf-16-be"),
    "Latin-1 text": calendar(event("SUMMARY:Réunion à Zürich")).decode().encode("latin-1"),
    "NUL bytes": GOOD.replace(b"SUMMARY", b"SUM\x00MARY"),
    "random bytes": bytes(range(256)) * 2000,
    # structure
    "truncated": GOOD[: len(GOOD) // 2],
    "no calendar at all": b"<html>Sign in</html>",
    "event outside a calendar": vevent("x", ":20270105T150000Z", ":20270105T160000Z").encode(),
    "calendar in calendar": calendar("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
    "only blanks": b"\r\n" * 1000,
}


def measured(
    provider: IcsProvider, *, trace: bool
) -> tuple[CalendarRead | CalendarError, float, int]:
    """(what the read gave, CPU seconds, peak MB allocated when ``trace``; tracing slows a read
    several times over, so the time bound holds for traced reads too)."""
    if trace:
        tracemalloc.start()
    began = time.process_time()
    try:
        outcome: CalendarRead | CalendarError = provider.read(ANA_PERSON, *WINDOW)
    except CalendarError as error:
        outcome = error
    finally:
        elapsed = time.process_time() - began
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
    return outcome, elapsed, peak // (1024 * 1024)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_feed_never_crashes_and_keeps_the_last_good_copy(
    case: str, tmp_path: Path
) -> None:
    source = tmp_path / "feed.ics"
    source.write_bytes(GOOD)
    provider = IcsProvider(source, tmp_path / "cache", NY)
    assert len(provider.read(ANA_PERSON, *WINDOW).busy) == 1
    source.write_bytes(CASES[case])

    outcome, elapsed, megabytes = measured(provider, trace=True)
    assert elapsed < SECONDS, f"{case}: {elapsed:.1f} s of CPU"
    assert megabytes < MEGABYTES, f"{case}: {megabytes} MB"
    assert isinstance(outcome, CalendarRead), outcome
    for problem in outcome.problems:
        assert problem.startswith(f"{ANA}: ") and problem.endswith("."), problem
        assert "Traceback" not in problem and len(problem) < 600, problem
    # Either the body was usable (every bad event reported, the rest read) or the last good
    # copy was used and the read says so.
    if not outcome.busy or outcome.problems:
        assert outcome.problems, case

    fresh = IcsProvider(source, tmp_path / "empty-cache", NY)
    outcome, elapsed, _ = measured(fresh, trace=False)
    assert elapsed < SECONDS, f"{case} without a copy: {elapsed:.1f} s of CPU"
    if isinstance(outcome, CalendarError):
        assert str(outcome).startswith(f"{ANA}: the ICS feed {source} could not be used (")


def test_an_unreadable_cache_is_ignored_not_trusted(tmp_path: Path) -> None:
    source = tmp_path / "feed.ics"
    source.write_bytes(GOOD)
    provider = IcsProvider(source, tmp_path / "cache", NY)
    provider.read(ANA_PERSON, *WINDOW)
    for cached in (tmp_path / "cache").glob("*.ics"):
        cached.write_bytes(b"BEGIN:VCALENDAR\r\ntampered")
    source.write_bytes(b"broken")
    with pytest.raises(CalendarError, match="no earlier copy"):
        provider.read(ANA_PERSON, *WINDOW)


_LINES = [
    *GOOD.split(b"\r\n"),
    b"RRULE:FREQ=DAILY",
    b"RRULE:FREQ=HOURLY;COUNT=99999",
    b"EXDATE:20270106T150000Z",
    b"RECURRENCE-ID:20270106T150000Z",
    b"BEGIN:VEVENT",
    b"END:VEVENT",
    b"BEGIN:VTIMEZONE",
    b"TZID:America/New_York",
    b"X-WR-TIMEZONE:Europe/Berlin",
    b"DTSTART;TZID=America/New_York:20270105T100000",
    b"DTSTART;VALUE=DATE:20270107",
    b"DURATION:PT1H",
    b" folded continuation",
]


@settings(max_examples=40)
@given(lines=st.lists(st.sampled_from(_LINES) | st.binary(max_size=40), min_size=1, max_size=40))
def test_random_feeds_are_read_or_refused_in_words(lines: list[bytes]) -> None:
    with TemporaryDirectory() as folder:
        source = Path(folder) / "feed.ics"
        source.write_bytes(b"\r\n".join(lines))
        began = time.process_time()
        try:
            read = IcsProvider(source, None, NY).read(ANA_PERSON, *WINDOW)
        except CalendarError as error:
            assert str(error).startswith(f"{ANA}: the ICS feed")
        else:
            assert all(problem.startswith(f"{ANA}: ") for problem in read.problems)
        assert time.process_time() - began < SECONDS
