"""What is particular to Google: what a pass costs, sync tokens and 410, idempotent inserts
after a lost ledger, attendees told, delegation problems named by `oneonone check`.

Against the emulator of Calendar v3 on 127.0.0.1 through the real client libraries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.store.ledger import Ledger
from tests.google_emulator import GoogleEmulator
from tests.system.google_world import GoogleWorld, start_emulator
from tests.system.helpers import oneonone

NY = ZoneInfo("America/New_York")
TUE_W01 = datetime(2027, 1, 5, 8, 0, tzinfo=NY)
ORGANIZERS = 3  # Vera, Marco and Dana hold series


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    started = start_emulator()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def world(emulator: GoogleEmulator, tmp_path: Path) -> Iterator[GoogleWorld]:
    made = GoogleWorld(tmp_path / "org", emulator)
    try:
        yield made
    finally:
        made.close()


def _series_masters(world: GoogleWorld) -> list[str]:
    found = []
    for email in world.org.people:
        for event in world.emulator.events(email):
            private = (event.get("extendedProperties") or {}).get("private") or {}
            if (
                event.get("status") != "cancelled"
                and "recurringEventId" not in event
                and event.get("recurrence")
                and private.get("oneonone_pair")
            ):
                found.append(private["oneonone_pair"])
    return found


def test_a_quiet_pass_costs_one_request_per_organizer_calendar(world: GoogleWorld) -> None:
    world.sync(TUE_W01)
    world.sync(TUE_W01 + timedelta(minutes=5))
    world.emulator.reset_counts()
    world.sync(TUE_W01 + timedelta(minutes=10))
    counts = {k: v for k, v in world.emulator.counts.items() if k != "oauth.token"}
    # Reps' calendars are not polled (their answers show on the organizer's copy) and busy
    # time is still fresh: one incremental list per organizer, nothing else, all of them in
    # one batch (one HTTP request).
    assert counts == {"calendar.events.list": ORGANIZERS, "batch": 1, "batch.parts": ORGANIZERS}


def test_a_restarted_process_syncs_incrementally_from_the_ledger(world: GoogleWorld) -> None:
    world.sync(TUE_W01)
    world.restart()
    world.emulator.reset_counts()
    world.sync(TUE_W01 + timedelta(minutes=5))
    assert world.emulator.counts["calendar.events.list"] == ORGANIZERS
    assert world.emulator.counts.get("calendar.freebusy.query", 0) == 0  # busy kept too


def test_an_expired_sync_token_means_a_full_resync_and_nothing_doubled(
    world: GoogleWorld,
) -> None:
    world.sync(TUE_W01)
    world.emulator.expire_sync_tokens()
    result = world.sync(TUE_W01 + timedelta(minutes=5))
    assert result.problems == [] and result.written == 0
    # 410 then the full list, per organizer.
    failed = [log for log in world.emulator.requests_log if log[2] == 410]
    assert len(failed) == ORGANIZERS
    assert sorted(_series_masters(world)) == sorted(set(_series_masters(world)))
    assert world.sync(TUE_W01 + timedelta(minutes=10)).written == 0


def test_a_lost_ledger_finds_its_series_again_by_their_ids(
    world: GoogleWorld, tmp_path: Path
) -> None:
    world.sync(TUE_W01)
    before = sorted(_series_masters(world))
    assert len(before) == len(world.org.pairs)
    # The data folder is lost (a new machine): every insert meets its own earlier event.
    world.ledger.close()
    (world.org.data_dir / "state.db").unlink()
    world.ledger = Ledger(world.org.database_url)
    world.restart()
    result = world.sync(TUE_W01 + timedelta(minutes=5))
    assert result.problems == []
    assert sorted(_series_masters(world)) == before


def test_attendees_are_told_of_new_series_and_moves_but_not_of_bookkeeping(
    world: GoogleWorld,
) -> None:
    world.sync(TUE_W01)
    inserts = [u for u in world.emulator.sent_updates if u.get("method", "").endswith("insert")]
    assert inserts and all(u.get("sendUpdates") == "all" for u in inserts)
    assert any(u["recipients"] == ["ana@acme.example"] for u in inserts)
    # Ana declines a week: the product records it on the series (its answers and stamp),
    # which is nobody's news; the make-up it books is.
    world.decline_instance("ana", "marco", "ana", datetime(2027, 1, 12, 10, 0, tzinfo=NY))
    count = len(world.emulator.sent_updates)
    world.sync(TUE_W01 + timedelta(hours=1))
    ours = [u for u in world.emulator.sent_updates[count:] if u["actor"] == "marco@acme.example"]
    updates = [u for u in ours if u["method"].endswith("update")]
    assert updates and all(u["sendUpdates"] == "none" for u in updates)
    makeups = [u for u in ours if u["method"].endswith("insert")]
    assert len(makeups) == 1 and makeups[0]["recipients"] == ["ana@acme.example"]


def test_check_names_the_person_without_delegation(world: GoogleWorld) -> None:
    world.emulator.deny_delegation("ana@acme.example")
    world.close()
    done = oneonone(world.config, "check")
    assert done.returncode == 1
    assert "ana@acme.example" in done.stderr
    assert "delegation" in done.stderr
    assert "Traceback" not in done.stderr
    others = [line for line in done.stderr.splitlines() if "marco@acme.example:" in line]
    assert others == []


def test_agendas_are_google_docs_shared_with_both_and_attached_to_the_instance(
    world: GoogleWorld,
) -> None:
    world.sync(datetime(2027, 1, 4, 8, 0, tzinfo=NY))  # Tue 5 Jan is within the 72 hours
    docs = [
        f
        for f in world.emulator.drive_files()
        if f.get("appProperties", {}).get("oneonone_agenda")
        == "marco@acme.example/ana@acme.example/2027-01-05"
    ]
    assert len(docs) == 1
    doc = docs[0]
    assert doc["mimeType"] == "application/vnd.google-apps.document"
    assert world.agenda_sharing("marco", "ana", "2027-01-05") == {
        "marco@acme.example": "owner",
        "ana@acme.example": "writer",
    }
    attached = world.series_attachments("marco", "marco", "ana")
    assert attached[datetime(2027, 1, 5, 15, 0, tzinfo=ZoneInfo("UTC"))] == [doc["webViewLink"]]
    # A second pass makes no second document: one Doc per recorded session.
    again = world.sync(datetime(2027, 1, 4, 8, 5, tzinfo=NY))
    assert again.agendas_written == 0
    recorded = sum(len(days) for days in world.ledger.agenda_docs().values())
    made = [f for f in world.emulator.drive_files() if f.get("appProperties")]
    assert len(made) == recorded


def test_a_document_made_by_a_create_that_then_failed_is_found_not_made_twice(
    world: GoogleWorld,
) -> None:
    from scheduler.agenda.store import AgendaKey
    from scheduler.providers.google import session_for
    from scheduler.providers.google.client import GoogleClient
    from scheduler.providers.google.drive import DriveAgendaStore

    world.sync(TUE_W01)  # credentials and session in place
    client = session_for(world.org, None).client
    assert isinstance(client, GoogleClient)
    client.base_delay = 0.0
    store = DriveAgendaStore(client, "marco@acme.example")
    key = AgendaKey("marco@acme.example", "ana@acme.example", datetime(2027, 3, 2).date())
    # The first look finds nothing (as before any document), so the next request is the
    # create: Drive makes the file, then answers 500 (a "backendError" after the fact).
    looks: list[AgendaKey] = []
    real_find = store.find

    def find(wanted: AgendaKey) -> object:
        looks.append(wanted)
        return None if len(looks) == 1 else real_find(wanted)

    store.find = find  # type: ignore[method-assign,assignment]
    world.emulator.faults.fail_next(1, "500", applied=True)
    made = store.create(key, "1:1 Marco / Ana", "# Agenda\n", ["ana@acme.example"])
    assert len(looks) == 2  # looked again instead of creating again
    same = [
        f
        for f in world.emulator.drive_files()
        if f.get("appProperties", {}).get("oneonone_agenda") == key.name
    ]
    assert [f["id"] for f in same] == [made.ref]
    assert world.agenda_sharing("marco", "ana", "2027-03-02")["ana@acme.example"] == "writer"
