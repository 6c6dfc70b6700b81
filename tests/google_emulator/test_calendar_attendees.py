"""Attendee copies: same id on every invited calendar, responses, who may change what."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator

from .conftest import ANN, BOB, CAT, Factory, error_of, timed

ONE_ON_ONE = {
    "id": "pair0ann0bob01",
    "summary": "Ann / Bob 1:1",
    "description": "agenda",
    "attendees": [{"email": ANN}, {"email": BOB}],
    "extendedProperties": {"private": {"oneonone": "ann-bob"}},
    **timed("2024-03-04T10:00:00", "2024-03-04T10:30:00"),
}


def answer(event: dict[str, Any], status: str) -> list[dict[str, Any]]:
    """The attendee list with the reading person's own answer changed."""
    return [{**a, "responseStatus": status} if a.get("self") else a for a in event["attendees"]]


def test_the_event_appears_on_each_attendees_calendar(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    delegated("calendar", ANN).events().insert(
        calendarId="primary", body=ONE_ON_ONE, sendUpdates="all"
    ).execute()
    bob = emu.service("calendar", BOB)
    copy = bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()
    assert copy["organizer"] == {"email": ANN}
    assert copy["summary"] == "Ann / Bob 1:1"
    mine = [a for a in copy["attendees"] if a.get("self")]
    assert mine == [{"email": BOB, "responseStatus": "needsAction", "self": True}]
    organizer_entry = next(a for a in copy["attendees"] if a["email"] == ANN)
    assert organizer_entry == {"email": ANN, "responseStatus": "accepted", "organizer": True}
    # private properties stay on the organizer's copy
    assert "extendedProperties" not in copy
    assert [e["id"] for e in emu.events(BOB)] == ["pair0ann0bob01"]
    assert emu.sent_updates[-1]["recipients"] == [BOB]
    # Cat was not invited
    assert emu.events(CAT) == []


def test_an_attendees_answer_shows_on_the_organizers_copy_and_sync(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=ONE_ON_ONE).execute()
    token = ann.events().list(calendarId="primary").execute()["nextSyncToken"]
    bob = emu.service("calendar", BOB)
    copy = bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()
    bob.events().patch(
        calendarId="primary", eventId=copy["id"], body={"attendees": answer(copy, "declined")}
    ).execute()
    changes = ann.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert [c["id"] for c in changes] == ["pair0ann0bob01"]
    bob_entry = next(a for a in changes[0]["attendees"] if a["email"] == BOB)
    assert bob_entry["responseStatus"] == "declined"


def test_an_attendee_may_not_change_shared_properties(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    delegated("calendar", ANN).events().insert(calendarId="primary", body=ONE_ON_ONE).execute()
    bob = emu.service("calendar", BOB)
    for body in (
        {"summary": "mine now"},
        {**timed("2024-03-04T11:00:00", "2024-03-04T11:30:00")},
        {"attendees": [{"email": ANN}, {"email": BOB}, {"email": CAT}]},
    ):
        with pytest.raises(HttpError) as raised:
            bob.events().patch(calendarId="primary", eventId="pair0ann0bob01", body=body).execute()
        status, reason, error = error_of(raised)
        assert (status, reason) == (403, "forbiddenForNonOrganizer")
        assert (
            error["message"]
            == "Shared properties can only be changed by the organizer of the event."
        )
    # but their copy's own data is theirs
    mine = (
        bob.events()
        .patch(
            calendarId="primary",
            eventId="pair0ann0bob01",
            body={
                "colorId": "5",
                "transparency": "transparent",
                "reminders": {
                    "useDefault": False,
                    "overrides": [{"method": "popup", "minutes": 5}],
                },
                "extendedProperties": {"private": {"bob": "x"}},
            },
        )
        .execute()
    )
    assert mine["colorId"] == "5" and mine["transparency"] == "transparent"
    ann_copy = (
        delegated("calendar", ANN)
        .events()
        .get(calendarId="primary", eventId="pair0ann0bob01")
        .execute()
    )
    assert "colorId" not in ann_copy and "transparency" not in ann_copy
    assert ann_copy["extendedProperties"] == {"private": {"oneonone": "ann-bob"}}


def test_organizer_changes_reach_the_copies(emu: GoogleEmulator, delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(calendarId="primary", body=ONE_ON_ONE).execute()
    bob = emu.service("calendar", BOB)
    before = bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()
    token = bob.events().list(calendarId="primary").execute()["nextSyncToken"]
    ann.events().patch(
        calendarId="primary",
        eventId="pair0ann0bob01",
        body=timed("2024-03-05T10:00:00", "2024-03-05T10:30:00"),
        sendUpdates="all",
    ).execute()
    after = bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()
    assert after["start"]["dateTime"] == "2024-03-05T10:00:00+01:00"
    assert after["etag"] != before["etag"] and after["sequence"] == 1
    assert [
        c["id"] for c in bob.events().list(calendarId="primary", syncToken=token).execute()["items"]
    ] == ["pair0ann0bob01"]
    # adding Cat gives her a copy; removing Bob cancels his
    ann.events().patch(
        calendarId="primary",
        eventId="pair0ann0bob01",
        body={"attendees": [{"email": ANN}, {"email": CAT}]},
    ).execute()
    assert (
        emu.service("calendar", CAT)
        .events()
        .get(calendarId="primary", eventId="pair0ann0bob01")
        .execute()["status"]
        == "confirmed"
    )
    assert (
        bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()["status"]
        == "cancelled"
    )


def test_attendee_deleting_declines_and_organizer_deleting_cancels(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    ann = delegated("calendar", ANN)
    ann.events().insert(
        calendarId="primary",
        body={**ONE_ON_ONE, "attendees": [{"email": ANN}, {"email": BOB}, {"email": CAT}]},
    ).execute()
    bob = emu.service("calendar", BOB)
    bob.events().delete(calendarId="primary", eventId="pair0ann0bob01").execute()
    organizer_view = ann.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()
    assert organizer_view["status"] == "confirmed"
    assert {a["email"]: a["responseStatus"] for a in organizer_view["attendees"]}[BOB] == "declined"
    assert (
        bob.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()["status"]
        == "cancelled"
    )
    assert bob.events().list(calendarId="primary").execute()["items"] == []
    ann.events().delete(calendarId="primary", eventId="pair0ann0bob01", sendUpdates="all").execute()
    cat = emu.service("calendar", CAT)
    assert (
        cat.events().get(calendarId="primary", eventId="pair0ann0bob01").execute()["status"]
        == "cancelled"
    )
    assert emu.sent_updates[-1]["method"] == "calendar.events.delete"
    assert emu.sent_updates[-1]["recipients"] == [BOB, CAT]
