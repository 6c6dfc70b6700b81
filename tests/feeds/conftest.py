"""Fixtures for the feed, server and ``ics`` provider tests.

``history``: the packaged example org run in-process for a quarter of weekly passes, with the
edits people make (a moved week, a deleted week, a declined week), a pair that leaves the org
file half-way, a booked make-up and an agenda link: the ledger every feed is checked against.
Built once per session (a pass takes a fraction of a second, fifteen of them a few).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

import pytest

from scheduler.clientedits import (
    decline_instance,
    exdate_instance,
    move_instance,
    week_instance,
)
from scheduler.domain import makeup_uid, week_monday
from scheduler.orgfile import Org, load_org
from scheduler.store.ledger import Ledger, MakeupRecord
from scheduler.sync import run_pass
from tests.system.helpers import REPO, series_file

NY = ZoneInfo("America/New_York")
#: A Monday morning; the history runs a pass every Monday from here.
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
WEEKS = 14
MARCO, ANA, SAM, DANA, RAJ, TOM = (
    f"{name}@acme.example" for name in ("marco", "ana", "sam", "dana", "raj", "tom")
)
AGENDA = "https://docs.example/agenda/marco-ana-2027-04-13"


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


def closed_after_test(opened: list[C]) -> Iterator[list[C]]:
    """A fixture's body: ``opened`` to the test, then each thing the test put in it closed
    (servers, replicas, client sockets), even when the test failed."""
    try:
        yield opened
    finally:
        for item in opened:
            item.close()


@dataclass
class History:
    folder: Path
    config: Path
    org: Org
    ledger: Ledger
    now: datetime


def copy_example(folder: Path) -> Path:
    config = folder / "oneonone.toml"
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    return config


def build_history(folder: Path) -> History:
    config = copy_example(folder)
    org = load_org(config)
    ledger = Ledger(org.database_url)
    calendars = folder / "data" / "calendars"
    now = START
    assert not run_pass(org, ledger, now, apply=True).safety

    # People's edits on their own copies, the way calendar clients make them.
    monday = START.date()
    marco_ana = series_file(calendars / "marco", MARCO, ANA)
    moved = week_instance(marco_ana, monday + timedelta(weeks=1))
    move_instance(marco_ana, moved, moved + timedelta(hours=3))
    marco_sam = series_file(calendars / "marco", MARCO, SAM)
    exdate_instance(marco_sam, week_instance(marco_sam, monday + timedelta(weeks=2)))
    raj_copy = series_file(calendars / "raj", DANA, RAJ)
    decline_instance(raj_copy, week_instance(raj_copy, monday + timedelta(weeks=1)), RAJ)

    for week in range(1, WEEKS + 1):
        now = START + timedelta(weeks=week)
        if week == 6:
            # Tom leaves the org file: his series ends, and stays in the feeds with its past.
            text = config.read_text()
            config.write_text(text[: text.index("# Tom works")])
            org = load_org(config)
        result = run_pass(org, ledger, now, apply=True)
        assert not result.safety, result.safety

    # A booked make-up (unless the passes booked one already) and an agenda link.
    weeks = ledger.occurrences()
    booked = [m for ms in ledger.makeups().values() for m in ms.values() if m.state == "booked"]
    if not booked:
        week = min(w for w, r in weeks[f"{MARCO}/{SAM}"].items() if r.change == "cancelled")
        begin = datetime.combine(week_monday(week) + timedelta(days=3), START.time(), NY)
        begin = begin.replace(hour=15)
        ledger.save_makeup(
            MakeupRecord(
                pair_key=f"{MARCO}/{SAM}",
                week=week,
                uid=makeup_uid(MARCO, SAM, week),
                start=begin,
                end=begin + timedelta(minutes=30),
                state="booked",
                reason="make-up for the cancelled 1:1 of this week",
                pending=False,
                fingerprint="",
                created_at=now,
                updated_at=now,
            )
        )
    upcoming = [r for r in weeks[f"{MARCO}/{ANA}"].values() if r.planned_start > now]
    first = min(upcoming, key=lambda r: r.planned_start)
    ledger.save_occurrences([replace(first, agenda=AGENDA)], now)
    return History(folder, config, org, ledger, now)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``-n``, the tests that read ``history`` go to one worker (``--dist loadgroup``),
    so the quarter is built once, not once per worker."""
    for item in items:
        if "history" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("feeds-history"))


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Shared by every test that reads it; tests may add tokens, agenda files and health
    state (none of which a feed's content depends on), never change what a feed shows."""
    built = build_history(tmp_path_factory.mktemp("history"))
    try:
        yield built
    finally:
        built.ledger.close()
