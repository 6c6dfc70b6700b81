"""scheduler.ical: rendering a series, reading it (and what people did to it) back, busy time.

The hand-edited cases are written the way khal, Thunderbird and Apple Calendar write them:
extra RECURRENCE-ID VEVENTs, extra EXDATE lines (TZID, UTC or DATE values), changed PARTSTATs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from scheduler import ical
from scheduler.agenda.plan import AgendaLink, attach_series
from scheduler.domain.series import (
    Attachment,
    InstanceOverride,
    ObservedSeries,
    SeriesSpec,
    utc,
)
from tests.ics_text import calendar as wrap
from tests.ics_text import vevent as event

# Production silences this icalendar warning at import (scheduler.ical); pytest resets the
# warning filters per test, so the tests say it again.
pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
MANAGER = "mia@example.com"
REP = "ana@example.com"


def make_spec(**changes: object) -> SeriesSpec:
    spec = SeriesSpec(
        uid="oneonone-test-series",
        pair_key=f"{MANAGER}/{REP}",
        summary="1:1 Mia / Ana",
        description="Weekly 1:1. Agenda: https://example.com/a/1",
        organizer_email=MANAGER,
        organizer_name="Mia Manager",
        attendee_email=REP,
        attendee_name="Ana Rep",
        dtstart=datetime(2027, 1, 5, 10, 0, tzinfo=NY),
        duration=timedelta(minutes=30),
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def tue(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=NY)


def full_spec() -> SeriesSpec:
    return make_spec(
        exdates=(tue(2, 16), tue(2, 9)),
        overrides=(
            InstanceOverride(
                recurrence_id=tue(3, 2),
                start=tue(3, 3, 11),
                end=tue(3, 3, 11, 30),
                description="moved from Tue 10:00: Ana busy",
            ),
            InstanceOverride(
                recurrence_id=tue(3, 9),
                start=tue(3, 9),
                end=tue(3, 9, 10, 30),
                cancelled=True,
                partstats=((REP, "DECLINED"),),
            ),
        ),
        partstats=((REP, "ACCEPTED"),),
        until=datetime(2027, 12, 31, 23, 0, tzinfo=UTC),
        sequence=4,
    )


def insert_before_end(data: bytes, text: str) -> bytes:
    """``text`` (LF line ends) added just before END:VCALENDAR, the way a client appends."""
    body = text.strip("\n").replace("\n", "\r\n") + "\r\n"
    return data.replace(b"END:VCALENDAR", body.encode() + b"END:VCALENDAR")


def add_to_master(data: bytes, lines: str) -> bytes:
    """Extra property lines in the master VEVENT (right after its UID line)."""
    body = lines.strip("\n").replace("\n", "\r\n") + "\r\n"
    marker = b"UID:oneonone-test-series\r\n"
    return data.replace(marker, marker + body.encode(), 1)


# --------------------------------------------------------------------------- render


def test_render_writes_calendar_header_timezone_and_tagged_master() -> None:
    text = ical.render(full_spec(), STAMP).decode()
    unfolded = text.replace("\r\n ", "")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert "PRODID:-//oneonone//EN" in unfolded
    assert "VERSION:2.0" in unfolded
    assert "BEGIN:VTIMEZONE\r\nTZID:America/New_York" in unfolded
    assert "DTSTART;TZID=America/New_York:20270105T100000" in unfolded
    assert "DTEND;TZID=America/New_York:20270105T103000" in unfolded
    assert "DTSTAMP:20270101T080000Z" in unfolded
    assert "RRULE:FREQ=WEEKLY;UNTIL=20271231T230000Z" in unfolded
    # One EXDATE property, sorted.
    assert unfolded.count("EXDATE") == 1
    assert "EXDATE;TZID=America/New_York:20270209T100000,20270216T100000" in unfolded
    assert 'ORGANIZER;CN="Mia Manager":mailto:mia@example.com' in unfolded
    assert "PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:mia@example.com" in unfolded
    assert "PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:ana@example.com" in unfolded
    assert "SEQUENCE:4" in unfolded
    assert f"X-ONEONONE-PAIR:{MANAGER}/{REP}" in unfolded
    assert f"X-ONEONONE-HASH:{ical.fingerprint(full_spec())}" in unfolded
    assert "RECURRENCE-ID;TZID=America/New_York:20270302T100000" in unfolded
    assert "STATUS:CANCELLED" in unfolded
    assert text.endswith("END:VCALENDAR\r\n")


def test_render_defaults_partstats_to_accepted_organizer_and_needs_action_attendee() -> None:
    unfolded = ical.render(make_spec(), STAMP).decode().replace("\r\n ", "")
    assert "PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:mia@example.com" in unfolded
    assert "PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:ana@example.com" in unfolded


def test_render_is_byte_identical_for_same_spec_and_dtstamp() -> None:
    assert ical.render(full_spec(), STAMP) == ical.render(full_spec(), STAMP)
    shuffled = replace(
        full_spec(),
        exdates=tuple(reversed(full_spec().exdates)),
        overrides=tuple(reversed(full_spec().overrides)),
    )
    assert ical.render(shuffled, STAMP) == ical.render(full_spec(), STAMP)


def test_render_refuses_a_naive_start_or_empty_duration() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ical.render(make_spec(dtstart=datetime(2027, 1, 5, 10)), STAMP)
    with pytest.raises(ValueError, match="duration"):
        ical.render(make_spec(duration=timedelta(0)), STAMP)


def test_render_escapes_text_and_names_with_quotes() -> None:
    spec = make_spec(
        description="Agenda; wins, deals\nnext line",
        attendee_name='Ana "The Closer" O\'Neil',
    )
    observed = ical.observe(ical.render(spec, STAMP), "x.ics")
    assert observed is not None
    assert observed.attendees == {MANAGER, REP}
    calendar = Calendar.from_ical(ical.render(spec, STAMP))
    event = calendar.walk("VEVENT")[0]
    assert isinstance(event, Event)
    assert str(event["DESCRIPTION"]) == "Agenda; wins, deals\nnext line"
    attendees = event.attendees
    assert 'Ana "The Closer" O\'Neil' in {str(a.params["CN"]) for a in attendees}


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_ignores_sequence_and_collection_order() -> None:
    spec = full_spec()
    assert ical.fingerprint(replace(spec, sequence=99)) == ical.fingerprint(spec)
    reordered = replace(spec, exdates=tuple(reversed(spec.exdates)))
    assert ical.fingerprint(reordered) == ical.fingerprint(spec)
    same_instant_other_zone = replace(spec, exdates=tuple(x.astimezone(UTC) for x in spec.exdates))
    assert ical.fingerprint(same_instant_other_zone) == ical.fingerprint(spec)


def test_fingerprint_changes_with_anything_that_is_written() -> None:
    spec = full_spec()
    base = ical.fingerprint(spec)
    changed = [
        replace(spec, description="other"),
        replace(spec, summary="other"),
        replace(spec, dtstart=tue(1, 5, 11)),
        replace(spec, dtstart=datetime(2027, 1, 5, 10, tzinfo=BERLIN)),
        replace(spec, duration=timedelta(minutes=45)),
        replace(spec, until=None),
        replace(spec, exdates=spec.exdates[:1]),
        replace(spec, overrides=spec.overrides[:1]),
        replace(spec, partstats=((REP, "DECLINED"),)),
        replace(spec, attendee_name="Ana R."),
        replace(spec, makeup_week="2027-W10"),
    ]
    digests = {ical.fingerprint(item) for item in changed}
    assert base not in digests
    assert len(digests) == len(changed)


def test_fingerprint_treats_default_partstats_like_explicit_ones() -> None:
    explicit = make_spec(partstats=((MANAGER, "ACCEPTED"), (REP, "NEEDS-ACTION")))
    assert ical.fingerprint(explicit) == ical.fingerprint(make_spec())


def test_fingerprint_is_the_same_in_another_process() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "sys.path.insert(0, sys.argv[2]); "
        "from test_ical import full_spec; from scheduler import ical; "
        "print(ical.fingerprint(full_spec()))"
    )
    here = Path(__file__).parent
    repo = Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code, str(here), str(repo)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert result.stdout.strip() == ical.fingerprint(full_spec())


# --------------------------------------------------------------------------- round trip


def test_render_then_observe_round_trips_the_series() -> None:
    spec = full_spec()
    observed = ical.observe(ical.render(spec, STAMP), "data/cal/mia/x.ics")
    assert observed is not None
    assert observed.uid == spec.uid
    assert observed.pair_key == spec.pair_key
    assert observed.dtstart == spec.dtstart
    assert observed.duration == spec.duration
    assert observed.weekly
    assert observed.until == spec.until
    assert observed.exdates == {x.astimezone(UTC) for x in spec.exdates}
    assert observed.partstats == {MANAGER: "ACCEPTED", REP: "ACCEPTED"}
    assert observed.attendees == {MANAGER, REP}
    assert observed.organizer == MANAGER
    assert observed.fingerprint == ical.fingerprint(spec)
    assert observed.sequence == 4
    assert observed.makeup_week is None
    assert not observed.cancelled
    assert observed.href == "data/cal/mia/x.ics"

    moved = observed.overrides[tue(3, 2).astimezone(UTC)]
    assert moved.start == tue(3, 3, 11)
    assert moved.end == tue(3, 3, 11, 30)
    assert moved.description == "moved from Tue 10:00: Ana busy"
    assert not moved.cancelled
    cancelled = observed.overrides[tue(3, 9).astimezone(UTC)]
    assert cancelled.cancelled
    assert cancelled.partstats == {MANAGER: "ACCEPTED", REP: "DECLINED"}
    assert set(observed.overrides) == {tue(3, 2).astimezone(UTC), tue(3, 9).astimezone(UTC)}


def test_makeup_renders_a_single_event_tagged_with_its_week() -> None:
    spec = make_spec(
        uid="oneonone-makeup-x",
        makeup_week="2027-W10",
        dtstart=tue(3, 11, 14),
        exdates=(tue(3, 9),),
        overrides=(InstanceOverride(tue(3, 9), tue(3, 9), tue(3, 9, 10, 30)),),
    )
    data = ical.render(spec, STAMP)
    text = data.decode()
    # The VTIMEZONE has yearly rules of its own; the event has none.
    event = text.split("BEGIN:VEVENT", 1)[1]
    assert "RRULE" not in event
    assert "EXDATE" not in event
    assert "RECURRENCE-ID" not in event
    assert text.count("BEGIN:VEVENT") == 1
    assert "X-ONEONONE-WEEK:2027-W10" in text
    observed = ical.observe(data, "m.ics")
    assert observed is not None
    assert not observed.weekly
    assert observed.makeup_week == "2027-W10"
    assert observed.pair_key == spec.pair_key
    assert observed.dtstart == tue(3, 11, 14)


@settings(max_examples=40, deadline=None)
@given(
    skipped=st.sets(st.integers(min_value=1, max_value=50), max_size=6),
    moved=st.dictionaries(
        st.integers(min_value=1, max_value=50),
        st.tuples(st.integers(min_value=-2, max_value=2), st.integers(min_value=8, max_value=17)),
        max_size=4,
    ),
    cancelled=st.sets(st.integers(min_value=1, max_value=50), max_size=3),
    zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC"]),
)
def test_round_trip_holds_for_any_exdates_and_overrides(
    skipped: set[int], moved: dict[int, tuple[int, int]], cancelled: set[int], zone: str
) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2027, 1, 5, 10, 0, tzinfo=tz)

    def week(n: int) -> datetime:
        # Wall clock: the rule repeats 10:00 local, whatever DST does.
        return datetime.combine(start.date() + timedelta(weeks=n), start.time(), tz)

    overrides = tuple(
        InstanceOverride(
            recurrence_id=week(n),
            start=week(n) + timedelta(days=days, hours=hour - 10),
            end=week(n) + timedelta(days=days, hours=hour - 10, minutes=30),
            cancelled=n in cancelled,
        )
        for n, (days, hour) in moved.items()
    )
    spec = make_spec(dtstart=start, exdates=tuple(week(n) for n in skipped), overrides=overrides)
    observed = ical.observe(ical.render(spec, STAMP), "p.ics")
    assert observed is not None
    assert observed.exdates == {week(n).astimezone(UTC) for n in skipped}
    assert set(observed.overrides) == {week(n).astimezone(UTC) for n in moved}
    for item in overrides:
        seen = observed.overrides[item.recurrence_id.astimezone(UTC)]
        assert (seen.start, seen.end, seen.cancelled) == (item.start, item.end, item.cancelled)
    assert observed.fingerprint == ical.fingerprint(spec)


@settings(max_examples=300, deadline=None)
@given(
    line=st.text(
        alphabet=st.sampled_from(["a", "Z", "0", ":", ";", ",", "\\", "^", " ", "é", "€", "😀"]),
        max_size=400,
    ),
)
def test_lines_are_folded_exactly_as_icalendar_folds_them(line: str) -> None:
    from icalendar.parser.string import _foldline

    assert ical.fold_line(line) == _foldline(line)


def test_render_gives_the_bytes_icalendar_serialises() -> None:
    spec = full_spec()
    data = ical.render(spec, STAMP)
    assert data == Calendar.from_ical(data).to_ical()


_TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", "Z", " ", ":", ";", ",", "\\", "^", '"', "'", "\n", "\r", "é", "€", "😀", "’"]
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(
    summary=_TEXT,
    description=_TEXT,
    names=st.tuples(_TEXT, _TEXT),
    zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "UTC", "fixed"]),
    weeks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=60),  # week
            st.integers(min_value=-3000, max_value=3000),  # minutes moved
            st.booleans(),  # cancelled
            st.sampled_from(["", "DECLINED", "TENTATIVE"]),  # the rep's answer
            st.one_of(st.none(), st.text(alphabet="abc/:?&=%;,-_", max_size=90)),  # link
            _TEXT,  # the week's description
        ),
        max_size=8,
        unique_by=lambda week: week[0],
    ),
)
def test_overrides_are_the_bytes_icalendar_writes(
    summary: str,
    description: str,
    names: tuple[str, str],
    zone: str,
    weeks: list[tuple[int, int, bool, str, str | None, str]],
) -> None:
    """The overrides ``render`` formats itself are, byte for byte, what icalendar makes of the
    same instances (``_render_override``), for any text, answers, links and zone."""
    tz = timezone(timedelta(hours=5, minutes=30)) if zone == "fixed" else ZoneInfo(zone)
    first = datetime(2027, 1, 5, 10, 0, tzinfo=tz)
    overrides = tuple(
        InstanceOverride(
            recurrence_id=first + timedelta(weeks=week),
            start=first + timedelta(weeks=week, minutes=moved),
            end=first + timedelta(weeks=week, minutes=moved + 45),
            description=text,
            cancelled=cancelled,
            partstats=((REP, answer),) if answer else (),
            attachment=Attachment(f"https://example.com/{link}", "Agenda") if link else None,
        )
        for week, moved, cancelled, answer, link, text in weeks
    )
    spec = make_spec(
        summary=summary,
        description=description,
        organizer_name=names[0],
        attendee_name=names[1],
        dtstart=first,
        duration=timedelta(minutes=45),
        overrides=overrides,
        sequence=7,
    )
    fast = ical.render(spec, STAMP)
    with patch.object(
        ical._OverrideLines,
        "render",
        lambda self, override: ical._to_ical(
            ical._render_override(self.spec, override, self.stamp, self.local)
        ),
    ):
        slow = ical.render(spec, STAMP)
    assert fast == slow


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(["America/New_York", "Australia/Lord_Howe", "UTC", "fixed"]),
    skipped=st.sets(
        st.tuples(
            st.integers(min_value=-10, max_value=120),  # week
            st.integers(min_value=-600, max_value=600),  # minutes off the rule
            st.integers(min_value=0, max_value=999_999),  # microseconds
        ),
        max_size=30,
    ),
)
def test_exdates_are_the_bytes_icalendar_writes(
    zone: str, skipped: set[tuple[int, int, int]]
) -> None:
    """The EXDATE list ``render`` completes itself (``_with_dates``) is, byte for byte, the
    line icalendar writes of the same dates, in any zone, across DST changes, to the second."""
    tz = timezone(timedelta(hours=5, minutes=30)) if zone == "fixed" else ZoneInfo(zone)
    first = datetime(2027, 1, 5, 10, 0, tzinfo=tz)
    moments = [
        first + timedelta(weeks=week, minutes=minutes, microseconds=micro)
        for week, minutes, micro in skipped
    ]
    spec = make_spec(dtstart=first, exdates=tuple(moments))
    lines = Calendar.from_ical(ical.render(spec, STAMP)).content_lines()
    written = [line for line in lines if line.startswith("EXDATE")]
    expected = Event()
    if moments:
        ordered = sorted({utc(moment) for moment in moments})
        written_in = ical._zone_of(spec)  # a fixed offset is written in UTC
        expected.add("exdate", [moment.astimezone(written_in) for moment in ordered])
    assert written == [line for line in expected.content_lines() if line.startswith("EXDATE")]


_PLAIN = st.text(alphabet=st.sampled_from(["a", "Z", " ", ":", ";", ",", "\n", "é", "😀", "’"]))


@settings(max_examples=200, deadline=None)
@given(
    texts=st.tuples(_PLAIN, _PLAIN, _PLAIN),
    zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]),
    written=st.integers(min_value=0, max_value=70),  # the week it is written
    makeup=st.booleans(),
    answer=st.sampled_from(["", "DECLINED", "TENTATIVE"]),
    until=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    exdates=st.sets(st.integers(min_value=0, max_value=60), max_size=4),
    weeks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=60),  # week
            st.integers(min_value=-3000, max_value=3000),  # minutes moved
            st.booleans(),  # cancelled
            st.sampled_from(["", "DECLINED", "ACCEPTED"]),  # the rep's answer
            st.booleans(),  # with a link
            _PLAIN,  # the week's description
        ),
        max_size=8,
        unique_by=lambda week: week[0],
    ),
)
def test_what_a_write_leaves_is_what_reading_it_back_gives(
    texts: tuple[str, str, str],
    zone: str,
    written: int,
    makeup: bool,
    answer: str,
    until: int | None,
    exdates: set[int],
    weeks: list[tuple[int, int, bool, str, bool, str]],
) -> None:
    """``observed_written`` (kept by a provider for the object it just wrote) is, to the last
    time zone, what parsing the written bytes gives; or ``None`` where it cannot know."""
    tz = ZoneInfo(zone)
    first = datetime(2027, 1, 5, 10, 0, tzinfo=tz)
    spec = make_spec(
        description=texts[0],
        organizer_name=texts[1],
        attendee_name=texts[2],
        dtstart=first,
        duration=timedelta(minutes=45),
        partstats=((REP, answer),) if answer else (),
        until=first + timedelta(weeks=until) if until is not None else None,
        exdates=tuple(first + timedelta(weeks=week) for week in exdates),
        overrides=tuple(
            InstanceOverride(
                recurrence_id=first + timedelta(weeks=week),
                start=first + timedelta(weeks=week, minutes=moved),
                end=first + timedelta(weeks=week, minutes=moved + 45),
                description=text,
                cancelled=cancelled,
                partstats=((REP, reply),) if reply else (),
                attachment=Attachment(f"https://example.com/{week}", "Agenda") if link else None,
            )
            for week, moved, cancelled, reply, link, text in weeks
        ),
        makeup_week="2027-W09" if makeup else None,
        attachment=Attachment("https://example.com/m", "Agenda") if makeup else None,
        sequence=3,
    )
    stamp = first + timedelta(weeks=written)
    kept = ical.observed_written(spec, stamp, "p.ics")
    read = ical.observe(ical.render(spec, stamp), "p.ics")
    if zone == "UTC":
        assert kept is None
        return
    assert kept is not None
    assert _exactly(kept) == _exactly(read)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "Europe/London"]),
    before_zone=st.sampled_from(["America/New_York", "Asia/Kolkata", "Europe/London"]),
    weeks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=60),  # week
            st.integers(min_value=-3000, max_value=3000),  # minutes moved
            st.sampled_from(["", "DECLINED", "ACCEPTED"]),  # the rep's answer
            st.booleans(),  # with a link
            st.booleans(),  # changed by this write
        ),
        max_size=8,
        unique_by=lambda week: week[0],
    ),
)
def test_a_rewrite_shares_the_instances_it_leaves_as_they_were(
    zone: str, before_zone: str, weeks: list[tuple[int, int, str, bool, bool]]
) -> None:
    """Given what the object held before (``previous``), ``observed_written`` still gives
    exactly what reading the bytes back gives, and keeps the very instance objects that
    stay exactly as they were (same times in the same zone, same answers in the same order)
    instead of making them again (issue 17)."""

    def spec_in(name: str, changed: bool) -> SeriesSpec:
        tz = ZoneInfo(name)
        first = datetime(2027, 1, 5, 15, 0, tzinfo=UTC).astimezone(tz)
        return make_spec(
            dtstart=first,
            duration=timedelta(minutes=45),
            overrides=tuple(
                InstanceOverride(
                    recurrence_id=first + timedelta(weeks=week),
                    start=first + timedelta(weeks=week, minutes=moved),
                    end=first + timedelta(weeks=week, minutes=moved + 45),
                    description="moved" if changed and edit else "",
                    partstats=((REP, reply),) if reply else (),
                    attachment=Attachment(f"https://example.com/{week}", "Agenda")
                    if link
                    else None,
                )
                for week, moved, reply, link, edit in weeks
            ),
        )

    stamp = datetime(2027, 3, 1, tzinfo=UTC)
    previous = ical.observe(ical.render(spec_in(before_zone, False), stamp), "p.ics")
    spec = spec_in(zone, True)
    assert previous is not None
    kept = ical.observed_written(spec, stamp, "p.ics", previous=previous)
    read = ical.observe(ical.render(spec, stamp), "p.ics")
    assert kept is not None and read is not None
    assert _exactly(kept) == _exactly(read)
    for rid, instance in kept.overrides.items():
        before = previous.overrides.get(rid)
        same = before is not None and _exactly(before) == _exactly(instance)
        assert (instance is before) == same


@settings(max_examples=60, deadline=None)
@given(
    zones=st.tuples(*[st.sampled_from(["America/New_York", "Europe/London", "UTC"])] * 2),
    skipped=st.lists(st.integers(min_value=0, max_value=60), max_size=12, unique=True),
    moved=st.lists(
        st.tuples(st.integers(min_value=0, max_value=60), st.integers(-3000, 3000)),
        max_size=6,
        unique_by=lambda week: week[0],
    ),
    written=st.booleans(),
)
def test_equal_moments_read_from_objects_are_shared_and_read_exactly_as_alone(
    zones: tuple[str, str], skipped: list[int], moved: list[tuple[int, int]], written: bool
) -> None:
    """Two copies of a series (another zone, perhaps) read one after the other share every
    moment that is exactly alike (same instant, zone object and fold) and nothing else, and
    the second reads exactly as it does with nothing shared before it (issue 17: a year-old
    org held 99,900 EXDATE datetimes of 200 values). Both for a read and for what a write
    is known to leave (``observed_written``)."""

    def spec_in(name: str) -> SeriesSpec:
        tz = ZoneInfo(name)
        first = datetime(2027, 1, 5, 15, 0, tzinfo=UTC).astimezone(tz)
        return make_spec(
            dtstart=first,
            exdates=tuple(first + timedelta(weeks=week) for week in skipped),
            overrides=tuple(
                InstanceOverride(
                    recurrence_id=first + timedelta(weeks=week),
                    start=first + timedelta(weeks=week, minutes=minutes),
                    end=first + timedelta(weeks=week, minutes=minutes + 30),
                )
                for week, minutes in moved
                if week not in skipped
            ),
        )

    def observed(spec: SeriesSpec, href: str) -> ObservedSeries:
        found = (
            ical.observed_written(spec, STAMP, href)
            if written and spec.dtstart.tzinfo != ZoneInfo("UTC")
            else ical.observe(ical.render(spec, STAMP), href)
        )
        assert found is not None
        return found

    def moments(found: ObservedSeries) -> list[datetime]:
        times = [found.dtstart, *found.exdates]
        for rid, instance in found.overrides.items():
            times += [rid, instance.recurrence_id, instance.start, instance.end]
        return times

    def forget_shared() -> None:
        ical._moment._found.clear()
        ical._LAST_EXDATES = ((), frozenset())

    first, second = spec_in(zones[0]), spec_in(zones[1])
    forget_shared()
    alone = observed(second, "b.ics")
    forget_shared()
    one = observed(first, "a.ics")
    other = observed(second, "b.ics")
    assert _exactly(other) == _exactly(alone)
    for mine in moments(one):
        for theirs in moments(other):
            alike = (mine, mine.tzinfo, mine.fold) == (theirs, theirs.tzinfo, theirs.fold)
            assert (mine is theirs) == alike


def test_a_moment_is_shared_only_with_its_own_zone_and_fold() -> None:
    """Aware times compare as instants, and within one zone regardless of fold: neither is
    enough to share one in another's place."""
    london = ZoneInfo("Europe/London")
    share = ical._Moments(3)
    early = datetime(2027, 10, 31, 1, 30, tzinfo=london)  # the hour that comes twice
    late = early.replace(fold=1)
    same_instant = early.astimezone(UTC)
    assert share(early) is early
    assert share(late) is late
    assert share(same_instant) is same_instant
    assert share(datetime(2027, 10, 31, 1, 30, tzinfo=london)) is early
    assert share(datetime(2027, 10, 31, 1, 30, tzinfo=london, fold=1)) is late
    fourth = datetime(2027, 1, 1, tzinfo=UTC)
    assert share(fourth) is fourth  # full: emptied, then kept
    assert share(datetime(2027, 10, 31, 1, 30, tzinfo=london)) is not early
    unhashable_zone = datetime(2027, 1, 1, tzinfo=dateutil_tz.tzutc())  # dateutil's
    assert share(unhashable_zone) is unhashable_zone
    assert share(unhashable_zone.replace()) is unhashable_zone


def test_a_rewrite_that_skips_no_new_week_keeps_the_set_of_skipped_weeks() -> None:
    spec = full_spec()
    previous = ical.observe(ical.render(spec, STAMP), "p.ics")
    assert previous is not None
    same = ical.observed_written(replace(spec, sequence=4), STAMP, "p.ics", previous=previous)
    other_copy = ical.observed_written(spec, STAMP, "q.ics")  # the same spec, the rep's copy
    more = ical.observed_written(
        replace(spec, exdates=(*spec.exdates, tue(3, 9))), STAMP, "p.ics", previous=previous
    )
    assert same is not None and same.exdates is previous.exdates
    assert more is not None and more.exdates == previous.exdates | {utc(tue(3, 9))}
    assert other_copy is not None and other_copy.exdates is same.exdates


def test_a_rewrite_holds_no_more_than_a_read_of_its_bytes() -> None:
    """A year of weekly rewrites made from what each object held before must weigh what one
    read of the last file would (issue 17: a long-running daemon's memo of 270 pairs held a
    third more than a fresh read of the same files): the set of skipped weeks sized to fit,
    and the answers and attendees the object held before shared, not made again."""
    first = make_spec(exdates=tuple(tue(1, 5) + timedelta(weeks=week) for week in range(25)))
    spec = replace(
        first,
        overrides=tuple(
            InstanceOverride(
                recurrence_id=tue(9, 7) + timedelta(weeks=week),
                start=tue(9, 7, 11) + timedelta(weeks=week),
                end=tue(9, 7, 11, 30) + timedelta(weeks=week),
            )
            for week in range(3)
        ),
    )
    previous = ical.observed_written(first, STAMP, "p.ics")
    kept = ical.observed_written(spec, STAMP, "p.ics", previous=previous)
    read = ical.observe(ical.render(spec, STAMP), "p.ics")
    assert previous is not None and kept is not None and read is not None
    assert sys.getsizeof(previous.exdates) == sys.getsizeof(read.exdates)
    assert kept.attendees is previous.attendees
    answers = {id(kept.partstats), *(id(one.partstats) for one in kept.overrides.values())}
    assert answers == {id(previous.partstats)}


def test_both_copies_read_share_their_links_and_stamp() -> None:
    spec = replace(full_spec(), attachment=Attachment("https://example.com/agenda/1", "Agenda"))
    data = ical.render(spec, STAMP)
    one, other = ical.observe(data, "a.ics"), ical.observe(data, "b.ics")
    assert one is not None and other is not None
    assert one.attachments == ("https://example.com/agenda/1",)
    assert one.attachments[0] is other.attachments[0]
    assert one.fingerprint is not None and one.fingerprint is other.fingerprint


def _exactly(value: object) -> object:
    """``value`` to compare to the last detail: each time with its zone, dicts in order."""
    if isinstance(value, datetime):
        return (value.isoformat(), repr(value.tzinfo))
    if isinstance(value, (set, frozenset)):
        return sorted((_exactly(item) for item in value), key=repr)
    if isinstance(value, dict):
        return [(_exactly(key), _exactly(item)) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [_exactly(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _exactly(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def test_what_a_write_leaves_is_read_back_where_text_has_escapes() -> None:
    assert ical.observed_written(make_spec(description="a\\b"), STAMP, "p.ics") is None
    assert ical.observed_written(make_spec(), STAMP, "p.ics") is not None


def _linked(week: datetime, **changes: object) -> InstanceOverride:
    item = InstanceOverride(
        recurrence_id=week,
        start=week,
        end=week + timedelta(minutes=30),
        description="Agenda: https://example.com/agendas/x",
        attachment=Attachment(f"https://example.com/agendas/{week:%m%d}", "Agenda"),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def test_an_old_instance_that_only_carries_its_agenda_link_is_left_out_of_the_object() -> None:
    # Five weeks carry only their link: the latest four stay, the oldest goes. Moved,
    # cancelled and answered instances stay, however old. By count, not age: the same spec
    # written any day keeps the same weeks.
    spec = make_spec(
        overrides=(
            _linked(tue(2, 2)),
            _linked(tue(2, 9), start=tue(2, 10), end=tue(2, 10, 10, 30)),
            _linked(tue(2, 16), cancelled=True),
            _linked(tue(2, 23), partstats=((REP, "DECLINED"),)),
            _linked(tue(3, 2)),
            _linked(tue(3, 9)),
            _linked(tue(4, 6)),
            _linked(tue(4, 13)),
        )
    )
    kept = [tue(2, 9), tue(2, 16), tue(2, 23), tue(3, 2), tue(3, 9), tue(4, 6), tue(4, 13)]
    for written in (
        STAMP,
        datetime(2027, 4, 6, 12, 0, tzinfo=UTC),
        datetime(2028, 1, 1, tzinfo=UTC),
    ):
        observed = ical.observe(ical.render(spec, written), "p.ics")
        assert observed is not None
        assert sorted(observed.overrides) == sorted(utc(week) for week in kept)
        assert observed.fingerprint == ical.fingerprint(spec)
    # The series every provider is given holds the same weeks, and says from when on it
    # speaks for the weeks that only carry words and a link.
    recent = ical.with_recent_links(spec)
    assert sorted(utc(o.recurrence_id) for o in recent.overrides) == sorted(map(utc, kept))
    assert ical.links_line(recent) == utc(tue(3, 2))
    assert ical.with_recent_links(recent) is recent
    # Four links or fewer: all of them, and no line.
    fewer = replace(spec, overrides=spec.overrides[1:7])
    assert ical.with_recent_links(fewer) is fewer
    assert ical.links_line(fewer) is None


_WEEKS = [tue(1, 5) + timedelta(weeks=n) for n in range(20)]


@settings(max_examples=200, deadline=None)
@given(
    linked=st.sets(st.integers(0, 19)),
    skipped=st.sets(st.integers(0, 19)),
    moved=st.sets(st.integers(0, 19)),
    answered=st.dictionaries(st.integers(0, 19), st.sampled_from(["ACCEPTED", "DECLINED"])),
    until=st.none() | st.integers(0, 19),
)
def test_a_series_makes_only_the_link_overrides_it_keeps(
    linked: set[int],
    skipped: set[int],
    moved: set[int],
    answered: dict[int, str],
    until: int | None,
) -> None:
    """``attach_series(new_kept=AGENDA_LINKS_KEPT)`` makes only the overrides
    ``with_recent_links`` keeps: the same series as attaching every link, without making a
    year of them at every write (issue 17)."""
    overrides = []
    for n in sorted((moved | set(answered)) - skipped):
        rid = _WEEKS[n]
        start = rid + timedelta(days=1) if n in moved else rid
        overrides.append(
            InstanceOverride(
                recurrence_id=rid,
                start=start,
                end=start + timedelta(minutes=30),
                description="moved" if n in moved else None,
                partstats=((REP, answered[n]),) if n in answered else (),
            )
        )
    spec = make_spec(
        exdates=tuple(_WEEKS[n] for n in sorted(skipped)),
        overrides=tuple(overrides),
        until=None if until is None else _WEEKS[until],
    )
    links = {
        _WEEKS[n]: AgendaLink(f"https://example.com/agendas/{n}", f"Agenda {n}", "") for n in linked
    }
    every = ical.with_recent_links(attach_series(spec, links))
    kept = ical.with_recent_links(attach_series(spec, links, new_kept=ical.AGENDA_LINKS_KEPT))
    assert kept == every
    assert ical.fingerprint(kept) == ical.fingerprint(every)


# --------------------------------------------------------------------------- DST


def test_weekly_series_stays_at_10_local_across_both_dst_changes() -> None:
    spec = make_spec(dtstart=datetime(2027, 1, 5, 10, 0, tzinfo=NY))
    calendar = Calendar.from_ical(ical.render(spec, STAMP))
    instances = recurring_ical_events.of(calendar).between(
        datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )
    starts = [event["DTSTART"].dt for event in instances]
    assert len(starts) == 52
    assert {s.astimezone(NY).hour for s in starts} == {10}
    assert {s.astimezone(NY).minute for s in starts} == {0}
    # 2027: DST from March 14 to November 7, so the UTC hour moves and comes back.
    utc_hours = {s.astimezone(UTC).date(): s.astimezone(UTC).hour for s in starts}
    assert utc_hours[date(2027, 3, 9)] == 15
    assert utc_hours[date(2027, 3, 16)] == 14
    assert utc_hours[date(2027, 11, 2)] == 14
    assert utc_hours[date(2027, 11, 9)] == 15


def test_busy_from_series_across_dst_is_at_10_local() -> None:
    spec = make_spec(dtstart=datetime(2027, 1, 5, 10, 0, tzinfo=NY))
    busy, out_days = ical.busy_from_object(
        ical.render(spec, STAMP),
        "x.ics",
        "someone@example.com",
        datetime(2027, 3, 1, tzinfo=UTC),
        datetime(2027, 3, 31, tzinfo=UTC),
        NY,
    )
    assert not out_days
    assert [s.astimezone(NY).hour for s, _ in busy] == [10, 10, 10, 10, 10]
    assert all(e - s == timedelta(minutes=30) for s, e in busy)


# --------------------------------------------------------------------------- hand edits


def test_override_added_by_hand_like_khal_is_observed() -> None:
    data = insert_before_end(
        ical.render(make_spec(), STAMP),
        """
BEGIN:VEVENT
SUMMARY:1:1 Mia / Ana
DTSTART;TZID=America/New_York:20270120T150000
DTEND;TZID=America/New_York:20270120T154500
DTSTAMP:20270110T120000Z
UID:oneonone-test-series
RECURRENCE-ID;TZID=America/New_York:20270119T100000
SEQUENCE:1
END:VEVENT
""",
    )
    observed = ical.observe(data, "x.ics")
    assert observed is not None
    instance = observed.overrides[tue(1, 19).astimezone(UTC)]
    assert instance.start == datetime(2027, 1, 20, 15, 0, tzinfo=NY)
    assert instance.end - instance.start == timedelta(minutes=45)
    assert instance.partstats == {}  # no ATTENDEE lines: same as the master


def test_override_written_by_thunderbird_with_vendor_tzid_and_utc_recurrence_id() -> None:
    data = insert_before_end(
        ical.render(make_spec(), STAMP),
        """
BEGIN:VEVENT
CREATED:20270110T120000Z
LAST-MODIFIED:20270110T120000Z
DTSTAMP:20270110T120000Z
UID:oneonone-test-series
SUMMARY:1:1 Mia / Ana
RECURRENCE-ID:20270126T150000Z
DTSTART;TZID=/mozilla.org/20070129_1/America/New_York:20270128T090000
DTEND;TZID=/mozilla.org/20070129_1/America/New_York:20270128T093000
STATUS:CANCELLED
X-MOZ-GENERATION:2
END:VEVENT
""",
    )
    observed = ical.observe(data, "x.ics")
    assert observed is not None
    instance = observed.overrides[tue(1, 26).astimezone(UTC)]
    assert instance.cancelled
    assert instance.start.astimezone(NY) == datetime(2027, 1, 28, 9, 0, tzinfo=NY)


def test_exdates_added_by_hand_on_more_lines_in_any_form_are_observed() -> None:
    data = add_to_master(
        ical.render(make_spec(exdates=(tue(1, 12),)), STAMP),
        """
EXDATE;TZID=America/New_York:20270202T100000
EXDATE:20270209T150000Z,20270216T150000Z
EXDATE;VALUE=DATE:20270223
""",
    )
    observed = ical.observe(data, "x.ics")
    assert observed is not None
    # A DATE exdate on a timed series means that day's instance.
    assert observed.exdates == {
        tue(day_month[0], day_month[1]).astimezone(UTC)
        for day_month in [(1, 12), (2, 2), (2, 9), (2, 16), (2, 23)]
    }


def test_declined_partstat_on_attendee_copy_is_observed() -> None:
    data = ical.render(make_spec(), STAMP)
    edited = data.replace(
        b"PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT", b"PARTSTAT=DECLINED;ROLE=REQ-PARTICIPANT"
    )
    assert edited != data
    observed = ical.observe(edited, "x.ics")
    assert observed is not None
    assert observed.partstats[REP] == "DECLINED"
    assert observed.partstats[MANAGER] == "ACCEPTED"


def test_attendee_emails_are_lowercased_without_mailto() -> None:
    data = ical.render(make_spec(attendee_email="Ana@Example.COM"), STAMP)
    data = data.replace(b"mailto:Ana@Example.COM", b"MAILTO:Ana@Example.COM")
    observed = ical.observe(data, "x.ics")
    assert observed is not None
    assert REP in observed.attendees
    assert observed.partstats[REP] == "NEEDS-ACTION"


UNTAGGED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 14//EN
BEGIN:VEVENT
UID:ABC-123
DTSTAMP:20270101T000000Z
DTSTART:20270105T100000
DTEND:20270105T110000
RRULE:{rule}
SUMMARY:Mia / Ana catch-up
ORGANIZER;CN=Mia:mailto:mia@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:mia@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ana@example.com
END:VEVENT
END:VCALENDAR
"""


def untagged(rule: str = "FREQ=WEEKLY;BYDAY=TU") -> bytes:
    return UNTAGGED.format(rule=rule).replace("\n", "\r\n").encode()


def test_untagged_weekly_event_observed_without_pair_and_floating_read_in_default_zone() -> None:
    observed = ical.observe(untagged(), "a.ics", default_zone=BERLIN)
    assert observed is not None
    assert observed.pair_key is None
    assert observed.fingerprint is None
    assert observed.weekly
    assert observed.dtstart == datetime(2027, 1, 5, 10, 0, tzinfo=BERLIN)
    assert observed.duration == timedelta(hours=1)
    assert observed.attendees == {MANAGER, REP}


@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY;INTERVAL=2", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=DAILY", "FREQ=MONTHLY"]
)
def test_rules_other_than_once_a_week_are_not_weekly(rule: str) -> None:
    observed = ical.observe(untagged(rule), "a.ics")
    assert observed is not None
    assert not observed.weekly


def test_x_wr_timezone_calendar_is_read_in_its_zone() -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
        b"BEGIN:VEVENT\r\nUID:g1\r\nDTSTAMP:20270101T000000Z\r\n"
        b"DTSTART:20270105T090000Z\r\nDTEND:20270105T100000Z\r\nSUMMARY:x\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    busy, _ = ical.busy_from_object(
        data,
        "g.ics",
        REP,
        datetime(2027, 1, 4, tzinfo=UTC),
        datetime(2027, 1, 8, tzinfo=UTC),
        BERLIN,
    )
    assert busy == [
        (datetime(2027, 1, 5, 10, tzinfo=BERLIN), datetime(2027, 1, 5, 11, tzinfo=BERLIN))
    ]


# --------------------------------------------------------------------------- busy


WEEK_START = datetime(2027, 1, 4, tzinfo=NY)
WEEK_END = datetime(2027, 1, 11, tzinfo=NY)


def busy_of(data: bytes, owner: str = REP) -> tuple[list[tuple[datetime, datetime]], set[date]]:
    return ical.busy_from_object(data, "b.ics", owner, WEEK_START, WEEK_END, NY)


def test_busy_reads_a_timed_event_as_an_interval() -> None:
    data = wrap(
        event(
            "e1", ";TZID=America/New_York:20270105T130000", ";TZID=America/New_York:20270105T140000"
        )
    )
    assert busy_of(data) == ([(tue(1, 5, 13), tue(1, 5, 14))], set())


def test_busy_skips_transparent_cancelled_and_declined_events() -> None:
    slot = (";TZID=America/New_York:20270105T130000", ";TZID=America/New_York:20270105T140000")
    data = wrap(
        event("t", *slot, "TRANSP:TRANSPARENT"),
        event("c", *slot, "STATUS:CANCELLED"),
        event("d", *slot, "ATTENDEE;PARTSTAT=DECLINED:mailto:Ana@Example.com"),
        event("f", *slot, "X-MICROSOFT-CDO-BUSYSTATUS:FREE"),
    )
    assert busy_of(data) == ([], set())
    # Declined by someone else: still the owner's busy time.
    declined = wrap(event("d", *slot, "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.com"))
    assert busy_of(declined) == ([(tue(1, 5, 13), tue(1, 5, 14))], set())


def test_busy_expands_a_weekly_recurring_event_with_its_exceptions() -> None:
    data = wrap(
        event(
            "w",
            ";TZID=America/New_York:20261201T090000",
            ";TZID=America/New_York:20261201T093000",
            "RRULE:FREQ=DAILY",
            "EXDATE;TZID=America/New_York:20270106T090000",
        ),
        event(
            "w",
            ";TZID=America/New_York:20270107T160000",
            ";TZID=America/New_York:20270107T163000",
            "RECURRENCE-ID;TZID=America/New_York:20270107T090000",
        ),
    )
    busy, out_days = busy_of(data)
    assert not out_days
    starts = sorted(s for s, _ in busy)
    assert starts == [
        datetime(2027, 1, 4, 9, tzinfo=NY),
        datetime(2027, 1, 5, 9, tzinfo=NY),
        datetime(2027, 1, 7, 16, tzinfo=NY),
        datetime(2027, 1, 8, 9, tzinfo=NY),
        datetime(2027, 1, 9, 9, tzinfo=NY),
        datetime(2027, 1, 10, 9, tzinfo=NY),
    ]


def test_busy_treats_all_day_events_as_out_days_not_intervals() -> None:
    data = wrap(
        event("v", ";VALUE=DATE:20270106", ";VALUE=DATE:20270109"),
        event("x", ";VALUE=DATE:20270201", ";VALUE=DATE:20270202"),
    )
    assert busy_of(data) == ([], {date(2027, 1, 6), date(2027, 1, 7), date(2027, 1, 8)})


def test_transparent_all_day_event_is_no_out_day() -> None:
    data = wrap(event("b", ";VALUE=DATE:20270106", ";VALUE=DATE:20270107", "TRANSP:TRANSPARENT"))
    assert busy_of(data) == ([], set())


def test_out_of_office_timed_event_gives_the_whole_days_it_covers() -> None:
    data = wrap(
        event(
            "o",
            ";TZID=America/New_York:20270105T000000",
            ";TZID=America/New_York:20270107T120000",
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
        )
    )
    busy, out_days = busy_of(data)
    assert busy == [(tue(1, 5, 0), tue(1, 7, 12))]
    assert out_days == {date(2027, 1, 5), date(2027, 1, 6)}


def test_floating_busy_time_is_read_in_the_given_zone() -> None:
    data = wrap(event("f", ":20270105T130000", ":20270105T140000"))
    assert busy_of(data) == ([(tue(1, 5, 13), tue(1, 5, 14))], set())


def test_busy_ignores_events_outside_the_window() -> None:
    data = wrap(event("e", ":20270115T130000Z", ":20270115T140000Z"))
    assert busy_of(data) == ([], set())


def test_an_object_with_too_many_instances_is_refused_with_a_sentence() -> None:
    data = wrap(event("h", ":20270101T000000Z", ":20270101T001500Z", "RRULE:FREQ=HOURLY"))
    with pytest.raises(ValueError, match=r"^b\.ics: cannot read calendar object: .*more than"):
        ical.busy_from_object(
            data,
            "b.ics",
            REP,
            datetime(2027, 1, 1, tzinfo=UTC),
            datetime(2028, 1, 1, tzinfo=UTC),
            NY,
        )


def test_a_minutely_rule_is_refused_before_expansion() -> None:
    data = wrap(event("m", ":20200101T000000Z", ":20200101T000100Z", "RRULE:FREQ=MINUTELY"))
    with pytest.raises(ValueError, match="minutely"):
        busy_of(data)


def custom_zone(name: str, offset: str, *rule: str) -> str:
    """A VTIMEZONE named ``name`` with one STANDARD part at ``offset`` (and ``rule``), the way
    Outlook writes a zone it calls "Customized Time Zone"."""
    lines = [
        "BEGIN:VTIMEZONE",
        f"TZID:{name}",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        *rule,
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    return "\r\n".join(lines) + "\r\n"


def zoned(zone: str, uid: str) -> bytes:
    return wrap(
        zone
        + event(
            uid,
            ";TZID=Customized Time Zone:20270105T100000",
            ";TZID=Customized Time Zone:20270105T110000",
        )
    )


def test_two_files_naming_one_custom_zone_each_read_in_their_own() -> None:
    # Outlook names every zone it cannot name "Customized Time Zone"; icalendar caches such
    # zones process-wide, first definition wins, unless each object is parsed alone.
    eastern = zoned(custom_zone("Customized Time Zone", "-0500"), "e")
    pacific = zoned(custom_zone("Customized Time Zone", "-0800"), "p")
    for data, hour in [(eastern, 15), (pacific, 18), (eastern, 15)]:
        busy, _ = busy_of(data)
        assert [utc(start).hour for start, _ in busy] == [hour]


@pytest.mark.parametrize(
    "rule, words",
    [
        ("RRULE:FREQ=SECONDLY", "changes offset secondly"),
        ("RRULE:FREQ=DAILY", "changes offset daily"),
        ("RRULE:FREQ=YEARLY;INTERVAL=0", "INTERVAL"),
        ("RRULE:FREQ=YEARLY;BYYEARDAY=" + ",".join(map(str, range(1, 366))), "offset changes"),
    ],
    ids=["secondly", "daily", "interval-0", "every-day-of-the-year"],
)
def test_a_time_zone_with_a_rule_no_zone_has_is_refused_before_any_time_is_read(
    rule: str, words: str
) -> None:
    data = zoned(custom_zone("Customized Time Zone", "-0500", rule), "h")
    with pytest.raises(
        ValueError,
        match=rf"^b\.ics: cannot read calendar object: its time zone Customized Time Zone .*"
        rf"{words}",
    ):
        busy_of(data)
    # ...and leaves nothing behind: the same name, defined sanely, is read at once.
    began = time.process_time()
    busy, _ = busy_of(zoned(custom_zone("Customized Time Zone", "-0500"), "e"))
    assert [utc(start).hour for start, _ in busy] == [15]
    assert time.process_time() - began < 1


# --------------------------------------------------------------------------- broken input


BROKEN = {
    "empty": b"",
    "truncated": ical.render(make_spec(), STAMP)[:700],
    "garbage": bytes(range(256)) * 8,
    "bad date": wrap(event("b", ":20271345T100000", ":20270105T110000")),
    "bad rule": wrap(event("r", ":20270105T100000Z", ":20270105T110000Z", "RRULE:FREQ=SOMETIMES")),
    "bare event": event("e", ":20270105T100000Z", ":20270105T110000Z").encode(),
    # A folded line that makes the calendar's name hold an escaped newline (found by the
    # fuzzer in tests/providers/test_read_fuzz.py): the sentence quotes it on one line.
    "odd name": b"BEGIN:VCALENDAR\r\n lle\\nDenmark\r\nVERSION:2.0\r\n"
    b"END:VCALENDARlle\\nDenmark\r\n",
    # A hostile zone whose name holds an escaped newline: named on one line too.
    "odd zone": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Odd\\nZone\r\n"
    b"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nRRULE:FREQ=DAILY\r\nTZOFFSETFROM:+0000\r\n"
    b"TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_objects_raise_one_sentence_naming_the_file(name: str) -> None:
    href = "data/cal/ana/x.ics"
    with pytest.raises(ValueError) as observed:
        ical.observe(BROKEN[name], href)
    with pytest.raises(ValueError) as busy:
        ical.busy_from_object(BROKEN[name], href, REP, WEEK_START, WEEK_END, NY)
    for message in (str(observed.value), str(busy.value)):
        assert message.startswith(f"{href}: cannot read calendar object: ")
        assert "\n" not in message


def test_a_tagged_object_with_a_bad_start_cannot_be_observed() -> None:
    data = ical.render(make_spec(), STAMP).replace(
        b"DTSTART;TZID=America/New_York:20270105T100000",
        b"DTSTART;TZID=America/New_York:2027010XT100000",
    )
    with pytest.raises(ValueError, match=r"^x\.ics: cannot read calendar object: "):
        ical.observe(data, "x.ics")
    assert ical.is_product_object(ical.parse_object(data, "x.ics"))


# --------------------------------------------------------------------------- an object's reach

#: Zones as far as there are from UTC each way, and two ordinary ones.
FAR_ZONES = [ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"), NY, BERLIN]


def _value(kind: str, moment: datetime) -> str:
    """``moment`` (naive, a wall time) as a DTSTART-style property tail of ``kind``."""
    if kind == "date":
        return f";VALUE=DATE:{moment:%Y%m%d}"
    if kind == "floating":
        return f":{moment:%Y%m%dT%H%M%S}"
    if kind == "utc":
        return f":{moment:%Y%m%dT%H%M%S}Z"
    return f";TZID={kind}:{moment:%Y%m%dT%H%M%S}"


@st.composite
def bounded_objects(draw: st.DrawFn) -> bytes:
    """One event, timed or all day, in any zone or none, once or repeating until a date, with
    perhaps one instance moved: the shapes people's own meetings take."""
    kind = draw(st.sampled_from(["date", "floating", "utc", "Pacific/Kiritimati", "Europe/Berlin"]))
    first = datetime(2027, 3, 1) + timedelta(hours=draw(st.integers(0, 24 * 60)))
    if kind == "date":
        first = first.replace(hour=0)
    length = (
        timedelta(days=draw(st.integers(1, 3)))
        if kind == "date"
        else timedelta(minutes=draw(st.integers(0, 48 * 60)))
    )
    extra: list[str] = []
    repeats = draw(st.booleans())
    if repeats:
        freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
        until = first + timedelta(days=draw(st.integers(0, 90)), hours=draw(st.integers(0, 23)))
        until_kind = draw(st.sampled_from(["date", "utc", "floating"]))
        until_text = _value(until_kind, until).split(":")[-1]
        extra.append(f"RRULE:FREQ={freq};UNTIL={until_text}")
    text = event("reach", f"{_value(kind, first)}", f"{_value(kind, first + length)}", *extra)
    if repeats and draw(st.booleans()):
        moved = first + timedelta(days=draw(st.integers(-20, 20)), hours=draw(st.integers(-9, 9)))
        text += event(
            "reach",
            _value(kind, moved),
            _value(kind, moved + length),
            f"RECURRENCE-ID{_value(kind, first)}",
        )
    return wrap(text)


@settings(max_examples=150, deadline=None)
@given(bounded_objects())
def test_no_window_outside_an_objects_reach_holds_any_of_its_busy_time(data: bytes) -> None:
    """What lets a reader skip parsing a past meeting's file again: whoever reads it, in
    whatever zone, a window that ends where its reach begins, or begins where it ends, holds
    none of its busy time or days out, and reading it there raises nothing."""
    reach = ical.reach_from_parsed(ical.parse_object(data, "r.ics"))
    assert reach is not None
    low, high = (datetime.fromtimestamp(second, UTC) for second in reach)
    for zone in FAR_ZONES:
        for start, end in [(low - timedelta(days=60), low), (high, high + timedelta(days=60))]:
            busy, out_days = ical.busy_from_object(data, "r.ics", REP, start, end, zone)
            assert (busy, out_days) == ([], set())
    # And the reach is not the whole timeline: a meeting's ends two days (the slack) after it.
    if b"RRULE" not in data:
        whole, days = ical.busy_from_object(
            data, "r.ics", REP, low - timedelta(days=1), high + timedelta(days=1), BERLIN
        )
        ends = [utc(until) for _, until in whole] + [
            datetime.combine(day + timedelta(days=1), datetime.min.time(), BERLIN) for day in days
        ]
        assert not ends or high - max(ends) <= timedelta(days=3)


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (["RRULE:FREQ=WEEKLY"], "a rule with no end"),
        (["RRULE:FREQ=WEEKLY;COUNT=3"], "a count, not a date"),
        (["RRULE:FREQ=WEEKLY;UNTIL=20270601T000000Z", "RRULE:FREQ=DAILY"], "one rule endless"),
        (["RDATE:20300101T100000Z"], "dates listed"),
        (["RECURRENCE-ID;RANGE=THISANDFUTURE:20270301T100000Z"], "this and future moved"),
        (["DURATION:P1W", "RRULE:FREQ=DAILY;UNTIL=notadate"], "an end that does not read"),
    ],
)
def test_an_object_without_a_known_end_has_no_reach(extra: list[str], why: str) -> None:
    data = wrap(event("open", ":20270301T100000Z", ":20270301T110000Z", *extra))
    assert ical.reach_from_parsed(ical.parse_object(data, "o.ics")) is None, why


@pytest.mark.parametrize(
    ("start", "end"),
    [(";VALUE=DATE:00010101", ";VALUE=DATE:00010102"), (":99991231T100000Z", ":99991231T110000Z")],
)
def test_an_object_at_the_ends_of_the_calendar_has_no_reach(start: str, end: str) -> None:
    """Two days' slack past year 1 or 9999 is no date: no reach (the object is read as any
    other), not an OverflowError out of the read (found by the reader fuzz test)."""
    data = wrap(event("edge", start, end))
    assert ical.reach_from_parsed(ical.parse_object(data, "e.ics")) is None


def test_a_meetings_reach_is_its_own_time_with_two_days_either_side() -> None:
    data = wrap(event("m", ":20270301T100000Z", ":20270301T110000Z"))
    low, high = ical.reach_from_parsed(ical.parse_object(data, "m.ics")) or (0, 0)
    assert datetime.fromtimestamp(low, UTC) == datetime(2027, 2, 27, 10, 0, tzinfo=UTC)
    assert datetime.fromtimestamp(high, UTC) == datetime(2027, 3, 3, 11, 0, 1, tzinfo=UTC)
