"""events.insert/get/list/patch/update/delete: ids, access, paging, sync tokens, filters."""

from __future__ import annotations

import pytest
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator

from .conftest import ANN, BOB, Factory, error_of, timed


def day(n: int, hour: int = 10) -> dict[str, object]:
    return timed(f"2024-03-{n:02d}T{hour:02d}:00:00", f"2024-03-{n:02d}T{hour:02d}:30:00")


def test_insert_get_and_google_style_fields(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    made = (
        calendar.events()
        .insert(
            calendarId="primary",
            body={
                "id": "oneonone0001",
                "summary": "1:1",
                **timed("2024-03-04T09:00:00Z", "2024-03-04T09:30:00Z"),
            },
        )
        .execute()
    )
    assert made["id"] == "oneonone0001"
    assert made["iCalUID"] == "oneonone0001@google.com"
    assert made["status"] == "confirmed" and made["sequence"] == 0
    assert made["eventType"] == "default"
    assert made["etag"].startswith('"') and made["etag"].endswith('"')
    assert made["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")
    # a dateTime is written back in the event's zone, with its offset
    assert made["start"] == {"dateTime": "2024-03-04T10:00:00+01:00", "timeZone": "Europe/Berlin"}
    got = calendar.events().get(calendarId=ANN, eventId="oneonone0001").execute()
    assert got == made


@pytest.mark.parametrize("bad", ["abc", "UPPERCASE1", "has-dash1", "wxyz12345", "a" * 1025])
def test_client_ids_must_be_base32hex_of_5_to_1024(delegated: Factory, bad: str) -> None:
    calendar = delegated("calendar", ANN)
    with pytest.raises(HttpError) as raised:
        calendar.events().insert(calendarId="primary", body={"id": bad, **day(4)}).execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (400, "invalid")
    assert body["message"] == "Invalid resource id value."


def test_an_id_once_used_is_a_duplicate_even_after_delete(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    calendar.events().insert(calendarId="primary", body={"id": "abcde12345", **day(4)}).execute()
    calendar.events().delete(calendarId="primary", eventId="abcde12345").execute()
    with pytest.raises(HttpError) as raised:
        calendar.events().insert(
            calendarId="primary", body={"id": "abcde12345", **day(5)}
        ).execute()
    assert error_of(raised)[:2] == (409, "duplicate")
    # the deleted event is still there for get, cancelled; deleting it again is 410
    assert calendar.events().get(calendarId="primary", eventId="abcde12345").execute()[
        "status"
    ] == ("cancelled")
    with pytest.raises(HttpError) as again:
        calendar.events().delete(calendarId="primary", eventId="abcde12345").execute()
    assert error_of(again)[:2] == (410, "deleted")


def test_someone_elses_calendar_is_not_found(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    for request in (
        calendar.events().list(calendarId=BOB),
        calendar.events().insert(calendarId=BOB, body=day(4)),
        calendar.events().get(calendarId=BOB, eventId="abcde12345"),
    ):
        with pytest.raises(HttpError) as raised:
            request.execute()
        assert error_of(raised)[:2] == (404, "notFound")


def test_validation_errors(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    cases = [
        ({"start": {"dateTime": "2024-03-04T10:00:00Z"}}, "required"),
        ({**timed("2024-03-04T10:00:00Z", "2024-03-04T09:00:00Z")}, "timeRangeEmpty"),
        (
            {
                "start": {"dateTime": "2024-03-04T10:00:00"},
                "end": {"dateTime": "2024-03-04T11:00:00"},
            },
            "badRequest",
        ),
        ({**day(4), "attendees": [{"email": "not-an-address"}]}, "invalid"),
        ({**day(4), "recurrence": ["RRULE:FREQ=SOMETIMES"]}, "invalid"),
    ]
    for body, reason in cases:
        with pytest.raises(HttpError) as raised:
            calendar.events().insert(calendarId="primary", body=body).execute()
        assert error_of(raised)[:2] == (400, reason), body


def test_paging_default_and_sync_token_only_on_the_last_page(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    for n in range(1, 8):
        calendar.events().insert(calendarId="primary", body=day(n)).execute()
    pages = []
    request = calendar.events().list(calendarId="primary", maxResults=3)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = calendar.events().list_next(request, page)
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [("nextSyncToken" in p, "nextPageToken" in p) for p in pages] == [
        (False, True),
        (False, True),
        (True, False),
    ]
    assert len({i["id"] for p in pages for i in p["items"]}) == 7
    # 250 by default, never more than 2500
    assert (
        len(calendar.events().list(calendarId="primary", maxResults=9999).execute()["items"]) == 7
    )


def test_incremental_sync_returns_changes_and_deletions(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    keep = calendar.events().insert(calendarId="primary", body=day(4)).execute()
    gone = calendar.events().insert(calendarId="primary", body=day(5)).execute()
    first = calendar.events().list(calendarId="primary").execute()
    assert {i["id"] for i in first["items"]} == {keep["id"], gone["id"]}
    token = first["nextSyncToken"]
    assert calendar.events().list(calendarId="primary", syncToken=token).execute()["items"] == []
    calendar.events().patch(
        calendarId="primary", eventId=keep["id"], body={"summary": "moved"}
    ).execute()
    calendar.events().delete(calendarId="primary", eventId=gone["id"]).execute()
    new = calendar.events().insert(calendarId="primary", body=day(6)).execute()
    changes = calendar.events().list(calendarId="primary", syncToken=token).execute()
    by_id = {i["id"]: i for i in changes["items"]}
    assert set(by_id) == {keep["id"], gone["id"], new["id"]}
    assert by_id[keep["id"]]["summary"] == "moved"
    # deleted: only the id (and status) is guaranteed without showDeleted
    assert by_id[gone["id"]]["status"] == "cancelled"
    assert "start" not in by_id[gone["id"]]
    detailed = (
        calendar.events().list(calendarId="primary", syncToken=token, showDeleted=True).execute()
    )
    assert "start" in {i["id"]: i for i in detailed["items"]}[gone["id"]]  # the organizer's copy
    # a full list without showDeleted leaves the deleted one out
    full = calendar.events().list(calendarId="primary").execute()
    assert gone["id"] not in {i["id"] for i in full["items"]}
    # the newest token sees nothing new
    latest = changes["nextSyncToken"]
    assert calendar.events().list(calendarId="primary", syncToken=latest).execute()["items"] == []


def test_expired_sync_token_is_410_full_sync_required(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    token = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    emu.expire_sync_tokens(ANN)
    with pytest.raises(HttpError) as raised:
        calendar.events().list(calendarId="primary", syncToken=token).execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (410, "fullSyncRequired")
    assert body["message"] == "Sync token is no longer valid, a full sync is required."
    with pytest.raises(HttpError) as garbage:
        calendar.events().list(calendarId="primary", syncToken="not-a-token").execute()
    assert error_of(garbage)[0] == 410
    # a new full sync gives a token that works
    fresh = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    calendar.events().list(calendarId="primary", syncToken=fresh).execute()


@pytest.mark.parametrize(
    "extra",
    [
        {"timeMin": "2024-01-01T00:00:00Z"},
        {"timeMax": "2024-01-01T00:00:00Z"},
        {"updatedMin": "2024-01-01T00:00:00Z"},
        {"q": "1:1"},
        {"iCalUID": "x@google.com"},
        {"orderBy": "updated"},
        {"privateExtendedProperty": "oneonone=1"},
        {"sharedExtendedProperty": "oneonone=1"},
    ],
)
def test_sync_token_with_an_incompatible_parameter_is_400(
    delegated: Factory, extra: dict[str, str]
) -> None:
    calendar = delegated("calendar", ANN)
    token = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as raised:
        calendar.events().list(calendarId="primary", syncToken=token, **extra).execute()
    assert error_of(raised)[0] == 400


def test_filters_window_and_ordering(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    tagged = (
        calendar.events()
        .insert(
            calendarId="primary",
            body={
                **day(6),
                "summary": "tagged",
                "extendedProperties": {"private": {"oneonone": "pair-1"}},
            },
        )
        .execute()
    )
    calendar.events().insert(calendarId="primary", body={**day(4), "summary": "plain"}).execute()
    found = (
        calendar.events()
        .list(calendarId="primary", privateExtendedProperty="oneonone=pair-1")
        .execute()
    )
    assert [i["id"] for i in found["items"]] == [tagged["id"]]
    assert found["items"][0]["extendedProperties"] == {"private": {"oneonone": "pair-1"}}
    window = (
        calendar.events()
        .list(calendarId="primary", timeMin="2024-03-05T00:00:00Z", timeMax="2024-03-07T00:00:00Z")
        .execute()
    )
    assert [i["summary"] for i in window["items"]] == ["tagged"]
    ordered = (
        calendar.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime")
        .execute()
    )
    assert [i["summary"] for i in ordered["items"]] == ["plain", "tagged"]
    with pytest.raises(HttpError) as raised:
        calendar.events().list(calendarId="primary", orderBy="startTime").execute()
    assert error_of(raised)[0] == 400
    with pytest.raises(HttpError) as empty:
        calendar.events().list(
            calendarId="primary", timeMin="2024-03-07T00:00:00Z", timeMax="2024-03-05T00:00:00Z"
        ).execute()
    assert error_of(empty)[:2] == (400, "timeRangeEmpty")


def test_patch_merges_update_replaces(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    made = (
        calendar.events()
        .insert(
            calendarId="primary",
            body={
                **day(4),
                "summary": "1:1",
                "description": "agenda",
                "extendedProperties": {"private": {"a": "1", "b": "2"}},
            },
        )
        .execute()
    )
    patched = (
        calendar.events()
        .patch(
            calendarId="primary",
            eventId=made["id"],
            body={"extendedProperties": {"private": {"b": "3"}}, "summary": "1:1 (moved)"},
        )
        .execute()
    )
    assert patched["extendedProperties"]["private"] == {"a": "1", "b": "3"}
    assert patched["description"] == "agenda"
    assert patched["etag"] != made["etag"]
    replaced = (
        calendar.events()
        .update(calendarId="primary", eventId=made["id"], body={**day(5), "summary": "only this"})
        .execute()
    )
    assert "description" not in replaced and "extendedProperties" not in replaced
    assert replaced["sequence"] == 1  # the time changed
    with pytest.raises(HttpError) as raised:
        calendar.events().patch(
            calendarId="primary", eventId=made["id"], body={"sequence": 0}
        ).execute()
    assert error_of(raised)[:2] == (400, "invalid")


def test_attachments_only_with_supports_attachments(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    attachment = {"fileUrl": "https://docs.google.com/document/d/1abc/edit", "title": "Agenda"}
    ignored = (
        calendar.events()
        .insert(calendarId="primary", body={**day(4), "attachments": [attachment]})
        .execute()
    )
    assert "attachments" not in ignored
    kept = (
        calendar.events()
        .insert(
            calendarId="primary",
            supportsAttachments=True,
            body={**day(5), "attachments": [attachment]},
        )
        .execute()
    )
    assert kept["attachments"] == [attachment]
    with pytest.raises(HttpError) as raised:
        calendar.events().insert(
            calendarId="primary",
            supportsAttachments=True,
            body={**day(6), "attachments": [attachment] * 26},
        ).execute()
    assert error_of(raised)[0] == 400


def test_import_keeps_the_given_organizer_and_updates_by_ical_uid(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    body = {
        "iCalUID": "external-1@crm.example",
        "organizer": {"email": "boss@crm.example"},
        "attendees": [{"email": ANN}, {"email": BOB}],
        "summary": "from the CRM",
        **day(4),
    }
    made = calendar.events().import_(calendarId="primary", body=body).execute()
    assert made["organizer"] == {"email": "boss@crm.example"}
    assert made["iCalUID"] == "external-1@crm.example"
    again = (
        calendar.events()
        .import_(calendarId="primary", body={**body, "summary": "renamed"})
        .execute()
    )
    assert again["id"] == made["id"] and again["summary"] == "renamed"
    # an import is a private copy: nothing reaches Bob's calendar
    assert emu.events(BOB) == []
    with pytest.raises(HttpError) as raised:
        calendar.events().import_(calendarId="primary", body=day(5)).execute()
    assert error_of(raised)[:2] == (400, "required")


def test_fields_gives_a_partial_response(delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    calendar.events().insert(calendarId="primary", body={**day(4), "summary": "1:1"}).execute()
    page = (
        calendar.events()
        .list(calendarId="primary", fields="items(summary,start/dateTime),nextSyncToken")
        .execute()
    )
    assert set(page) == {"items", "nextSyncToken"}
    assert page["items"] == [{"summary": "1:1", "start": {"dateTime": "2024-03-04T10:00:00+01:00"}}]
