"""Recurring events: expansion, instance ids, exceptions, cancelled exceptions, attendees."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator

from .conftest import ANN, BOB, Factory, error_of, timed

SERIES = "series0ann0bob"
WEEKLY = {
    "id": SERIES,
    "summary": "Ann / Bob weekly",
    "attendees": [{"email": ANN}, {"email": BOB}],
    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6"],
    # 2024-03-25 is the first Monday after Europe/Berlin moved to summer time (03-31 Sunday)
    **timed("2024-03-18T10:00:00", "2024-03-18T10:30:00"),
}


def instance_ids(service: Any, calendar: str = "primary", **extra: Any) -> list[str]:
    items = (
        service.events().instances(calendarId=calendar, eventId=SERIES, **extra).execute()["items"]
    )
    return [i["id"] for i in items]


def test_instances_keep_wall_clock_time_across_dst(delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    items = ann.events().instances(calendarId="primary", eventId=SERIES).execute()["items"]
    assert [i["id"] for i in items] == [
        f"{SERIES}_20240318T090000Z",
        f"{SERIES}_20240325T090000Z",
        f"{SERIES}_20240401T080000Z",  # 10:00 CEST is 08:00 UTC
        f"{SERIES}_20240408T080000Z",
        f"{SERIES}_20240415T080000Z",
        f"{SERIES}_20240422T080000Z",
    ]
    third = items[2]
    assert third["start"] == {"dateTime": "2024-04-01T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert third["recurringEventId"] == SERIES
    assert third["originalStartTime"] == third["start"]
    assert "recurrence" not in third
    # an instance id can be read directly
    got = ann.events().get(calendarId="primary", eventId=third["id"]).execute()
    assert got["start"] == third["start"]
    with pytest.raises(HttpError) as raised:
        ann.events().get(calendarId="primary", eventId=f"{SERIES}_20240402T080000Z").execute()
    assert error_of(raised)[0] == 404


def test_exdate_with_tzid_rdate_and_all_day_ids(delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(
        calendarId="primary",
        body={
            **WEEKLY,
            "recurrence": [
                "RRULE:FREQ=WEEKLY;UNTIL=20240401T235959Z",
                "EXDATE;TZID=Europe/Berlin:20240325T100000",
                "RDATE;TZID=Europe/Berlin:20240327T100000",
            ],
        },
    ).execute()
    assert instance_ids(ann) == [
        f"{SERIES}_20240318T090000Z",
        f"{SERIES}_20240327T090000Z",
        f"{SERIES}_20240401T080000Z",
    ]
    ann.events().insert(
        calendarId="primary",
        body={
            "id": "allda00001",
            "start": {"date": "2024-03-18"},
            "end": {"date": "2024-03-19"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        },
    ).execute()
    days = ann.events().instances(calendarId="primary", eventId="allda00001").execute()["items"]
    assert [d["id"] for d in days] == ["allda00001_20240318", "allda00001_20240319"]
    assert days[1]["start"] == {"date": "2024-03-19"}


def test_moving_one_instance_makes_an_exception(delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    moved = (
        ann.events()
        .patch(
            calendarId="primary",
            eventId=f"{SERIES}_20240325T090000Z",
            body=timed("2024-03-26T14:00:00", "2024-03-26T14:30:00"),
        )
        .execute()
    )
    assert moved["id"] == f"{SERIES}_20240325T090000Z"
    assert moved["recurringEventId"] == SERIES
    assert moved["originalStartTime"]["dateTime"] == "2024-03-25T10:00:00+01:00"
    assert moved["start"]["dateTime"] == "2024-03-26T14:00:00+01:00"
    raw = ann.events().list(calendarId="primary").execute()["items"]
    assert [(i["id"], "recurrence" in i) for i in raw] == [
        (SERIES, True),
        (f"{SERIES}_20240325T090000Z", False),
    ]
    expanded = (
        ann.events().list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    )
    starts = [i["start"]["dateTime"][:16] for i in expanded["items"]]
    assert starts[1] == "2024-03-26T14:00"
    assert len(starts) == 6


def test_deleting_an_instance_leaves_a_cancelled_exception(delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    token = ann.events().list(calendarId="primary").execute()["nextSyncToken"]
    ann.events().delete(calendarId="primary", eventId=f"{SERIES}_20240401T080000Z").execute()
    # singleEvents=false lists cancelled exceptions even without showDeleted
    raw = ann.events().list(calendarId="primary").execute()["items"]
    cancelled = [i for i in raw if i["status"] == "cancelled"]
    assert len(cancelled) == 1
    assert set(cancelled[0]) <= {
        "kind",
        "etag",
        "id",
        "status",
        "recurringEventId",
        "originalStartTime",
    }
    assert cancelled[0]["recurringEventId"] == SERIES
    assert cancelled[0]["originalStartTime"]["dateTime"] == "2024-04-01T10:00:00+02:00"
    # expanded lists leave it out, unless showDeleted
    assert len(ann.events().list(calendarId="primary", singleEvents=True).execute()["items"]) == 5
    with_deleted = (
        ann.events().list(calendarId="primary", singleEvents=True, showDeleted=True).execute()
    )
    assert [i["status"] for i in with_deleted["items"]].count("cancelled") == 1
    assert len(instance_ids(ann)) == 5
    changes = ann.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert [c["id"] for c in changes] == [f"{SERIES}_20240401T080000Z"]


def test_an_attendee_declining_one_instance(emu: GoogleEmulator, delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    bob = emu.service("calendar", BOB)
    instance = f"{SERIES}_20240325T090000Z"
    copy = bob.events().get(calendarId="primary", eventId=instance).execute()
    attendees = [
        {**a, "responseStatus": "declined"} if a.get("self") else a for a in copy["attendees"]
    ]
    bob.events().patch(
        calendarId="primary", eventId=instance, body={"attendees": attendees}
    ).execute()
    exception = ann.events().get(calendarId="primary", eventId=instance).execute()
    assert {a["email"]: a["responseStatus"] for a in exception["attendees"]}[BOB] == "declined"
    series = ann.events().get(calendarId="primary", eventId=SERIES).execute()
    assert {a["email"]: a["responseStatus"] for a in series["attendees"]}[BOB] == "needsAction"
    # an attendee deleting an instance of their copy declines that instance
    other = f"{SERIES}_20240401T080000Z"
    bob.events().delete(calendarId="primary", eventId=other).execute()
    declined = ann.events().get(calendarId="primary", eventId=other).execute()
    assert declined["status"] == "confirmed"
    assert {a["email"]: a["responseStatus"] for a in declined["attendees"]}[BOB] == "declined"
    assert other not in instance_ids(bob)
    assert other in instance_ids(ann)


def test_series_changes_carry_to_exceptions_and_truncation_cancels_later_ones(
    delegated: Factory,
) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    late = f"{SERIES}_20240415T080000Z"
    early = f"{SERIES}_20240325T090000Z"
    ann.events().patch(calendarId="primary", eventId=late, body={"description": "late"}).execute()
    ann.events().patch(calendarId="primary", eventId=early, body={"description": "early"}).execute()
    ann.events().patch(calendarId="primary", eventId=SERIES, body={"summary": "renamed"}).execute()
    assert ann.events().get(calendarId="primary", eventId=early).execute()["summary"] == "renamed"
    # end the series after 2024-04-01: the later exception goes
    ann.events().patch(
        calendarId="primary",
        eventId=SERIES,
        body={"recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240402T000000Z"]},
    ).execute()
    assert ann.events().get(calendarId="primary", eventId=late).execute()["status"] == "cancelled"
    assert ann.events().get(calendarId="primary", eventId=early).execute()["status"] == "confirmed"
    assert len(instance_ids(ann)) == 3


def test_deleting_the_series_cancels_everything(emu: GoogleEmulator, delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=WEEKLY).execute()
    bob = emu.service("calendar", BOB)
    token = bob.events().list(calendarId="primary", singleEvents=True).execute()["nextSyncToken"]
    ann.events().delete(calendarId="primary", eventId=SERIES).execute()
    assert bob.events().list(calendarId="primary", singleEvents=True).execute()["items"] == []
    changes = (
        bob.events()
        .list(calendarId="primary", singleEvents=True, syncToken=token)
        .execute()["items"]
    )
    assert len(changes) == 6 and {c["status"] for c in changes} == {"cancelled"}
    with pytest.raises(HttpError) as raised:
        ann.events().delete(calendarId="primary", eventId=SERIES).execute()
    assert error_of(raised)[:2] == (410, "deleted")
