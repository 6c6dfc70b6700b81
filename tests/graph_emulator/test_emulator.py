"""The Graph emulator against Microsoft's documented behaviour, through the real msal and httpx
(each test starts an emulator on 127.0.0.1 and stops it)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import msal
import pytest

from scheduler.providers.microsoft365.auth import _VerifyingSession
from tests.graph_emulator import GraphEmulator

MIA = "mia@example.com"
ANA = "ana@example.com"
SCOPE = ["https://graph.microsoft.com/.default"]


class Graph:
    def __init__(self, emulator: GraphEmulator) -> None:
        session = _VerifyingSession()
        session.verify = str(emulator.ca_file)
        self.app = msal.ConfidentialClientApplication(
            emulator.client_id,
            client_credential=emulator.client_secret,
            authority=emulator.authority,
            http_client=session,
            instance_discovery=False,
        )
        token = self.app.acquire_token_for_client(scopes=SCOPE)["access_token"]
        self.http = httpx.Client(
            base_url=emulator.graph_url,
            verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
            headers={"Authorization": f"Bearer {token}"},
        )

    def __call__(self, method: str, url: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.request(method, url, json=body, headers=headers)


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator().start()
    emulator.add_user(MIA, time_zone="America/New_York")
    emulator.add_user(ANA, time_zone="Europe/Berlin")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def graph(emu: GraphEmulator) -> Iterator[Graph]:
    client = Graph(emu)
    try:
        yield client
    finally:
        client.http.close()


def _series(**extra: Any) -> dict[str, Any]:
    return {
        "subject": "1:1",
        "start": {"dateTime": "2027-01-05T10:00:00", "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": "2027-01-05T10:30:00", "timeZone": "Eastern Standard Time"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
            "range": {"type": "noEnd", "startDate": "2027-01-05"},
        },
        "attendees": [{"type": "required", "emailAddress": {"address": ANA, "name": "Ana"}}],
        **extra,
    }


WINDOW = "startDateTime=2027-01-01T00:00:00Z&endDateTime=2027-02-01T00:00:00Z"


def test_a_wrong_client_secret_is_refused_by_the_token_endpoint(emu: GraphEmulator) -> None:
    session = _VerifyingSession()
    session.verify = str(emu.ca_file)
    app = msal.ConfidentialClientApplication(
        emu.client_id,
        client_credential="not-the-secret",
        authority=emu.authority,
        http_client=session,
        instance_discovery=False,
    )
    answer = app.acquire_token_for_client(scopes=SCOPE)
    assert answer["error"] == "invalid_client"
    assert "AADSTS7000215" in answer["error_description"]


def test_a_request_without_a_valid_token_is_401(emu: GraphEmulator) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(emu.ca_file))) as http:
        answer = http.get(f"{emu.graph_url}/users/{MIA}/mailboxSettings")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_mailbox_settings_give_the_windows_zone_name(graph: Graph) -> None:
    settings = graph("GET", f"/users/{MIA}/mailboxSettings").json()
    assert settings["timeZone"] == "Eastern Standard Time"
    assert settings["workingHours"]["startTime"].startswith("09:00")


def test_an_organizers_event_makes_the_attendees_copy_and_carries_their_answer(
    graph: Graph, emu: GraphEmulator
) -> None:
    made = graph("POST", f"/users/{MIA}/events", _series()).json()
    assert made["type"] == "seriesMaster" and made["isOrganizer"]
    [copy] = emu.items(ANA)
    assert not copy.is_organizer and copy.response == "notResponded"
    graph("POST", f"/users/{ANA}/events/{copy.id}/decline", {})
    again = graph("GET", f"/users/{MIA}/events/{made['id']}").json()
    assert [a["status"]["response"] for a in again["attendees"]] == ["declined"]
    assert again["@odata.etag"] != made["@odata.etag"]


def test_if_match_with_a_stale_etag_is_412_and_a_changed_week_changes_the_masters_etag(
    graph: Graph,
) -> None:
    made = graph("POST", f"/users/{MIA}/events", _series()).json()
    occurrences = graph("GET", f"/users/{MIA}/events/{made['id']}/instances?{WINDOW}").json()[
        "value"
    ]
    assert [o["type"] for o in occurrences] == ["occurrence"] * 4
    moved = graph(
        "PATCH",
        f"/users/{MIA}/events/{occurrences[1]['id']}",
        {
            "start": {"dateTime": "2027-01-12T15:00:00", "timeZone": "Eastern Standard Time"},
            "end": {"dateTime": "2027-01-12T15:30:00", "timeZone": "Eastern Standard Time"},
        },
    ).json()
    assert moved["type"] == "exception"
    stale = graph(
        "PATCH",
        f"/users/{MIA}/events/{made['id']}",
        {"subject": "x"},
        **{"If-Match": made["@odata.etag"]},
    )
    assert stale.status_code == 412
    current = graph("GET", f"/users/{MIA}/events/{made['id']}").json()
    fresh = graph(
        "PATCH",
        f"/users/{MIA}/events/{made['id']}",
        {"subject": "x"},
        **{"If-Match": current["@odata.etag"]},
    )
    assert fresh.status_code == 200


def test_a_retried_post_with_the_same_transaction_id_makes_no_second_event(
    graph: Graph, emu: GraphEmulator
) -> None:
    first = graph("POST", f"/users/{MIA}/events", _series(transactionId="t-1")).json()
    second = graph("POST", f"/users/{MIA}/events", _series(transactionId="t-1")).json()
    assert first["id"] == second["id"]
    assert len(emu.items(MIA)) == 1


def test_extended_properties_come_only_when_expanded(graph: Graph) -> None:
    key = "String {00020329-0000-0000-C000-000000000046} Name oneonone_pair"
    made = graph(
        "POST",
        f"/users/{MIA}/events",
        _series(singleValueExtendedProperties=[{"id": key, "value": f"{MIA}/{ANA}"}]),
    ).json()
    plain = graph("GET", f"/users/{MIA}/events/{made['id']}").json()
    assert "singleValueExtendedProperties" not in plain
    expanded = graph(
        "GET",
        f"/users/{MIA}/events/{made['id']}?$expand=singleValueExtendedProperties"
        f"($filter=id eq '{key}')",
    ).json()
    assert expanded["singleValueExtendedProperties"] == [{"id": key, "value": f"{MIA}/{ANA}"}]


def test_delta_gives_changes_and_removals_then_410_when_the_state_is_gone(
    graph: Graph, emu: GraphEmulator
) -> None:
    made = graph("POST", f"/users/{MIA}/events", _series()).json()
    first = graph("GET", f"/users/{MIA}/calendarView/delta?{WINDOW}").json()
    assert len(first["value"]) == 4 and "@odata.deltaLink" in first
    link = first["@odata.deltaLink"].removeprefix(emu.graph_url)
    assert graph("GET", link).json()["value"] == []
    occurrence = first["value"][2]["id"]
    graph("DELETE", f"/users/{MIA}/events/{occurrence}")
    changes = graph("GET", link).json()["value"]
    assert {"id": occurrence, "@removed": {"reason": "deleted"}} in changes
    assert made["id"] not in {c["id"] for c in changes}  # masters are not in a calendarView
    emu.expire_delta_tokens()
    gone = graph("GET", link)
    assert gone.status_code == 410


def test_delta_pages_with_skip_tokens(graph: Graph, emu: GraphEmulator) -> None:
    graph("POST", f"/users/{MIA}/events", _series())
    page = graph(
        "GET", f"/users/{MIA}/calendarView/delta?{WINDOW}", Prefer="odata.maxpagesize=3"
    ).json()
    assert len(page["value"]) == 3 and "$skiptoken" in page["@odata.nextLink"]
    rest = graph("GET", page["@odata.nextLink"].removeprefix(emu.graph_url)).json()
    assert len(rest["value"]) == 1 and "@odata.deltaLink" in rest


def test_get_schedule_gives_busy_time_and_working_hours(graph: Graph) -> None:
    graph("POST", f"/users/{MIA}/events", _series())
    answer = graph(
        "POST",
        f"/users/{MIA}/calendar/getSchedule",
        {
            "schedules": [ANA, "nobody@example.com"],
            "startTime": {"dateTime": "2027-01-05T00:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2027-01-06T00:00:00", "timeZone": "UTC"},
        },
    ).json()["value"]
    assert [item["status"] for item in answer[0]["scheduleItems"]] == ["busy"]
    assert answer[0]["workingHours"]["timeZone"]["name"] == "W. Europe Standard Time"
    assert answer[1]["error"]["responseCode"] == "ErrorMailRecipientNotFound"


def test_a_batch_holds_at_most_20_requests_and_throttles_parts_alone(
    graph: Graph, emu: GraphEmulator
) -> None:
    parts = [
        {"id": str(n), "method": "GET", "url": f"/users/{MIA}/mailboxSettings"} for n in range(21)
    ]
    assert graph("POST", "/$batch", {"requests": parts}).status_code == 400
    emu.faults.retry_after = 7
    emu.faults.fail_next(1, "429")
    answer = graph("POST", "/$batch", {"requests": parts[:2]}).json()["responses"]
    assert [r["status"] for r in answer] == [429, 200]
    assert answer[0]["headers"]["Retry-After"] == "7"


def test_an_application_access_policy_is_a_403(graph: Graph, emu: GraphEmulator) -> None:
    emu.deny(ANA)
    answer = graph("GET", f"/users/{ANA}/mailboxSettings")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "ErrorAccessDenied"
