"""Agenda documents in bulk on Drive, and batches of several people's calls.

What a first pass must keep while it spends few requests: a part of a batch that Google refuses
(500, 403 ``rateLimitExceeded``) is sent again on its own and answered once; a part that keeps
failing fails its own document only, which the next pass finds by its ``appProperties`` and
shares instead of creating it again; a pass killed after the batches makes no second document.

Against the emulator of Calendar v3 and Drive v3 on 127.0.0.1, through the real client
libraries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2 import service_account

from scheduler.agenda.store import AgendaDoc, AgendaKey, AgendaStore, AgendaStoreError, NewDoc
from scheduler.providers.google.auth import SCOPES
from scheduler.providers.google.client import BatchPart, GoogleCall, GoogleClient
from scheduler.providers.google.drive import APP_PROPERTY, DriveAgendaStore, DriveBulk
from tests.google_emulator import GoogleEmulator
from tests.system.google_world import GoogleWorld, start_emulator

ANN = "ann@acme.example"  # a manager
CAT = "cat@acme.example"  # another manager
BOB = "bob@acme.example"  # a rep of both
NY = ZoneInfo("America/New_York")
MONDAY = datetime(2027, 1, 4, 8, 0, tzinfo=NY)


@pytest.fixture
def emu() -> Iterator[GoogleEmulator]:
    emulator = start_emulator()
    for email in (ANN, CAT, BOB):
        emulator.add_user(email)
    try:
        yield emulator
    finally:
        emulator.stop()


def make_client(emu: GoogleEmulator, tmp_path: Path, *, attempts: int = 6) -> GoogleClient:
    key = emu.write_service_account_key(tmp_path / "key.json")

    def credentials(email: str) -> Any:
        return service_account.Credentials.from_service_account_file(
            str(key), scopes=list(SCOPES)
        ).with_subject(email)

    return GoogleClient(
        credentials, api_endpoint=emu.url, max_attempts=attempts, sleep=lambda _: None
    )


def new(manager: str, day: int) -> NewDoc:
    key = AgendaKey(manager, BOB, date(2027, 1, day))
    return NewDoc(key, f"1:1 {manager} / Bob", f"# Agenda {day}\n\n- [ ] Ask\n", (manager, BOB))


def agenda_files(emu: GoogleEmulator) -> list[dict[str, Any]]:
    return [f for f in emu.drive_files() if APP_PROPERTY in (f.get("appProperties") or {})]


def writers(emu: GoogleEmulator, file_id: str) -> set[str]:
    [found] = [f for f in emu.drive_files() if f["id"] == file_id]
    return {
        str(p["emailAddress"])
        for p in found.get("permissions") or []
        if p.get("role") in ("writer", "owner")
    }


def test_one_batch_holds_several_peoples_calls_each_as_its_person(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    client = make_client(emu, tmp_path)
    parts = [
        BatchPart(
            email,
            email,
            GoogleCall("calendar.events.list", client.events().list(calendarId=email)),
            f"{email}'s calendar",
        )
        for email in (ANN, CAT, BOB)
    ]
    emu.reset_counts()
    answers = client.batch_parts(parts)
    # Each person may list only their own calendar: an answer for each means each part went
    # with its own person's token.
    assert sorted(answers) == sorted([ANN, CAT, BOB])
    assert all(isinstance(answer, dict) for answer in answers.values())
    assert emu.counts["batch"] == 1 and emu.counts["batch.parts"] == 3


@pytest.mark.parametrize("kind", ["500", "rateLimitExceeded"])
def test_a_refused_part_is_sent_again_alone_and_shared_once(
    emu: GoogleEmulator, tmp_path: Path, kind: str
) -> None:
    client = make_client(emu, tmp_path)
    ann, cat = DriveAgendaStore(client, ANN), DriveAgendaStore(client, CAT)
    docs: list[tuple[AgendaStore, NewDoc]] = [
        (ann, new(ANN, 5)),
        (ann, new(ANN, 12)),
        (cat, new(CAT, 5)),
    ]
    assert ann.bulk == cat.bulk  # one client: created together
    emu.reset_counts()
    emu.faults.fail_method("drive.permissions.create", 1, kind)
    made = ann.bulk.create_many(docs)
    assert all(isinstance(doc, AgendaDoc) for doc in made)
    assert len({doc.ref for doc in made if isinstance(doc, AgendaDoc)}) == 3
    assert len(agenda_files(emu)) == 3
    for (store, _), doc in zip(docs, made, strict=True):
        assert isinstance(doc, AgendaDoc) and isinstance(store, DriveAgendaStore)
        assert writers(emu, doc.ref) == {store.owner, BOB}
    counts = emu.counts
    # One look per manager, in one batch; a document is one request (Drive takes no upload in
    # a batch); the shares in one batch, and the refused one again, alone; no listing of the
    # permissions of a document just made.
    assert counts["drive.files.list"] == 2
    assert counts["drive.files.create"] == 3
    assert counts["drive.permissions.create"] == 4
    assert counts.get("drive.permissions.list", 0) == 0
    assert counts["batch"] == 3 and counts["batch.parts"] == 2 + 3 + 1


def test_a_part_that_keeps_failing_fails_its_document_only_and_the_next_pass_mends_it(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    client = make_client(emu, tmp_path, attempts=2)
    ann = DriveAgendaStore(client, ANN)
    docs: list[tuple[AgendaStore, NewDoc]] = [(ann, new(ANN, 5)), (ann, new(ANN, 12))]
    # Both shares fail in the first batch; the first again when the two are sent again.
    emu.faults.fail_method("drive.permissions.create", 3, "503")
    first = ann.bulk.create_many(docs)
    failed = [doc for doc in first if isinstance(doc, AgendaStoreError)]
    assert len(failed) == 1 and failed[0].transient
    assert len(agenda_files(emu)) == 2  # made, not yet shared: the pass keeps it pending
    # The next pass creates the pending one again: found by its key, shared, not made twice.
    again = ann.bulk.create_many([docs[first.index(failed[0])]])
    assert isinstance(again[0], AgendaDoc)
    assert len(agenda_files(emu)) == 2
    assert writers(emu, again[0].ref) == {ANN, BOB}


def test_a_look_that_keeps_failing_creates_nothing_and_says_so(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    client = make_client(emu, tmp_path, attempts=2)
    ann, cat = DriveAgendaStore(client, ANN), DriveAgendaStore(client, CAT)
    docs: list[tuple[AgendaStore, NewDoc]] = [(ann, new(ANN, 5)), (cat, new(CAT, 5))]
    # Both looks fail in the first batch; Ann's (first) again when the two are sent again.
    emu.faults.fail_method("drive.files.list", 3, "500")
    made = ann.bulk.create_many(docs)
    # Not created blind: what could not be looked for is not made (it may exist).
    assert isinstance(made[0], AgendaStoreError) and made[0].transient
    assert isinstance(made[1], AgendaDoc)
    assert [f["appProperties"][APP_PROPERTY] for f in agenda_files(emu)] == [new(CAT, 5).key.name]


def test_documents_of_other_clients_are_refused(emu: GoogleEmulator, tmp_path: Path) -> None:
    ann = DriveAgendaStore(make_client(emu, tmp_path), ANN)
    other = DriveAgendaStore(make_client(emu, tmp_path), ANN)
    assert ann.bulk != other.bulk
    with pytest.raises(TypeError):
        DriveBulk(ann.client).create_many([(other, new(ANN, 5))])


# --------------------------------------------------------------------------- whole passes


@pytest.fixture
def world(tmp_path: Path) -> Iterator[GoogleWorld]:
    emulator = start_emulator()
    made = GoogleWorld(tmp_path / "org", emulator)
    try:
        yield made
    finally:
        made.close()
        emulator.stop()


def test_a_first_pass_makes_the_due_agendas_in_batches(world: GoogleWorld) -> None:
    world.emulator.reset_counts()
    result = world.sync(MONDAY)
    assert result.problems == []
    recorded = world.ledger.agenda_docs()
    lead = timedelta(hours=world.org.schedule.agenda_lead_hours)
    made = [doc for days in recorded.values() for doc in days.values()]
    assert made and all(doc.state == "written" for doc in made)
    # Only the sessions inside agenda_lead_hours have one.
    assert all(doc.start - MONDAY <= lead for doc in made)
    assert len(agenda_files(world.emulator)) == len(made)
    counts = world.emulator.counts
    managers = {pair.manager.email for pair in world.org.pairs}
    assert counts["drive.files.list"] <= len(managers)
    assert counts.get("drive.permissions.list", 0) == 0
    assert counts["drive.files.create"] == len(made)
    assert counts["drive.permissions.create"] == len(made)  # the rep of each
    for pair in world.org.pairs:
        for day in recorded.get(pair.key, {}):
            sharing = world.agenda_sharing(
                pair.manager.email.split("@")[0], pair.rep.email.split("@")[0], day
            )
            assert sharing[pair.rep.email] == "writer"


def test_a_pass_killed_after_the_batches_makes_no_second_document(
    world: GoogleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = DriveBulk._grant_all

    def killed(self: DriveBulk, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        raise RuntimeError("killed")

    monkeypatch.setattr(DriveBulk, "_grant_all", killed)
    with pytest.raises(RuntimeError):
        world.sync(MONDAY)
    # Made and shared in Drive, recorded only as pending.
    made = agenda_files(world.emulator)
    pending = [doc for days in world.ledger.agenda_docs().values() for doc in days.values()]
    assert made and len(made) == len(pending)
    assert {doc.state for doc in pending} == {"pending"}

    monkeypatch.setattr(DriveBulk, "_grant_all", real)
    world.restart()
    world.emulator.reset_counts()
    result = world.sync(MONDAY + timedelta(minutes=5))
    assert result.problems == []
    after = agenda_files(world.emulator)
    assert sorted(f["id"] for f in after) == sorted(f["id"] for f in made)
    assert world.emulator.counts.get("drive.files.create", 0) == 0
    written = [doc for days in world.ledger.agenda_docs().values() for doc in days.values()]
    assert {doc.state for doc in written} == {"written"}
    assert sorted(doc.ref or "" for doc in written) == sorted(f["id"] for f in made)
