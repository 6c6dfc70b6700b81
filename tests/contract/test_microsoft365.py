"""The Microsoft 365 provider through the contract suite, against the Graph emulator.

The emulator (``tests.graph_emulator``) runs on 127.0.0.1 over TLS (a CA made for the run) for
each test and is stopped after it; the provider reaches it through the real ``msal`` (client
credentials, the secret from an environment mapping) and httpx, as in production. ``person``
organizes every series in their own mailbox; ``other``, the attendee, is on Microsoft 365 too,
so Exchange keeps their copy. People act through Graph as themselves, the way Outlook does:
moving one week patches that occurrence (an exception); deleting the series deletes the
master. Their own events are made as an .ics import would (the iCalendar UID kept), so the
suite can name them by UID.

Each ``read`` is a new pass's (``Microsoft365Session.begin``), half an hour after the last, so
the delta round and free/busy (refreshed every ``BUSY_REFRESH``) are fresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler.domain.series import CalendarRead
from scheduler.domain.settings import Microsoft365Settings
from scheduler.providers.microsoft365.auth import clear_cache, token_source
from scheduler.providers.microsoft365.client import GraphClient
from scheduler.providers.microsoft365.provider import (
    BUSY_REFRESH,
    Microsoft365Provider,
    Microsoft365Session,
)
from tests.contract.suite import WINDOW, ContractCalendar, ProviderContract
from tests.graph_emulator import GraphEmulator

pytestmark = [
    pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed"),
]

#: the first pass: the Monday the read window starts
NOW = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)
SECRET_ENV = "TEST_M365_CLIENT_SECRET"


def _when(moment: datetime) -> dict[str, str]:
    zone = str(getattr(moment.tzinfo, "key", "UTC"))
    return {"dateTime": moment.replace(tzinfo=None).isoformat(), "timeZone": zone}


def make_session(
    emulator: GraphEmulator, people: dict[str, Any], organizers: set[str]
) -> Microsoft365Session:
    settings = Microsoft365Settings(
        tenant_id=emulator.tenant,
        client_id=emulator.client_id,
        client_secret_env=SECRET_ENV,
        authority=emulator.authority,
        graph_endpoint=emulator.graph_url,
        ca_file=emulator.ca_file,
    )
    client = GraphClient(
        token_source(settings, env={SECRET_ENV: emulator.client_secret}),
        settings.graph_url,
        ca_file=str(emulator.ca_file),
        secret_env=SECRET_ENV,
        sleep=lambda seconds: None,
    )
    return Microsoft365Session(client, people, organizers)


class M365Calendar(ContractCalendar):
    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator
        for someone in (self.person, self.other):
            emulator.add_user(someone.email, time_zone=someone.timezone)
        people = {someone.email: someone for someone in (self.person, self.other)}
        self.session = make_session(emulator, people, {self.person.email})
        self.session.pair_managers = {self.other.email: {self.person.email}}
        self.now = NOW
        self.session.begin(self.now, persist=False, store=None)
        self.provider = Microsoft365Provider(self.session, self.person.email)
        self.me = emulator.act(self.person.email)

    def new_pass(self) -> None:
        self.now += BUSY_REFRESH
        self.session.begin(self.now, persist=False, store=None)

    def attendee_read(self) -> CalendarRead:
        self.new_pass()
        return Microsoft365Provider(self.session, self.other.email).read(self.other, *WINDOW)

    # ------------------------------------------------------------------ as the person

    def add_event(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        *,
        transparent: bool = False,
        cancelled: bool = False,
    ) -> None:
        body: dict[str, Any] = {"subject": uid, "start": _when(start), "end": _when(end)}
        if transparent:
            body["showAs"] = "free"
        made = self.me.create(body, ical_uid=uid)
        if cancelled:
            # An organizer's cancelled event leaves their calendar (Outlook deletes it).
            self.me.call("DELETE", f"/events/{made['id']}")

    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        body: dict[str, Any] = {
            "subject": "Catch-up",
            "start": _when(start),
            "end": _when(end),
            "attendees": [
                {"type": "required", "emailAddress": {"address": self.other.email, "name": ""}}
            ],
        }
        if weekly:
            body["recurrence"] = {
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [start.strftime("%A").lower()],
                },
                "range": {"type": "noEnd", "startDate": start.date().isoformat()},
            }
        self.me.create(body, ical_uid=uid)

    def move_instance(self, uid: str, rid: datetime, new_start: datetime) -> None:
        master_id = self.me.find(uid)
        occurrence = self.me.instance(master_id, rid.astimezone(UTC))
        length = datetime.fromisoformat(occurrence["end"]["dateTime"][:19]) - (
            datetime.fromisoformat(occurrence["start"]["dateTime"][:19])
        )
        self.me.call(
            "PATCH",
            f"/events/{occurrence['id']}",
            {"start": _when(new_start), "end": _when(new_start + length)},
        )

    def delete_object(self, uid: str) -> None:
        self.me.call("DELETE", f"/events/{self.me.find(uid)}")


class TestMicrosoft365Contract(ProviderContract):
    @pytest.fixture
    def cal(self) -> Iterator[ContractCalendar]:
        emulator = GraphEmulator()
        emulator.start()
        clear_cache()
        calendar: M365Calendar | None = None
        try:
            calendar = M365Calendar(emulator)
            yield calendar
        finally:
            if calendar is not None:
                calendar.session.client.close()
            clear_cache()
            emulator.stop()

    @pytest.mark.xfail(
        strict=True,
        reason="a write that would change nothing sends no request (a quiet pass costs one "
        "delta request per organizer), so a deletion after the read is not seen by it; the "
        "next pass's delta round reads the deletion (a deleted series)",
    )
    def test_a_write_on_the_version_of_an_object_a_person_deleted_fails_and_recreates_nothing(
        self, cal: ContractCalendar
    ) -> None:
        super().test_a_write_on_the_version_of_an_object_a_person_deleted_fails_and_recreates_nothing(
            cal
        )
