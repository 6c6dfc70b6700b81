"""The Google provider keeps the provider contract (``scheduler.providers.base``): versions on
what it reads, writes and deletes conditional on them, Google's 412 as ``ConflictError``,
people's edits kept, failed writes changing nothing.

Against the emulator of Calendar v3 through the real client libraries, with no pass involved:
a "pass" here is ``GoogleSession.begin`` (the next read syncs the calendars again), and people
edit through the emulator as themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import ical
from scheduler.domain import Person, makeup_uid, pair_key, series_uid
from scheduler.domain.series import Attachment, CalendarRead, InstanceOverride, SeriesSpec, utc
from scheduler.errors import CalendarError, ConflictError, TransientError
from scheduler.providers.base import Capabilities, WriteJob, Written, write_one
from scheduler.providers.google import session_for
from scheduler.providers.google.client import BATCH_LIMIT
from scheduler.providers.google.events import event_id_for, instance_id
from scheduler.providers.google.provider import GoogleProvider, GoogleSession
from tests.system.google_world import GoogleWorld, start_emulator

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)
START = datetime(2027, 1, 5, 10, 0, tzinfo=NY)  # Tue of W01, the first regular 1:1
WEEK2 = START + timedelta(weeks=1)
WEEK3 = START + timedelta(weeks=2)
MARCO, ANA, SAM = "marco@acme.example", "ana@acme.example", "sam@acme.example"
WRITES = ("calendar.events.insert", "calendar.events.update", "calendar.events.patch")


@dataclass
class Google:
    world: GoogleWorld
    session: GoogleSession
    now: datetime = NOW

    @property
    def emulator(self) -> Any:
        return self.world.emulator

    def provider(self, email: str) -> GoogleProvider:
        return GoogleProvider(self.session, email)

    def person(self, email: str) -> Person:
        return self.world.org.people[email]

    def next_pass(self) -> None:
        self.now += timedelta(minutes=5)
        self.session.begin(self.now, persist=False, store=None)

    def read(self, email: str) -> CalendarRead:
        return self.provider(email).read(
            self.person(email), self.now - timedelta(days=8), self.now + timedelta(weeks=6)
        )

    def version(self, email: str, uid: str) -> str | None:
        return self.read(email).owned[uid].version

    def write(self, spec: SeriesSpec, expect: str | None, owner: str = MARCO) -> Written:
        return write_one(
            self.provider(owner), spec, self.person(owner), dtstamp=self.now, expect=expect
        )

    def event(self, event_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (
            self.emulator.service("calendar", MARCO)
            .events()
            .get(calendarId=MARCO, eventId=event_id)
            .execute()
        )
        return found

    def edit(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Marco, in Google Calendar, edits his event (or one week of it)."""
        found: dict[str, Any] = (
            self.emulator.service("calendar", MARCO)
            .events()
            .patch(calendarId=MARCO, eventId=event_id, body=body)
            .execute()
        )
        return found

    def writes(self) -> int:
        return sum(
            self.emulator.counts.get(method, 0) for method in (*WRITES, "calendar.events.delete")
        )


@pytest.fixture
def google(tmp_path: Path) -> Iterator[Google]:
    emulator = start_emulator()
    world = GoogleWorld(tmp_path / "org", emulator)
    try:
        session = session_for(world.org, None)
        session.client.base_delay = 0.0  # retries without waiting
        session.begin(NOW, persist=False, store=None)
        yield Google(world, session)
    finally:
        world.close()
        emulator.stop()


def _spec(rep: str = ANA, **changes: Any) -> SeriesSpec:
    values: dict[str, Any] = dict(
        uid=series_uid(MARCO, rep),
        pair_key=pair_key(MARCO, rep),
        summary="1:1 Marco / Ana",
        description="Weekly 1:1",
        organizer_email=MARCO,
        organizer_name="Marco Rossi",
        attendee_email=rep,
        attendee_name="Ana Lima",
        dtstart=START,
        duration=timedelta(minutes=30),
    )
    values.update(changes)
    return SeriesSpec(**values)


def _moved(week: datetime, hours: int = 4, description: str = "") -> InstanceOverride:
    start = week + timedelta(hours=hours)
    return InstanceOverride(week, start, start + timedelta(minutes=30), description=description)


UID = series_uid(MARCO, ANA)
SERIES = event_id_for(UID)


def test_capabilities_are_declared_and_the_old_api_is_gone() -> None:
    assert GoogleProvider.capabilities == Capabilities(
        writable=True, keeps_attendee_copies=True, batch_size=BATCH_LIMIT
    )
    assert BATCH_LIMIT == 50
    assert not hasattr(GoogleProvider, "write") and not hasattr(GoogleProvider, "writable")


def test_versions_round_trip_through_writes_and_reads(google: Google) -> None:
    assert UID not in google.read(MARCO).owned
    made = google.write(_spec(), None)
    assert made.changed and made.version is not None
    # The same pass reads what the write answered; the next one what Google lists; the rep's
    # view of the manager's series is the same object at the same version.
    assert google.version(MARCO, UID) == made.version
    google.next_pass()
    assert google.version(MARCO, UID) == made.version
    assert google.version(ANA, UID) == made.version
    # A moved week: master, instance and stamp (three requests), each answer's etag known.
    moved = _spec(overrides=(_moved(WEEK2),))
    second = google.write(moved, made.version)
    assert second.changed and second.version not in (None, made.version)
    google.next_pass()
    assert google.version(MARCO, UID) == second.version
    # The same spec over its own result: nothing sent, the version as read.
    google.emulator.reset_counts()
    assert google.write(moved, second.version) == Written(False, second.version)
    assert google.writes() == 0
    # New words for the series while a week is an exception: Google carries the series'
    # change to the exception; the instance is patched after it (no stale If-Match refused),
    # and as every exception was rewritten the version is still known.
    worded = replace(moved, description="Weekly 1:1, new words")
    third = google.write(worded, second.version)
    assert third.changed and third.version is not None
    assert google.event(instance_id(SERIES, WEEK2))["description"] == "Weekly 1:1, new words"
    assert not [log for log in google.emulator.requests_log if log[2] == 412]
    google.next_pass()
    assert google.version(MARCO, UID) == third.version


def _with_agenda(spec: SeriesSpec, week: datetime = WEEK2) -> SeriesSpec:
    """``spec`` with an agenda on ``week``, which keeps its time (a new sequence, as a pass
    gives every new fingerprint)."""
    link = Attachment("https://docs.google.com/document/d/agenda2/edit", "Agenda")
    end = week + timedelta(minutes=30)
    item = InstanceOverride(week, week, end, description="Agenda: pricing", attachment=link)
    return replace(spec, overrides=(*spec.overrides, item), sequence=spec.sequence + 1)


def _written(google: Google) -> dict[str, int]:
    return {method: count for method, count in google.emulator.counts.items() if method in WRITES}


def test_a_weeks_agenda_is_one_instance_patch_and_its_stamp_holds_as_the_masters_would(
    google: Google,
) -> None:
    made = google.write(_spec(), None)
    google.next_pass()
    agenda = _with_agenda(_spec())
    google.emulator.reset_counts()
    written = google.write(agenda, made.version)
    assert written.changed and written.version is not None
    assert _written(google) == {"calendar.events.patch": 1}
    # The master keeps its stamp; the copy reads as the agenda's write, organizer's and rep's,
    # in this pass and the next.
    private = google.event(SERIES)["extendedProperties"]["private"]
    assert private["oneonone_hash"] == ical.fingerprint(_spec())
    for _ in range(2):
        copy = google.read(MARCO).owned[UID]
        assert (copy.version, copy.fingerprint, copy.sequence) == (
            written.version,
            ical.fingerprint(agenda),
            1,
        )
        assert google.read(ANA).owned[UID].fingerprint == ical.fingerprint(agenda)
        google.next_pass()
    google.emulator.reset_counts()
    assert google.write(agenda, written.version) == Written(False, written.version)
    assert google.writes() == 0
    # Marco's notes on that week and his move of another: the stamp holds as the master's
    # would (a pass compares his edits with that write's weeks, and writes nothing for them).
    google.edit(instance_id(SERIES, WEEK2), {"description": "Marco's notes"})
    mine = WEEK3 + timedelta(hours=2)
    google.edit(
        instance_id(SERIES, WEEK3),
        {
            "start": {"dateTime": mine.isoformat()},
            "end": {"dateTime": (mine + timedelta(minutes=30)).isoformat()},
        },
    )
    google.next_pass()
    copy = google.read(MARCO).owned[UID]
    assert copy.version != written.version
    assert (copy.fingerprint, copy.sequence) == (ical.fingerprint(agenda), 1)
    # A write of the master puts a stamp of its own there, which ends the cache's, even in a
    # process that still holds it.
    held = google.session.calendar(MARCO).stamps[SERIES]
    worded = replace(agenda, description="Weekly 1:1, new words", sequence=2)
    assert google.write(worded, copy.version).changed
    google.next_pass()
    google.session.calendar(MARCO).stamps[SERIES] = held
    copy = google.read(MARCO).owned[UID]
    assert (copy.fingerprint, copy.sequence) == (ical.fingerprint(worded), 2)


def test_a_persons_move_of_a_week_while_its_agenda_is_attached_stays_theirs(
    google: Google,
) -> None:
    made = google.write(_spec(), None)
    google.next_pass()
    google.read(MARCO)
    # After the read, Marco moves that week (which had no exception: no etag to guard it).
    mine = WEEK2 + timedelta(hours=3)
    google.edit(
        instance_id(SERIES, WEEK2),
        {
            "start": {"dateTime": mine.isoformat()},
            "end": {"dateTime": (mine + timedelta(minutes=30)).isoformat()},
        },
    )
    google.emulator.reset_counts()
    assert google.write(_with_agenda(_spec()), made.version).changed
    assert _written(google) == {"calendar.events.patch": 1}
    # The agenda's patch carries the week's words and agenda, not its time: his move stays,
    # and the next pass reads it as his against the agenda's write.
    week = google.event(instance_id(SERIES, WEEK2))
    assert utc(datetime.fromisoformat(week["start"]["dateTime"])) == utc(mine)
    assert [a["fileUrl"] for a in week["attachments"]] == [
        "https://docs.google.com/document/d/agenda2/edit"
    ]
    google.next_pass()
    copy = google.read(MARCO).owned[UID]
    assert copy.fingerprint == ical.fingerprint(_with_agenda(_spec()))
    assert utc(copy.overrides[utc(WEEK2)].start) == utc(mine)


def test_an_agenda_on_a_series_whose_master_would_change_is_written_in_three_rounds(
    google: Google,
) -> None:
    made = google.write(_spec(), None)
    google.next_pass()
    # Marco put his own words on the series: the product's write puts its own back (the
    # master update), then the week, then the stamp.
    google.edit(SERIES, {"description": "Marco's own words"})
    google.next_pass()
    version = google.version(MARCO, UID)
    assert version != made.version
    google.emulator.reset_counts()
    written = google.write(_with_agenda(_spec()), version)
    assert written.changed
    assert _written(google) == {"calendar.events.update": 1, "calendar.events.patch": 2}
    assert google.event(SERIES)["description"] == "Weekly 1:1"
    # So is a week the product moves (a change of time), whatever the master holds.
    google.next_pass()
    moved = replace(_with_agenda(_spec(overrides=(_moved(WEEK3),))), sequence=2)
    google.emulator.reset_counts()
    assert google.write(moved, google.version(MARCO, UID)).changed
    assert _written(google) == {"calendar.events.update": 1, "calendar.events.patch": 2}


def test_moving_a_series_with_a_moved_week_needs_no_etag_google_changed(google: Google) -> None:
    made = google.write(_spec(overrides=(_moved(WEEK2),)), None)
    google.next_pass()
    # An hour later from now on: Google cancels the exception the new rule no longer has (a
    # new etag the product never saw); the product's own patches follow without If-Match.
    later = google.write(
        _spec(dtstart=START + timedelta(hours=1), overrides=(_moved(WEEK2 + timedelta(hours=1)),)),
        made.version,
    )
    assert later.changed and later.version is not None
    assert not [log for log in google.emulator.requests_log if log[2] == 412]
    google.next_pass()
    assert google.version(MARCO, UID) == later.version


def test_a_deleted_week_leaves_the_version_unknown_until_read(google: Google) -> None:
    made = google.write(_spec(), None)
    cancelled = InstanceOverride(WEEK3, WEEK3, WEEK3 + timedelta(minutes=30), cancelled=True)
    skipped = google.write(_spec(overrides=(cancelled,)), made.version)
    assert skipped == Written(True, None)  # a delete answers no etag
    assert google.event(instance_id(SERIES, WEEK3))["status"] == "cancelled"
    # Within the pass nothing can be written on a guess ...
    with pytest.raises(ConflictError):
        google.write(_spec(overrides=(cancelled,)), made.version)
    # ... and the next pass reads the version and writes on it.
    google.next_pass()
    version = google.version(MARCO, UID)
    assert version is not None
    assert google.write(_spec(overrides=(cancelled,)), version) == Written(False, version)


def test_a_write_on_a_stale_version_is_refused_and_the_event_kept(google: Google) -> None:
    made = google.write(_spec(), None)
    google.next_pass()
    google.read(MARCO)
    # Marco edits the series after this pass read it: Google refuses the product's update
    # (412 on the master's etag) and his words stay.
    google.edit(SERIES, {"description": "Marco's own words"})
    google.emulator.reset_counts()
    with pytest.raises(ConflictError):
        google.write(_spec(description="The product's words"), made.version)
    assert google.emulator.counts["calendar.events.update"] == 1
    assert google.emulator.requests_log[-1] == ("calendar.events.update", MARCO, 412)
    assert google.event(SERIES)["description"] == "Marco's own words"
    # The next pass has read his edit: the old version is refused before any request, and
    # "create" where an event is refused too.
    google.next_pass()
    assert google.version(MARCO, UID) != made.version
    google.emulator.reset_counts()
    for expect in (made.version, None):
        with pytest.raises(ConflictError):
            google.write(_spec(description="The product's words"), expect)
    assert google.writes() == 0
    assert google.event(SERIES)["description"] == "Marco's own words"


def test_a_persons_edit_of_a_week_between_read_and_write_is_kept(google: Google) -> None:
    made = google.write(_spec(overrides=(_moved(WEEK2),)), None)
    google.next_pass()
    assert google.version(MARCO, UID) == made.version
    # After the read, Marco moves that week himself (the exception has a new etag).
    week = instance_id(SERIES, WEEK2)
    mine = WEEK2 + timedelta(hours=6)
    google.edit(
        week,
        {
            "start": {"dateTime": mine.isoformat()},
            "end": {"dateTime": (mine + timedelta(minutes=30)).isoformat()},
        },
    )
    # The product writes that week again (new words for it) in one batch with another pair's
    # series: Google refuses the instance patch (412), that job only.
    ours = _spec(overrides=(_moved(WEEK2, description="agenda: pricing"),))
    other = _spec(SAM, summary="1:1 Marco / Sam", attendee_name="Sam")
    outcomes = google.provider(MARCO).write_many(
        [
            WriteJob(ours, google.person(MARCO), google.now, made.version),
            WriteJob(other, google.person(MARCO), google.now, None),
        ]
    )
    assert isinstance(outcomes[0], ConflictError)
    assert isinstance(outcomes[1], Written) and outcomes[1].changed
    assert ("calendar.events.patch", MARCO, 412) in google.emulator.requests_log
    kept = google.event(week)
    assert utc(datetime.fromisoformat(kept["start"]["dateTime"])) == utc(mine)
    assert kept["description"] == "Weekly 1:1"
    assert google.event(event_id_for(series_uid(MARCO, SAM)))["status"] == "confirmed"


def test_a_failed_write_leaves_the_previous_event_untouched(google: Google) -> None:
    made = google.write(_spec(), None)
    google.next_pass()
    version = google.version(MARCO, UID)
    before = google.event(SERIES)
    # Google answers 503 to every try (reads go through).
    google.emulator.faults.fail_next_writes(google.session.client.max_attempts, "503")
    with pytest.raises(TransientError):
        google.write(_spec(description="Moved words"), version)
    assert google.emulator.faults.pending_writes == 0
    after = google.event(SERIES)
    assert (after["etag"], after["description"]) == (before["etag"], before["description"])
    # Nothing changed, so the same condition still holds for the retry.
    retried = google.write(_spec(description="Moved words"), version)
    assert retried.changed and retried.version != made.version
    assert google.event(SERIES)["description"] == "Moved words"


def test_a_lost_insert_is_taken_back_by_an_update_on_the_etag_just_read(
    google: Google, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = google.provider(MARCO)
    sent: list[tuple[str, dict[str, str], Any]] = []
    real_call = provider._call

    def call(method: str, request: Any, what: str, **options: Any) -> Any:
        answer = real_call(method, request, what, **options)
        sent.append((method, dict(request.headers), answer))
        return answer

    monkeypatch.setattr(provider, "_call", call)
    # The insert is made but its answer lost: the retry meets its own id (409).
    google.emulator.faults.fail_next_writes(1, "503", applied=True)
    [outcome] = provider.write_many([WriteJob(_spec(), google.person(MARCO), NOW, None)])
    assert outcome == Written(True, None)  # the old event's exceptions are not known
    (got, _, found), (updated, headers, _) = sent
    assert (got, updated) == ("calendar.events.get", "calendar.events.update")
    assert headers["If-Match"] == found["etag"]
    assert google.event(SERIES)["description"] == "Weekly 1:1"


def test_attendee_copies_are_googles_and_foreign_organizers_are_named(google: Google) -> None:
    made = google.write(_spec(), None)
    google.emulator.reset_counts()
    ana = google.provider(ANA)
    outcomes = ana.write_many(
        [
            WriteJob(_spec(), google.person(ANA), NOW, made.version),
            WriteJob(
                replace(_spec(), organizer_email="boss@elsewhere.example"),
                google.person(ANA),
                NOW,
                None,
            ),
        ]
    )
    assert outcomes[0] == Written(False, None)
    assert isinstance(outcomes[1], CalendarError) and "boss@elsewhere.example" in str(outcomes[1])
    assert ana.delete(UID, google.person(ANA), expect=str(made.version)) is False
    assert google.writes() == 0


def test_delete_is_conditional_on_the_version_read(google: Google) -> None:
    marco = google.provider(MARCO)
    owner = google.person(MARCO)
    made = google.write(_spec(), None)
    assert made.version is not None
    google.next_pass()
    google.read(MARCO)
    google.edit(SERIES, {"description": "Marco's own words"})
    with pytest.raises(ConflictError):  # Google's 412: changed after the read
        marco.delete(UID, owner, expect=made.version)
    assert google.event(SERIES)["status"] == "confirmed"
    google.next_pass()
    with pytest.raises(ConflictError):  # refused before any request
        marco.delete(UID, owner, expect=made.version)
    version = google.version(MARCO, UID)
    assert version is not None
    assert marco.delete(UID, owner, expect=version) is True
    assert google.event(SERIES)["status"] == "cancelled"
    assert marco.delete(UID, owner, expect=version) is False
    google.next_pass()
    assert UID not in google.read(MARCO).owned
    assert marco.delete(makeup_uid(MARCO, ANA, "2027-W02"), owner, expect="x") is False


def test_an_unreadable_owned_event_is_damaged_not_gone_and_written_on_its_version(
    google: Google, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.providers.google import provider as module
    from scheduler.providers.vdir import Memo

    made = google.write(_spec(), None)
    google.next_pass()
    google.read(MARCO)
    # The event as synced lost its times (what Google never sends, but a cache may hold).
    monkeypatch.setattr(module, "_MEMO", Memo(100))
    del google.session.calendar(MARCO).events[SERIES]["start"]
    google.session.calendar(MARCO)._grouped = None
    read = google.read(MARCO)
    assert UID not in read.owned and read.damaged == {UID: made.version}
    assert any(SERIES in problem for problem in read.problems)
    rewritten = google.write(_spec(), made.version)
    assert rewritten.changed and google.event(SERIES)["description"] == "Weekly 1:1"
