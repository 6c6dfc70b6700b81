"""The ``ics`` provider: busy time from a published feed, cached, conditional, never lost.

A small HTTP server on 127.0.0.1 plays the publishing calendar (Outlook, Google, ...): it
serves a body with an ETag or a Last-Modified, answers conditional requests, goes down, turns
malformed, stalls. Every server is shut down by its fixture.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.domain import Person
from scheduler.errors import CalendarError
from scheduler.orgfile import load_org
from scheduler.providers.base import write_one
from scheduler.providers.ics import IcsProvider, public_address
from scheduler.store.ledger import Ledger
from scheduler.sync import make_provider, run_pass
from tests.feeds.conftest import ANA, MARCO, NY, START, copy_example
from tests.ics_text import calendar, vevent

BERLIN = ZoneInfo("Europe/Berlin")
ANA_PERSON = Person(ANA, "Ana Alvarez", "America/New_York")
WINDOW = (START, START + timedelta(weeks=2))


@dataclass
class Feed:
    """What the fake publishing server answers; tests change it between reads."""

    body: bytes = b""
    status: int = 200
    etag: str | None = '"v1"'
    last_modified: str | None = None
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None


class _Handler(BaseHTTPRequestHandler):
    feed: Feed

    def do_GET(self) -> None:
        feed = self.server.feed  # type: ignore[attr-defined]
        feed.requests.append({k.lower(): v for k, v in self.headers.items()})
        if feed.delay:
            time.sleep(feed.delay)
        if feed.status != 200:
            self.send_response(feed.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if feed.etag and self.headers.get("If-None-Match") == feed.etag:
            self.send_response(304)
            self.end_headers()
            return
        if feed.last_modified and self.headers.get("If-Modified-Since") == feed.last_modified:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(feed.body)))
        if feed.etag:
            self.send_header("ETag", feed.etag)
        if feed.last_modified:
            self.send_header("Last-Modified", feed.last_modified)
        self.end_headers()
        self.wfile.write(feed.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the timeout test) is expected, not worth a traceback


@pytest.fixture
def publisher() -> Iterator[tuple[str, Feed]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.feed = Feed(server=server)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/owa/calendar", server.feed  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def meeting(uid: str, day: int, hour: int, *extra: str) -> str:
    return vevent(
        uid, f":202701{day:02d}T{hour:02d}0000Z", f":202701{day:02d}T{hour + 1:02d}0000Z", *extra
    )


GOOD = calendar(meeting("call-1", 5, 15), meeting("call-2", 6, 16))
LATER = calendar(meeting("call-3", 7, 17))


def provider(source: str | Path, tmp_path: Path, **kwargs: float) -> IcsProvider:
    return IcsProvider(source, tmp_path / "cache", NY, **kwargs)  # type: ignore[arg-type]


def starts(busy: list[tuple[datetime, datetime]]) -> list[str]:
    return sorted(start.astimezone(ZoneInfo("UTC")).strftime("%d %H:%M") for start, _ in busy)


# --------------------------------------------------------------------------- fetching


def test_busy_time_comes_from_the_feed_and_a_304_reuses_the_copy(
    publisher: tuple[str, Feed], tmp_path: Path
) -> None:
    url, feed = publisher
    feed.body = GOOD
    ics = provider(url, tmp_path)
    first = ics.read(ANA_PERSON, *WINDOW)
    assert starts(first.busy) == ["05 15:00", "06 16:00"]
    assert first.problems == [] and first.object_count == 2
    second = ics.read(ANA_PERSON, *WINDOW)
    assert feed.requests[-1]["if-none-match"] == '"v1"'
    assert starts(second.busy) == starts(first.busy) and second.problems == []
    feed.body, feed.etag = LATER, '"v2"'
    third = ics.read(ANA_PERSON, *WINDOW)
    assert starts(third.busy) == ["07 17:00"]


def test_last_modified_makes_the_fetch_conditional(
    publisher: tuple[str, Feed], tmp_path: Path
) -> None:
    url, feed = publisher
    feed.body, feed.etag = GOOD, None
    feed.last_modified = "Mon, 04 Jan 2027 08:00:00 GMT"
    ics = provider(url, tmp_path)
    ics.read(ANA_PERSON, *WINDOW)
    again = ics.read(ANA_PERSON, *WINDOW)
    assert feed.requests[-1]["if-modified-since"] == feed.last_modified
    assert len(again.busy) == 2


@pytest.mark.parametrize("trouble", ["down", "error", "malformed", "empty", "not-a-calendar"])
def test_a_feed_in_trouble_keeps_the_last_good_busy_time_and_says_so(
    publisher: tuple[str, Feed], tmp_path: Path, trouble: str
) -> None:
    url, feed = publisher
    feed.body = GOOD
    secret_url = url.replace("http://", "http://ana:hunter2@") + "/0123456789abcdefABCDEF/cal.ics"
    ics = provider(secret_url, tmp_path, timeout=5)
    assert len(ics.read(ANA_PERSON, *WINDOW).busy) == 2
    assert feed.requests[-1]["authorization"].startswith("Basic ")
    feed.etag = '"v2"'
    if trouble == "down":
        assert feed.server is not None
        feed.server.shutdown()
        feed.server.server_close()
    feed.status = 503 if trouble == "error" else 200
    feed.body = {
        "malformed": b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n",
        "empty": b"",
        "not-a-calendar": b"<html><body>Sign in to Outlook</body></html>",
    }.get(trouble, GOOD)
    read = ics.read(ANA_PERSON, *WINDOW)
    assert len(read.busy) == 2
    assert len(read.problems) == 1
    problem = read.problems[0]
    assert problem.startswith(f"{ANA}: the ICS feed http://127.0.0.1:")
    assert "hunter2" not in problem and "0123456789abcdef" not in problem
    assert "their busy time is from the copy fetched at" in problem
    # The bad body never replaced the good copy.
    feed.body = b""
    assert len(ics.read(ANA_PERSON, *WINDOW).busy) == 2


def test_a_feed_that_never_worked_is_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=r"ana@acme.example: the ICS feed .* no earlier copy"):
        provider("http://127.0.0.1:9/cal.ics", tmp_path, timeout=2).read(ANA_PERSON, *WINDOW)


def test_a_stalling_server_is_cut_off_by_the_timeout(
    publisher: tuple[str, Feed], tmp_path: Path
) -> None:
    url, feed = publisher
    feed.body = GOOD
    ics = provider(url, tmp_path, timeout=0.5)
    ics.read(ANA_PERSON, *WINDOW)
    feed.delay, feed.etag = 2.0, '"v2"'
    began = time.monotonic()
    read = ics.read(ANA_PERSON, *WINDOW)
    assert time.monotonic() - began < 1.9
    assert len(read.busy) == 2 and "timed out" in read.problems[0]


def test_a_feed_over_the_size_limit_is_refused(publisher: tuple[str, Feed], tmp_path: Path) -> None:
    url, feed = publisher
    feed.body = calendar(*(meeting(f"m{i}", 5, 9) for i in range(200)))
    with pytest.raises(CalendarError, match="larger than"):
        IcsProvider(url, tmp_path, NY, max_bytes=1024).read(ANA_PERSON, *WINDOW)


def test_the_address_in_messages_hides_credentials_and_secret_segments() -> None:
    assert (
        public_address(
            "https://u:p@outlook.office365.com/owa/calendar/"
            "d41d8cd98f00b204e9800998ecf8427e@acme.example/9f1c0a7e6b5d4c3b2a19/"
            "calendar.ics?token=abc"
        )
        == "https://outlook.office365.com/owa/calendar/…/…/calendar.ics"
    )
    assert public_address("/srv/calendars/ana.ics") == "/srv/calendars/ana.ics"


# --------------------------------------------------------------------------- reading


def test_recurring_events_are_expanded_with_exdates_and_overrides(tmp_path: Path) -> None:
    source = tmp_path / "ana.ics"
    source.write_bytes(
        calendar(
            vevent(
                "weekly",
                ";TZID=America/New_York:20270104T090000",
                ";TZID=America/New_York:20270104T100000",
                "RRULE:FREQ=WEEKLY",
                "EXDATE;TZID=America/New_York:20270111T090000",
            ),
            vevent(
                "weekly",
                ";TZID=America/New_York:20270106T140000",
                ";TZID=America/New_York:20270106T150000",
                "RECURRENCE-ID;TZID=America/New_York:20270104T090000",
            ),
        )
    )
    read = provider(source, tmp_path).read(ANA_PERSON, START, START + timedelta(weeks=3))
    local = sorted(s.astimezone(NY).strftime("%m-%d %H:%M") for s, _ in read.busy)
    assert local == ["01-06 14:00", "01-18 09:00"]
    assert read.object_count == 1


def test_x_wr_timezone_floating_times_are_read_in_that_zone(tmp_path: Path) -> None:
    source = tmp_path / "google.ics"
    body = calendar(vevent("floating", ":20270105T100000", ":20270105T110000"))
    source.write_bytes(body.replace(b"VERSION:2.0", b"VERSION:2.0\r\nX-WR-TIMEZONE:Europe/Berlin"))
    read = provider(source, tmp_path).read(ANA_PERSON, *WINDOW)
    assert [s for s, _ in read.busy] == [datetime(2027, 1, 5, 10, tzinfo=BERLIN)]


def test_free_cancelled_declined_and_the_products_own_events_are_not_busy(
    tmp_path: Path,
) -> None:
    source = tmp_path / "ana.ics"
    source.write_bytes(
        calendar(
            meeting("free", 5, 9, "TRANSP:TRANSPARENT"),
            meeting("cancelled", 5, 10, "STATUS:CANCELLED"),
            meeting("declined", 5, 11, f"ATTENDEE;PARTSTAT=DECLINED:mailto:{ANA}"),
            meeting("oneonone-imported", 5, 12),
            meeting("tagged", 5, 13, "X-ONEONONE-PAIR:marco@acme.example/ana@acme.example"),
            meeting("real", 5, 14),
            vevent("away", ";VALUE=DATE:20270107", ";VALUE=DATE:20270108"),
        )
    )
    read = provider(source, tmp_path).read(ANA_PERSON, *WINDOW)
    assert starts(read.busy) == ["05 14:00"]
    assert read.out_days == {datetime(2027, 1, 7).date()}
    assert read.object_count == 7


def test_one_bad_event_is_reported_and_the_rest_still_count(tmp_path: Path) -> None:
    source = tmp_path / "ana.ics"
    source.write_bytes(
        calendar(
            meeting("good", 5, 14),
            vevent("bad", ":20270105T150000Z", ":20270105T160000Z", "RRULE:FREQ=SECONDLY"),
        )
    )
    read = provider(source, tmp_path).read(ANA_PERSON, *WINDOW)
    assert starts(read.busy) == ["05 14:00"]
    assert len(read.problems) == 1
    assert read.problems[0].startswith(f"{ANA}: {source} (event bad): cannot read calendar object")


def test_the_calendar_cannot_be_written(tmp_path: Path) -> None:
    ics = provider(tmp_path / "x.ics", tmp_path)
    assert ics.capabilities.writable is False
    with pytest.raises(CalendarError, match=r"read-only.*oneonone feeds url ana@acme\.example"):
        write_one(ics, None, ANA_PERSON, dtstamp=START, expect=None)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="read-only"):
        ics.delete("oneonone-x", ANA_PERSON, expect="")


def test_check_reports_an_unusable_feed(tmp_path: Path) -> None:
    good = tmp_path / "good.ics"
    good.write_bytes(GOOD)
    assert provider(good, tmp_path).check(ANA_PERSON) == []
    problems = provider(tmp_path / "missing.ics", tmp_path).check(ANA_PERSON)
    assert len(problems) == 1 and "cannot be used" in problems[0]


# --------------------------------------------------------------------------- in a pass


def test_an_ics_person_gets_their_1on1_placed_around_their_busy_time(tmp_path: Path) -> None:
    """Ana publishes her calendar (a file here); her regular slot is busy, so the pass moves
    her 1:1, writes it to Marco's vdir calendar only, and her feed carries it."""
    from scheduler.feeds import build_feed

    config = copy_example(tmp_path)
    published = tmp_path / "published" / "ana.ics"
    published.parent.mkdir()
    # Tue 5 Jan 2027 10:00-11:00 New York: Ana's regular slot.
    published.write_bytes(calendar(vevent("busy", ":20270105T150000Z", ":20270105T160000Z")))
    text = config.read_text()
    config.write_text(
        text.replace(
            'calendar = { provider = "vdir", path = "data/calendars/ana" }',
            'calendar = { provider = "ics", url = "published/ana.ics" }',
        )
    )
    org = load_org(config)
    assert org.calendars[ANA].provider == "ics"
    assert org.calendars[ANA].cache_dir == org.data_dir / "cache" / "ics"
    assert make_provider(org.calendars[ANA], org.people[ANA]).capabilities.writable is False
    ledger = Ledger(org.database_url)
    try:
        result = run_pass(org, ledger, START, apply=True)
        assert result.problems == [] and result.safety == []
        record = ledger.occurrences()[f"{MARCO}/{ANA}"]["2027-W01"]
        assert record.planned_start != datetime(2027, 1, 5, 10, tzinfo=NY)
        assert not (tmp_path / "data" / "calendars" / "ana").exists() or not any(
            (tmp_path / "data" / "calendars" / "ana").iterdir()
        )
        assert any((tmp_path / "data" / "calendars" / "marco").glob("oneonone-*.ics"))
        feed = Calendar.from_ical(build_feed(org, ledger, ANA).body)
        first_week = [
            event
            for event in feed.walk("VEVENT")
            if event.get("RECURRENCE-ID") is not None
            and event["RECURRENCE-ID"].dt == datetime(2027, 1, 5, 10, tzinfo=NY)
        ]
        assert [event["DTSTART"].dt for event in first_week] == [record.planned_start]
        assert list((org.data_dir / "cache" / "ics").glob("*.ics"))
    finally:
        ledger.close()


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        server.seen.append({k.lower(): v for k, v in self.headers.items()})  # type: ignore[attr-defined]
        self.send_response(302)
        self.send_header("Location", server.target)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_credentials_are_never_sent_to_another_origin_on_a_redirect(
    publisher: tuple[str, Feed], tmp_path: Path
) -> None:
    """urllib copied the Authorization header to wherever the feed redirected."""
    target, feed = publisher
    feed.body = GOOD
    redirector = _Server(("127.0.0.1", 0), _Redirect)
    redirector.seen = []  # type: ignore[attr-defined]
    redirector.target = target  # type: ignore[attr-defined]
    thread = threading.Thread(target=redirector.serve_forever, daemon=True)
    thread.start()
    try:
        port = redirector.server_address[1]
        read = provider(f"http://ana:s3cret@127.0.0.1:{port}/cal.ics", tmp_path).read(
            ANA_PERSON, *WINDOW
        )
    finally:
        redirector.shutdown()
        redirector.server_close()
        thread.join(5)
    assert len(read.busy) == 2
    assert redirector.seen[0]["authorization"].startswith("Basic ")  # type: ignore[attr-defined]
    assert [request.get("authorization") for request in feed.requests] == [None]
