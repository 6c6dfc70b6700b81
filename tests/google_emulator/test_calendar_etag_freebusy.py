"""Conditional requests with etags, and freebusy.query."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator

from .conftest import ANN, BOB, CAT, Factory, error_of, timed

WINDOW = {"timeMin": "2024-03-04T00:00:00Z", "timeMax": "2024-03-09T00:00:00Z"}


def test_if_match_and_if_none_match(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    made = (
        calendar.events()
        .insert(calendarId="primary", body=timed("2024-03-04T10:00:00", "2024-03-04T10:30:00"))
        .execute()
    )
    patched = calendar.events().patch(
        calendarId="primary", eventId=made["id"], body={"summary": "x"}
    )
    patched.headers["If-Match"] = made["etag"]
    fresh = patched.execute()
    assert fresh["etag"] != made["etag"]
    stale = calendar.events().patch(calendarId="primary", eventId=made["id"], body={"summary": "y"})
    stale.headers["If-Match"] = made["etag"]
    with pytest.raises(HttpError) as raised:
        stale.execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (412, "conditionNotMet")
    assert body["message"] == "Precondition Failed"
    deleting = calendar.events().delete(calendarId="primary", eventId=made["id"])
    deleting.headers["If-Match"] = made["etag"]
    with pytest.raises(HttpError):
        deleting.execute()
    unchanged = calendar.events().get(calendarId="primary", eventId=made["id"])
    unchanged.headers["If-None-Match"] = fresh["etag"]
    with pytest.raises(HttpError) as not_modified:
        unchanged.execute()
    assert not_modified.value.resp.status == 304
    changed = calendar.events().get(calendarId="primary", eventId=made["id"])
    changed.headers["If-None-Match"] = made["etag"]
    assert changed.execute()["summary"] == "x"


def busy_of(answer: dict[str, Any], email: str) -> list[tuple[str, str]]:
    return [(b["start"], b["end"]) for b in answer["calendars"][email]["busy"]]


def test_busy_time_follows_googles_rules(emu: GoogleEmulator, delegated: Factory) -> None:
    ann = delegated("calendar", ANN)
    insert = ann.events().insert
    insert(calendarId="primary", body=timed("2024-03-04T10:00:00", "2024-03-04T11:00:00")).execute()
    insert(calendarId="primary", body=timed("2024-03-04T10:30:00", "2024-03-04T12:00:00")).execute()
    insert(
        calendarId="primary",
        body={"transparency": "transparent", **timed("2024-03-05T10:00:00", "2024-03-05T11:00:00")},
    ).execute()
    insert(
        calendarId="primary",
        body={
            "eventType": "workingLocation",
            "workingLocationProperties": {"type": "homeOffice", "homeOffice": {}},
            **timed("2024-03-05T09:00:00", "2024-03-05T17:00:00"),
        },
    ).execute()
    gone = insert(
        calendarId="primary", body=timed("2024-03-06T10:00:00", "2024-03-06T11:00:00")
    ).execute()
    ann.events().delete(calendarId="primary", eventId=gone["id"]).execute()
    insert(
        calendarId="primary",
        body={
            "attendees": [{"email": BOB}],
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
            **timed("2024-03-06T15:00:00", "2024-03-06T15:30:00"),
        },
    ).execute()
    bob = emu.service("calendar", BOB)
    instance = [
        i for i in bob.events().list(calendarId="primary", singleEvents=True).execute()["items"]
    ][1]
    bob.events().patch(
        calendarId="primary",
        eventId=instance["id"],
        body={
            "attendees": [
                {**a, "responseStatus": "declined"} if a.get("self") else a
                for a in instance["attendees"]
            ]
        },
    ).execute()
    answer = (
        ann.freebusy()
        .query(
            body={
                **WINDOW,
                "items": [{"id": ANN}, {"id": BOB}, {"id": "someone@elsewhere.example"}],
            }
        )
        .execute()
    )
    assert busy_of(answer, ANN) == [
        ("2024-03-04T09:00:00Z", "2024-03-04T11:00:00Z"),  # two overlapping events, merged
        ("2024-03-06T14:00:00Z", "2024-03-06T14:30:00Z"),
        ("2024-03-07T14:00:00Z", "2024-03-07T14:30:00Z"),
        ("2024-03-08T14:00:00Z", "2024-03-08T14:30:00Z"),
    ]
    # Bob declined the 7th: not busy for him
    assert busy_of(answer, BOB) == [
        ("2024-03-06T14:00:00Z", "2024-03-06T14:30:00Z"),
        ("2024-03-08T14:00:00Z", "2024-03-08T14:30:00Z"),
    ]
    assert answer["calendars"]["someone@elsewhere.example"] == {
        "errors": [{"domain": "global", "reason": "notFound"}],
        "busy": [],
    }
    assert answer["timeMin"] == "2024-03-04T00:00:00.000Z"
    local = (
        ann.freebusy()
        .query(body={**WINDOW, "timeZone": "Europe/Berlin", "items": [{"id": CAT}]})
        .execute()
    )
    assert local["calendars"][CAT] == {"busy": []}
    zoned = (
        ann.freebusy()
        .query(body={**WINDOW, "timeZone": "Europe/Berlin", "items": [{"id": "primary"}]})
        .execute()
    )
    assert zoned["calendars"]["primary"]["busy"][0] == {
        "start": "2024-03-04T10:00:00+01:00",
        "end": "2024-03-04T12:00:00+01:00",
    }


def test_at_most_50_calendars_per_query(emu: GoogleEmulator, delegated: Factory) -> None:
    people = [f"rep{n}@acme.example" for n in range(51)]
    for email in people:
        emu.add_user(email)
    ann = delegated("calendar", ANN)
    answer = ann.freebusy().query(body={**WINDOW, "items": [{"id": e} for e in people]}).execute()
    calendars = answer["calendars"]
    assert all("errors" not in calendars[e] for e in people[:50])
    assert calendars[people[50]]["errors"] == [
        {"domain": "calendar", "reason": "tooManyCalendarsRequested"}
    ]
    emu.freebusy_overflow = "400"
    with pytest.raises(HttpError) as raised:
        ann.freebusy().query(body={**WINDOW, "items": [{"id": e} for e in people]}).execute()
    assert error_of(raised)[:2] == (400, "tooManyCalendarsRequested")
    ann.freebusy().query(body={**WINDOW, "items": [{"id": e} for e in people[:50]]}).execute()
    with pytest.raises(HttpError):
        ann.freebusy().query(
            body={"timeMin": WINDOW["timeMax"], "timeMax": WINDOW["timeMin"]}
        ).execute()


SERIES = "etagseries0ann"
WEEKLY = {
    "id": SERIES,
    "summary": "Ann / Bob weekly",
    "attendees": [{"email": ANN}, {"email": BOB}],
    "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
    **timed("2024-03-04T10:00:00", "2024-03-04T10:30:00"),
}
WEEK2 = f"{SERIES}_20240311T090000Z"
WEEK3 = f"{SERIES}_20240318T090000Z"


def _conditional(request: Any, etag: str) -> Any:
    request.headers["If-Match"] = etag
    return request


def test_if_match_guards_each_exception_with_its_own_etag(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    events = delegated("calendar", ANN).events()
    master = events.insert(calendarId="primary", body=WEEKLY).execute()
    # An instance nobody changed answers to its series' etag (as events.instances shows it).
    stale = _conditional(
        events.patch(calendarId="primary", eventId=WEEK2, body={"description": "x"}), '"1"'
    )
    with pytest.raises(HttpError) as raised:
        stale.execute()
    assert error_of(raised)[:2] == (412, "conditionNotMet")
    assert [e["id"] for e in emu.events(ANN)] == [SERIES]  # no exception was made
    moved = _conditional(
        events.patch(calendarId="primary", eventId=WEEK2, body={"description": "mine"}),
        master["etag"],
    ).execute()
    assert moved["etag"] != master["etag"]
    # The series' etag stays; the exception has its own, and only its own one matches.
    assert events.get(calendarId="primary", eventId=SERIES).execute()["etag"] == master["etag"]
    with pytest.raises(HttpError) as by_series:
        _conditional(
            events.patch(calendarId="primary", eventId=WEEK2, body={"description": "ours"}),
            master["etag"],
        ).execute()
    assert error_of(by_series)[0] == 412
    with pytest.raises(HttpError) as deleting:
        _conditional(events.delete(calendarId="primary", eventId=WEEK2), master["etag"]).execute()
    assert error_of(deleting)[0] == 412
    kept = events.get(calendarId="primary", eventId=WEEK2).execute()
    assert (kept["status"], kept["description"], kept["etag"]) == (
        "confirmed",
        "mine",
        moved["etag"],
    )
    _conditional(events.delete(calendarId="primary", eventId=WEEK2), moved["etag"]).execute()
    assert events.get(calendarId="primary", eventId=WEEK2).execute()["status"] == "cancelled"


def test_if_match_in_batch_parts_and_tag_lists(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    events = calendar.events()
    master = events.insert(calendarId="primary", body=WEEKLY).execute()
    answers: dict[str, tuple[Any, Any]] = {}
    batch = calendar.new_batch_http_request(
        callback=lambda rid, response, error: answers.__setitem__(rid, (response, error))
    )
    batch.add(
        _conditional(
            events.patch(calendarId="primary", eventId=WEEK2, body={"description": "a"}), '"0"'
        ),
        request_id="stale",
    )
    batch.add(
        _conditional(
            events.patch(calendarId="primary", eventId=WEEK3, body={"description": "b"}),
            master["etag"],
        ),
        request_id="fresh",
    )
    batch.execute()
    assert answers["stale"][1] is not None and answers["stale"][1].resp.status == 412
    assert answers["fresh"][1] is None and answers["fresh"][0]["description"] == "b"
    # RFC 9110: a list of tags matches any of them; a weak tag matches none; * matches all.
    current = events.get(calendarId="primary", eventId=SERIES).execute()["etag"]
    listed = _conditional(
        events.patch(calendarId="primary", eventId=SERIES, body={"summary": "x"}),
        f'"0", {current}',
    ).execute()
    with pytest.raises(HttpError) as weak:
        _conditional(
            events.patch(calendarId="primary", eventId=SERIES, body={"summary": "y"}),
            f"W/{listed['etag']}",
        ).execute()
    assert error_of(weak)[0] == 412
    starred = _conditional(
        events.patch(calendarId="primary", eventId=SERIES, body={"summary": "z"}), "*"
    ).execute()
    assert starred["summary"] == "z"


def test_an_insert_ignores_if_match(delegated: Factory) -> None:
    # "There is no support for conditional modifications for insert operations."
    events = delegated("calendar", ANN).events()
    made = _conditional(events.insert(calendarId="primary", body=WEEKLY), '"0"').execute()
    assert made["id"] == SERIES
