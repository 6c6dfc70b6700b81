"""Every VTIMEZONE the product writes tells the truth at every change, 2026–2037.

RFC 5545 3.6.5 reads an observance's DTSTART (and its RRULE's instances) as wall time in its
TZOFFSETFROM offset. ``icalendar.Timezone.from_tzinfo`` wrote each DAYLIGHT onset an hour
late (``DTSTART:20260308T030000`` with ``TZOFFSETFROM:-0500``); these tests read the emitted
component back by the RFC and with icalendar, vobject and recurring-ical-events, under a TZID
that is no IANA name (so every reader must use the embedded rules, not its own zone database),
and compare each instant with zoneinfo. Zones of both hemispheres, half-hour and 45-minute
offsets, a 30-minute DST (Lord Howe), a zone whose DST rule is not calendar-based
(Casablanca), zones with no DST, and UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import vobject
from dateutil.rrule import rrulestr
from icalendar import Calendar, Component

from scheduler import ical
from scheduler.domain.series import SeriesSpec
from scheduler.vtimezone import transitions, vtimezone

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/St_Johns",
    "America/Havana",
    "America/Sao_Paulo",
    "America/Santiago",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "UTC",
]
FIRST, LAST = date(2026, 1, 1), date(2038, 1, 1)
SPAN_START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_END = datetime(2038, 1, 1, tzinfo=UTC)


def tzid_of(key: str) -> str:
    return "Test-Not-IANA/" + key.replace("/", "-")


def wrapped(component: Component, *events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + component.to_ical().decode()
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


def onsets_by_the_rfc(component: Component) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset from, offset to) of every onset until 2038, read as RFC 5545 says:
    DTSTART and its RRULE's instances are wall times in TZOFFSETFROM."""
    found: list[tuple[datetime, timedelta, timedelta]] = []
    for observance in component.subcomponents:
        start = observance["DTSTART"].dt
        before = observance["TZOFFSETFROM"].td
        after = observance["TZOFFSETTO"].td
        walls = [start]
        if "RRULE" in observance:
            recur = observance["RRULE"]
            # dateutil wants UNTIL of a floating DTSTART floating too; the RFC writes it in
            # UTC, so it becomes the wall time in TZOFFSETFROM.
            text = ";".join(
                f"{name}={recur.to_ical().decode().split(name + '=')[1].split(';')[0]}"
                for name in recur
                if name != "UNTIL"
            )
            parsed = rrulestr(text, dtstart=start)
            until = recur.get("UNTIL")
            until = until[0] if isinstance(until, list) else until
            limit = (
                until.astimezone(UTC).replace(tzinfo=None) + before
                if until is not None
                else datetime(2038, 1, 1)
            )
            walls = [wall for wall in parsed.between(start, limit, inc=True)]
        for wall in walls:
            found.append(((wall - before).replace(tzinfo=UTC), before, after))
    return sorted(found)


def real_changes(key: str) -> list[datetime]:
    """Instants (to the second) where zoneinfo's offset changes in 2026–2037, found by a scan
    independent of ``scheduler.vtimezone``: every 3 hours, then minute by minute."""
    zone = ZoneInfo(key)
    result: list[datetime] = []
    moment = SPAN_START
    previous = moment.astimezone(zone).utcoffset()
    while moment < SPAN_END:
        nxt = moment + timedelta(hours=3)
        now = nxt.astimezone(zone).utcoffset()
        if now != previous:
            step = moment
            while step.astimezone(zone).utcoffset() == previous:
                step += timedelta(minutes=1)
            result.append(step)
        previous, moment = now, nxt
    return result


def offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    value = instant.astimezone(zone).utcoffset()
    assert value is not None
    return value


@pytest.mark.parametrize("key", ZONES)
def test_every_onset_is_the_true_instant_read_by_the_rfc(key: str) -> None:
    zone = ZoneInfo(key)
    component = vtimezone(key, FIRST, LAST, tzid=tzid_of(key))
    onsets = onsets_by_the_rfc(component)
    assert onsets, key
    for instant, before, after in onsets:
        assert offset(zone, instant) == after, (key, instant)
        if before != after:
            assert offset(zone, instant - timedelta(seconds=1)) == before, (key, instant)
    changes = [instant for instant, before, after in onsets if before != after]
    in_span = [instant for instant in changes if SPAN_START <= instant < SPAN_END]
    assert in_span == real_changes(key), key
    # The first onset covers the span's start: no instant of the span is before every onset.
    assert onsets[0][0] <= SPAN_START + timedelta(days=1)


@pytest.mark.parametrize("key", ZONES)
def test_icalendar_and_vobject_resolve_each_instant_through_the_embedded_rules(key: str) -> None:
    zone = ZoneInfo(key)
    text = wrapped(vtimezone(key, FIRST, LAST, tzid=tzid_of(key)))
    readers = {
        "icalendar": Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(),
        "vobject": vobject.readOne(text).vtimezone.gettzinfo(),
    }
    samples = [SPAN_START + timedelta(days=13 * n, hours=7 * n % 24) for n in range(330)]
    for change in real_changes(key):
        samples += [change + timedelta(minutes=m) for m in (-90, -31, -1, 0, 1, 31, 90)]
    for name, tz in readers.items():
        wrong = [
            moment
            for moment in samples
            if SPAN_START <= moment < SPAN_END
            and moment.astimezone(tz).utcoffset() != offset(zone, moment)
        ]
        assert wrong == [], (key, name, wrong[:3])


@pytest.mark.parametrize(
    "key", ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)
def test_recurring_ical_events_places_events_on_the_embedded_rules(key: str) -> None:
    """An hourly event across each change, in the made-up TZID: every instance's instant is
    its wall time read in zoneinfo (where that wall time exists once)."""
    zone = ZoneInfo(key)
    tzid = tzid_of(key)
    events: list[str] = []
    for n, change in enumerate(real_changes(key)[:6] or [datetime(2026, 3, 8, 7, tzinfo=UTC)]):
        wall = (change - timedelta(hours=4)).astimezone(zone).replace(tzinfo=None)
        events.append(
            f"BEGIN:VEVENT\r\nUID:e{n}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;TZID={tzid}:{wall:%Y%m%dT%H%M%S}\r\nDURATION:PT30M\r\n"
            "RRULE:FREQ=HOURLY;COUNT=9\r\nEND:VEVENT\r\n"
        )
    text = wrapped(vtimezone(key, FIRST, LAST, tzid=tzid), *events)
    instances = recurring_ical_events.of(Calendar.from_ical(text)).between(
        datetime(2025, 12, 1, tzinfo=UTC), datetime(2038, 1, 1, tzinfo=UTC)
    )
    assert len(instances) >= 9
    checked = 0
    for event in instances:
        start = event["DTSTART"].dt
        wall = start.replace(tzinfo=None)
        first = wall.replace(tzinfo=zone, fold=0)
        second = wall.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            continue  # a wall time that happens twice (or never): either reading is fair
        assert start.astimezone(UTC) == first.astimezone(UTC), (key, wall)
        checked += 1
    assert checked >= 6


def test_a_zone_without_changes_has_one_observance_with_equal_offsets() -> None:
    component = vtimezone("Asia/Kolkata", FIRST, LAST)
    assert [c.name for c in component.subcomponents] == ["STANDARD"]
    only = component.subcomponents[0]
    assert only["TZOFFSETFROM"].td == only["TZOFFSETTO"].td == timedelta(hours=5, minutes=30)


def test_the_spring_onset_of_new_york_is_written_in_the_offset_it_changes_from() -> None:
    text = vtimezone("America/New_York", FIRST, LAST).to_ical().decode()
    daylight = text.split("BEGIN:DAYLIGHT")[1].split("END:DAYLIGHT")[0]
    assert "DTSTART:20260308T020000" in daylight
    assert "TZOFFSETFROM:-0500" in daylight


def test_transitions_are_found_to_the_second() -> None:
    found = transitions(ZoneInfo("Europe/London"), date(2026, 1, 1), date(2027, 1, 1))
    assert [t.instant for t in found] == [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]


@pytest.mark.parametrize("key", ["America/New_York", "Europe/London", "Australia/Sydney"])
def test_rendered_series_embed_true_vtimezones(key: str) -> None:
    """What ``ical.render`` writes (vdir files, and feeds through it) carries the same truth."""
    zone = ZoneInfo(key)
    spec = SeriesSpec(
        uid="oneonone-test",
        pair_key="m@x.example/r@x.example",
        summary="1:1",
        description="",
        organizer_email="m@x.example",
        organizer_name="M",
        attendee_email="r@x.example",
        attendee_name="R",
        dtstart=datetime(2026, 1, 6, 10, tzinfo=zone),
        duration=timedelta(minutes=30),
    )
    calendar = Calendar.from_ical(ical.render(spec, datetime(2026, 1, 1, tzinfo=UTC)))
    [component] = calendar.walk("VTIMEZONE")
    onsets = onsets_by_the_rfc(component)
    for instant, before, after in onsets:
        assert offset(zone, instant) == after
        if before != after:
            assert offset(zone, instant - timedelta(seconds=1)) == before
    assert len([o for o in onsets if o[1] != o[2] and o[0].year == 2026]) == 2
