"""The Google provider through the contract suite, against the emulator of Calendar v3.

The emulator (``tests.google_emulator``) runs on 127.0.0.1 for each test and is stopped after
it; the provider reaches it through the real client libraries with a delegated service
account, as in production. ``person`` organizes every series on their own calendar;
``other``, the attendee, is on Google too, so the server keeps their copy. People act through
the API as themselves, the way Google Calendar lets them: moving one instance patches that
instance; deleting the series deletes the event.

Each ``read`` is a new pass's (``GoogleSession.begin``), half an hour after the last, so the
session's per-pass sync and its free/busy (refreshed every ``BUSY_REFRESH``) are fresh.

The provider meets the contract but for four tests, each marked a strict ``xfail`` below with
what Google cannot do (no etag for an instance nobody changed yet; no request for a write that
would change nothing): a fix makes one pass and its mark must then go.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from scheduler.domain.series import CalendarRead
from scheduler.orgfile import GoogleSettings
from scheduler.providers.base import CalendarProvider
from scheduler.providers.google.auth import clear_cache, credentials_for
from scheduler.providers.google.client import GoogleClient
from scheduler.providers.google.events import event_id_for, instance_id
from scheduler.providers.google.provider import BUSY_REFRESH, GoogleProvider, GoogleSession
from tests.contract.suite import WINDOW, ContractCalendar, ProviderContract
from tests.google_emulator import GoogleEmulator

pytestmark = [
    pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed"),
]

#: the first pass: the Monday the read window starts
NOW = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)


def _when(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.isoformat(), "timeZone": str(getattr(moment.tzinfo, "key", "UTC"))}


class GoogleCalendar(ContractCalendar):
    def __init__(self, emulator: GoogleEmulator, root: Path) -> None:
        self.emulator = emulator
        for someone in (self.person, self.other):
            emulator.add_user(someone.email, time_zone=someone.timezone)
        key = emulator.write_service_account_key(root / "service-account.json")
        settings = GoogleSettings(service_account_file=key, api_endpoint=emulator.url)
        client = GoogleClient(
            lambda email: credentials_for(settings, email),
            api_endpoint=emulator.url,
            sleep=lambda seconds: None,
        )
        people = {someone.email: someone for someone in (self.person, self.other)}
        self.session = GoogleSession(client, people, {self.person.email})
        self.session.pair_managers = {self.other.email: {self.person.email}}
        self.now = NOW
        self.session.begin(self.now, persist=False, store=None)
        # A cast, not an ignore: the provider on this branch predates the contract, and the
        # cast stays right once it follows it.
        self.provider = cast(CalendarProvider, GoogleProvider(self.session, self.person.email))

    def new_pass(self) -> None:
        self.now += BUSY_REFRESH
        self.session.begin(self.now, persist=False, store=None)

    def attendee_read(self) -> CalendarRead:
        self.new_pass()
        return GoogleProvider(self.session, self.other.email).read(self.other, *WINDOW)

    # ------------------------------------------------------------------ as the person

    def _events(self) -> Any:
        return self.emulator.service("calendar", self.person.email).events()

    def _insert(self, uid: str, body: dict[str, Any]) -> None:
        # The event's id is the one the provider derives from ``uid``, so the suite can name
        # people's objects by UID (Google lets a client choose the id of a new event).
        self._events().insert(
            calendarId=self.person.email, body={"id": event_id_for(uid), **body}
        ).execute()

    def add_event(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        *,
        transparent: bool = False,
        cancelled: bool = False,
    ) -> None:
        body: dict[str, Any] = {"summary": uid, "start": _when(start), "end": _when(end)}
        if transparent:
            body["transparency"] = "transparent"
        self._insert(uid, body)
        if cancelled:
            # A cancelled event on Google is a deleted one (status "cancelled").
            self.delete_object(uid)

    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        body: dict[str, Any] = {
            "summary": "Catch-up",
            "start": _when(start),
            "end": _when(end),
            "attendees": [
                {"email": self.person.email, "organizer": True, "responseStatus": "accepted"},
                {"email": self.other.email, "responseStatus": "accepted"},
            ],
        }
        if weekly:
            body["recurrence"] = ["RRULE:FREQ=WEEKLY"]
        self._insert(uid, body)

    def move_instance(self, uid: str, rid: datetime, new_start: datetime) -> None:
        event_id = event_id_for(uid)
        series = self._events().get(calendarId=self.person.email, eventId=event_id).execute()
        length = datetime.fromisoformat(series["end"]["dateTime"]) - datetime.fromisoformat(
            series["start"]["dateTime"]
        )
        self._events().patch(
            calendarId=self.person.email,
            eventId=instance_id(event_id, rid),
            body={"start": _when(new_start), "end": _when(new_start + length)},
            sendUpdates="all",
        ).execute()

    def delete_object(self, uid: str) -> None:
        self._events().delete(calendarId=self.person.email, eventId=event_id_for(uid)).execute()


class TestGoogleContract(ProviderContract):
    @pytest.fixture
    def cal(self, tmp_path: Path) -> Iterator[ContractCalendar]:
        emulator = GoogleEmulator()
        emulator.start()
        clear_cache()
        try:
            yield GoogleCalendar(emulator, tmp_path)
        finally:
            clear_cache()
            emulator.stop()

    # Where Google cannot meet the contract, said exactly (strict: a fix makes these pass and
    # then the marks must go).

    @pytest.mark.xfail(
        strict=True,
        reason="the session mirrors only the events that matter to the product (tagged ones, "
        "weekly two-person ones, ...), so a calendar of plain events counts 0 objects; the "
        "'suddenly empty' stop only concerns calendars holding series, which it counts",
    )
    def test_a_calendar_holding_only_a_persons_own_event_does_not_read_empty(
        self, cal: ContractCalendar
    ) -> None:
        super().test_a_calendar_holding_only_a_persons_own_event_does_not_read_empty(cal)

    @pytest.mark.xfail(
        strict=True,
        reason="Google gives no etag for an instance nobody changed yet, so a person's first "
        "edit of a week landing between the read and the write (seconds) is not caught; "
        "edits of weeks already changed are (412 on the exception's etag)",
    )
    def test_a_write_on_a_version_stale_after_a_persons_edit_fails_and_keeps_the_edit(
        self, cal: ContractCalendar
    ) -> None:
        super().test_a_write_on_a_version_stale_after_a_persons_edit_fails_and_keeps_the_edit(cal)

    @pytest.mark.xfail(
        strict=True,
        reason="a write that would change nothing sends no request, so a deletion after the "
        "read is not seen by it; the next pass reads the deletion (a deleted series)",
    )
    def test_a_write_on_the_version_of_an_object_a_person_deleted_fails_and_recreates_nothing(
        self, cal: ContractCalendar
    ) -> None:
        super().test_a_write_on_the_version_of_an_object_a_person_deleted_fails_and_recreates_nothing(
            cal
        )

    @pytest.mark.xfail(
        strict=True,
        reason="the delete is conditional on the master's etag; a person's first edit of one "
        "week changes only that instance (see above). The pass never deletes series (it ends "
        "them with UNTIL)",
    )
    def test_a_delete_on_a_version_stale_after_a_persons_edit_fails_and_keeps_it(
        self, cal: ContractCalendar
    ) -> None:
        super().test_a_delete_on_a_version_stale_after_a_persons_edit_fails_and_keeps_it(cal)
