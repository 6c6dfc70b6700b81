"""Quota and server errors on Google: a quarter of daily passes with a fifth of all API calls
failing (403 rateLimitExceeded/userRateLimitExceeded, 429, 500, 503; half the 5xx after the
call took effect) ends with the same calendars and the same ledger as the same quarter
without faults, and never two series for a pair.

Two emulators play the same people making the same edits at the same times; only one of them
fails calls. People's own edits are made with faults paused (the faults are the product's to
survive, not the test's).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.providers.google.client import GoogleClient
from tests.system.google_world import GoogleWorld, start_emulator

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # Monday of W01
SEED_BASE = int(__import__("os").environ.get("FAULT_SEED_BASE", "0"))
FAULTS = ("rateLimitExceeded", "userRateLimitExceeded", "429", "500", "503")


def _tuesday(week: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2027, 1, 5, hour, minute, tzinfo=NY) + timedelta(weeks=week - 1)


def _rid(world: GoogleWorld, rep: str, week: int) -> datetime:
    """The regular start of Dana's 1:1 with ``rep`` in ``week`` (series created in W01)."""
    view = world.series_view("dana", "dana", rep)
    assert view is not None
    start: datetime = view.start + timedelta(weeks=week - 1)
    return start


def _script(world: GoogleWorld) -> dict[datetime, list[Callable[[], None]]]:
    """People's edits, by the pass before which they happen."""

    def at(week: int, day: int = 0) -> datetime:
        return START + timedelta(weeks=week - 1, days=day)

    return {
        at(2): [lambda: world.decline_instance("ana", "marco", "ana", _tuesday(3))],
        at(2, 1): [
            lambda: world.move_instance(
                "marco", "marco", "sam", _tuesday(2, 10, 30), _tuesday(2, 14, 30)
            )
        ],
        at(6): [lambda: world.cancel_instance("dana", "dana", "raj", _rid(world, "raj", 6), "x")],
        at(6, 1): [lambda: world.decline_makeup("raj", "dana", "raj", "2027-W06")],
        at(9): [lambda: world.delete_series("marco", "marco", "ana")],
        at(10): [lambda: world.decline_instance("marco", "marco", "sam", _tuesday(11, 10, 30))],
    }


def _calendars(world: GoogleWorld) -> dict[str, list[tuple[Any, ...]]]:
    """Every owned event as people see it (no etags, timestamps or Google's sequence)."""
    seen: dict[str, list[tuple[Any, ...]]] = {}
    for email in world.org.people:
        rows = []
        for event in world.emulator.events(email):
            private = (event.get("extendedProperties") or {}).get("private") or {}
            rows.append(
                (
                    event["id"],
                    event.get("status"),
                    event.get("recurringEventId"),
                    str(event.get("originalStartTime")),
                    str(event.get("start")),
                    str(event.get("end")),
                    tuple(event.get("recurrence") or ()),
                    event.get("description"),
                    tuple(
                        sorted(
                            (a["email"], a.get("responseStatus"))
                            for a in event.get("attendees") or []
                        )
                    ),
                    private.get("oneonone_pair"),
                    str(event.get("attachments")),
                )
            )
        # Agenda links hold each world's own random ids: the same document, not the same
        # address.
        seen[email] = sorted((_untokened(row) for row in rows), key=str)
    return seen


def _untokened(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with agenda addresses that differ between two emulators made equal: a feed
    server token, or a Drive file id (each emulator numbers its own files)."""

    def same(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = re.sub(r"/agendas/[A-Za-z0-9_-]+/", "/agendas/TOKEN/", value)
        return re.sub(r"/document/d/[A-Za-z0-9_-]+/", "/document/d/ID/", value)

    return tuple(same(v) for v in row)


def _ledger(world: GoogleWorld, now: datetime) -> tuple[Any, Any]:
    report = world.report(now, weeks=16)
    weeks = {
        (p["manager"], p["rep"]): [(w["week"], w["status"], w["start"]) for w in p["weeks"]]
        for p in report["pairs"]
    }
    notices = sorted(
        (n["kind"], n["manager"], n["rep"], n["week"], n["to"]) for n in report["notices"]
    )
    return weeks, notices


def _quarter(world: GoogleWorld, faults: bool) -> datetime:
    script = _script(world)
    now = START
    for day in range(13 * 7):
        now = START + timedelta(days=day)
        for edit in script.get(now, []):
            world.emulator.faults.clear()
            edit()
        if faults:
            # Half the server errors come after the call took effect (a retried insert then
            # meets its own event, a retried update a new etag).
            world.emulator.faults.set(rate=0.2, seed=day + SEED_BASE, kinds=FAULTS, applied=0.5)
        world.sync(now)
    # The faults stop; one more pass, as the daemon's next poll would make.
    world.emulator.faults.clear()
    now += timedelta(minutes=5)
    world.sync(now)
    return now


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(GoogleClient, "BASE_DELAY", 0.001)
    yield


@pytest.mark.slow
def test_a_quarter_with_a_fifth_of_calls_failing_ends_where_a_clean_quarter_ends(
    tmp_path: Path, quick_backoff: None
) -> None:
    clean_emulator, faulty_emulator = start_emulator(), start_emulator()
    clean = faulty = None
    try:
        clean = GoogleWorld(tmp_path / "clean", clean_emulator)
        end = _quarter(clean, faults=False)
        clean_calendars, clean_ledger = _calendars(clean), _ledger(clean, end)
        clean.close()
        faulty = GoogleWorld(tmp_path / "faulty", faulty_emulator)
        _quarter(faulty, faults=True)
        assert faulty_emulator.counts["calendar.events.list"] > 0
        failed = [entry for entry in faulty_emulator.requests_log if entry[2] >= 400]
        assert len(failed) > 100  # the faults really happened
        faulty_weeks, faulty_notices = _ledger(faulty, end)
        clean_weeks, clean_notices = clean_ledger
        week_differences = [
            f"{key}: {sorted(set(faulty_weeks.get(key, [])) ^ set(rows))}"
            for key, rows in clean_weeks.items()
            if faulty_weeks.get(key) != rows
        ]
        assert week_differences == [], "\n".join(week_differences)
        assert faulty_notices == clean_notices
        faulty_calendars = _calendars(faulty)
        differences = {
            email: sorted(set(faulty_calendars[email]) ^ set(rows), key=str)
            for email, rows in clean_calendars.items()
            if faulty_calendars.get(email) != rows
        }
        assert differences == {}, "\n".join(
            f"{email} {row}" for email, rows in differences.items() for row in rows
        )
        # One Drive document per recorded agenda, never a second for a session.
        for world in (faulty,):
            documents = [f for f in world.emulator.drive_files() if f.get("appProperties")]
            recorded = sum(len(days) for days in world.ledger.agenda_docs().values())
            keys = [f["appProperties"]["oneonone_agenda"] for f in documents]
            assert len(keys) == len(set(keys)) == recorded
        # Never two series for a pair.
        for email in faulty.org.people:
            tagged = [
                (e.get("extendedProperties") or {}).get("private", {}).get("oneonone_pair")
                for e in faulty_emulator.events(email)
                if e.get("status") != "cancelled"
                and "recurringEventId" not in e
                and e.get("recurrence")
            ]
            tagged = [t for t in tagged if t]
            assert len(tagged) == len(set(tagged)), email
    finally:
        for world in (clean, faulty):
            if world is not None:
                world.close()
        clean_emulator.stop()
        faulty_emulator.stop()
