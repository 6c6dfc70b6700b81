"""Throttling and server errors on Microsoft Graph: a month of daily passes with a fifth of all
Graph requests failing (429 and 503 with ``Retry-After``, 500, 504; half the 5xx after the
request took effect, so a retried POST meets its ``transactionId`` and a retried PATCH a new
etag) ends with the same calendars and the same ledger as the same month without faults: no
duplicate series or make-up, no lost week.

Two emulators play the same people making the same edits at the same times; only one of them
fails requests. People's edits are made with faults paused (the faults are the product's to
survive, not the test's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.providers.microsoft365.client import GraphClient
from tests.graph_emulator import GraphEmulator
from tests.system.m365_world import M365World, start_emulator

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # Monday of W01
DAYS = 5 * 7
SEED_BASE = int(os.environ.get("FAULT_SEED_BASE", "0"))
FAULTS = ("429", "503", "500", "504")


def _tuesday(week: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2027, 1, 5, hour, minute, tzinfo=NY) + timedelta(weeks=week - 1)


def _script(world: M365World) -> dict[datetime, list[Callable[[], None]]]:
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
        at(4, 1): [lambda: world.cancel_instance("marco", "marco", "sam", _tuesday(5, 10, 30))],
        at(4): [lambda: world.delete_series("marco", "marco", "ana")],
    }


def _calendars(emulator: GraphEmulator, world: M365World) -> dict[str, list[tuple[Any, ...]]]:
    """Every event as people see it in each mailbox, week by week (no ids, keys or times of
    change): each series' occurrences and exceptions over the month and the horizon."""
    seen: dict[str, list[tuple[Any, ...]]] = {}
    start, end = START - timedelta(days=7), START + timedelta(weeks=12)
    for email in world.org.people:
        rows = []
        for event in emulator.act(email).view(start, end):
            rows.append(
                (
                    event["type"],
                    event["subject"],
                    str(event["start"]),
                    str(event["end"]),
                    event.get("originalStart"),
                    _untokened(str(event["body"].get("content"))),
                    event["isCancelled"],
                    event["responseStatus"]["response"],
                    tuple(
                        sorted(
                            (a["emailAddress"]["address"], a["status"]["response"])
                            for a in event.get("attendees") or []
                        )
                    ),
                )
            )
        seen[email] = sorted(rows, key=str)
    return seen


def _untokened(value: str) -> str:
    return re.sub(r"/agendas/[A-Za-z0-9_-]+/", "/agendas/TOKEN/", value)


def _ledger(world: M365World, now: datetime) -> tuple[Any, Any]:
    report = world.report(now, weeks=10)
    weeks = {
        (p["manager"], p["rep"]): [(w["week"], w["status"], w["start"]) for w in p["weeks"]]
        for p in report["pairs"]
    }
    notices = sorted(
        (n["kind"], n["manager"], n["rep"], n["week"], n["to"]) for n in report["notices"]
    )
    return weeks, notices


def _month(world: M365World, emulator: GraphEmulator, faults: bool) -> datetime:
    script = _script(world)
    now = START
    for day in range(DAYS):
        now = START + timedelta(days=day)
        for edit in script.get(now, []):
            emulator.faults.clear()
            edit()
        if faults:
            emulator.faults.set(rate=0.2, seed=day + SEED_BASE, kinds=FAULTS, applied=0.5)
        world.sync(now)
    emulator.faults.clear()
    now += timedelta(minutes=5)
    world.sync(now)
    return now


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(GraphClient, "BASE_DELAY", 0.001)
    yield


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_month_with_a_fifth_of_requests_failing_ends_where_a_clean_month_ends(
    tmp_path: Path, quick_backoff: None
) -> None:
    clean_emulator, faulty_emulator = start_emulator(), start_emulator()
    # Retry-After: 0, so the month takes seconds; the client waits what the header says.
    faulty_emulator.faults.retry_after = 0
    clean = faulty = None
    try:
        clean = M365World(tmp_path / "clean", clean_emulator)
        end = _month(clean, clean_emulator, faults=False)
        clean_calendars, clean_ledger = _calendars(clean_emulator, clean), _ledger(clean, end)
        clean.close()
        clean.forget_passwords()
        faulty = M365World(tmp_path / "faulty", faulty_emulator)
        _month(faulty, faulty_emulator, faults=True)
        assert faulty_emulator.faults.injected > 100  # the faults really happened
        faulty_weeks, faulty_notices = _ledger(faulty, end)
        clean_weeks, clean_notices = clean_ledger
        week_differences = [
            f"{key}: {sorted(set(faulty_weeks.get(key, [])) ^ set(rows))}"
            for key, rows in clean_weeks.items()
            if faulty_weeks.get(key) != rows
        ]
        assert week_differences == [], "\n".join(week_differences)
        assert faulty_notices == clean_notices
        faulty_calendars = _calendars(faulty_emulator, faulty)
        differences = {
            email: sorted(set(faulty_calendars[email]) ^ set(rows), key=str)
            for email, rows in clean_calendars.items()
            if faulty_calendars.get(email) != rows
        }
        assert differences == {}, "\n".join(
            f"{email} {row}" for email, rows in differences.items() for row in rows
        )
        # Never two series (or two make-ups of one week) for a pair in any mailbox.
        for email in faulty.org.people:
            tags = [
                (item.props.get(_PAIR), item.props.get(_WEEK))
                for item in faulty_emulator.items(email)
                if item.props.get(_PAIR)
            ]
            assert len(tags) == len(set(tags)), (email, tags)
    finally:
        for world in (clean, faulty):
            if world is not None:
                world.close()
                world.forget_passwords()
        clean_emulator.stop()
        faulty_emulator.stop()


_PAIR = "String {00020329-0000-0000-C000-000000000046} Name oneonone_pair"
_WEEK = "String {00020329-0000-0000-C000-000000000046} Name oneonone_week"
