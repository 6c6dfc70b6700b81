"""What is particular to Google: what a pass costs, sync tokens and 410, idempotent inserts
after a lost ledger, attendees told, delegation problems named by `oneonone check`.

Against the emulator of Calendar v3 on 127.0.0.1 through the real client libraries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from scheduler import ical
from scheduler.domain.series import utc
from scheduler.providers.google.client import GoogleCall
from scheduler.providers.google.provider import GoogleProvider
from scheduler.store.ledger import Ledger
from tests.google_emulator import GoogleEmulator
from tests.system.google_world import GoogleWorld, start_emulator
from tests.system.helpers import oneonone

NY = ZoneInfo("America/New_York")
TUE_W01 = datetime(2027, 1, 5, 8, 0, tzinfo=NY)
ORGANIZERS = 3  # Vera, Marco and Dana hold series
SAT_W01 = datetime(2027, 1, 9, 9, 0, tzinfo=NY)
# Every Tuesday 1:1 of W02 (Marco's with Ana and Sam, Dana's with Raj, Tom and Lucia, from
# 10:00 to 14:00) is within the 72 hours: their agendas are due at once.
TUESDAYS_DUE = datetime(2027, 1, 9, 14, 5, tzinfo=NY)
TUESDAY_AGENDAS = 5
MARCO = "marco@acme.example"


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
    # Ana declines a week: the product records it on the series (the week's words, which
    # change only that instance), which is nobody's news; the make-up it books is.
    world.decline_instance("ana", "marco", "ana", datetime(2027, 1, 12, 10, 0, tzinfo=NY))
    count = len(world.emulator.sent_updates)
    world.sync(TUE_W01 + timedelta(hours=1))
    ours = [u for u in world.emulator.sent_updates[count:] if u["actor"] == "marco@acme.example"]
    bookkeeping = [u for u in ours if not u["method"].endswith("insert")]
    assert bookkeeping and all(u["sendUpdates"] == "none" for u in bookkeeping)
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


def _calendar_writes(world: GoogleWorld) -> dict[str, int]:
    return {
        method: count
        for method, count in world.emulator.counts.items()
        if method.startswith("calendar.events.")
        and method.rsplit(".", 1)[1] in ("insert", "update", "patch", "delete")
    }


def test_a_weeks_agenda_costs_one_instance_request_per_pair_and_the_next_pass_none(
    world: GoogleWorld,
) -> None:
    world.sync(datetime(2027, 1, 4, 8, 0, tzinfo=NY))
    world.sync(SAT_W01)  # the days in between: last week's documents read, busy time, ...
    world.emulator.reset_counts()
    sent = len(world.emulator.sent_updates)

    attaching = world.sync(TUESDAYS_DUE)

    assert attaching.problems == [] and attaching.agendas_written == TUESDAY_AGENDAS
    # One patch of the week's instance per pair: no master update, no stamp after it.
    assert _calendar_writes(world) == {"calendar.events.patch": TUESDAY_AGENDAS}
    patched = [u["eventId"] for u in world.emulator.sent_updates[sent:]]
    assert len(patched) == TUESDAY_AGENDAS and all("_" in event_id for event_id in patched)
    # Nobody gets Google's mail for an agenda (the rep gets the product's prep notice).
    assert {u["sendUpdates"] for u in world.emulator.sent_updates[sent:]} == {"none"}
    # Google keeps the rep's copy: the agenda shows there too.
    week2 = utc(datetime(2027, 1, 12, 10, 0, tzinfo=NY))
    assert week2 in world.series_attachments("ana", "marco", "ana")
    # The next pass reads each copy as the product's last write: nothing to write, nobody's
    # edit; nor after a restart (the stamps are kept in the ledger).
    for restart in (False, True):
        if restart:
            world.restart()
        world.emulator.reset_counts()
        after = world.sync(TUESDAYS_DUE + timedelta(minutes=5 if not restart else 10))
        assert after.written == 0 and after.observed_changes == 0 and after.changes == []
        assert _calendar_writes(world) == {}
    # Marco adds notes to that week in Google Calendar: his words, which no pass takes back
    # (as when the series' master carried the stamp).
    events = world.calendar("marco").events()
    week_id = next(e for e in patched if e.endswith("_20270112T150000Z"))
    events.patch(calendarId=MARCO, eventId=week_id, body={"description": "Marco's notes"}).execute()
    world.emulator.reset_counts()
    after = world.sync(TUESDAYS_DUE + timedelta(minutes=15))
    assert after.written == 0 and _calendar_writes(world) == {}
    found = events.get(calendarId=MARCO, eventId=week_id).execute()
    assert found["description"] == "Marco's notes"


def test_a_year_of_agendas_costs_no_more_requests_than_a_month(world: GoogleWorld) -> None:
    """When a series' words change (a close week enters the horizon), only the weeks whose
    agenda links the series still holds are patched (ical.AGENDA_LINKS_KEPT); the weeks
    before keep their link and words as they were. Patching every past week's words grew by
    a request per week of history on every change (188 patches for 8 copies after 29 weeks,
    issue 17)."""
    start = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
    changes: list[tuple[datetime, list[str]]] = []
    for week in range(10):
        for hours in (0, 24, 48):  # Monday, and the days the week's agendas are due
            now = start + timedelta(weeks=week, hours=hours)
            sent = len(world.emulator.sent_updates)
            world.emulator.reset_counts()
            world.sync(now)
            if world.emulator.counts["calendar.events.update"]:  # the series' words changed
                patched = [u["eventId"] for u in world.emulator.sent_updates[sent:]]
                changes.append((now, [e for e in patched if "_" in e]))
    late = [(now, patched) for now, patched in changes if now >= start + timedelta(weeks=7)]
    assert late, "no change of a series' words after seven weeks of agendas"
    for now, patched in late:
        per_series = Counter(event_id.rsplit("_", 1)[0] for event_id in patched)
        assert max(per_series.values()) <= ical.AGENDA_LINKS_KEPT, (now, patched)
    # The first agenda (Ana's of 12 January), which the series let go weeks ago, is still on
    # its week, on both copies: not patched back to the rule.
    week2 = utc(datetime(2027, 1, 12, 10, 0, tzinfo=NY))
    for owner in ("marco", "ana"):
        assert week2 in world.series_attachments(owner, "marco", "ana")


class Killed(BaseException):
    """The process is killed: nothing after this point runs."""


def _killed_after_instance_requests(monkeypatch: pytest.MonkeyPatch, instance: str = "_") -> None:
    """The pass is killed as soon as a round of requests that wrote an instance (one whose id
    holds ``instance``) answered: no request after it is sent, and nothing of what the write
    did is kept (the pass's plan was committed to the ledger before it wrote)."""
    real = GoogleProvider._batch

    def batch(self: GoogleProvider, calls: Mapping[str, GoogleCall]) -> dict[str, Any]:
        answers = real(self, calls)
        if any(
            instance in unquote(urlsplit(call.request.uri).path).rsplit("/", 1)[-1]
            for call in calls.values()
        ):
            raise Killed
        return answers

    monkeypatch.setattr(GoogleProvider, "_batch", batch)


def test_a_pass_killed_after_attaching_agendas_is_finished_and_people_still_win(
    world: GoogleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sync(datetime(2027, 1, 4, 8, 0, tzinfo=NY))
    world.sync(SAT_W01)
    _killed_after_instance_requests(monkeypatch)
    with pytest.raises(Killed):
        world.sync(TUESDAYS_DUE)
    monkeypatch.undo()
    world.restart()
    # While the product was down, Marco moves Ana's W03 an hour later.
    week3 = datetime(2027, 1, 19, 10, 0, tzinfo=NY)
    world.move_instance("marco", "marco", "ana", week3, week3 + timedelta(hours=1))

    later = TUESDAYS_DUE + timedelta(minutes=5)
    world.sync(later)

    plan = {
        (o.rep, o.week): o.status.value for o in world.plan(later + timedelta(minutes=1)).planned
    }
    assert plan["ana@acme.example", "2027-W03"] == "people_changed"
    # The agendas the killed pass attached are the product's, not anyone's edit.
    for rep in ("ana", "sam", "raj", "tom", "lucia"):
        assert plan[f"{rep}@acme.example", "2027-W02"] == "planned", rep
    assert utc(datetime(2027, 1, 12, 10, 0, tzinfo=NY)) in world.series_attachments(
        "marco", "marco", "ana"
    )
    # Every agenda attached once, and then nothing more to do.
    recorded = sum(len(days) for days in world.ledger.agenda_docs().values())
    assert len([f for f in world.emulator.drive_files() if f.get("appProperties")]) == recorded
    again = world.sync(later + timedelta(minutes=5))
    assert again.written == 0 and again.observed_changes == 0


def test_a_pass_killed_after_moving_a_week_does_not_read_the_move_as_a_persons(
    world: GoogleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week the product moves is a change of time, which a pass compares with what it
    wrote: it goes with the master's stamp, so a pass killed after the move is not read as
    Marco moving Liam's W07 (Presidents' Day, moved by the product to Tuesday) himself (the
    same pass attaches the week's agendas too)."""
    world.sync(TUE_W01)
    # Monday 11 January: W07 enters the horizon; its Monday is a holiday.
    entering = datetime(2027, 1, 11, 8, 0, tzinfo=NY)
    _killed_after_instance_requests(monkeypatch, "_20270215T140000Z")
    with pytest.raises(Killed):
        world.sync(entering)
    monkeypatch.undo()
    world.restart()

    world.sync(entering + timedelta(minutes=5))

    [w07] = [
        o
        for o in world.plan(entering + timedelta(minutes=6)).planned
        if o.rep == "liam@acme.example" and o.week == "2027-W07"
    ]
    assert w07.status.value != "people_changed", w07
    assert w07.start == datetime(2027, 2, 16, 9, 0, tzinfo=NY), w07
    again = world.sync(entering + timedelta(minutes=10))
    assert again.written == 0 and again.observed_changes == 0
