"""Each person's feed, expanded by RFC 5545 libraries, is exactly the ledger's occurrences.

The ledger is a quarter of weekly passes over the example org with people's edits (see
``conftest.history``); every person's feed is parsed with icalendar and expanded with
recurring-ical-events over the past quarter and the horizon, and must give one instance per
ledger week that takes place (moved ones where they were moved to), none for cancelled,
declined, close and time-off weeks, and each booked make-up. vobject must read it too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import recurring_ical_events
import vobject
from icalendar import Calendar

from scheduler.domain import week_monday
from scheduler.feeds import FeedCache, build_feed
from scheduler.orgfile import load_org
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.feeds.conftest import (
    AGENDA,
    ANA,
    DANA,
    MARCO,
    NY,
    RAJ,
    SAM,
    START,
    TOM,
    History,
    copy_example,
)

Instance = tuple[str, datetime, datetime]

NOT_HELD = {"close_week", "time_off"}
#: What people did that leaves no meeting at the week's time (its make-up is a separate event).
OFF = {"cancelled", "declined", "missing"}


def window(history: History) -> tuple[datetime, datetime]:
    """The past quarter before ``now`` to the Monday after the last week the ledger holds."""
    last = max(week for weeks in history.ledger.occurrences().values() for week in weeks)
    end = datetime.combine(week_monday(last) + timedelta(weeks=1), datetime.min.time(), NY)
    return history.now - timedelta(weeks=13), end


def expected(history: History, email: str, start: datetime, end: datetime) -> set[Instance]:
    """What the ledger says ``email`` has in [start, end), worked out from the records alone."""
    result: set[Instance] = set()
    series = history.ledger.all_series()
    makeups = history.ledger.makeups()
    for key, weeks in history.ledger.occurrences().items():
        if email not in key.split("/"):
            continue
        uid = series[key].uid
        for record in weeks.values():
            if record.status in NOT_HELD or record.change in OFF:
                continue
            begin = record.actual_start or record.planned_start
            finish = record.actual_end or record.planned_end
            if series[key].until is not None and begin > series[key].until:
                continue
            result.add((uid, begin.astimezone(UTC), finish.astimezone(UTC)))
        for makeup in makeups.get(key, {}).values():
            if makeup.state == "booked":
                result.add((makeup.uid, makeup.start.astimezone(UTC), makeup.end.astimezone(UTC)))
    return {item for item in result if start <= item[1] < end}


def expanded(body: bytes, start: datetime, end: datetime) -> set[Instance]:
    calendar = Calendar.from_ical(body)
    found: set[Instance] = set()
    for event in recurring_ical_events.of(calendar).between(start, end):
        begin = event["DTSTART"].dt.astimezone(UTC)
        if start <= begin < end:
            found.add((str(event["UID"]), begin, event["DTEND"].dt.astimezone(UTC)))
    return found


def people(history: History) -> list[str]:
    return sorted({email for key in history.ledger.all_series() for email in key.split("/")})


def test_the_history_has_the_cases_the_feeds_must_show(history: History) -> None:
    weeks = history.ledger.occurrences()
    changes = {record.change for pair in weeks.values() for record in pair.values()}
    assert {"moved", "cancelled", "declined"} <= changes
    assert any(m.state == "booked" for ms in history.ledger.makeups().values() for m in ms.values())
    assert history.ledger.all_series()[f"{'dana@acme.example'}/{TOM}"].until is not None


def test_each_feed_expands_to_exactly_the_ledger_occurrences(history: History) -> None:
    start, end = window(history)
    for email in people(history):
        feed = build_feed(history.org, history.ledger, email)
        wanted = expected(history, email, start, end)
        assert wanted, email
        assert expanded(feed.body, start, end) == wanted, email


def embedded_zones_only(body: bytes) -> bytes:
    """``body`` with every TZID renamed to a name no zone database knows, so a reader must
    resolve each time through the feed's own VTIMEZONEs, as Outlook and ical.js do."""
    unfolded = body.replace(b"\r\n ", b"")
    keys = set(re.findall(rb"^TZID:(.+?)\r$", unfolded, re.MULTILINE))
    assert keys
    for key in keys:
        made_up = b"Embedded-Only-" + key.replace(b"/", b"-")
        unfolded = unfolded.replace(b"TZID:" + key + b"\r\n", b"TZID:" + made_up + b"\r\n")
        unfolded = unfolded.replace(b"TZID=" + key + b":", b"TZID=" + made_up + b":")
    assert b"TZID=America/" not in unfolded
    return unfolded


def test_each_feed_expands_to_the_ledger_through_its_own_vtimezones(history: History) -> None:
    """The same property with times resolved from the feed's VTIMEZONEs, not the zone names:
    what a client that trusts the embedded rules shows is what the ledger holds."""
    start, end = window(history)
    for email in people(history):
        feed = build_feed(history.org, history.ledger, email)
        wanted = expected(history, email, start, end)
        assert expanded(embedded_zones_only(feed.body), start, end) == wanted, email


def test_a_moved_week_is_at_its_new_time_and_a_cancelled_one_is_gone(history: History) -> None:
    feed = build_feed(history.org, history.ledger, ANA)
    start, end = window(history)
    starts = {begin for _, begin, _ in expanded(feed.body, start, end)}
    moved = START + timedelta(weeks=1, days=1, hours=5)  # Tue 10:00 moved to 13:00
    assert moved.astimezone(UTC) in starts
    assert (moved - timedelta(hours=3)).astimezone(UTC) not in starts

    sam = expanded(build_feed(history.org, history.ledger, SAM).body, start, end)
    regular_sam = (START + timedelta(weeks=2, days=1, hours=2, minutes=30)).astimezone(UTC)
    assert regular_sam not in {begin for _, begin, _ in sam}


def test_a_declined_week_gives_way_to_its_make_up(history: History) -> None:
    key = f"{DANA}/{RAJ}"
    declined = [r for r in history.ledger.occurrences()[key].values() if r.change == "declined"]
    booked = [m for m in history.ledger.makeups().get(key, {}).values() if m.state == "booked"]
    assert declined and booked
    start, end = window(history)
    raj = expanded(build_feed(history.org, history.ledger, RAJ).body, start, end)
    starts = {begin for _, begin, _ in raj}
    assert all(record.planned_start.astimezone(UTC) not in starts for record in declined)
    for makeup in booked:
        assert (makeup.uid, makeup.start.astimezone(UTC), makeup.end.astimezone(UTC)) in raj


def test_a_pair_that_left_the_org_file_keeps_its_past_in_the_feed(history: History) -> None:
    start, end = window(history)
    tom = expanded(build_feed(history.org, history.ledger, TOM).body, start, end)
    assert tom
    assert all(begin < history.now for _, begin, _ in tom)


def test_the_feed_is_one_published_calendar_with_one_vtimezone_per_zone(
    history: History,
) -> None:
    body = build_feed(history.org, history.ledger, MARCO).body
    calendar = Calendar.from_ical(body)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "1:1s of Marco Rossi"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in body
    assert b"X-PUBLISHED-TTL:PT15M" in body
    zones = [str(c["TZID"]) for c in calendar.walk("VTIMEZONE")]
    used = {
        str(event[name].params["TZID"])
        for event in calendar.walk("VEVENT")
        for name in ("DTSTART", "DTEND")
        if "TZID" in event[name].params
    }
    assert sorted(zones) == sorted(used) == ["America/New_York"]
    # Marco is a rep (of Vera) and a manager (of Ana, Liam, Sam): four series, one make-up.
    masters = [e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" not in e]
    assert len([e for e in masters if "RRULE" in e]) == 4
    assert len([e for e in masters if "RRULE" not in e]) == 1


def test_zones_of_other_people_get_their_own_vtimezone(history: History) -> None:
    calendar = Calendar.from_ical(build_feed(history.org, history.ledger, "dana@acme.example").body)
    zones = sorted(str(c["TZID"]) for c in calendar.walk("VTIMEZONE"))
    assert zones == ["America/Chicago", "America/New_York"]  # her 1:1s and Vera's


def test_the_agenda_link_is_attached_to_its_week(history: History) -> None:
    calendar = Calendar.from_ical(build_feed(history.org, history.ledger, ANA).body)
    with_agenda = [e for e in calendar.walk("VEVENT") if "ATTACH" in e]
    # Every week whose agenda the passes wrote, and the one the fixture set by hand.
    weeks = history.ledger.occurrences()[f"{MARCO}/{ANA}"]
    expected = {r.agenda for r in weeks.values() if r.agenda and r.change != "cancelled"}
    assert AGENDA in expected and len(expected) > 1
    assert {str(event["ATTACH"]) for event in with_agenda} == expected
    for event in with_agenda:
        assert "RECURRENCE-ID" in event
        assert str(event["ATTACH"]) in str(event["DESCRIPTION"])


def test_every_feed_parses_with_vobject(history: History) -> None:
    for email in people(history):
        body = build_feed(history.org, history.ledger, email).body.decode("utf-8")
        calendar = vobject.readOne(body)
        assert calendar.name == "VCALENDAR"
        assert len(calendar.vevent_list) >= 1
        for event in calendar.vevent_list:
            assert event.dtstart.value.tzinfo is not None


def test_same_ledger_same_bytes_and_a_change_gives_a_new_etag(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    org = load_org(config)
    ledger = Ledger(org.database_url)
    try:
        run_pass(org, ledger, START, apply=True)
        cache = FeedCache()
        first = cache.get(org, ledger, ANA)
        assert build_feed(org, ledger, ANA) == first
        assert cache.get(org, ledger, ANA) is first  # not rebuilt
        # Someone moves a week: after the pass the feed differs, and so does its ETag.
        folder = tmp_path / "data" / "calendars" / "marco"
        from scheduler.clientedits import move_instance, week_instance
        from tests.system.helpers import series_file

        path = series_file(folder, MARCO, ANA)
        rid = week_instance(path, START.date() + timedelta(weeks=2))
        move_instance(path, rid, rid + timedelta(hours=2))
        run_pass(org, ledger, START + timedelta(hours=1), apply=True)
        second = cache.get(org, ledger, ANA)
        assert second.etag != first.etag
        assert second.body != first.body
    finally:
        ledger.close()


def test_someone_in_no_pair_gets_an_empty_calendar(history: History) -> None:
    body = build_feed(history.org, history.ledger, "nobody@acme.example").body
    calendar = Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["METHOD"]) == "PUBLISH"
